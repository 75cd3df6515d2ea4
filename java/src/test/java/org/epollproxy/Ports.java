package org.epollproxy;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports a test names before anything listens on them (a proxy's listening port handed to a child process, a
 * backend that must refuse). They come from below the kernel's ephemeral range (32768-60999 here), one
 * after another from a random start, so that no port is handed out twice in one test JVM and none is the
 * port the kernel just gave some other test's socket: with test classes running side by side, a port
 * found free by binding to 0 and closing could be handed to another test's connect or bind in between.
 */
public final class Ports {
    private static final int FIRST = 20000, LAST = 32000;
    private static final AtomicInteger NEXT = new AtomicInteger(FIRST + ThreadLocalRandom.current().nextInt(LAST - FIRST));

    private Ports() {}

    /** A port nothing on 127.0.0.1 uses for TCP or UDP right now, never returned before by this JVM. */
    public static int free() throws IOException {
        InetAddress lo = InetAddress.getLoopbackAddress();
        for (int tries = 0; tries < LAST - FIRST; tries++) {
            int port = FIRST + Math.floorMod(NEXT.getAndIncrement() - FIRST, LAST - FIRST);
            try (ServerSocket tcp = new ServerSocket(port, 1, lo); DatagramSocket udp = new DatagramSocket(port, lo)) {
                return port;
            } catch (IOException inUse) {
                // someone else's: the next one
            }
        }
        throw new IOException("no free port in " + FIRST + "-" + LAST + " on " + lo);
    }
}
