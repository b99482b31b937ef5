package dev.dialer.simulator;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link CarrierSimulator} behaves.
 *
 * @param port          TCP port on 127.0.0.1; 0 picks a free one
 * @param accountSid    the only account sid the API accepts in its paths
 * @param apiKey        bearer token required on every API call; {@code null} disables the check
 * @param webhookSecret secret for the {@code Jambonz-Signature} header on callbacks; {@code null} sends them unsigned
 * @param ringTime      how long an answered or busy call rings before the far end reacts
 * @param talkTime      how long an answered call lasts unless the request's {@code timeLimit} is shorter
 * @param outcomeRule   what the far end does with each dialled number
 * @param lostCallbacks share of status callbacks never sent (0 to 1), as a carrier that loses them would: it
 *                      exercises the dialer's reconciliation, which asks {@code GET …/Calls/{sid}} instead
 * @param ringSpread    ring times are spread uniformly over {@code [ringTime, ringTime + ringSpread]}
 * @param talkSpread    talk times are spread uniformly over {@code [talkTime, talkTime + talkSpread]}
 * @param maxCalls      the account's concurrency limit (0: none): a call beyond it is accepted (201) and then
 *                      reported {@code failed} with SIP 503 "Max Account Calls In Progress", as jambonz's outbound
 *                      SBC does
 * @param answeringMachineRule who answers a call that asked for answering-machine detection ({@code amd}): the
 *                      event the simulator posts to its {@code amd.actionHook} once the call is answered
 * @param applications  the account's applications: a call naming one reports to the application's
 *                      {@code call_status_hook}, not to its own, as jambonz does ({@link Applications#NONE}: every
 *                      call keeps its own)
 * @param keepCalls     how long a call is kept (for {@code GET …/Calls/{sid}} and {@link CarrierSimulator#calls})
 *                      once it has ended; {@code null} keeps every call, as tests that read them all want, and a
 *                      long-running simulator must not
 * @param callbackJitter each status callback waits a time drawn from {@code [0, callbackJitter]} before it is sent, and
 *                      a call's callbacks are sent side by side, so that a later status may reach the dialer before an
 *                      earlier one, as jambonz's do (each is its own HTTP request, none waits for the one before);
 *                      zero sends them one after another, in order
 */
public record SimulatorSettings(int port, String accountSid, String apiKey, String webhookSecret, Duration ringTime,
                                Duration talkTime, OutcomeRule outcomeRule, double lostCallbacks, Duration ringSpread,
                                Duration talkSpread, int maxCalls, AnsweringMachineRule answeringMachineRule,
                                Applications applications, Duration keepCalls, Duration callbackJitter) {

    /**
     * How long a simulator left running (on its own, or in the standalone stack) keeps an ended call: longer than the
     * dialer's watchdog waits after a call's last news before it asks about it (ring timeout, time limit, a margin).
     */
    public static final Duration KEEP_CALLS_RUNNING = Duration.ofHours(2);

    public SimulatorSettings {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be within 0..65535, was " + port);
        }
        if (accountSid == null || accountSid.isBlank()) {
            throw new IllegalArgumentException("accountSid must not be blank");
        }
        requireNonNegative("ringTime", ringTime);
        requireNonNegative("talkTime", talkTime);
        Objects.requireNonNull(outcomeRule, "outcomeRule");
        Objects.requireNonNull(answeringMachineRule, "answeringMachineRule");
        Objects.requireNonNull(applications, "applications");
        if (keepCalls != null) {
            requireNonNegative("keepCalls", keepCalls);
        }
        requireNonNegative("ringSpread", ringSpread);
        requireNonNegative("callbackJitter", callbackJitter);
        requireNonNegative("talkSpread", talkSpread);
        if (maxCalls < 0) {
            throw new IllegalArgumentException("maxCalls must be zero (no limit) or positive, was " + maxCalls);
        }
        if (!(lostCallbacks >= 0 && lostCallbacks <= 1)) {
            throw new IllegalArgumentException("lostCallbacks must be within 0..1, was " + lostCallbacks);
        }
    }

    /** The same settings, keeping each call {@code keep} once it has ended. */
    public SimulatorSettings withKeepCalls(Duration keep) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule, applications, keep,
                callbackJitter);
    }

    /** The same settings with ring and talk times spread over {@code [time, time + spread]}. */
    public SimulatorSettings withSpread(Duration ring, Duration talk) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ring, talk, maxCalls, answeringMachineRule, applications, keepCalls, callbackJitter);
    }

    /** The same settings with an account concurrency limit (0: none). */
    public SimulatorSettings withMaxCalls(int limit) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, limit, answeringMachineRule, applications, keepCalls,
                callbackJitter);
    }

    /** The same settings with each status callback sent after a wait of up to {@code jitter}, in any order. */
    public SimulatorSettings withCallbackJitter(Duration jitter) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule, applications, keepCalls,
                jitter);
    }

    /** The same settings with {@code share} (0 to 1) of the status callbacks lost. */
    public SimulatorSettings withLostCallbacks(double share) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                share, ringSpread, talkSpread, maxCalls, answeringMachineRule, applications, keepCalls, callbackJitter);
    }

    /** The same settings with another rule for who answers calls that ask for answering-machine detection. */
    public SimulatorSettings withAnsweringMachineRule(AnsweringMachineRule rule) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, rule, applications, keepCalls, callbackJitter);
    }

    /**
     * Port 0, account "dialer", no API key, unsigned callbacks, 1 s ringing, 2 s talk, {@link OutcomeRule#lastDigit()},
     * no lost callbacks, {@link AnsweringMachineRule#lastDigit()}, no applications, callbacks in order.
     */
    public static SimulatorSettings defaults() {
        return new SimulatorSettings(0, "dialer", null, null, Duration.ofSeconds(1), Duration.ofSeconds(2),
                OutcomeRule.lastDigit(), 0, Duration.ZERO, Duration.ZERO, 0, AnsweringMachineRule.lastDigit(),
                Applications.NONE, null, Duration.ZERO);
    }

    /** The same settings with one more application, {@code sid}. */
    public SimulatorSettings withApplication(String sid, Application application) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications.with(sid, application), keepCalls, callbackJitter);
    }

    /** The same settings with {@code application} standing for every sid not given its own. */
    public SimulatorSettings withEveryOtherApplication(Application application) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications.withOthers(application), keepCalls, callbackJitter);
    }

    public SimulatorSettings withPort(int port) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    public SimulatorSettings withAccountSid(String accountSid) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    public SimulatorSettings withApiKey(String apiKey) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    public SimulatorSettings withWebhookSecret(String webhookSecret) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    public SimulatorSettings withRingTime(Duration ringTime) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    public SimulatorSettings withTalkTime(Duration talkTime) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    public SimulatorSettings withOutcomeRule(OutcomeRule outcomeRule) {
        return new SimulatorSettings(port, accountSid, apiKey, webhookSecret, ringTime, talkTime, outcomeRule,
                lostCallbacks, ringSpread, talkSpread, maxCalls, answeringMachineRule,
                applications, keepCalls, callbackJitter);
    }

    private static void requireNonNegative(String name, Duration value) {
        if (value == null || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be zero or positive, was " + value);
        }
    }
}
