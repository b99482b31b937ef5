package dev.dialer.standalone;

import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar dialer-standalone.jar [--dialer.standalone.<option>=…] [--<spring.property>=…]}: runs the whole
 * dialer locally and prints how to send a first call. Ctrl-C stops everything cleanly.
 */
public final class Standalone {

    private Standalone() {
    }

    public static void main(String[] args) throws InterruptedException {
        long began = System.nanoTime();
        StandaloneOptions options;
        try {
            options = StandaloneOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("dialer-standalone: " + e.getMessage());
            System.exit(2);
            return;
        }
        StandaloneStack stack;
        try {
            stack = StandaloneStack.start(options);
        } catch (RuntimeException e) {
            // The trace is in the log above; what to do about it is the innermost message (a data directory in use,
            // a port taken). Exiting stops what was started.
            System.err.println("dialer-standalone did not start: " + innermost(e).getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            stopped.countDown();
        }, "dialer-standalone-shutdown"));
        System.out.println(readyMessage(stack, options, (System.nanoTime() - began) / 1_000_000));
        stopped.await();
    }

    static Throwable innermost(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    static String readyMessage(StandaloneStack stack, StandaloneOptions options, long startMillis) {
        String api = "http://localhost:" + stack.apiPort();
        return String.format("""
                Dialer ready in %.1f s: api %s, dispatcher :%d, webhook :%d, simulator :%d, Kafka %s, \
                PostgreSQL :%d, data in %s, demo API key %s
                  Send a first call (a callee ending in 0 is busy, 1 no answer, 2 failed, 3 over capacity, \
                anything else answers):
                  curl -X POST '%s/api/v2/outgoing/send' \\
                      -H 'Accept: application/json' \\
                      -H 'Authorization: Bearer %s' \\
                      -H 'Content-Type: application/json' \\
                      -d '{"bridge":"918068281234","to":"919876543215","audio":"39888925-718e-43bb-a8b1-d4a3a1b2c3d4","name":"obd_api_call"}'
                """, startMillis / 1000.0, api, stack.dispatcherPort(), stack.webhookPort(),
                stack.simulator().port(), stack.kafkaBootstrapServers(), stack.postgresPort(),
                options.dataDir().toAbsolutePath(), stack.demoApiKey(), api, stack.demoApiKey());
    }
}
