package org.epollproxy.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.epollproxy.config.ParserChecks;
import org.epollproxy.forward.preread.PrereadChecks;
import org.epollproxy.forward.proxyproto.HeaderChecks;

/**
 * Coverage-guided fuzzing (Jazzer) of the -L parser and the config parser, with the checks the
 * property tests use ({@link ParserChecks}): only SpecException, with a position (and line) inside the
 * input; accepted specs round-trip. And of the PROXY header parser ({@link HeaderChecks}): no exception,
 * no verdict changed by more bytes, nothing read or held beyond its bound.
 *
 * <p>{@code mvn verify} runs {@link #parsers} for 5 s (the fuzz execution in java/pom.xml, in a JVM of its
 * own; the default execution leaves this class out, so Jazzer's agent stays out of its JVM). It fuzzes the
 * four parsers in one run: the input's last byte picks the parser, the rest is its input. Jazzer fuzzes one
 * target per JVM and takes about 5 s of two cores to start, so one target over all of them pays that once.
 * 5 s is a smoke run that keeps the harness, the checks and the saved inputs tested (it was 15 s: about 7 more
 * CPU-seconds of every test command); the campaigns are {@link #parsersLong} and the *Long methods. It first replays its inputs in
 * {@code src/test/resources/org/epollproxy/fuzz/ParserFuzzTestInputs/parsers/} (each seed is a parser's
 * input followed by that byte: 0 -L, 1 config file, 2 PROXY header, 3 first bytes of a routed client; Jazzer also drops the input of any
 * failure it finds there, so it becomes a regression test). {@link #parsersLong} fuzzes all four and the
 * other *Long methods one parser each, for 10 minutes, on request only:
 *
 * <pre>
 *   JAZZER_FUZZ=1 mvn -B -pl java test-compile surefire:test -Dtest='ParserFuzzTest#parsersLong'
 *   JAZZER_FUZZ=1 mvn -B -pl java test-compile surefire:test -Dtest='ParserFuzzTest#configFileLong'
 * </pre>
 *
 * (annotation values are constants, hence separate methods instead of a duration property).
 */
class ParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void parsers(FuzzedDataProvider data) {
        switch (data.consumeInt(0, 3)) { // from the end of the input: the front stays the parser's text
            case 0 -> forwardSpec(data);
            case 1 -> configFile(data);
            case 2 -> proxyHeader(data);
            default -> firstBytes(data);
        }
    }

    private static void forwardSpec(FuzzedDataProvider data) {
        ParserChecks.forwardSpec(data.consumeRemainingAsString());
    }

    private static void configFile(FuzzedDataProvider data) {
        ParserChecks.configFile(data.consumeRemainingAsString());
    }

    /** The PROXY protocol header parser (--accept-proxy): bytes straight from a client. */
    private static void proxyHeader(FuzzedDataProvider data) {
        HeaderChecks.check(data.consumeRemainingAsBytes());
    }

    /** The ClientHello parser and first-bytes classifier (--route): bytes straight from a client. */
    private static void firstBytes(FuzzedDataProvider data) {
        PrereadChecks.check(data.consumeRemainingAsBytes());
    }

    @FuzzTest(maxDuration = "10m")
    void parsersLong(FuzzedDataProvider data) {
        parsers(data);
    }

    @FuzzTest(maxDuration = "10m")
    void firstBytesLong(FuzzedDataProvider data) {
        firstBytes(data);
    }

    @FuzzTest(maxDuration = "10m")
    void proxyHeaderLong(FuzzedDataProvider data) {
        proxyHeader(data);
    }

    @FuzzTest(maxDuration = "10m")
    void forwardSpecLong(FuzzedDataProvider data) {
        forwardSpec(data);
    }

    @FuzzTest(maxDuration = "10m")
    void configFileLong(FuzzedDataProvider data) {
        configFile(data);
    }
}
