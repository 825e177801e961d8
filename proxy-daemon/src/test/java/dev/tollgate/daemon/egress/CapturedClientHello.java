package dev.tollgate.daemon.egress;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * A ClientHello as an origin received it, with its JA4 worked out here from FoxIO's rules, on its own: nothing of
 * Tollgate's reader is used, so that a row's ja4 is checked against a second, independent reading of the same
 * bytes. One record only (what curl and the JDK send).
 */
record CapturedClientHello(byte[] record, String sni, List<String> alpn, String tlsVersion, String ja4) {

    /** Reads one TLS record from {@code in} and works out what it says. */
    static CapturedClientHello readFrom(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] header = data.readNBytes(5);
        if (header.length < 5 || header[0] != 22) {
            throw new IOException("not a TLS handshake record");
        }
        int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        byte[] fragment = data.readNBytes(length);
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        whole.writeBytes(header);
        whole.writeBytes(fragment);
        return parse(whole.toByteArray());
    }

    static CapturedClientHello parse(byte[] record) throws IOException {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(record, 5, record.length - 5));
        in.readInt();                           // handshake type and length
        int version = in.readUnsignedShort();
        in.skipNBytes(32);
        in.skipNBytes(in.readUnsignedByte());
        List<Integer> ciphers = new ArrayList<>();
        for (int n = in.readUnsignedShort() / 2; n > 0; n--) {
            ciphers.add(in.readUnsignedShort());
        }
        in.skipNBytes(in.readUnsignedByte());
        List<Integer> extensions = new ArrayList<>();
        List<Integer> sigalgs = new ArrayList<>();
        List<String> alpn = new ArrayList<>();
        String sni = null;
        int end = in.available() - in.readUnsignedShort();
        while (in.available() > end) {
            int type = in.readUnsignedShort();
            byte[] body = in.readNBytes(in.readUnsignedShort());
            DataInputStream ext = new DataInputStream(new java.io.ByteArrayInputStream(body));
            extensions.add(type);
            if (type == 0) {
                ext.readUnsignedShort();
                ext.readUnsignedByte();
                sni = new String(ext.readNBytes(ext.readUnsignedShort()), StandardCharsets.US_ASCII);
            } else if (type == 16) {
                ext.readUnsignedShort();
                while (ext.available() > 0) {
                    alpn.add(new String(ext.readNBytes(ext.readUnsignedByte()), StandardCharsets.US_ASCII));
                }
            } else if (type == 43) {
                for (int n = ext.readUnsignedByte() / 2; n > 0; n--) {
                    int offered = ext.readUnsignedShort();
                    if (!grease(offered)) {
                        version = Math.max(version, offered);
                    }
                }
            } else if (type == 13) {
                for (int n = ext.readUnsignedShort() / 2; n > 0; n--) {
                    sigalgs.add(ext.readUnsignedShort());
                }
            }
        }
        ciphers.removeIf(CapturedClientHello::grease);
        extensions.removeIf(CapturedClientHello::grease);
        sigalgs.removeIf(CapturedClientHello::grease);
        String v = switch (version) {
            case 0x0304 -> "13";
            case 0x0303 -> "12";
            default -> throw new IOException("a version this test does not expect: " + version);
        };
        String first = alpn.isEmpty() ? "00" : alpn.get(0).charAt(0) + "" + alpn.get(0).charAt(alpn.get(0).length() - 1);
        String a = "t" + v + (extensions.contains(0) ? "d" : "i") + String.format("%02d%02d", Math.min(99,
                ciphers.size()), Math.min(99, extensions.size())) + first;
        TreeSet<String> sortedCiphers = new TreeSet<>();
        ciphers.forEach(c -> sortedCiphers.add(String.format("%04x", c)));
        List<String> sortedExtensions = new ArrayList<>();
        extensions.stream().filter(e -> e != 0 && e != 16).sorted().forEach(e -> sortedExtensions.add(
                String.format("%04x", e)));
        List<String> sigalgText = sigalgs.stream().map(s -> String.format("%04x", s)).toList();
        String c = String.join(",", sortedExtensions) + (sigalgText.isEmpty() ? "" : "_" + String.join(",",
                sigalgText));
        return new CapturedClientHello(record, sni, alpn, version == 0x0304 ? "TLSv1.3" : "TLSv1.2",
                a + "_" + sha12(String.join(",", sortedCiphers)) + "_" + sha12(c));
    }

    private static boolean grease(int value) {
        return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
    }

    private static String sha12(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                    text.getBytes(StandardCharsets.US_ASCII))).substring(0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    String alpnText() {
        return alpn.isEmpty() ? null : String.join(",", alpn);
    }
}
