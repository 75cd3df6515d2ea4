package org.epollproxy.shim;

import static org.epollproxy.shim.Epoll.EPOLLIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lesson 22: a fork() shares the epoll instance. The child's epoll fd is another fd for the same
 * instance (one interest list, one ready list), and its copies of the registered sockets keep their
 * registrations alive: when the parent closes a socket, its events keep coming, in the parent and in the
 * child, until the child closes its copy too or exits (lesson 12, the "dup behind the scenes" the man page
 * warns of). A JVM cannot fork() and go on running Java in the child, so this lesson does what fork does to
 * the fds in another way: it passes the epoll fd and the socket to a child process over a UNIX socket
 * (SCM_RIGHTS), which gives the child new fds for the same open file descriptions, exactly as fork would.
 * That also answers "can I send an epoll fd to another process?": yes, but the child receives events whose
 * tokens name the sender's fds, which mean nothing in the child.
 */
class SharedInstanceTest extends EpollLesson {
    @Test
    void aChildSharingTheInstanceSeesTheParentsEventsAndKeepsAClosedSocketsRegistration(@TempDir Path dir) throws Exception {
        int[] p = net.pair();
        assertEquals(0, ep.add(p[1], EPOLLIN, 7));

        Path log = dir.resolve("child.log");
        Child child = Child.start(net, dir.resolve("ctl.sock"), log);
        try {
            child.pass(ep.fd());
            child.pass(p[1]);
            assertEquals("ready", child.line(), () -> childLog(log));

            net.closeNow(p[1]); // the parent's only fd for the socket
            assertEquals(5, net.send(p[0], 5, (byte) 'x'));
            assertEquals(1, ep.wait(1000), "the child's copy keeps the registration: the closed socket is still reported");
            assertEquals(7L, ep.token(0));

            child.say("wait");
            assertEquals("events 1 token 7", child.line(), "the child waits on the same instance: the parent's event, the parent's token");

            child.say("exit");
            assertTrue(child.process.waitFor(30, TimeUnit.SECONDS), "the child exits");
            assertEquals(0, child.process.exitValue(), () -> childLog(log));
            assertEquals(0, ep.wait(50), "its copy closed with it: the last one, so the registration is gone");
        } finally {
            child.process.destroyForcibly();
        }
    }

    private static String childLog(Path log) {
        try {
            return "child's output:\n" + Files.readString(log);
        } catch (java.io.IOException e) {
            return "no child output: " + e;
        }
    }

    /** The child JVM and this side of the UNIX socket to it. */
    private static final class Child {
        final Process process;
        final Loopback net;
        final int fd;

        private Child(Process process, Loopback net, int fd) {
            this.process = process;
            this.net = net;
            this.fd = fd;
        }

        static Child start(Loopback net, Path path, Path log) throws Exception {
            int l = net.track(net.k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0));
            NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
            SockAddr.unix(path.toString()).write(addr.buffer(), 0);
            assertEquals(0, net.k.bind(l, addr.address()));
            assertEquals(0, net.k.listen(l, 1));
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), SharedInstanceChild.class.getName(), path.toString());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + 60_000_000_000L;
            int c;
            while ((c = net.k.accept(l, 0)) == -Errno.EAGAIN) { // the child connects once its JVM runs
                assertTrue(process.isAlive() && System.nanoTime() < deadline, () -> "the child never connected\n" + childLog(log));
                Loopback.sleep(5);
            }
            net.track(c);
            return new Child(process, net, c);
        }

        void pass(int passFd) {
            net.buf.buffer().put(0, (byte) 'f');
            assertEquals(1, net.k.send_fd(fd, net.buf.address(), 1, passFd));
        }

        void say(String text) {
            byte[] b = (text + "\n").getBytes(StandardCharsets.US_ASCII);
            net.buf.buffer().put(0, b);
            assertEquals(b.length, net.k.send(fd, net.buf.address(), b.length));
        }

        /** One line from the child, waiting for it up to 60 s. */
        String line() {
            StringBuilder sb = new StringBuilder();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (true) {
                int n = net.k.recv(fd, net.buf.address(), 1);
                if (n == -Errno.EAGAIN) {
                    assertTrue(System.nanoTime() < deadline, "no answer from the child");
                    Loopback.sleep(1);
                    continue;
                }
                if (n <= 0) return sb.toString();
                char ch = (char) net.buf.buffer().get(0);
                if (ch == '\n') return sb.toString();
                sb.append(ch);
            }
        }
    }
}
