package org.epollproxy.sim;

import java.util.Arrays;
import java.util.function.IntPredicate;
import org.epollproxy.shim.Errno;

/**
 * A scripted client or backend outside the proxy. It sends its own stream ({@link Streams}) in
 * random chunks at random times, reads (or stops reading) at random, and ends in one of four ways:
 * FIN then drain, plain close, RST (SO_LINGER 0) at a random point, or stalling forever. Every byte
 * it reads is checked against the stream it must come from, as it arrives.
 */
final class Peer {
    enum Finish { FIN, CLOSE, RESET, STALL }

    /** What a peer will do: drawn from the seed, or fixed by a scenario test. */
    static final class Script {
        long planned;
        Finish finish;
        /** RESET: bytes sent before the RST. */
        long resetAfter;
        /** Stops reading once this many bytes arrived (a stalled reader: backpressure all the way back). */
        long readLimit = Long.MAX_VALUE;
        /** Sends nothing before the other side's FIN (request, FIN, then reply: the rinetd case). */
        boolean sendAfterEof;
        int chunk = 1024;
        int readChunk = 1024;

        /** A well-behaved peer: sends {@code planned} bytes, FIN, reads to the end. */
        static Script polite(long planned) {
            Script s = new Script();
            s.planned = planned;
            s.finish = Finish.FIN;
            return s;
        }

        static Script random(World w) {
            Script s = new Script();
            int sizeClass = w.rnd.nextInt(20);
            s.planned = sizeClass < 6 ? 0 : sizeClass < 14 ? w.between(4, 256) : sizeClass < 19 ? w.between(257, 8192) : w.between(8193, 65536);
            int f = w.rnd.nextInt(10);
            s.finish = f < 5 ? Finish.FIN : f < 7 ? Finish.CLOSE : f < 9 ? Finish.RESET : Finish.STALL;
            s.resetAfter = s.planned == 0 ? 0 : w.rnd.nextLong(s.planned + 1);
            s.readLimit = w.rnd.nextInt(8) == 0 ? w.rnd.nextLong(1024) : Long.MAX_VALUE;
            s.sendAfterEof = w.rnd.nextInt(5) == 0;
            // Tiny chunks only for small streams: they multiply the steps a run takes.
            s.chunk = s.planned <= 8192 && w.rnd.nextInt(3) == 0 ? w.between(1, 16) : w.between(1, 4096);
            s.readChunk = w.rnd.nextInt(4) == 0 ? w.between(1, 16) : w.between(17, 4096);
            return s;
        }
    }

    final World w;
    final End end;
    final String name;
    /** The description of this peer's next step in the world's queue (one string, not one per step). */
    private final String stepWhat;
    final int streamId;
    final long planned;
    final Finish finish;
    final long resetAfter;
    final long readLimit;
    final boolean sendAfterEof;
    final int chunk;
    final int readChunk;
    private final IntPredicate acceptsSender;

    long sent;
    /** Bytes of the other side's stream received (after the prefix). */
    long received;
    /** What the proxy sends before the stream on this connection: the PROXY protocol header, or nothing. */
    byte[] prefix = new byte[0];
    int prefixReceived;
    int senderId = -1;
    private final byte[] header = new byte[Streams.HEADER];
    boolean sawEof;
    boolean sawReset;
    boolean done;
    private long idleDelay = World.MS;
    private byte[] tmp = new byte[256];
    private byte[] expected = new byte[256]; // verify's scratch: what the sender's stream holds where the bytes landed

    Peer(World w, End end, String name, int streamId, IntPredicate acceptsSender, Script script) {
        this.w = w;
        this.end = end;
        this.name = name;
        this.stepWhat = name + " step";
        this.streamId = streamId;
        this.acceptsSender = acceptsSender;
        planned = script.planned;
        finish = script.finish;
        resetAfter = script.resetAfter;
        readLimit = script.readLimit;
        sendAfterEof = script.sendAfterEof;
        chunk = script.chunk;
        readChunk = script.readChunk;
    }

    void start(long delay) {
        w.after(delay, name + " step", this::step);
    }

    /** Set while {@link #actNow} runs a step out of turn: that step schedules no next one (the peer's own chain goes on). */
    private boolean outOfTurn;

    /** One step now, outside the peer's own schedule: a scenario makes a client's first move happen before the proxy accepts it. */
    void actNow() {
        outOfTurn = true;
        try {
            step();
        } finally {
            outOfTurn = false;
        }
    }

    void step() {
        if (done) return;
        long before = w.progress;
        if (finish == Finish.RESET && sent >= resetAfter && (sent == planned || w.rnd.nextInt(3) == 0)) {
            end.lingerZero = true;
            end.close();
            w.log(name + " resets");
            done = true;
            return;
        }
        if (received < readLimit) read();
        if (!sawReset && (!sendAfterEof || sawEof) && sent < planned && !end.wrShut) write();
        if (sawReset) {
            end.close();
            done = true;
            return;
        }
        if (sent == planned && finish != Finish.RESET) {
            if (finish == Finish.CLOSE) {
                end.close();
                done = true;
                return;
            }
            if (finish == Finish.STALL) {
                done = true;
                return;
            }
            if (!end.wrShut) end.shutdownWrite();
            if (sawEof) {
                end.close();
                done = true;
                return;
            }
        }
        // A step that changed nothing backs off, so a peer waiting on a stalled proxy costs few steps.
        idleDelay = w.progress == before ? Math.min(idleDelay * 2, 5 * World.SEC) : World.MS;
        if (outOfTurn) return;
        long delay = w.rnd.nextInt(100) == 0 ? w.between(50, 1500) * World.MS : w.rnd.nextLong(idleDelay + 1);
        w.after(delay, stepWhat, this::step);
    }

    private void read() {
        if (tmp.length < readChunk) tmp = new byte[readChunk];
        int n = end.read(tmp, readChunk);
        if (n > 0) {
            verify(tmp, n);
        } else if (n == 0) {
            sawEof = true;
        } else if (n != -Errno.EAGAIN) {
            sawReset = true;
        }
    }

    /** Reads whatever is still queued (end of run), checking it. */
    void drain() {
        int n;
        while ((n = end.rx.size()) > 0) {
            if (tmp.length < n) tmp = new byte[n];
            end.rx.take(tmp, 0, n);
            end.rxTaken += n;
            verify(tmp, n);
        }
    }

    private void write() {
        int n = (int) Math.min(chunk, planned - sent);
        if (tmp.length < n) tmp = new byte[n];
        Streams.fill(streamId, sent, tmp, 0, n);
        int r = end.write(tmp, 0, n);
        if (r > 0) sent += r;
        else if (r != -Errno.EAGAIN) sawReset = true;
    }

    private void verify(byte[] b, int n) {
        int i = 0;
        for (; i < n && prefixReceived < prefix.length; i++, prefixReceived++) {
            if (b[i] != prefix[prefixReceived]) {
                throw w.violation(name + " byte " + prefixReceived + " of the PROXY protocol header is " + b[i] + ", expected "
                        + prefix[prefixReceived] + " (the header must come first, whole, once)");
            }
        }
        for (; i < n && received < Streams.HEADER; i++, received++) {
            header[(int) received] = b[i];
            if (received == Streams.HEADER - 1) {
                senderId = ((header[0] & 0xff) << 24) | ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
                if (!acceptsSender.test(senderId)) {
                    throw w.violation(name + " receives stream " + senderId + ", which belongs to another connection");
                }
            }
        }
        if (i == n) return;
        // The rest at once: what the sender's stream holds there, compared in one pass.
        if (expected.length < n - i) expected = new byte[Math.max(n - i, 2 * expected.length)];
        Streams.fill(senderId, received, expected, 0, n - i);
        int at = Arrays.mismatch(b, i, n, expected, 0, n - i);
        if (at >= 0) {
            throw w.violation(name + " byte " + (received + at) + " of stream " + senderId + " is " + b[i + at] + ", expected "
                    + expected[at] + " (bytes lost, reordered or duplicated)");
        }
        received += n - i;
    }

    @Override
    public String toString() {
        return name + "{sent=" + sent + "/" + planned + " received=" + received + " finish=" + finish
                + (sawEof ? " eof" : "") + (sawReset ? " reset" : "") + (done ? " done" : "") + " " + end + "}";
    }
}
