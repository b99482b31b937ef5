package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.CallCommand;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Whether a command's call could reach a carrier now ({@link Carrier#accepting}), for the parts that hold calls while
 * it could not: the lanes and the retry scheduler; and which trunk paces it ({@link Carrier#trunkOf}). The carrier is
 * looked up at the first question, not when they are built: the SIP trunk carrier needs the callback applier, which
 * needs the lanes.
 */
@Component
public class CarrierReadiness {

    private final ObjectProvider<Carrier> provider;
    private final AtomicReference<Carrier> resolved = new AtomicReference<>();

    CarrierReadiness(ObjectProvider<Carrier> provider) {
        this.provider = provider;
    }

    public boolean accepting(CallCommand command) {
        return carrier().accepting(command);
    }

    /** {@link Carrier#trunkOf}. */
    public String trunkOf(CallCommand command) {
        return carrier().trunkOf(command);
    }

    /** {@link Carrier#trunks}. */
    public List<String> trunks() {
        return carrier().trunks();
    }

    /** {@link Carrier#probeIdle}. */
    public Mono<Void> probeIdle(Duration idle) {
        return carrier().probeIdle(idle);
    }

    /** {@link Carrier#trunksOutOfService}. */
    public List<String> trunksOutOfService() {
        return carrier().trunksOutOfService();
    }

    private Carrier carrier() {
        Carrier carrier = resolved.get();
        if (carrier == null) {
            carrier = provider.getObject();
            resolved.set(carrier);
        }
        return carrier;
    }
}
