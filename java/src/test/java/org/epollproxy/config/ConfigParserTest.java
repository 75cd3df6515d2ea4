package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.epollproxy.config.ForwardSpec.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** rinetd's grammar: the files people already have must parse, and every mistake names its line. */
class ConfigParserTest {

    /**
     * The examples from rinetd's man page and its sample rinetd.conf (all but the mixed-protocol line), but
     * "4000/udp 127.0.0.1 22" is written "22/udp" here: a bare port means tcp, so as printed it mixes protocols.
     */
    static final String RINETD_EXAMPLES = String.join("\n",
            "# global rules (before any forwarding rule)",
            "allow 192.168.2.*",
            "deny 192.168.2.1?",
            "allow fe80:*",
            "deny 2001:618:*:e43f",
            "0.0.0.0     80        192.168.1.2     80",
            "::1         80        192.168.1.2     80",
            "0.0.0.0     80        fe80::1         80",
            "127.0.0.1   4000      127.0.0.1       3000",
            "127.0.0.1   4000/udp  127.0.0.1       22/udp       [timeout=1200]",
            "127.0.0.1   8000/udp  192.168.1.2     8000/udp     [src=192.168.1.2,timeout=1200]",
            "192.168.1.1 80  10.1.1.127 80  [src=10.1.1.2]",
            "0.0.0.0 23  10.1.1.2 23",
            "allow 206.125.69.*            # applies to the \"0.0.0.0 23\" rule only",
            ":: 12345/udp domain.name.com 23456/udp       # from issue #25",
            "0.0.0.0 2553 329.getmyip.com 3553             # digit-leading host label, issue #7/#20",
            "\t",
            "logfile /var/log/rinetd.log",
            "logcommon",
            "pidlogfile /var/run/myrinetd.pid",
            "");

    @Test
    void rinetdsOwnExamplesParse() throws Exception {
        Config c = ConfigParser.parse(RINETD_EXAMPLES, "rinetd.conf");
        assertEquals(List.of("192.168.2.*", "fe80:*"), c.allow());
        assertEquals(List.of("192.168.2.1?", "2001:618:*:e43f"), c.deny());
        assertEquals(10, c.rules().size());
        Rule first = c.rules().get(0);
        assertEquals("tcp", first.proto());
        assertEquals("0.0.0.0", first.bindHost());
        assertEquals(80, first.bindPort());
        assertEquals(List.of(new HostPort("192.168.1.2", 80)), first.backends());
        assertEquals("::1", c.rules().get(1).bindHost(), "bare IPv6 address");
        assertEquals("fe80::1", c.rules().get(2).backends().get(0).host());
        Rule udp = c.rules().get(4);
        assertEquals("udp", udp.proto());
        assertEquals(1200, udp.timeoutSec());
        assertEquals("192.168.1.2", c.rules().get(5).source());
        assertEquals("10.1.1.2", c.rules().get(6).source());
        assertEquals(-1, c.rules().get(6).timeoutSec(), "no timeout given: the default");
        Rule telnet = c.rules().get(7);
        assertEquals(List.of("206.125.69.*"), telnet.allow(), "an allow after a rule belongs to that rule");
        assertTrue(c.rules().get(6).allow().isEmpty());
        assertEquals("::", c.rules().get(8).bindHost());
        assertEquals("329.getmyip.com", c.rules().get(9).backends().get(0).host());
        assertEquals("/var/log/rinetd.log", c.logFile());
        assertTrue(c.logCommon());
        assertEquals("/var/run/myrinetd.pid", c.pidFile());
        assertEquals(16, c.rules().get(9).line());
    }

    @Test
    void zeroMeansAllInterfacesAndServiceNamesArePorts() throws Exception {
        Config c = ConfigParser.parse("0 http [::1] ssh\n", "f");
        Rule r = c.rules().get(0);
        assertEquals("0.0.0.0", r.bindHost());
        assertEquals(80, r.bindPort());
        assertEquals("::1", r.backends().get(0).host());
        assertEquals(22, r.backends().get(0).port());
    }

    @Test
    void extensionsCidrPatternsAndFailoverBackends() throws Exception {
        Config c = ConfigParser.parse(String.join("\n",
                "allow 10.0.0.0/8",
                "127.0.0.1 9000 10.0.0.1 80 [failover=10.0.0.2:80, failover=[::1]:8080, proxy=v2]",
                "deny 2001:DB8::/32",
                "logfile \"/tmp/with space.log\""), "f");
        assertEquals(List.of("10.0.0.0/8"), c.allow());
        Rule r = c.rules().get(0);
        assertEquals(List.of(new HostPort("10.0.0.1", 80), new HostPort("10.0.0.2", 80), new HostPort("::1", 8080)),
                r.backends());
        assertEquals(List.of("2001:db8::/32"), r.deny(), "patterns are kept in lower case");
        assertEquals("v2", r.sendProxy());
        assertEquals("/tmp/with space.log", c.logFile());
        assertNull(c.pidFile());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1 80 10.0.0.1                         | 1 | expected \"bindaddress bindport connectaddress connectport",
        "127.0.0.1 80 10.0.0.1 99999                   | 1 | port 99999 is out of range 1-65535",
        "127.0.0.1 80 10.0.0.1 nosuchservice           | 1 | unknown service name \"nosuchservice\"",
        "127.0.0.1 80/sctp 10.0.0.1 80                 | 1 | unknown protocol \"/sctp\"",
        "127.0.0.1 80/tcp 10.0.0.1 80/udp              | 1 | mixed protocols (tcp to udp) are not supported",
        "127.0.0.1 29994 127.0.0.1 1/udp               | 1 | mixed protocols (tcp to udp) are not supported: a port without /udp means tcp; write /udp on both ports",
        "127.0.0.1 29994/udp 127.0.0.1 1               | 1 | mixed protocols (udp to tcp) are not supported: a port without /udp means tcp; write /udp on both ports",
        "127.0.0.1 80 10.0.0.1 80 [timeout=0]          | 1 | timeout=0: expected a number of seconds",
        "127.0.0.1 80 10.0.0.1 80 [colour=blue]        | 1 | unknown option \"colour\"",
        "127.0.0.1 80 10.0.0.1 80 timeout=5            | 1 | options must be in brackets",
        "127.0.0.1 80 10.0.0.1 80 [proxy=v3]           | 1 | proxy=v3: expected v1 or v2",
        "127.0.0.1 80/udp 10.0.0.1 80/udp [proxy=v1]   | 1 | applies to TCP forwards only",
        "allow example.com                             | 1 | bad character 'x' in pattern",
        "allow 10.0.0.0/33                             | 1 | bad CIDR prefix length",
        "logcommon extra                               | 1 | expected \"logcommon\", found extra \"extra\"",
        "bad host! 80 10.0.0.1 80                      | 1 | bad port \"host!\"",
        "10.0.0.1:80 80 10.0.0.1 80                    | 1 | bad host \"10.0.0.1:80\"",
    })
    void aBadLineNamesItsLineAndWhatIsWrong(String line, int expectedLine, String message) {
        String text = "# fine\n\n" + line + "\n";
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse(text, "f"));
        assertEquals(expectedLine + 2, e.line());
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.position() >= 0 && e.position() <= line.length(), "column within the line: " + e.position());
    }

    @Test
    void aFileLargerThanTheLimitIsRefusedWithItsSizeWithoutReadingItAll(@TempDir Path dir) throws Exception {
        Path big = dir.resolve("big.conf");
        try (var ch = java.nio.channels.FileChannel.open(big, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), ConfigText.MAX_BYTES); // sparse: 16 MiB + 1 byte
        }
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse(big));
        assertTrue(e.getMessage().contains((ConfigText.MAX_BYTES + 1) + " bytes, the limit is 16 MiB"), e.getMessage());
        assertEquals(0, e.line(), "about the whole file");
    }

    @Test
    void anEndlessDeviceIsRefusedAfterTheLimitNotReadUntilMemoryRunsOut() {
        // Files.readAllBytes on /dev/zero threw OutOfMemoryError; now reading stops at the limit.
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse(Path.of("/dev/zero")));
        assertTrue(e.getMessage().contains("more than " + ConfigText.MAX_BYTES + " bytes"), e.getMessage());
    }

    @Test
    void aByteThatIsNotUtf8NamesItsLineAndCharacter(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("latin1.conf");
        Files.write(f, "# ok\n127.0.0.1 80 10.0.0.1 80 # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse(f));
        assertEquals(2, e.line());
        assertEquals(30, e.position(), "the 0-based character of the bad byte in its line");
        assertTrue(e.getMessage().contains("not UTF-8 text: byte 0xe9"), e.getMessage());
    }

    @Test
    void commentsBlankLinesAndCrlfAreFine() throws Exception {
        Config c = ConfigParser.parse("# only comments\r\n\r\n   # indented\r\n127.0.0.1 1 127.0.0.1 2 # trailing\r\n", "f");
        assertEquals(1, c.rules().size());
        assertEquals(4, c.rules().get(0).line());
    }
}
