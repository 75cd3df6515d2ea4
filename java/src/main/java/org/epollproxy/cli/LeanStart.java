package org.epollproxy.cli;

import java.util.Locale;

/**
 * Settings made before anything else at start so that it loads fewer JDK classes. Every class a start
 * loads costs idle RSS twice over, in the class archive or the metaspace and in the heap (issue 27,
 * docs/tuning.md); these cost nothing in function.
 */
final class LeanStart {
    private static final String CONVERTERS_EXCLUDES = "picocli.converters.excludes";

    /**
     * The C and C.UTF-8 locales (systemd services, containers) make the JVM's format locale plain "en". A
     * String.format of a number (jffi's loader does one at every start) then looks up that locale's
     * digits through the CLDR locale data: about 80 JDK classes. en_US formats exactly as en does, and
     * String.format takes its digits without a lookup. The process's entry point only (it is global).
     */
    static void usFormatsForPlainEnglish() {
        if (Locale.getDefault(Locale.Category.FORMAT).equals(Locale.ENGLISH)) {
            Locale.setDefault(Locale.Category.FORMAT, Locale.US);
        }
    }

    /**
     * picocli registers a converter for every java.time and java.sql type it finds, by reflection, loading
     * those classes (about 35 at start) though no option here takes one. Only where the caller did not
     * choose otherwise.
     */
    static void skipUnusedConverters() {
        if (System.getProperty(CONVERTERS_EXCLUDES) == null) {
            System.setProperty(CONVERTERS_EXCLUDES, "java\\.time\\..*,java\\.sql\\..*");
        }
    }

    private LeanStart() {}
}
