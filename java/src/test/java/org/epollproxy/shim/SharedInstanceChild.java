package org.epollproxy.shim;

import java.nio.charset.StandardCharsets;

/**
 * The other process of {@link SharedInstanceTest}: it connects to the UNIX socket named by its argument,
 * receives two fds (SCM_RIGHTS) as a fork()ed child inherits them, an epoll fd and a socket registered in
 * it, then answers one command per line: {@code wait} (one epoll_wait on the received instance; the
 * answer is {@code events N token T}) and {@code exit}.
 */
final class SharedInstanceChild {
    public static void main(String[] args) {
        Kernel k = Shim.load();
        NativeBuffer addr = NativeBuffer.allocate(SockAddr.SIZE);
        SockAddr.unix(args[0]).write(addr.buffer(), 0);
        int ctl = check(k.socket(Net.AF_UNIX, Net.SOCK_STREAM | Net.SOCK_CLOEXEC, 0), "socket");
        check(k.connect(ctl, addr.address()), "connect");
        NativeBuffer buf = NativeBuffer.allocate(256);
        NativeBuffer fd = NativeBuffer.allocate(4);
        int[] received = new int[2];
        for (int i = 0; i < 2; i++) {
            check(k.recv_fd(ctl, buf.address(), 1, fd.address()), "recvmsg");
            received[i] = check(fd.buffer().getInt(0), "an fd in the message");
        }
        int epfd = received[0]; // received[1], the socket, is only held open: that is the point
        say(k, ctl, buf, "ready");
        NativeBuffer events = NativeBuffer.allocate(Epoll.EVENT_SIZE * 4);
        while (true) {
            String command = line(k, ctl, buf);
            if (command.equals("wait")) {
                int n = k.epoll_wait(epfd, events.address(), 4, 10_000);
                long token = n > 0 ? events.buffer().getLong(0) : -1;
                say(k, ctl, buf, "events " + n + " token " + token);
            } else {
                System.exit(0); // "exit" or EOF: every fd goes with the process
            }
        }
    }

    private static int check(int rc, String what) {
        if (rc < 0) {
            System.err.println("child: " + what + ": " + Errno.name(rc));
            System.exit(1);
        }
        return rc;
    }

    private static void say(Kernel k, int fd, NativeBuffer buf, String text) {
        byte[] b = (text + "\n").getBytes(StandardCharsets.US_ASCII);
        buf.buffer().put(0, b);
        check(k.send(fd, buf.address(), b.length), "send");
    }

    /** One line (commands are short and sent one at a time); "" at EOF. */
    private static String line(Kernel k, int fd, NativeBuffer buf) {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int n = k.recv(fd, buf.address(), 1);
            if (n <= 0) return sb.toString();
            char c = (char) buf.buffer().get(0);
            if (c == '\n') return sb.toString();
            sb.append(c);
        }
    }

    private SharedInstanceChild() {}
}
