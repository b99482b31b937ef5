package dev.dialer.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Finds a free loopback port for servers that cannot bind port 0 themselves and report it back. A port is handed out
 * once per process: the system may offer a port again as soon as the probe that found it closes, and two listeners of
 * one server (a broker's and its controller's) given the same port would fail to start.
 */
public final class FreePorts {

    private static final int ATTEMPTS = 100;
    private static final int LOWEST = 10_000;
    private static final int HIGHEST = 32_767;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    public static int find() {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = probe();
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port not handed out before, after " + ATTEMPTS + " probes");
    }

    /** {@code port} itself, or a free one when it is 0. */
    public static int orFree(int port) {
        if (port == 0) {
            return find();
        }
        HANDED_OUT.add(port);
        return port;
    }

    /**
     * A port below the range the system hands out to outgoing connections (32768 and up on Linux, 49152 and up on
     * macOS and Windows), free when probed. A port the system picks for a listener bound to port 0 comes from that
     * range, where any process's next outgoing connection may take it as its local port between the probe and the
     * server's bind: a broker then failed to start ("Address already in use"), and exited its test JVM.
     */
    private static int probe() {
        IOException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, HIGHEST + 1);
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                socket.setReuseAddress(true);
                return socket.getLocalPort();
            } catch (IOException e) {
                last = e;
            }
        }
        throw new UncheckedIOException("no free port between " + LOWEST + " and " + HIGHEST, last);
    }
}
