package org.epollproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.epollproxy.Ports;
import org.junit.jupiter.api.Test;

/**
 * The recipes of the manual against what ships: the systemd recipe against the units, every command
 * in the docs against --help, the Containerfile's base image, and the Kubernetes manifest's probes
 * against the endpoints of a running proxy started with the manifest's own arguments.
 */
class RecipesIT {

    @Test
    void theSystemdRecipeKeepsTheUnitsDrainAndWritableDirectories() throws Exception {
        String unit = PackagingIT.read("packaging/epoll-proxy.service");
        String docs = PackagingIT.read("docs/service.md");
        Matcher unitDrain = Pattern.compile("--drain-timeout (\\d+)").matcher(unit);
        assertTrue(unitDrain.find());
        List<String> recipes = docs.lines().filter(l -> l.contains("EPOLL_PROXY_ARGS=")).toList();
        assertFalse(recipes.isEmpty(), "docs/service.md gives EPOLL_PROXY_ARGS");
        for (String r : recipes) {
            assertTrue(r.contains("--drain-timeout " + unitDrain.group(1)), "the recipe keeps the unit's drain: " + r);
            assertFalse(r.contains("--threads"), "socket activation refuses --threads > 1: " + r);
        }
        PackagingIT.optionsExist(String.join("\n", recipes), "docs/service.md");
        // ProtectSystem=strict + DynamicUser: only these are writable, so paths in the recipes must be under them
        assertTrue(unit.lines().anyMatch("RuntimeDirectory=epoll-proxy"::equals), "a writable /run/epoll-proxy");
        assertTrue(unit.lines().anyMatch("LogsDirectory=epoll-proxy"::equals), "a writable /var/log/epoll-proxy");
        Matcher paths = Pattern.compile("(/run|/var/log)/[\\w./-]+").matcher(String.join("\n", recipes));
        while (paths.find()) {
            String p = paths.group();
            assertTrue(p.startsWith("/run/epoll-proxy/") || p.startsWith("/var/log/epoll-proxy/"), "writable under the unit: " + p);
        }
    }

    @Test
    void everyCommandInTheManualUsesOptionsTheProgramHas() throws Exception {
        List<Path> pages = new ArrayList<>(List.of(PackagingIT.root().resolve("README.md")));
        try (Stream<Path> s = Files.list(PackagingIT.root().resolve("docs"))) {
            s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        Pattern command = Pattern.compile("(epoll-proxy |EPOLL_PROXY_ARGS=).*(?<![\\w-])--[a-z]");
        int checked = 0;
        for (Path page : pages) {
            String text = Files.readString(page);
            if (text.lines().noneMatch(l -> command.matcher(l).find())) continue;
            PackagingIT.optionsExist(text, page.getFileName().toString());
            checked++;
        }
        assertTrue(checked >= 5, "pages with commands: " + checked);
    }

    @Test
    void theContainerfileNamesItsBaseImageInFullAndTheDocsSayHowToKeepItsHealthCheck() throws Exception {
        String cf = PackagingIT.read("packaging/Containerfile");
        List<String> from = cf.lines().filter(l -> l.startsWith("FROM ")).toList();
        assertEquals(1, from.size());
        assertTrue(from.get(0).matches("FROM docker\\.io/library/[a-z0-9.-]+:[\\w.-]+"), "a fully qualified name: " + from.get(0));
        String docs = PackagingIT.read("docs/service.md");
        assertTrue(docs.contains("--format docker") && docs.contains("HEALTHCHECK"), "docs/service.md: OCI drops HEALTHCHECK");
    }

    @Test
    void theDeploymentUsesALocallyBuiltImageAndItsProbesAnswerOnARunningProxy() throws Exception {
        String d = PackagingIT.read("packaging/kubernetes/deployment.yaml");
        assertTrue(d.matches("(?s).*image: epoll-proxy:latest\\s+(#[^\\n]*\\s+)*imagePullPolicy: (IfNotPresent|Never)\\b.*"),
                "a local image is not pulled");
        String readiness = field(d, "readinessProbe:\\s+httpGet:\\s+path: (\\S+)\\s+port: (\\S+)", 1);
        String liveness = field(d, "livenessProbe:\\s+httpGet:\\s+path: (\\S+)\\s+port: (\\S+)", 1);
        String portName = field(d, "readinessProbe:\\s+httpGet:\\s+path: (\\S+)\\s+port: (\\S+)", 2);
        String statsPort = field(d, "- name: " + Pattern.quote(portName) + "\\s+containerPort: (\\d+)", 1);
        // The container's own arguments, on loopback and free ports, with a backend of this test.
        List<String> args = new ArrayList<>();
        Matcher a = Pattern.compile("(?m)^\\s+- \"([^\"]*)\"$").matcher(d.substring(d.indexOf("args:"), d.indexOf("ports:")));
        while (a.find()) args.add(a.group(1));
        assertTrue(args.contains("--stats") && args.contains("0.0.0.0:" + statsPort), "the container serves the probes' port: " + args);
        try (ServerSocket backend = new ServerSocket()) {
            backend.bind(new InetSocketAddress("127.0.0.1", 0));
            int stats = Ports.free();
            int proxyPort = Ports.free();
            List<String> local = new ArrayList<>();
            for (String arg : args) {
                if (arg.equals("0.0.0.0:" + statsPort)) local.add("127.0.0.1:" + stats);
                else if (arg.startsWith("0.0.0.0:")) local.add("127.0.0.1:" + proxyPort + ":127.0.0.1:" + backend.getLocalPort());
                else local.add(arg);
            }
            try (JarProcess p = new JarProcess(local.toArray(new String[0]))) {
                assertTrue(p.nextLine().startsWith("listening tcp"), p.stderr());
                assertTrue(p.nextLine().startsWith("listening http"), p.stderr());
                assertEquals("200", DrainIT.get(stats, readiness)[0], "readiness " + readiness);
                assertEquals("200", DrainIT.get(stats, liveness)[0], "liveness " + liveness);
                // A drain (what the kubelet's SIGTERM starts) takes the pod out of the Service, and does not get it killed.
                try (Socket client = new Socket("127.0.0.1", proxyPort); Socket served = backend.accept()) {
                    OutputStream out = client.getOutputStream();
                    out.write('x');
                    out.flush();
                    InputStream in = served.getInputStream();
                    assertEquals('x', in.read(), "the connection the drain waits for");
                    p.signal("TERM");
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    String[] ready = DrainIT.get(stats, readiness);
                    while (!ready[0].equals("503") && System.nanoTime() < deadline) ready = DrainIT.get(stats, readiness);
                    assertEquals("503", ready[0], "readiness fails during the drain");
                    assertEquals("200", DrainIT.get(stats, liveness)[0], "liveness holds during the drain");
                }
            }
        }
    }

    private static String field(String text, String regex, int group) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no " + regex);
        return m.group(group);
    }
}
