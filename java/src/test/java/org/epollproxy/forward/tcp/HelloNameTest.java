package org.epollproxy.forward.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.epollproxy.shim.NativeMemory;
import org.junit.jupiter.api.Test;

/**
 * The name a ClientHello asks for, read as a TlsChannel receives the bytes: a few at a time, the hello split
 * over two records of which the engine takes the first before the second is complete. Said once; nothing
 * for bytes that are not a hello. Then a second hello (after a HelloRetryRequest) must ask for the same name.
 */
class HelloNameTest {
    private static final int SIZE = 1 << 15;

    /** A JDK client's ClientHello asking for {@code name}, as one record. */
    private static byte[] clientHello(String name, String... alpn) throws Exception {
        SSLEngine c = SSLContext.getDefault().createSSLEngine(name, 443);
        c.setUseClientMode(true);
        SSLParameters p = c.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(name)));
        if (alpn.length > 0) p.setApplicationProtocols(alpn);
        c.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(SIZE);
        c.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    /** The record's handshake bytes framed again as two records, split at {@code at}. */
    private static byte[] twoRecords(byte[] record, int at) {
        byte[] hs = Arrays.copyOfRange(record, 5, record.length);
        byte[] out = new byte[hs.length + 10];
        int o = 0;
        for (byte[] part : List.of(Arrays.copyOfRange(hs, 0, at), Arrays.copyOfRange(hs, at, hs.length))) {
            out[o] = 22;
            out[o + 1] = 3;
            out[o + 2] = 1;
            out[o + 3] = (byte) (part.length >> 8);
            out[o + 4] = (byte) part.length;
            System.arraycopy(part, 0, out, o + 5, part.length);
            o += 5 + part.length;
        }
        return out;
    }

    @Test
    void aHelloInTwoRecordsArrivingInPiecesGivesItsNameOnce() throws Exception {
        byte[] bytes = twoRecords(clientHello("b.example"), 40);
        int firstRecord = 5 + 40;
        List<String> said = new ArrayList<>();
        HelloName h = new HelloName(SIZE, said::add);
        long in = NativeMemory.allocate(SIZE);
        try {
            int inLen = 0;
            boolean consumed = false;
            boolean done = false;
            for (int sent = 0; sent < bytes.length && !done; sent += 7) {
                int n = Math.min(7, bytes.length - sent);
                NativeMemory.put(in + inLen, bytes, sent, n);
                inLen += n;
                done = h.read(in, inLen);
                if (!consumed && inLen >= firstRecord) { // the engine takes the whole first record, as TlsChannel's unwrap does
                    NativeMemory.move(in + firstRecord, in, inLen - firstRecord);
                    inLen -= firstRecord;
                    h.consumed(firstRecord);
                    consumed = true;
                }
                if (sent + n < bytes.length) assertTrue(said.isEmpty(), "no name before the hello is complete");
            }
            assertTrue(!done, "the whole hello read, and what follows it watched for a second hello");
            assertEquals(List.of("b.example"), said);
        } finally {
            NativeMemory.free(in);
        }
    }

    /** Gives {@code h} the bytes {@code b} as they arrive in one read, behind what it was given before (nothing consumed). */
    private static boolean give(HelloName h, long in, int[] inLen, byte[] b) throws Exception {
        NativeMemory.put(in + inLen[0], b, 0, b.length);
        inLen[0] += b.length;
        return h.read(in, inLen[0]);
    }

    private static final byte[] CHANGE_CIPHER_SPEC = {20, 3, 3, 0, 1, 1};

    @Test
    void aSecondHelloAfterARetryMustAskForTheSameName() throws Exception {
        long in = NativeMemory.allocate(SIZE);
        try {
            List<String> said = new ArrayList<>();
            HelloName same = new HelloName(SIZE, said::add);
            int[] inLen = {0};
            assertTrue(!give(same, in, inLen, clientHello("b.example")));
            assertTrue(!give(same, in, inLen, CHANGE_CIPHER_SPEC), "a change_cipher_spec says nothing yet");
            byte[] second = clientHello("b.example");
            assertTrue(!give(same, in, inLen, Arrays.copyOf(second, 20)), "half a second hello");
            assertTrue(give(same, in, inLen, Arrays.copyOfRange(second, 20, second.length)), "the same name: done");
            assertEquals(List.of("b.example"), said, "said once, for the first hello");

            HelloName other = new HelloName(SIZE, name -> {});
            inLen[0] = 0;
            assertTrue(!give(other, in, inLen, clientHello("b.example")));
            javax.net.ssl.SSLException e = org.junit.jupiter.api.Assertions.assertThrows(javax.net.ssl.SSLException.class,
                    () -> give(other, in, inLen, twoRecords(clientHello("c.example"), 40)));
            assertEquals("the second ClientHello asks for c.example, the first asked for b.example", e.getMessage());

            HelloName protocols = new HelloName(SIZE, name -> {});
            inLen[0] = 0;
            assertTrue(!give(protocols, in, inLen, clientHello("b.example", "http/1.1")));
            e = org.junit.jupiter.api.Assertions.assertThrows(javax.net.ssl.SSLException.class,
                    () -> give(protocols, in, inLen, clientHello("b.example", "acme-tls/1")));
            assertEquals("the second ClientHello offers ALPN [acme-tls/1], the first offered [http/1.1]", e.getMessage());
        } finally {
            NativeMemory.free(in);
        }
    }

    @Test
    void encryptedRecordsAfterTheHelloEndTheWatch() throws Exception {
        long in = NativeMemory.allocate(SIZE);
        try {
            HelloName h = new HelloName(SIZE, name -> {});
            int[] inLen = {0};
            assertTrue(!give(h, in, inLen, clientHello("b.example")));
            assertTrue(give(h, in, inLen, new byte[] {23, 3, 3, 0, 2, 9, 9}), "application data: no retry came");
            HelloName tls12 = new HelloName(SIZE, name -> {});
            inLen[0] = 0;
            assertTrue(!give(tls12, in, inLen, clientHello("b.example")));
            assertTrue(give(tls12, in, inLen, new byte[] {22, 3, 3, 0, 5, 16, 0, 0, 1, 0}), "a ClientKeyExchange: TLS 1.2 went on");
        } finally {
            NativeMemory.free(in);
        }
    }

    @Test
    void bytesThatAreNoHelloGiveNoName() throws Exception {
        byte[] get = "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        List<String> said = new ArrayList<>();
        HelloName h = new HelloName(SIZE, said::add);
        long in = NativeMemory.allocate(SIZE);
        try {
            NativeMemory.put(in, get, 0, get.length);
            assertTrue(h.read(in, get.length), "not a hello: done at once");
            assertTrue(said.isEmpty());
        } finally {
            NativeMemory.free(in);
        }
    }
}
