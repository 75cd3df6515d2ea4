package org.epollproxy.forward.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key and certificate files as openssl writes them: PKCS#8, PKCS#1 RSA and SEC 1 EC keys all read and match
 * their certificate; an encrypted key, a key of another certificate, a file without the block and a
 * damaged block are refused with the file named. And the SNI choice between an RSA and an ECDSA certificate.
 */
class PemFilesTest {
    @TempDir
    static Path dir;

    static void openssl(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "openssl";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    @BeforeAll
    static void files() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.crt", "-days", "2", "-subj", "/CN=rsa.example",
                "-addext", "subjectAltName=DNS:rsa.example,DNS:*.wild.example");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ec.key", "-out", "ec.crt",
                "-days", "2", "-subj", "/CN=ec.example");
        openssl("rsa", "-in", "rsa.key", "-traditional", "-out", "rsa-pkcs1.key");
        openssl("ec", "-in", "ec.key", "-out", "ec-sec1.key");
        openssl("pkcs8", "-topk8", "-in", "ec.key", "-out", "ec-encrypted.key", "-passout", "pass:secret");
    }

    @Test
    void everyUnencryptedKeyFormatReadsAndMatchesItsCertificate() throws Exception {
        for (String[] f : new String[][] {{"rsa.key", "rsa.crt", "RSA"}, {"rsa-pkcs1.key", "rsa.crt", "RSA"}, {"ec.key", "ec.crt", "EC"},
                {"ec-sec1.key", "ec.crt", "EC"}}) {
            PrivateKey k = PemFiles.privateKey(dir.resolve(f[0]));
            assertEquals(f[2], k.getAlgorithm(), f[0]);
            PemFiles.checkPair(PemFiles.certificates(dir.resolve(f[1])).get(0), k, dir.resolve(f[0]));
        }
    }

    @Test
    void aFileCutShortOrMissingIsRefusedNotReadInPart() throws Exception {
        // The certificate and then its chain, copied in while a reload reads: the chain's block has no END yet.
        String leaf = Files.readString(dir.resolve("rsa.crt"));
        String chain = Files.readString(dir.resolve("ec.crt"));
        Path half = dir.resolve("half-written.crt");
        Files.writeString(half, leaf + chain.substring(0, chain.length() / 2));
        PemFiles.BadPem cut = assertThrows(PemFiles.BadPem.class, () -> PemFiles.certificates(half));
        assertEquals(half + ": a PEM block without its END line (a file still being written?)", cut.getMessage());
        Files.writeString(half, leaf + chain);
        assertEquals(2, PemFiles.certificates(half).size(), "once written, the certificate and its chain");
        Path missing = dir.resolve("missing.key");
        assertEquals(missing + ": cannot read: No such file or directory", assertThrows(PemFiles.BadPem.class, () -> PemFiles.privateKey(missing)).getMessage());
    }

    @Test
    void badFilesAreRefusedWithTheFileNamedAndWhatToDo() throws Exception {
        PemFiles.BadPem enc = assertThrows(PemFiles.BadPem.class, () -> PemFiles.privateKey(dir.resolve("ec-encrypted.key")));
        assertTrue(enc.getMessage().contains("ec-encrypted.key: the key is encrypted; write it unencrypted with 'openssl pkcs8 -topk8 -nocrypt"), enc.getMessage());
        PemFiles.BadPem other = assertThrows(PemFiles.BadPem.class, () -> PemFiles.checkPair(PemFiles.certificates(dir.resolve("rsa.crt")).get(0),
                PemFiles.privateKey(dir.resolve("ec.key")), dir.resolve("ec.key")));
        assertTrue(other.getMessage().endsWith("ec.key: this key does not belong to the certificate CN=rsa.example"), other.getMessage());
        PemFiles.BadPem noCert = assertThrows(PemFiles.BadPem.class, () -> PemFiles.certificates(dir.resolve("ec.key")));
        assertTrue(noCert.getMessage().endsWith("ec.key: no '-----BEGIN CERTIFICATE-----' block"), noCert.getMessage());
        Path damaged = dir.resolve("damaged.key");
        Files.writeString(damaged, "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
        PemFiles.BadPem bad = assertThrows(PemFiles.BadPem.class, () -> PemFiles.privateKey(damaged));
        assertTrue(bad.getMessage().contains("damaged.key: the private key is neither RSA nor EC"), bad.getMessage());
        PemFiles.BadPem missing = assertThrows(PemFiles.BadPem.class, () -> PemFiles.certificates(dir.resolve("nothing.crt")));
        assertTrue(missing.getMessage().contains("nothing.crt: cannot read"), missing.getMessage());
    }

    @Test
    void sniPicksTheCertificateForTheNameElseTheFirstTheClientCanVerify() throws Exception {
        X509Certificate rsa = PemFiles.certificates(dir.resolve("rsa.crt")).get(0);
        X509Certificate ec = PemFiles.certificates(dir.resolve("ec.crt")).get(0);
        SniKeyManager km = new SniKeyManager(List.of(
                new SniKeyManager.Entry(new X509Certificate[] {rsa}, PemFiles.privateKey(dir.resolve("rsa.key")), SniKeyManager.dnsNames(rsa)),
                new SniKeyManager.Entry(new X509Certificate[] {ec}, PemFiles.privateKey(dir.resolve("ec.key")), SniKeyManager.dnsNames(ec))));
        assertEquals(List.of("rsa.example", "*.wild.example"), SniKeyManager.dnsNames(rsa));
        assertEquals(List.of("ec.example"), SniKeyManager.dnsNames(ec), "no subjectAltName: the CN");
        java.util.function.Predicate<String> both = a -> true;
        // the JDK asks per key type in the client's order (EC first here): the name decides, not the order
        assertEquals(null, km.aliasFor("EC", "rsa.example", both));
        assertEquals("0.0", km.aliasFor("RSA", "rsa.example", both));
        assertEquals("0.0", km.aliasFor("RSA", "a.wild.example", both), "the wildcard covers one label");
        assertEquals(null, km.aliasFor("EC", "a.b.wild.example", both), "not two: the default (RSA) then");
        assertEquals("0.1", km.aliasFor("EC", "EC.EXAMPLE".toLowerCase(), both));
        assertEquals(null, km.aliasFor("EC", null, both), "no SNI: the first certificate is the default");
        assertEquals("0.0", km.aliasFor("RSA", null, both));
        assertEquals("0.1", km.aliasFor("EC", "rsa.example", "EC"::equals), "a client that cannot verify RSA gets the ECDSA one");
        // a reload swaps the list: new aliases name the new generation; an alias chosen just before still finds its key
        km.replace(List.of(new SniKeyManager.Entry(new X509Certificate[] {ec}, PemFiles.privateKey(dir.resolve("ec.key")), SniKeyManager.dnsNames(ec))));
        assertEquals("1.0", km.aliasFor("EC", null, both));
        assertEquals(rsa, km.getCertificateChain("0.0")[0], "chosen before the reload: the certificate chosen, not the new list's first");
        assertEquals(ec, km.getCertificateChain("1.0")[0]);
        assertEquals(null, km.getPrivateKey("1.1"));
        assertTrue(SniKeyManager.containsIgnoringCase("ecdsa_secp256r1_sha256", "ECDSA"));
        assertTrue(SniKeyManager.containsIgnoringCase("rsa_pss_rsae_sha256", "RSA"));
        assertTrue(!SniKeyManager.containsIgnoringCase("ed25519", "ECDSA") && !SniKeyManager.containsIgnoringCase("rs", "RSA"));
    }
}
