package org.epollproxy.stats;

import static org.epollproxy.stats.StatsServer.LOOP_ANSWER_MS;
import static org.epollproxy.stats.StatsServer.TEXT;

import java.util.List;
import org.epollproxy.runtime.ProxyServer;

/** The probes' answers, {@code /healthz} and {@code /livez}, from the loops' round (see {@link StatsServer}). */
final class Probes {
    /** What a loop answers to /healthz: that it runs its tasks, nothing more. */
    static final LoopSnapshot ALIVE = new LoopSnapshot(0, List.of(), List.of(), null, null, 0, 0, 0, 0, 0, List.of(), false);

    /**
     * /healthz (readiness) and /livez (liveness): every loop answers and none died. Draining (SIGTERM,
     * takeover) takes the process out of the load balancer (/healthz 503) but does not get it killed (/livez).
     */
    static void answer(HttpConnection c, List<LoopSnapshot> snaps, ProxyServer p, boolean head, boolean readiness) {
        String dead = p.failure();
        if (dead != null) {
            c.respond(503, TEXT, dead + "\n", head, null);
            return;
        }
        if (readiness && p.draining()) {
            c.respond(503, TEXT, "draining\n", head, null);
            return;
        }
        StringBuilder late = new StringBuilder();
        for (int i = 0; i < snaps.size(); i++) if (snaps.get(i) == null) late.append(late.length() == 0 ? "" : ", ").append(i);
        if (late.length() == 0) c.respond(200, TEXT, "ok\n", head, null);
        else c.respond(503, TEXT, "loop " + late + " did not answer within " + LOOP_ANSWER_MS + " ms\n", head, null);
    }

    private Probes() {}
}
