package dev.dialer.simulator;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Draws each call's outcome at random with configured weights, whatever the number. */
final class WeightedRule implements OutcomeRule {

    private final Outcome[] outcomes;
    private final int[] cumulative;
    private final int total;

    WeightedRule(Map<Outcome, Integer> weights) {
        Map<Outcome, Integer> positive = new EnumMap<>(Outcome.class);
        weights.forEach((outcome, weight) -> {
            if (weight < 0) {
                throw new IllegalArgumentException("weight of " + outcome + " must not be negative, was " + weight);
            }
            if (weight > 0) {
                positive.put(outcome, weight);
            }
        });
        if (positive.isEmpty()) {
            throw new IllegalArgumentException("at least one outcome needs a positive weight");
        }
        outcomes = positive.keySet().toArray(Outcome[]::new);
        cumulative = new int[outcomes.length];
        int sum = 0;
        for (int i = 0; i < outcomes.length; i++) {
            sum += positive.get(outcomes[i]);
            cumulative[i] = sum;
        }
        total = sum;
    }

    /** {@code answered:60,busy:20,no-answer:10,failed:5,capacity:5}. */
    static WeightedRule parse(String text) {
        Map<Outcome, Integer> weights = new EnumMap<>(Outcome.class);
        for (String part : text.split(",")) {
            String[] pair = part.strip().split(":");
            if (pair.length != 2) {
                throw new IllegalArgumentException("expected outcome:weight, got " + part);
            }
            weights.put(outcome(pair[0].strip()), Integer.parseInt(pair[1].strip()));
        }
        return new WeightedRule(weights);
    }

    private static Outcome outcome(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "answered" -> Outcome.ANSWERED;
            case "busy" -> Outcome.BUSY;
            case "no-answer" -> Outcome.NO_ANSWER;
            case "failed" -> Outcome.FAILED;
            case "capacity" -> Outcome.CAPACITY_REJECTED;
            default -> throw new IllegalArgumentException("unknown outcome " + name
                    + " (known: answered, busy, no-answer, failed, capacity)");
        };
    }

    @Override
    public Outcome decide(String toNumber) {
        int draw = ThreadLocalRandom.current().nextInt(total);
        for (int i = 0; i < outcomes.length; i++) {
            if (draw < cumulative[i]) {
                return outcomes[i];
            }
        }
        return outcomes[outcomes.length - 1];
    }
}
