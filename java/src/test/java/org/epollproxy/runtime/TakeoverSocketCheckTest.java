package org.epollproxy.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.epollproxy.Ports;
import org.epollproxy.forward.Backend;
import org.epollproxy.forward.Forward;
import org.epollproxy.shim.Kernel;
import org.epollproxy.shim.NativeBuffer;
import org.epollproxy.shim.Net;
import org.epollproxy.shim.Shim;
import org.epollproxy.shim.SockAddr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The new process checks each socket a takeover hands it before it serves on it: a TCP forward takes only a
 * listening stream socket of its address family, a UDP forward only a datagram socket. A process at the
 * control path that answers with anything else (another version, another program) is refused with a line
 * naming the forward and what came, instead of a start that serves nothing on that port.
 */
@Timeout(60)
class TakeoverSocketCheckTest {
    @TempDir
    Path dir;

    private final Kernel real = Shim.load();

    /** A fake running process at dir/ctl.sock that answers any takeover with {@code sent} for the forward; returns the message. */
    private String refusalWhenHanded(int sent, Forward f) throws Exception {
        return refusalWhenHanded(sent, f, "fd 0 " + f.key());
    }

    /** As above, the socket on the line {@code fdLine}. */
    private String refusalWhenHanded(int sent, Forward f, String fdLine) throws Exception {
        Path ctl = dir.resolve("ctl.sock");
        int server = real.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
        NativeBuffer a = ControlServer.unixAddress(ctl.toString());
        assertEquals(0, real.bind(server, a.address()));
        java.lang.ref.Reference.reachabilityFence(a);
        assertEquals(0, real.listen(server, 4));
        Thread fake = new Thread(() -> {
            int c = real.accept(server, 0);
            if (c < 0) return;
            ControlChannel ch = new ControlChannel(real, c, false);
            ch.send(fdLine, sent); // at once: the request fits in the socket buffer unread
            ch.send("end", -1);
            try {
                ch.flush(); // a few bytes into an empty socket buffer
            } catch (org.epollproxy.shim.SyscallException e) {
                // EPIPE: the new process refused the fd line and hung up before our "end" went
            }
            NativeBuffer b = NativeBuffer.allocate(512);
            long end = System.nanoTime() + 30_000_000_000L;
            for (int n; System.nanoTime() < end && ((n = real.read(c, b.address(), 512)) > 0 || n == -org.epollproxy.shim.Errno.EAGAIN); ) {
                if (n < 0) LockSupport.parkNanos(5_000_000); // the accepted socket is non-blocking: wait for the hangup
            }
            real.close(c);
        });
        fake.start();
        try {
            Takeover.TakeoverException e = assertThrows(Takeover.TakeoverException.class,
                    () -> Takeover.request(real, ctl.toString(), 1, List.of(f), 20_000));
            return e.getMessage();
        } finally {
            fake.join(30_000);
            real.close(server);
            real.close(sent);
        }
    }

    private static Forward tcp(int port) {
        return new Forward(SockAddr.parse("127.0.0.1", port), List.of(new Backend("127.0.0.1", SockAddr.parse("127.0.0.1", 9))));
    }

    @Test
    void aDatagramSocketForATcpForwardIsRefused() throws Exception {
        Forward f = tcp(Ports.free());
        String msg = refusalWhenHanded(real.socket(Net.AF_INET, Net.SOCK_DGRAM | Net.SOCK_CLOEXEC, 0), f);
        assertEquals("--takeover " + dir.resolve("ctl.sock") + ": the socket that came for " + f.key()
                + " (loop 0) is a datagram socket, not a listening stream socket", msg);
    }

    @Test
    void aStreamSocketThatDoesNotListenIsRefused() throws Exception {
        Forward f = tcp(Ports.free());
        String msg = refusalWhenHanded(real.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0), f);
        assertTrue(msg.endsWith(": the socket that came for " + f.key() + " (loop 0) is a stream socket that does not listen"), msg);
    }

    @Test
    void aListeningSocketOfAnotherAddressIsRefused() throws Exception {
        Forward f = tcp(Ports.free());
        int other = Ports.free();
        int s = real.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
        NativeBuffer a = NativeBuffer.allocate(SockAddr.SIZE);
        SockAddr.parse("127.0.0.1", other).write(a.buffer(), 0);
        assertEquals(0, real.bind(s, a.address()));
        assertEquals(0, real.listen(s, 4));
        String msg = refusalWhenHanded(s, f);
        assertTrue(msg.endsWith(": the socket that came for " + f.key() + " (loop 0) is bound to 127.0.0.1:" + other + ", not 127.0.0.1:"
                + f.bind().port()), msg);
    }

    /** A loop number that is not one is a line we did not ask for, not a NumberFormatException's text. */
    @Test
    void anFdLineWhoseLoopIsNotANumberIsRefusedByName() throws Exception {
        Forward f = tcp(Ports.free());
        String msg = refusalWhenHanded(real.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0), f, "fd x " + f.key());
        assertEquals("--takeover " + dir.resolve("ctl.sock") + ": a socket we did not ask for: fd x " + f.key(), msg);
    }

    @Test
    void aUnixSocketForAnIpv4ForwardIsRefused() throws Exception {
        Forward f = tcp(Ports.free());
        int unix = real.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0);
        NativeBuffer a = ControlServer.unixAddress(dir.resolve("other.sock").toString());
        assertEquals(0, real.bind(unix, a.address()));
        java.lang.ref.Reference.reachabilityFence(a);
        assertEquals(0, real.listen(unix, 4));
        String msg = refusalWhenHanded(unix, f);
        assertTrue(msg.endsWith(": the socket that came for " + f.key() + " (loop 0) is an AF_UNIX socket, not AF_INET"), msg);
    }
}
