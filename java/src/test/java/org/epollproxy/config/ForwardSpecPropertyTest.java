package org.epollproxy.config;

import static org.epollproxy.config.SpecGen.forSeeds;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The -L/-U parser under attack: random text, mutated valid specs and valid specs in every form.
 * Whatever the input, it returns a spec or throws {@link SpecException} with a position inside the
 * input (the length itself for "something is missing at the end"); never another exception, never a
 * hang; and every spec it accepts survives {@code format()} and a second parse unchanged.
 */
class ForwardSpecPropertyTest {

    @Test
    void randomTextIsRejectedCleanlyOrRoundTrips() {
        forSeeds(3000, seed -> ParserChecks.forwardSpec(new SpecGen(seed).noise(80)));
    }

    @Test
    void mutatedSpecsAreRejectedCleanlyOrRoundTrip() {
        forSeeds(5000, seed -> {
            SpecGen g = new SpecGen(seed);
            ParserChecks.forwardSpec(g.mutate(g.spec().format()));
        });
    }

    @Test
    void validSpecsParseToWhatWasWritten() {
        forSeeds(3000, seed -> {
            ForwardSpec spec = new SpecGen(seed).spec();
            String text = spec.format();
            assertEquals(new ForwardSpec("tcp", spec.bindHost(), spec.bindPort(), spec.backends()), ParserChecks.forwardSpec(text), text);
        });
    }

    @Test
    void hugeInputsAreRejectedWithoutAHang() {
        SpecGen.bounded(() -> {
            ParserChecks.forwardSpec("1:".repeat(50_000));
            ParserChecks.forwardSpec("[" + ":".repeat(100_000) + "]:1:h:2");
            ParserChecks.forwardSpec("0:" + "a".repeat(100_000) + ":80");
            ParserChecks.forwardSpec("0:h:80" + ",h:80".repeat(20_000));
            ParserChecks.forwardSpec("[" + "1:".repeat(50_000) + ":1]:1:h:2");
        });
    }
}
