package org.epollproxy.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * What the simulation knows of one proxied connection: the proxy's accepted socket, the client peer,
 * and the backend sockets the proxy opened for it, in the order it tried them. The simulation
 * attributes a backend socket to its pair by call order (see {@link SimKernel#socket}) and then
 * checks that attribution against the data: a backend's first bytes name the client stream.
 */
final class SimPair {
    final int id;
    final End client;
    Peer clientPeer;
    final int forwardIndex;
    /** The PROXY protocol header the proxy must send each backend first (empty when the forward sends none). */
    byte[] proxyHeader = new byte[0];
    final List<End> backends = new ArrayList<>();
    final List<Peer> backendPeers = new ArrayList<>();

    SimPair(int id, End client, int forwardIndex) {
        this.id = id;
        this.client = client;
        this.forwardIndex = forwardIndex;
    }

    /** Bytes the proxy read from every backend socket of this pair. */
    long takenFromBackends() {
        long n = 0;
        for (End b : backends) n += b.rxTaken;
        return n;
    }

    /** The backend socket whose data flows to the client: the last one tried. */
    End currentBackend() {
        return backends.isEmpty() ? null : backends.get(backends.size() - 1);
    }

    boolean allClosed() {
        if (!client.closed) return false;
        for (End b : backends) if (!b.closed) return false;
        return true;
    }

    boolean acceptsSender(int streamId) {
        for (Peer p : backendPeers) if (p.streamId == streamId) return true;
        return false;
    }

    @Override
    public String toString() {
        return "pair " + id + " (forward " + forwardIndex + "): " + client + " " + backends;
    }
}
