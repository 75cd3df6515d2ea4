package org.epollproxy.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.epollproxy.config.ParserChecks;
import org.epollproxy.forward.proxyproto.HeaderChecks;

/**
 * Coverage-guided fuzzing (Jazzer) of the -L parser and the config parser, with the checks the
 * property tests use ({@link ParserChecks}): only SpecException, with a position (and line) inside the
 * input; accepted specs round-trip. And of the PROXY header parser ({@link HeaderChecks}): no exception,
 * no verdict changed by more bytes, nothing read or held beyond its bound.
 *
 * <p>Each method first replays its inputs in
 * {@code src/test/resources/org/epollproxy/fuzz/ParserFuzzTestInputs/<method>/} (Jazzer also drops the
 * input of any failure it finds there, so it becomes a regression test). {@code mvn verify} runs
 * {@code forwardSpec}, {@code configFile} and {@code proxyHeader} for 5 s each in JVMs of their own (the fuzz-* executions
 * in java/pom.xml; the default execution leaves this class out, Jazzer's agent stays out of its JVM).
 * The *Long variants fuzz for 10 minutes, on request only:
 *
 * <pre>
 *   JAZZER_FUZZ=1 mvn -B -pl java test-compile surefire:test -Dtest='ParserFuzzTest#configFileLong'
 * </pre>
 *
 * (annotation values are constants, hence separate methods instead of a duration property).
 */
class ParserFuzzTest {

    @FuzzTest(maxDuration = "5s")
    void forwardSpec(FuzzedDataProvider data) {
        ParserChecks.forwardSpec(data.consumeRemainingAsString());
    }

    @FuzzTest(maxDuration = "5s")
    void configFile(FuzzedDataProvider data) {
        ParserChecks.configFile(data.consumeRemainingAsString());
    }

    /** The PROXY protocol header parser (--accept-proxy): bytes straight from a client. */
    @FuzzTest(maxDuration = "5s")
    void proxyHeader(FuzzedDataProvider data) {
        HeaderChecks.check(data.consumeRemainingAsBytes());
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
