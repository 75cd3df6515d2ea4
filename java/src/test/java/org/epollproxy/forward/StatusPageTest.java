package org.epollproxy.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.epollproxy.shim.SockAddr;
import org.epollproxy.stats.StatsServer;
import org.junit.jupiter.api.Test;

/**
 * {@code /}: the status page, in a real browser (headless Chromium) against a real proxy with live
 * connections; one of them comes from a UNIX socket whose path (which its client chooses, and the page
 * shows) is markup. The page must list it as text, and the browser must build no element from it.
 */
class StatusPageTest {
    /** A client-chosen name that would be an image whose error handler runs script, if read as HTML. */
    static final String MARKUP = "<img src=x onerror=\"document.title='pwned'\">";

    @Test
    void theRootServesOneSelfContainedPageThatMayRunOnlyItsOwnScript() throws Exception {
        try (TestBackend backend = TestBackend.echo(); TestProxy proxy = new TestProxy(backend.port());
                StatsServer stats = StatsEndpointTest.statsOn(proxy)) {
            HttpResponse<String> r = StatsEndpointTest.get(stats, "/");
            assertEquals(200, r.statusCode());
            assertEquals("text/html; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
            String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
            assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"), csp);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(""));
            String html = r.body();
            assertTrue(html.startsWith("<!DOCTYPE html>"));
            assertFalse(Pattern.compile("(src|href)=\"?(https?:)?//").matcher(html).find(), "no external asset");
            assertFalse(html.contains("innerHTML") || html.contains("outerHTML") || html.contains("insertAdjacentHTML")
                    || html.contains("document.write"), "data goes in as text only");
            assertEquals(200, StatsEndpointTest.send(stats, "/", "HEAD").statusCode());
            assertEquals(405, StatsEndpointTest.send(stats, "/", "POST").statusCode());
        }
    }

    @Test
    void chromiumShowsARowPerLiveConnectionAndAClientsMarkupAsText() throws Exception {
        Chromium chromium = Chromium.require();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "ep-status");
        Path listen = dir.resolve("in.sock");
        Path markupPath = dir.resolve(MARKUP);
        List<Forward> fs = new ArrayList<>();
        List<Socket> tcp = new ArrayList<>();
        try (TestBackend backend = TestBackend.echo()) {
            fs.add(new Forward(SockAddr.parse("127.0.0.1", 0), List.of(TestProxy.backend(backend.port()))));
            fs.add(new Forward(Forward.Proto.TCP, SockAddr.unix(listen.toString()), List.of(TestProxy.backend(backend.port())),
                    AccessRules.ALLOW_ALL, -1, null, "unix to tcp", ProxyProtocol.OFF, false));
            try (TestProxy proxy = new TestProxy(Settings.DEFAULTS, fs); StatsServer stats = StatsEndpointTest.statsOn(proxy);
                    SocketChannel unix = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                for (int i = 0; i < 3; i++) {
                    Socket c = new Socket();
                    c.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
                    c.setSoTimeout(20_000);
                    tcp.add(c);
                    c.getOutputStream().write('x');
                    assertEquals('x', c.getInputStream().read());
                }
                unix.bind(UnixDomainSocketAddress.of(markupPath)); // the name the proxy sees for this client
                unix.connect(UnixDomainSocketAddress.of(listen));
                unix.write(ByteBuffer.wrap(new byte[] {'y'}));
                assertEquals(1, unix.read(ByteBuffer.allocate(1)));
                // A loop that does not answer within StatsServer.LOOP_ANSWER_MS (a busy machine) is left out of
                // that one answer: ask again until its connections are in it.
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                String json;
                while (!(json = StatsEndpointTest.get(stats, "/connections").body()).contains("\\u003cimg src=x")) {
                    assertTrue(System.nanoTime() < end, "the JSON escapes < too: " + json);
                    Thread.sleep(100);
                }

                String base = "http://" + stats.address();
                Path png = Path.of("target", "status-page.png");
                String dom = chromium.dumpDomAndScreenshot(base + "/", png);
                assertTrue(Files.size(png) > 10_000, "a screenshot with something in it: " + png.toAbsolutePath());
                List<String> rows = rows(dom, "connections");
                assertEquals(4, rows.size(), "a row per live connection:\n" + rows);
                for (Socket c : tcp) {
                    String client = ">127.0.0.1:" + c.getLocalPort() + "<";
                    assertEquals(1, rows.stream().filter(r -> r.contains(client)).count(), client + " in\n" + rows);
                }
                String escaped = markupPath.toString().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
                assertTrue(rows.stream().anyMatch(r -> r.contains(">" + escaped + "<")), "the UNIX client's path as text:\n" + rows);
                assertFalse(dom.contains("<img"), "no element built from a client's name");
                assertTrue(dom.contains("<title>epoll-proxy status</title>"), "no script of a client's ran");
                assertEquals(1, rows(dom, "forwards").stream().filter(r -> r.contains(">" + listen + "<")).count());
                assertEquals(1, rows(dom, "loops").size());
                List<String> backends = rows(dom, "backends");
                assertEquals(2, backends.size(), "one row per forward and backend: " + backends);
                assertTrue(backends.stream().allMatch(r -> r.contains("<span class=\"badge up\">up</span>")), backends.toString());
                assertTrue(rows(dom, "counters").stream().anyMatch(r -> r.contains(">epollproxy_connections_accepted_total<")),
                        "every counter is listed");
                assertTrue(dom.contains("id=\"connections-count\">4<"), "the count of connections");

                // The filters start from the query string and apply in the page.
                String one = "127.0.0.1:" + tcp.get(1).getLocalPort();
                String filtered = chromium.dumpDom(base + "/?client=" + URLEncoder.encode(one, StandardCharsets.UTF_8));
                List<String> only = rows(filtered, "connections");
                assertEquals(1, only.size(), only.toString());
                assertTrue(only.get(0).contains(">" + one + "<"), only.get(0));
                assertTrue(filtered.contains("id=\"connections-count\">1 of 4<"), "the count says how many match");
            } finally {
                for (Socket c : tcp) c.close();
            }
        } finally {
            Files.deleteIfExists(markupPath);
            Files.deleteIfExists(listen);
            Files.deleteIfExists(dir);
        }
    }

    /** The body rows of the table with {@code id}, as the DOM dump writes them. */
    static List<String> rows(String dom, String id) {
        int start = dom.indexOf("<table id=\"" + id + "\">");
        assertTrue(start >= 0, "no table " + id + " in the DOM:\n" + dom);
        String table = dom.substring(start, dom.indexOf("</table>", start));
        String body = table.substring(table.indexOf("<tbody>"));
        List<String> rows = new ArrayList<>();
        Matcher m = Pattern.compile("<tr>(.*?)</tr>", Pattern.DOTALL).matcher(body);
        while (m.find()) if (!m.group(1).contains("class=\"empty\"")) rows.add(m.group(1));
        return rows;
    }
}
