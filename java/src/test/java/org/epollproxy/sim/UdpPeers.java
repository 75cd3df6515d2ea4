package org.epollproxy.sim;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.epollproxy.shim.SockAddr;

/**
 * Scripted UDP clients and the UDP backend they reach through the proxy. A datagram says who sent it,
 * its sequence number and its length, and the rest is a function of those, so every receiver checks it
 * whole: the backend that each session socket carries one client only, the client that every reply
 * is a reply to its own datagram and comes from the address it sent to.
 */
final class UdpPeers {
    static final int HEADER = 12;

    static byte[] datagram(int client, int seq, int len) {
        byte[] d = new byte[Math.max(HEADER, len)];
        ByteBuffer.wrap(d).putInt(client).putInt(seq).putInt(d.length);
        Streams.fill(client * 1_000_003 + seq, HEADER, d, HEADER, d.length - HEADER);
        return d;
    }

    /** The client id of an intact datagram; a violation for anything cut, changed or mixed. */
    static int check(World w, String who, byte[] d) {
        if (d.length < HEADER) throw w.violation(who + " got a " + d.length + "-byte datagram: shorter than any sent");
        ByteBuffer b = ByteBuffer.wrap(d);
        int client = b.getInt();
        int seq = b.getInt();
        int len = b.getInt();
        if (len != d.length) throw w.violation(who + " got " + d.length + " bytes of a " + len + "-byte datagram (cut or merged)");
        byte[] want = datagram(client, seq, len);
        if (!java.util.Arrays.equals(want, d)) throw w.violation(who + " got datagram " + seq + " of client " + client + " changed");
        return client;
    }

    /** Sends datagrams to the proxy at random times (with pauses longer than the session timeout). */
    static final class Client {
        final World w;
        final SimUdp net;
        final SimUdp.Sock sock = new SimUdp.Sock(false, 64);
        final int id;
        final SockAddr proxy;
        final int planned;
        int sent;
        int replies;
        boolean done;

        Client(World w, SimUdp net, int id, SockAddr proxy) {
            this.w = w;
            this.net = net;
            this.id = id;
            this.proxy = proxy;
            this.planned = w.between(1, 15);
            net.bind(sock, SockAddr.parse("127.0.0.3", 20000 + id));
            sock.onArrival = this::readReplies;
        }

        void step() {
            int len = w.rnd.nextInt(40) == 0 ? 70_000 : w.between(HEADER, 1500); // now and then more than any buffer
            net.deliver(proxy, datagram(id, sent, len), sock.local);
            if (++sent == planned) {
                done = true;
                return;
            }
            long pause = w.rnd.nextInt(10) == 0 ? w.between(500, 8000) * World.MS : w.rnd.nextLong(50 * World.MS);
            w.after(pause, "udp client " + id + " sends", this::step);
        }

        private void readReplies() {
            SimUdp.Datagram d;
            while ((d = sock.rx.poll()) != null) {
                if (!d.from.equals(proxy)) throw w.violation("udp client " + id + " got a reply from " + d.from + ", not " + proxy);
                int from = check(w, "udp client " + id, d.data);
                if (from != id) throw w.violation("udp client " + id + " got a reply to client " + from + "'s datagram");
                replies++;
            }
        }
    }

    /** The backend: checks each datagram, remembers which client each source address carries, echoes most. */
    static final class Server {
        final World w;
        final SimUdp net;
        final SimUdp.Sock sock = new SimUdp.Sock(false, 256);
        private final Map<SockAddr, Integer> clientOfSource = new HashMap<>();
        int received;

        Server(World w, SimUdp net, SockAddr address) {
            this.w = w;
            this.net = net;
            net.bind(sock, address);
            sock.onArrival = this::serve;
        }

        private void serve() {
            SimUdp.Datagram d;
            while ((d = sock.rx.poll()) != null) {
                int client = check(w, "udp backend", d.data);
                Integer before = clientOfSource.putIfAbsent(d.from, client);
                if (before != null && before != client) {
                    throw w.violation("one proxy session socket " + d.from + " carried clients " + before + " and " + client);
                }
                received++;
                if (w.rnd.nextInt(10) == 0) continue; // UDP: some replies never come
                byte[] reply = d.data;
                SockAddr to = d.from;
                w.after(w.rnd.nextLong(5 * World.MS), "udp backend replies", () -> net.deliver(to, reply, sock.local));
            }
        }
    }

    private UdpPeers() {}
}
