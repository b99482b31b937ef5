package dev.dialer.webhook.delivery;

import dev.dialer.common.hook.AllowList;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/** Target guards whose host lookups the test answers itself, without DNS (lookups bounded by 5 s, as by default). */
final class FakeDns {

    /** A host's addresses, computed at once (a map, a literal); throws for a name that does not exist. */
    interface Answers {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private static final Duration LOOKUP_TIMEOUT = Duration.ofSeconds(5);

    private FakeDns() {
    }

    static TargetGuard guard(AllowList allowList, Answers answers) {
        return guard(allowList, answers, PlainHttpPolicy.Mode.ALLOWED);
    }

    static TargetGuard guard(AllowList allowList, Answers answers, PlainHttpPolicy.Mode plainHttp) {
        return new TargetGuard(allowList, new HostLookups(host -> Mono.fromCallable(() -> answers.resolve(host)),
                LOOKUP_TIMEOUT), plainHttp);
    }

    /** A guard whose lookups answer when {@code dns} does: {@link Mono#never()} for a name server that is silent. */
    static TargetGuard guardAsking(AllowList allowList, Function<String, Mono<InetAddress[]>> dns) {
        return new TargetGuard(allowList, new HostLookups(dns, LOOKUP_TIMEOUT), PlainHttpPolicy.Mode.ALLOWED);
    }
}
