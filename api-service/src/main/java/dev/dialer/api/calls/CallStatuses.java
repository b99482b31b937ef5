package dev.dialer.api.calls;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.FinalStatus;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;

/** The values a call's {@code status} can take in the read model, and which of them are final. */
final class CallStatuses {

    static final String QUEUED = AttemptStatus.QUEUED.wire();
    static final String DEFERRED = "deferred";

    static final Set<String> TERMINAL_ATTEMPT = Arrays.stream(AttemptStatus.values())
            .filter(AttemptStatus::isTerminal).map(AttemptStatus::wire).collect(Collectors.toUnmodifiableSet());

    static final Set<String> FINAL = Arrays.stream(FinalStatus.values()).map(FinalStatus::wire)
            .collect(Collectors.toUnmodifiableSet());

    /** Every value, in lifecycle order: what {@code ?status=} accepts. */
    static final Set<String> ALL = all();

    private CallStatuses() {
    }

    private static Set<String> all() {
        Set<String> all = new LinkedHashSet<>();
        Arrays.stream(AttemptStatus.values()).map(AttemptStatus::wire).forEach(all::add);
        all.add(DEFERRED);
        all.addAll(FINAL);
        return java.util.Collections.unmodifiableSet(all);
    }
}
