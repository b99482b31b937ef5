package dev.dialer.dispatcher;

import dev.dialer.infra.Infrastructure;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Dispatchers a test starts itself, in this JVM, on the shared Kafka and PostgreSQL. */
public final class TestDispatchers {

    private TestDispatchers() {
    }

    /**
     * A dispatcher of consumer group {@code group} on topics of {@code partitions} partitions, dialling the carrier at
     * {@code carrierUrl}, on a free port, with {@code more} properties.
     */
    public static ConfigurableApplicationContext start(String group, int partitions, String carrierUrl,
                                                       Map<String, Object> more) {
        Map<String, Object> properties = new LinkedHashMap<>(Infrastructure.shared().serviceProperties());
        properties.put("spring.config.name", "dispatcher-service");
        properties.put("server.port", 0);
        properties.put("dialer.kafka.partitions", partitions);
        properties.put("dialer.dispatcher.commands.group-id", group);
        properties.put("dialer.dispatcher.carrier.base-url", carrierUrl);
        properties.putAll(more);
        // As command-line arguments: they win over dispatcher-service.yml, which default properties would not.
        return new SpringApplicationBuilder(DispatcherApplication.class)
                .run(properties.entrySet().stream().map(entry -> "--" + entry.getKey() + "=" + entry.getValue())
                        .toArray(String[]::new));
    }
}
