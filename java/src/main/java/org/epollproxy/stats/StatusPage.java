package org.epollproxy.stats;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * {@code /}: the status page, one self-contained HTML file ({@code status.html} next to this class: inline
 * CSS and JavaScript, no other asset) that fetches {@code /metrics}, {@code /connections} and
 * {@code /backends} every two seconds and draws them as tables. The page puts every value into the DOM as
 * text, never as markup; on top of that its Content-Security-Policy lets only its own script and style run
 * (by their SHA-256) and lets it fetch only from this server, so even markup that got in could not run or
 * load anything.
 */
final class StatusPage {
    static final String TYPE = "text/html; charset=utf-8";
    static final String HTML = load();
    /** Encoded once: every client of the page is sent this one copy. */
    static final byte[] BYTES = HTML.getBytes(StandardCharsets.UTF_8);
    /** The response headers the page goes out with (CRLF-terminated lines). */
    static final String HEADERS = "Content-Security-Policy: default-src 'none'; script-src " + hash("script") + "; style-src "
            + hash("style") + "; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
            + "X-Frame-Options: DENY\r\n"
            + "Referrer-Policy: no-referrer\r\n";

    private static String load() {
        try (InputStream in = StatusPage.class.getResourceAsStream("status.html")) {
            if (in == null) throw new IllegalStateException("status.html is missing from the jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code 'sha256-...'} of the page's one {@code <tag>} element's content, as CSP names an inline script or style. */
    private static String hash(String tag) {
        int open = HTML.indexOf("<" + tag + ">");
        int close = HTML.indexOf("</" + tag + ">");
        if (open < 0 || close < open || HTML.indexOf("<" + tag + ">", open + 1) >= 0) {
            throw new IllegalStateException("status.html must hold exactly one <" + tag + "> element");
        }
        String body = HTML.substring(open + tag.length() + 2, close);
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8));
            return "'sha256-" + Base64.getEncoder().encodeToString(d) + "'";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private StatusPage() {}
}
