package org.epollproxy.stats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.epollproxy.forward.ForwardingLoop;
import org.epollproxy.loop.EventLoop;
import org.epollproxy.loop.Timer;
import org.epollproxy.runtime.ProxyServer;

/**
 * One request's view of every forwarding loop, gathered without blocking anyone: each loop runs
 * {@code take} on its own thread ({@code EventLoop.execute}) and posts the copy back to the stats loop;
 * when all have answered, or {@link StatsServer#LOOP_ANSWER_MS} has passed (a loop that has not answered
 * by then is null: not responding), {@code then} runs on the stats loop. The forwarding path takes no
 * lock and the stats loop never waits, so a stuck loop delays no other request.
 */
final class SnapshotRound extends Timer {
    private final EventLoop statsLoop;
    private final LoopSnapshot[] got;
    private final Consumer<List<LoopSnapshot>> then;
    private int waiting;
    private boolean done;

    private SnapshotRound(EventLoop statsLoop, int loops, Consumer<List<LoopSnapshot>> then) {
        this.statsLoop = statsLoop;
        this.got = new LoopSnapshot[loops];
        this.waiting = loops;
        this.then = then;
    }

    /** Starts a round on the stats loop's thread; {@code take} runs on each forwarding loop's thread. */
    static void start(EventLoop statsLoop, ProxyServer proxy, Function<ForwardingLoop, LoopSnapshot> take,
            Consumer<List<LoopSnapshot>> then) {
        List<EventLoop> loops = proxy.loops();
        List<ForwardingLoop> forwarding = proxy.forwardingLoops();
        SnapshotRound r = new SnapshotRound(statsLoop, loops.size(), then);
        statsLoop.schedule(r, statsLoop.now() + StatsServer.LOOP_ANSWER_MS * 1_000_000L);
        for (int i = 0; i < loops.size(); i++) {
            int index = i;
            ForwardingLoop fl = forwarding.get(i);
            boolean posted = loops.get(i).execute(() -> {
                LoopSnapshot s = take.apply(fl);
                statsLoop.execute(() -> r.arrived(index, s));
            });
            if (!posted) r.arrived(index, null); // that loop has ended: it will never answer
        }
    }

    private void arrived(int loop, LoopSnapshot s) {
        if (done) return; // too late: already reported as not responding
        got[loop] = s;
        if (--waiting == 0) finish();
    }

    @Override
    protected void onTimer(long now) {
        finish();
    }

    private void finish() {
        if (done) return;
        done = true;
        statsLoop.cancel(this);
        List<LoopSnapshot> out = new ArrayList<>(Arrays.asList(got));
        then.accept(out);
    }
}
