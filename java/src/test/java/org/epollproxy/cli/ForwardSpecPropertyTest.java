package org.epollproxy.cli;

import static org.epollproxy.cli.SpecGen.forSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The -L/-U parser under attack: random text, mutated valid specs and valid specs in every form.
 * Whatever the input, it returns a spec or throws {@link SpecException} with a position inside the
 * input (the length itself for "something is missing at the end"); never another exception, never a
 * hang; and every spec it accepts survives {@code format()} and a second parse unchanged.
 */
class ForwardSpecPropertyTest {

    static ForwardSpec parseChecked(String text) {
        return ParserChecks.forwardSpec(text);
    }

    /** A hang fails the test instead of the build: every check here runs far below this bound. */
    private static void bounded(Runnable checks) {
        assertTimeoutPreemptively(Duration.ofMinutes(2), checks::run);
    }

    @Test
    void randomTextIsRejectedCleanlyOrRoundTrips() {
        bounded(() -> forSeeds(3000, seed -> parseChecked(new SpecGen(seed).noise(80))));
    }

    @Test
    void mutatedSpecsAreRejectedCleanlyOrRoundTrip() {
        bounded(() -> forSeeds(5000, seed -> {
            SpecGen g = new SpecGen(seed);
            parseChecked(g.mutate(g.spec().format()));
        }));
    }

    @Test
    void validSpecsParseToWhatWasWritten() {
        bounded(() -> forSeeds(3000, seed -> {
            ForwardSpec spec = new SpecGen(seed).spec();
            String text = spec.format();
            assertEquals(new ForwardSpec("tcp", spec.bindHost(), spec.bindPort(), spec.backends()), parseChecked(text), text);
        }));
    }

    @Test
    void hugeInputsAreRejectedWithoutAHang() {
        bounded(() -> {
            parseChecked("1:".repeat(50_000));
            parseChecked("[" + ":".repeat(100_000) + "]:1:h:2");
            parseChecked("0:" + "a".repeat(100_000) + ":80");
            parseChecked("0:h:80" + ",h:80".repeat(20_000));
            parseChecked("[" + "1:".repeat(50_000) + ":1]:1:h:2");
        });
    }
}
