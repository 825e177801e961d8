package dev.tollgate.daemon.tls;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ClientHello reader and JA4 on ClientHellos built byte by byte here. The first is the one FoxIO's JA4
 * README publishes with its fingerprint (its lists in the client's order, from the README's JA4_ro line; the
 * README gives no capture bytes, so the message around the lists is built here): the published JA4
 * {@code t13d1516h2_8daaf6152771_e5627efa2ab1} must come out of it.
 */
class ClientHelloReaderTest {

    /** JA4's lists are 4-digit lowercase hex, comma-separated, for every 16-bit value: as String.format writes them. */
    @Test
    void ja4HexListsEveryValueAsFourLowercaseHexDigits() {
        List<Integer> values = List.of(0x0000, 0x000a, 0x1301, 0xc02b, 0xcca9, 0xfafa, 0xffff);
        StringBuilder expected = new StringBuilder();
        for (int v : values) {
            expected.append(expected.length() > 0 ? "," : "").append(String.format("%04x", v));
        }
        assertEquals(expected.toString(), Ja4.hexList(values));
        assertEquals("0000,000a,1301,c02b,cca9,fafa,ffff", Ja4.hexList(values));
        assertEquals("", Ja4.hexList(List.of()));
    }


    /** FoxIO's published example (github.com/FoxIO-LLC/ja4, README: JA4_ro and JA4). */
    private static final List<Integer> README_CIPHERS = List.of(0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
            0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035);
    private static final List<Integer> README_EXTENSIONS = List.of(0x0000, 0x0033, 0x000d, 0x0023, 0x000b, 0xff01,
            0x000a, 0x001b, 0x4469, 0x0012, 0x002d, 0x0010, 0x0005, 0x002b, 0x0017, 0x0015);
    private static final List<Integer> README_SIGALGS = List.of(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501,
            0x0806, 0x0601);
    private static final String README_JA4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";

    @Test
    void theReadmesClientHelloHasTheReadmesJa4() {
        ClientHello hello = readWhole(oneRecord(readmeHello(false)));
        assertEquals(README_JA4, hello.ja4());
        assertEquals("TLSv1.3", hello.tlsVersion());
        assertEquals("www.example.com", hello.sni());
        assertEquals(List.of("h2", "http/1.1"), hello.alpn());
        assertEquals("h2,http/1.1", hello.alpnText());
        assertTrue(hello.isTls());
    }

    @Test
    void greaseValuesChangeNothing() {
        assertEquals(README_JA4, readWhole(oneRecord(readmeHello(true))).ja4());
    }

    @Test
    void aClientHelloArrivingOneByteAtATimeIsReadWhenItsLastByteArrives() {
        byte[] record = oneRecord(readmeHello(false));
        ClientHelloReader reader = new ClientHelloReader();
        for (int i = 0; i < record.length - 1; i++) {
            assertNull(reader.offer(ByteBuffer.wrap(record, i, 1)), "after byte " + i);
        }
        assertEquals(README_JA4, reader.offer(ByteBuffer.wrap(record, record.length - 1, 1)).ja4());
    }

    @Test
    void aClientHelloSplitOverTwoRecordsIsReadWhole() {
        byte[] handshake = readmeHello(false);
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        two.writeBytes(record(java.util.Arrays.copyOfRange(handshake, 0, 100)));
        two.writeBytes(record(java.util.Arrays.copyOfRange(handshake, 100, handshake.length)));
        assertEquals(README_JA4, readWhole(two.toByteArray()).ja4());
    }

    @Test
    void aTls12HelloWithoutSniOrAlpnIsFingerprintedFromTheSpecsRules() throws Exception {
        List<Integer> ciphers = List.of(0xc02f, 0x009c, 0x002f);
        List<Integer> extensions = List.of(0x000b, 0x000a, 0x000d);
        byte[] hello = clientHello(0x0303, ciphers, extensions, null, null, List.of(0x0401, 0x0201), null);
        ClientHello read = readWhole(oneRecord(hello));
        // The spec's rules, applied by hand: sorted hex lists, SHA-256, first 12 hex digits.
        String b = sha12("002f,009c,c02f");
        String c = sha12("000a,000b,000d_0401,0201");
        assertEquals("t12i0303" + "00" + "_" + b + "_" + c, read.ja4());
        assertEquals("TLSv1.2", read.tlsVersion());
        assertNull(read.sni());
        assertNull(read.alpnText());
    }

    @Test
    void anAlpnThatIsNotAlphanumericIsFingerprintedByItsHex() {
        assertEquals("h2", Ja4.alpnCode("h2".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("hh", Ja4.alpnCode("h".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("00", Ja4.alpnCode(null));
        assertEquals("a9", Ja4.alpnCode(new byte[] {(byte) 0xab, (byte) 0xc9}));
    }

    @Test
    void plainTextAndSshAreNotTls() {
        assertEquals(ClientHello.NOT_TLS, readWhole("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(
                StandardCharsets.US_ASCII)).tlsVersion());
        ClientHello ssh = readWhole("SSH-2.0-OpenSSH_9.6\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(ClientHello.NOT_TLS, ssh.tlsVersion());
        assertFalse(ssh.isTls());
        assertNull(ssh.ja4());
    }

    @Test
    void aClientHelloCutShortIsUnreadableWhenTheReaderGivesUp() {
        byte[] record = oneRecord(readmeHello(false));
        ClientHelloReader reader = new ClientHelloReader();
        assertNull(reader.offer(ByteBuffer.wrap(record, 0, 50)));
        ClientHello given = reader.giveUp("within 5000 ms");
        assertEquals(ClientHello.UNREADABLE, given.tlsVersion());
        assertTrue(given.problem().contains("only 50 bytes"), given.problem());
        assertNull(new ClientHelloReader().giveUp("within 5000 ms"), "nothing seen, nothing to say");
    }

    @Test
    void aClientHelloLargerThanTwoRecordsIsNotWaitedFor() {
        byte[] header = {22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00};
        ClientHello hello = readWhole(header);
        assertEquals(ClientHello.UNREADABLE, hello.tlsVersion());
    }

    @Test
    void aLengthRunningPastItsMessageIsUnreadableNotAnException() {
        byte[] hello = readmeHello(false);
        hello[4 + 2 + 32 + 1 + 32] = (byte) 0x7f;  // the cipher list's length, far past the message
        assertEquals(ClientHello.UNREADABLE, readWhole(oneRecord(hello)).tlsVersion());
    }

    private static ClientHello readWhole(byte[] bytes) {
        return new ClientHelloReader().offer(ByteBuffer.wrap(bytes));
    }

    private static String sha12(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                text.getBytes(StandardCharsets.US_ASCII))).substring(0, 12);
    }

    private static byte[] readmeHello(boolean grease) {
        List<Integer> ciphers = README_CIPHERS;
        List<Integer> extensions = README_EXTENSIONS;
        List<Integer> sigalgs = README_SIGALGS;
        if (grease) {
            ciphers = prepend(0x4a4a, ciphers);
            extensions = prepend(0xdada, append(0x1a1a, extensions));
            sigalgs = prepend(0x7a7a, sigalgs);
        }
        return clientHello(0x0303, ciphers, extensions, "www.example.com", List.of("h2", "http/1.1"), sigalgs,
                grease ? List.of(0x2a2a, 0x0304, 0x0303) : List.of(0x0304, 0x0303));
    }

    private static List<Integer> prepend(int value, List<Integer> list) {
        java.util.ArrayList<Integer> copy = new java.util.ArrayList<>(list);
        copy.add(0, value);
        return copy;
    }

    private static List<Integer> append(int value, List<Integer> list) {
        java.util.ArrayList<Integer> copy = new java.util.ArrayList<>(list);
        copy.add(value);
        return copy;
    }

    /** A ClientHello handshake message (RFC 8446 4.1.2) with these lists; other extensions carry no data. */
    static byte[] clientHello(int legacyVersion, List<Integer> ciphers, List<Integer> extensions, String sni,
                              List<String> alpn, List<Integer> sigalgs, List<Integer> supportedVersions) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, legacyVersion);
        body.writeBytes(new byte[32]);
        body.write(32);
        body.writeBytes(new byte[32]);
        u16(body, ciphers.size() * 2);
        ciphers.forEach(c -> u16(body, c));
        body.write(1);
        body.write(0);
        ByteArrayOutputStream exts = new ByteArrayOutputStream();
        for (int type : extensions) {
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            if (type == 0x0000 && sni != null) {
                byte[] name = sni.getBytes(StandardCharsets.US_ASCII);
                u16(data, name.length + 3);
                data.write(0);
                u16(data, name.length);
                data.writeBytes(name);
            } else if (type == 0x0010 && alpn != null) {
                ByteArrayOutputStream list = new ByteArrayOutputStream();
                for (String protocol : alpn) {
                    list.write(protocol.length());
                    list.writeBytes(protocol.getBytes(StandardCharsets.US_ASCII));
                }
                u16(data, list.size());
                data.writeBytes(list.toByteArray());
            } else if (type == 0x000d) {
                u16(data, sigalgs.size() * 2);
                sigalgs.forEach(s -> u16(data, s));
            } else if (type == 0x002b && supportedVersions != null) {
                data.write(supportedVersions.size() * 2);
                supportedVersions.forEach(v -> u16(data, v));
            }
            u16(exts, type);
            u16(exts, data.size());
            exts.writeBytes(data.toByteArray());
        }
        u16(body, exts.size());
        body.writeBytes(exts.toByteArray());
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        message.write(1);
        message.write(body.size() >> 16);
        u16(message, body.size() & 0xffff);
        message.writeBytes(body.toByteArray());
        return message.toByteArray();
    }

    static byte[] oneRecord(byte[] handshake) {
        return record(handshake);
    }

    private static byte[] record(byte[] fragment) {
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.write(22);
        u16(record, 0x0301);
        u16(record, fragment.length);
        record.writeBytes(fragment);
        return record.toByteArray();
    }

    private static void u16(ByteArrayOutputStream out, int value) {
        out.write(value >> 8);
        out.write(value & 0xff);
    }
}
