package org.epollproxy.forward;

/**
 * How long and how much a listener with routes reads of a client before choosing its route.
 *
 * @param maxBytes the pre-read cap: a client still undecided after this many bytes is closed
 *     ({@code end=preread-too-long}); like nginx's preread_buffer_size (16 KiB)
 * @param timeoutMs a client still undecided after this long is closed ({@code end=preread-timeout})
 * @param sshWaitMs a client that sent nothing for this long goes to the first {@code proto:ssh} route, if
 *     there is one (an SSH server speaks first; sslh's timeout, 2 s)
 */
public record PrereadLimits(int maxBytes, int timeoutMs, int sshWaitMs) {
    public static final PrereadLimits DEFAULT = new PrereadLimits(16 * 1024, 10_000, 2_000);

    public PrereadLimits {
        if (maxBytes < 1 || timeoutMs < 1 || sshWaitMs < 1) throw new IllegalArgumentException("bad pre-read limits: " + this);
    }
}
