package org.epollproxy.forward.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys from PEM files, as openssl writes them. Keys: PKCS#8
 * ({@code BEGIN PRIVATE KEY}), and the older {@code BEGIN RSA PRIVATE KEY} (PKCS#1) and
 * {@code BEGIN EC PRIVATE KEY} (SEC 1), which are wrapped into PKCS#8 here so the JDK's KeyFactory reads them.
 * Encrypted keys are refused with the command that decrypts them. Every failure is a {@link BadPem} whose
 * message names the file and what is wrong, one line.
 */
public final class PemFiles {
    /** A file that cannot be used: the message says which and why. */
    public static final class BadPem extends Exception {
        public BadPem(String message) {
            super(message, null, false, false);
        }
    }

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

    /** One PEM block: its label ("CERTIFICATE", "PRIVATE KEY"...) and its DER bytes. */
    record Block(String label, byte[] der) {}

    static List<Block> blocks(Path file) throws BadPem {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new BadPem(file + ": cannot read: No such file or directory"); // the exception's message is the path alone
        } catch (java.nio.file.AccessDeniedException e) {
            throw new BadPem(file + ": cannot read: Permission denied");
        } catch (IOException e) {
            throw new BadPem(file + ": cannot read: " + e.getMessage());
        }
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2).replaceAll("(?m)^[A-Za-z-]+:.*$", ""))));
            } catch (IllegalArgumentException e) {
                throw new BadPem(file + ": the " + m.group(1) + " block is not valid base64");
            }
        }
        // A BEGIN line without its END: a file read while it was being written (a reload racing the copy). Its
        // complete blocks alone would load a certificate without the rest of its chain, or no key at all.
        if (text.split("-----BEGIN ", -1).length - 1 != out.size()) {
            throw new BadPem(file + ": a PEM block without its END line (a file still being written?)");
        }
        return out;
    }

    /** The certificates of {@code file} in order (the server's first, then the chain); at least one. */
    public static List<X509Certificate> certificates(Path file) throws BadPem {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file)) {
                if (b.label().equals("CERTIFICATE")) out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
            }
        } catch (GeneralSecurityException e) {
            throw new BadPem(file + ": not a valid certificate: " + e.getMessage());
        }
        if (out.isEmpty()) throw new BadPem(file + ": no '-----BEGIN CERTIFICATE-----' block");
        return out;
    }

    /** The first private key of {@code file}. */
    public static PrivateKey privateKey(Path file) throws BadPem {
        for (Block b : blocks(file)) {
            switch (b.label()) {
                case "PRIVATE KEY":
                    return pkcs8(file, b.der());
                case "RSA PRIVATE KEY":
                    return pkcs8(file, wrap(RSA_ALGORITHM, b.der()));
                case "EC PRIVATE KEY":
                    return pkcs8(file, wrap(ecAlgorithm(file, b.der()), b.der()));
                case "ENCRYPTED PRIVATE KEY":
                    throw new BadPem(file + ": the key is encrypted; write it unencrypted with "
                            + "'openssl pkcs8 -topk8 -nocrypt -in " + file + " -out KEY.pem' and keep that file private (mode 0600)");
                default:
                    // certificates or parameters in the same file: skip
            }
        }
        throw new BadPem(file + ": no '-----BEGIN PRIVATE KEY-----' block (nor RSA or EC PRIVATE KEY)");
    }

    /** Fails unless {@code key} belongs to {@code cert}: a signature made with one is checked with the other. */
    public static void checkPair(X509Certificate cert, PrivateKey key, Path keyFile) throws BadPem {
        String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : key.getAlgorithm().equals("RSA") ? "SHA256withRSA"
                : key.getAlgorithm();
        try {
            byte[] probe = "epoll-proxy key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            if (v.verify(sig)) return;
        } catch (GeneralSecurityException e) {
            // a key of another type than the certificate's: not a match either
        }
        throw new BadPem(keyFile + ": this key does not belong to the certificate " + cert.getSubjectX500Principal().getName());
    }

    private static PrivateKey pkcs8(Path file, byte[] der) throws BadPem {
        for (String alg : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new BadPem(file + ": the private key is neither RSA nor EC (nor Ed25519), or is damaged");
    }

    // ---- DER, just enough to wrap a PKCS#1 or SEC 1 key into PKCS#8 ----

    /** AlgorithmIdentifier { rsaEncryption, NULL }. */
    private static final byte[] RSA_ALGORITHM = der(0x30, concat(der(0x06, new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01}), new byte[] {0x05, 0x00}));
    private static final byte[] EC_PUBLIC_KEY_OID = der(0x06, new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01});

    /** PrivateKeyInfo { version 0, algorithm, OCTET STRING key }. */
    private static byte[] wrap(byte[] algorithm, byte[] key) {
        return der(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, der(0x04, key)));
    }

    /** AlgorithmIdentifier { id-ecPublicKey, the curve OID found in the SEC 1 key's [0] parameters }. */
    private static byte[] ecAlgorithm(Path file, byte[] sec1) throws BadPem {
        try {
            int[] pos = {0};
            int end = enter(sec1, pos, 0x30);
            if (end != sec1.length) throw new IndexOutOfBoundsException();
            while (pos[0] < end) {
                int tag = sec1[pos[0]] & 0xff;
                int start = pos[0];
                int len = length(sec1, pos);
                if (tag == 0xa0) { // [0] ECParameters: the named curve's OID
                    byte[] inner = java.util.Arrays.copyOfRange(sec1, pos[0], pos[0] + len);
                    if ((inner[0] & 0xff) != 0x06) break;
                    return der(0x30, concat(EC_PUBLIC_KEY_OID, inner));
                }
                pos[0] += len;
                if (pos[0] <= start) break;
            }
        } catch (IndexOutOfBoundsException e) {
            throw new BadPem(file + ": the EC PRIVATE KEY block is damaged");
        }
        throw new BadPem(file + ": the EC PRIVATE KEY names no curve; convert it with 'openssl pkcs8 -topk8 -nocrypt -in " + file + "'");
    }

    /** Reads the tag at pos (must be {@code tag}) and its length; pos moves to the contents; returns their end. */
    private static int enter(byte[] b, int[] pos, int tag) {
        if ((b[pos[0]] & 0xff) != tag) throw new IndexOutOfBoundsException();
        int len = length(b, pos);
        return pos[0] + len;
    }

    /** Skips the tag at pos, reads the length; pos moves to the contents. */
    private static int length(byte[] b, int[] pos) {
        pos[0]++;
        int first = b[pos[0]++] & 0xff;
        if (first < 0x80) return first;
        int n = first & 0x7f;
        if (n > 3) throw new IndexOutOfBoundsException();
        int len = 0;
        for (int i = 0; i < n; i++) len = (len << 8) | (b[pos[0]++] & 0xff);
        return len;
    }

    private static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(tag);
        int n = content.length;
        if (n < 0x80) {
            o.write(n);
        } else if (n < 0x100) {
            o.write(0x81);
            o.write(n);
        } else if (n < 0x10000) {
            o.write(0x82);
            o.write(n >> 8);
            o.write(n);
        } else {
            o.write(0x83);
            o.write(n >> 16);
            o.write(n >> 8);
            o.write(n);
        }
        o.writeBytes(content);
        return o.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    private PemFiles() {}
}
