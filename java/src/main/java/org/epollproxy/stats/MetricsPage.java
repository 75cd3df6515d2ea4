package org.epollproxy.stats;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.epollproxy.forward.EndReason;
import org.epollproxy.forward.Forward;
import org.epollproxy.forward.ForwardStats;
import org.epollproxy.loop.LoopStats;

/**
 * {@code /metrics}: per forward (label {@code forward}, its listening address) connection and byte
 * counters summed over the loops, then per loop (label {@code loop}) what the epoll loop did. Every
 * name starts with {@code epollproxy_}; counters end in {@code _total}; bytes are in bytes.
 */
final class MetricsPage {

    /**
     * @param snapshots one per loop, in loop order; null for a loop that did not answer in time (its
     *     series are left out and {@code epollproxy_loop_responding} says 0)
     */
    static String render(List<LoopSnapshot> snapshots) {
        return render(snapshots, new LoopSnapshot[snapshots.size()]);
    }

    /**
     * As above; {@code lastAnswered} holds each loop's latest snapshot across scrapes (updated here), whose
     * forward counters stand in for a loop that did not answer. Summed without that loop's share, every
     * forward counter went down for one scrape and back up the next, which Prometheus reads as a counter
     * reset: rate() and increase() then counted the whole counter again, a spike of the forward's lifetime.
     */
    static String render(List<LoopSnapshot> snapshots, LoopSnapshot[] lastAnswered) {
        PrometheusText p = new PrometheusText();
        // Per forward, summed over the loops; a forward is its protocol and listening address.
        Map<String, ForwardStats> byKey = new LinkedHashMap<>();
        Map<String, Forward> forwardOf = new LinkedHashMap<>();
        for (int i = 0; i < snapshots.size(); i++) {
            LoopSnapshot s = snapshots.get(i);
            if (i < lastAnswered.length) {
                if (s != null) lastAnswered[i] = s;
                else s = lastAnswered[i]; // not answering now: its counters as last seen, never less
            }
            if (s == null) continue;
            for (int f = 0; f < s.forwards().size(); f++) {
                String key = s.forwards().get(f).key();
                forwardOf.putIfAbsent(key, s.forwards().get(f));
                byKey.computeIfAbsent(key, k -> new ForwardStats()).add(s.stats().get(f));
            }
        }
        ForwardStats[] sums = byKey.values().toArray(new ForwardStats[0]);
        String[][] ids = new String[sums.length][];
        int n = 0;
        for (Forward fwd : forwardOf.values()) ids[n++] = new String[] {"forward", fwd.bind().toString(), "proto", fwd.proto().lower()};

        p.family("epollproxy_connections_active", "gauge", "Open client connections of the forward.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].active, ids[f]);
        p.family("epollproxy_connections_accepted_total", "counter", "Client connections accepted by the forward.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].accepted, ids[f]);
        p.family("epollproxy_connections_closed_total", "counter",
                "Connections ended, by reason: client-closed/backend-closed are clean ends; backend-refused, "
                        + "connect-timeout, idle-timeout, fin-timeout, client-reset, backend-reset, denied, ... as in the log's end= field.");
        for (int f = 0; f < sums.length; f++) {
            for (EndReason r : EndReason.values()) p.sample(sums[f].ends[r.ordinal()], with(ids[f], "reason", r.text()));
        }
        p.family("epollproxy_connections_denied_total", "counter", "Client connections refused by the access rules.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].denied, ids[f]);
        p.family("epollproxy_backend_connects_total", "counter", "Backend connects that succeeded.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].connected, ids[f]);
        p.family("epollproxy_backend_connect_failures_total", "counter",
                "Backend connects that failed (refused, unreachable or timed out), failovers included.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].connectFailures, ids[f]);
        p.family("epollproxy_forwarded_bytes_total", "counter",
                "Bytes delivered: direction up is client to backend, down backend to client; path splice is zero-copy, copy through a buffer.");
        for (int f = 0; f < sums.length; f++) {
            ForwardStats s = sums[f];
            p.sample(s.bytesUp - s.bytesSplicedUp, with(ids[f], "direction", "up", "path", "copy"));
            p.sample(s.bytesSplicedUp, with(ids[f], "direction", "up", "path", "splice"));
            p.sample(s.bytesDown - s.bytesSplicedDown, with(ids[f], "direction", "down", "path", "copy"));
            p.sample(s.bytesSplicedDown, with(ids[f], "direction", "down", "path", "splice"));
        }
        p.family("epollproxy_splice_fallbacks_total", "counter",
                "Directions that fell back from splice to copying (splice refused with EINVAL, or no pipe could be opened).");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].spliceFallbacks, ids[f]);
        p.family("epollproxy_accept_pauses_total", "counter", "Times the listener paused for 100 ms because accept ran out of fds.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].acceptPauses, ids[f]);
        p.family("epollproxy_capacity_pauses_total", "counter", "Times accepting stopped because --max-connections was reached.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].capPauses, ids[f]);
        p.family("epollproxy_udp_datagrams_total", "counter",
                "UDP datagrams: event received from clients, sent back to them, dropped (buffer full, denied, unreachable, oversized).");
        for (int f = 0; f < sums.length; f++) {
            p.sample(sums[f].datagramsIn, with(ids[f], "event", "received"));
            p.sample(sums[f].datagramsOut, with(ids[f], "event", "sent"));
            p.sample(sums[f].datagramsDropped, with(ids[f], "event", "dropped"));
        }
        p.family("epollproxy_udp_sessions_evicted_total", "counter", "UDP sessions ended because the session cap was reached.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].sessionsEvicted, ids[f]);
        p.family("epollproxy_udp_late_replies_total", "counter",
                "UDP replies that reached the socket of an ended session (in quarantine): dropped, never sent to another client.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].lateReplies, ids[f]);
        p.family("epollproxy_udp_datagrams_truncated_total", "counter",
                "UDP datagrams longer than the receive buffer (MSG_TRUNC): dropped whole, also counted as dropped.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].datagramsTruncated, ids[f]);
        p.family("epollproxy_udp_sockets_quarantined", "gauge",
                "Sockets of ended UDP sessions held open so that their ports go to no other session yet.");
        for (int f = 0; f < sums.length; f++) p.sample(sums[f].quarantined, ids[f]);

        p.family("epollproxy_draining", "gauge",
                "1 while draining (SIGTERM or a takeover): listeners closed, open connections finishing; else 0.");
        p.sample(snapshots.stream().anyMatch(s -> s != null && s.draining()) ? 1 : 0);

        loops(p, snapshots);
        return p.toString();
    }

    private static void loops(PrometheusText p, List<LoopSnapshot> snapshots) {
        p.family("epollproxy_loop_responding", "gauge", "1 if the loop answered this scrape in time, else 0 (its other series are missing).");
        for (int i = 0; i < snapshots.size(); i++) p.sample(snapshots.get(i) == null ? 0 : 1, "loop", Integer.toString(i));
        p.family("epollproxy_loop_io_uring", "gauge", "1 if the loop waits and sends through io_uring (--io-uring), 0 on epoll.");
        each(p, snapshots, s -> s.loopStats().ioUring);
        p.family("epollproxy_loop_io_uring_polls_total", "counter", "One-shot polls armed in the ring (--io-uring): one per event and per change of interest.");
        each(p, snapshots, s -> s.loopStats().ringPolls);
        p.family("epollproxy_loop_io_uring_poll_failures_total", "counter",
                "Polls the ring refused to arm (--io-uring; EBADF, ENOMEM): each one ends its connection, see stderr.");
        each(p, snapshots, s -> s.loopStats().ringPollFailures);
        p.family("epollproxy_loop_io_uring_sends_total", "counter", "Sends handed to the ring (--io-uring).");
        each(p, snapshots, s -> s.loopStats().ringSends);
        p.family("epollproxy_loop_io_uring_send_failures_total", "counter",
                "Ring sends that did not finish: reason error (the peer reset, ...) or cancelled (their connection ended first).");
        each(p, snapshots, s -> s.loopStats().ringSendErrors, "reason", "error");
        each(p, snapshots, s -> s.loopStats().ringSendsCancelled, "reason", "cancelled");
        p.family("epollproxy_loop_epoll_wait_calls_total", "counter", "epoll_wait calls (io_uring_enter waits on an io_uring loop).");
        each(p, snapshots, s -> s.loopStats().waits);
        p.family("epollproxy_loop_events_total", "counter", "Events returned by epoll_wait; rate over epoll_wait_calls_total is the batch size.");
        each(p, snapshots, s -> s.loopStats().events);
        p.family("epollproxy_loop_events_per_wait", "gauge", "Average events per epoll_wait since start.");
        for (LoopSnapshot s : snapshots) {
            if (s == null) continue;
            LoopStats st = s.loopStats();
            p.sample(st.waits == 0 ? 0 : (double) st.events / st.waits, "loop", Integer.toString(s.loop()));
        }
        p.family("epollproxy_loop_epoll_ctl_calls_total", "counter",
                "epoll_ctl calls by op: mod toggles EPOLLOUT under backpressure; add/del start and stop reading a socket.");
        for (LoopSnapshot s : snapshots) {
            if (s == null) continue;
            String loop = Integer.toString(s.loop());
            p.sample(s.loopStats().ctlAdd, "loop", loop, "op", "add");
            p.sample(s.loopStats().ctlMod, "loop", loop, "op", "mod");
            p.sample(s.loopStats().ctlDel, "loop", loop, "op", "del");
        }
        p.family("epollproxy_loop_eagain_total", "counter",
                "EAGAIN results: op recv is a wakeup with nothing to read, send a peer whose socket buffer was full (splice included).");
        for (LoopSnapshot s : snapshots) {
            if (s == null) continue;
            String loop = Integer.toString(s.loop());
            p.sample(s.counters().eagainRecv, "loop", loop, "op", "recv");
            p.sample(s.counters().eagainSend, "loop", loop, "op", "send");
        }
        p.family("epollproxy_loop_speculative_io_total", "counter",
                "Speculative I/O: op recv is a client read right after accept, send a backend send right after a loopback connect; "
                        + "result hit found bytes / settled the connect, miss found EAGAIN (one syscall spent for nothing).");
        for (LoopSnapshot s : snapshots) {
            if (s == null) continue;
            String loop = Integer.toString(s.loop());
            p.sample(s.counters().speculativeRecvHits, "loop", loop, "op", "recv", "result", "hit");
            p.sample(s.counters().speculativeRecvMisses, "loop", loop, "op", "recv", "result", "miss");
            p.sample(s.counters().speculativeSendHits, "loop", loop, "op", "send", "result", "hit");
            p.sample(s.counters().speculativeSendMisses, "loop", loop, "op", "send", "result", "miss");
        }
        p.family("epollproxy_loop_partial_sends_total", "counter", "Sends that took only part of the bytes: backpressure began.");
        each(p, snapshots, s -> s.counters().partialSends);
        p.family("epollproxy_loop_stale_events_total", "counter", "Events for an fd closed earlier in the same batch, dropped by their token's generation.");
        each(p, snapshots, s -> s.loopStats().staleEvents);
        p.family("epollproxy_loop_wakeups_total", "counter", "eventfd wakeups from other threads (stats, shutdown).");
        each(p, snapshots, s -> s.loopStats().wakeups);
        p.family("epollproxy_loop_timers_fired_total", "counter", "Timers run (connect, idle and FIN timeouts; listener back-off).");
        each(p, snapshots, s -> s.loopStats().timersFired);
        p.family("epollproxy_loop_handler_failures_total", "counter", "Exceptions caught from handlers, timers or tasks (a bug; see stderr).");
        each(p, snapshots, s -> s.loopStats().handlerFailures);
        p.family("epollproxy_loop_connections_open", "gauge", "Open connections on the loop: TCP pairs and UDP sessions.");
        each(p, snapshots, LoopSnapshot::openConnections);
        p.family("epollproxy_loop_buffers_in_use", "gauge", "Forwarding buffers held by connections with bytes waiting for a slow peer.");
        each(p, snapshots, LoopSnapshot::buffersInUse);
        p.family("epollproxy_loop_buffer_memory_bytes", "gauge", "Native memory of the loop's buffer pool, in use and idle.");
        each(p, snapshots, LoopSnapshot::bufferBytes);
        p.family("epollproxy_loop_splice_pipes", "gauge",
                "--splice: pipes held by connections with bytes waiting in them (in_use), and empty ones kept open for reuse (idle); two fds each.");
        each(p, snapshots, LoopSnapshot::pipesInUse, "state", "in_use");
        each(p, snapshots, LoopSnapshot::pipesIdle, "state", "idle");
        p.family("epollproxy_loop_buffer_alloc_failures_total", "counter",
                "malloc refused a forwarding buffer: the connection that needed it was reset (end=error errno=ENOMEM), the loop went on.");
        each(p, snapshots, s -> s.counters().bufferAllocFailures);
        p.family("epollproxy_loop_malloc_trims_total", "counter",
                "Times the loop freed buffers left idle for 5 s beyond its floor (or freed since) and called malloc_trim to give the memory back.");
        each(p, snapshots, s -> s.counters().mallocTrims);
    }

    /** {@code labels} followed by more name, value pairs. */
    private static String[] with(String[] labels, String... more) {
        String[] out = java.util.Arrays.copyOf(labels, labels.length + more.length);
        System.arraycopy(more, 0, out, labels.length, more.length);
        return out;
    }

    /** One sample per loop, labelled {@code loop} and then {@code more} (name, value pairs). */
    private static void each(PrometheusText p, List<LoopSnapshot> snapshots, java.util.function.ToLongFunction<LoopSnapshot> value,
            String... more) {
        for (LoopSnapshot s : snapshots) {
            if (s != null) p.sample(value.applyAsLong(s), with(new String[] {"loop", Integer.toString(s.loop())}, more));
        }
    }

    private MetricsPage() {}
}
