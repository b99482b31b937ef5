package dev.dialer.simulator;

import java.time.Duration;
import java.time.format.DateTimeParseException;

/**
 * Parses {@link CarrierSimulator#main} options ({@code --name=value}) over {@link SimulatorSettings#defaults()}, which
 * keeps each call {@link SimulatorSettings#KEEP_CALLS_RUNNING} once it ended (a process left running keeps no call for
 * ever).
 */
final class LauncherArguments {

    private LauncherArguments() {
    }

    static SimulatorSettings parse(String... args) {
        SimulatorSettings settings = SimulatorSettings.defaults().withPort(8090)
                .withKeepCalls(SimulatorSettings.KEEP_CALLS_RUNNING);
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("expected --name=value, got " + arg);
            }
            settings = apply(settings, arg.substring(2, eq), arg.substring(eq + 1));
        }
        return settings;
    }

    private static SimulatorSettings apply(SimulatorSettings settings, String name, String value) {
        return switch (name) {
            case "port" -> settings.withPort(port(value));
            case "account-sid" -> settings.withAccountSid(value);
            case "api-key" -> settings.withApiKey(value.isEmpty() ? null : value);
            case "webhook-secret" -> settings.withWebhookSecret(value.isEmpty() ? null : value);
            case "ring-time" -> settings.withRingTime(duration(name, value));
            case "talk-time" -> settings.withTalkTime(duration(name, value));
            case "lost-callbacks" -> settings.withLostCallbacks(share(name, value));
            case "ring-spread" -> settings.withSpread(duration(name, value), settings.talkSpread());
            case "talk-spread" -> settings.withSpread(settings.ringSpread(), duration(name, value));
            case "max-calls" -> settings.withMaxCalls(number(name, value));
            case "outcome-weights" -> settings.withOutcomeRule(WeightedRule.parse(value));
            case "outcome-rule" -> settings.withOutcomeRule(switch (value) {
                case "last-digit" -> OutcomeRule.lastDigit();
                case "last-digit-capacity-passes" -> OutcomeRule.lastDigitCapacityPasses();
                default -> throw new IllegalArgumentException("--outcome-rule must be last-digit or "
                        + "last-digit-capacity-passes, got " + value);
            });
            case "amd-machine-share" -> settings.withAnsweringMachineRule(
                    AnsweringMachineRule.machineShare(share(name, value)));
            case "applications-status-hook" -> settings.withEveryOtherApplication(
                    Application.postingStatusesTo(value.isEmpty() ? null : value));
            case "keep-calls" -> settings.withKeepCalls(duration(name, value));
            case "callback-jitter" -> settings.withCallbackJitter(duration(name, value));
            default -> throw new IllegalArgumentException("unknown option --" + name
                    + " (known: port, account-sid, api-key, webhook-secret, ring-time, talk-time, ring-spread,"
                    + " talk-spread, max-calls, lost-callbacks, outcome-weights, outcome-rule, amd-machine-share,"
                    + " applications-status-hook, keep-calls, callback-jitter)");
        };
    }

    private static int port(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--port must be a number, got " + value, e);
        }
    }

    private static int number(String name, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, got " + value, e);
        }
    }

    private static double share(String name, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number from 0 to 1, got " + value, e);
        }
    }

    private static Duration duration(String name, String value) {
        try {
            return Duration.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--" + name + " must be an ISO-8601 duration such as PT1S, got " + value,
                    e);
        }
    }
}
