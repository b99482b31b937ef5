package dev.dialer.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds a free loopback port for servers that cannot bind port 0 themselves and report it back. A port is handed out
 * once per process: the system may offer a port again as soon as the probe that found it closes, and two listeners of
 * one server (a broker's and its controller's) given the same port would fail to start.
 */
public final class FreePorts {

    private static final int ATTEMPTS = 100;
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

    private static int probe() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
