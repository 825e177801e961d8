package dev.tollgate.daemon.tls;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The JA4 TLS client fingerprint, as FoxIO's specification (github.com/FoxIO-LLC/ja4, technical details) defines
 * it: {@code a_b_c}, where
 * <ul>
 * <li>{@code a} is the transport ({@code t}: TCP), the version offered (highest of {@code supported_versions},
 *     else the legacy version: {@code 13}, {@code 12}, ...), {@code d} when an SNI extension is present ({@code i}
 *     when not), the number of cipher suites and of extensions (two digits each, at most 99), and the first and last
 *     character of the first ALPN value ({@code 00} when none);</li>
 * <li>{@code b} is the first 12 hex digits of the SHA-256 of the cipher suites, as 4-digit lowercase hex, sorted,
 *     comma-separated;</li>
 * <li>{@code c} the same of the extensions, sorted, without SNI (0x0000) and ALPN (0x0010), then {@code _} and the
 *     signature algorithms in the client's order (no {@code _} when there are none).</li>
 * </ul>
 * GREASE values (RFC 8701) are left out of every list and count. An empty list hashes to {@code 000000000000}.
 */
public final class Ja4 {

    private static final String EMPTY_HASH = "000000000000";
    private static final int SNI = 0x0000;
    private static final int ALPN = 0x0010;
    private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();
    // A digest per thread (reset by each digest()): the provider lookup of getInstance costs more than the hash.
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(Ja4::newSha256);

    private Ja4() {
    }

    /** Whether a 16-bit value is a GREASE value (RFC 8701): 0x0a0a, 0x1a1a, ..., 0xfafa. */
    public static boolean isGrease(int value) {
        return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
    }

    /**
     * The fingerprint of a ClientHello's lists (each in the client's order, GREASE included or not).
     *
     * @param version    the version offered (0x0304 for TLS 1.3)
     * @param ciphers    cipher suites
     * @param extensions extension types
     * @param firstAlpn  the first ALPN value's bytes, or null
     * @param sigalgs    the signature_algorithms extension's values (empty when absent)
     */
    public static String of(int version, List<Integer> ciphers, List<Integer> extensions, byte[] firstAlpn,
                            List<Integer> sigalgs) {
        List<Integer> c = withoutGrease(ciphers);
        List<Integer> e = withoutGrease(extensions);
        List<Integer> s = withoutGrease(sigalgs);
        StringBuilder a = new StringBuilder("t").append(versionCode(version)).append(e.contains(SNI) ? 'd' : 'i');
        a.append(twoDigits(c.size())).append(twoDigits(e.size())).append(alpnCode(firstAlpn));

        List<Integer> hashedExtensions = new ArrayList<>();
        for (int type : e) {
            if (type != SNI && type != ALPN) {
                hashedExtensions.add(type);
            }
        }
        String cHash;
        if (hashedExtensions.isEmpty()) {
            cHash = EMPTY_HASH;
        } else {
            String text = hexList(sorted(hashedExtensions));
            if (!s.isEmpty()) {
                text = text + "_" + hexList(s);
            }
            cHash = truncatedSha256(text);
        }
        String bHash = c.isEmpty() ? EMPTY_HASH : truncatedSha256(hexList(sorted(c)));
        return a + "_" + bHash + "_" + cHash;
    }

    /** The two characters JA4 gives a version: {@code 13}, {@code 12}, {@code 11}, {@code 10}, {@code s3}, ... */
    static String versionCode(int version) {
        return switch (version) {
            case 0x0304 -> "13";
            case 0x0303 -> "12";
            case 0x0302 -> "11";
            case 0x0301 -> "10";
            case 0x0300 -> "s3";
            case 0x0002 -> "s2";
            case 0xfeff -> "d1";
            case 0xfefd -> "d2";
            case 0xfefc -> "d3";
            default -> "00";
        };
    }

    /**
     * The first and last character of the first ALPN value when both are ASCII letters or digits; otherwise the
     * first and last digit of the value's hex; {@code 00} without ALPN.
     */
    static String alpnCode(byte[] alpn) {
        if (alpn == null || alpn.length == 0) {
            return "00";
        }
        int first = alpn[0] & 0xff;
        int last = alpn[alpn.length - 1] & 0xff;
        if (isAlphanumeric(first) && isAlphanumeric(last)) {
            return "" + (char) first + (char) last;
        }
        String hex = HexFormat.of().formatHex(alpn);
        return "" + hex.charAt(0) + hex.charAt(hex.length() - 1);
    }

    private static boolean isAlphanumeric(int b) {
        return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
    }

    private static String twoDigits(int n) {
        int capped = Math.min(n, 99);
        return capped < 10 ? "0" + capped : Integer.toString(capped);
    }

    private static List<Integer> withoutGrease(List<Integer> values) {
        List<Integer> kept = new ArrayList<>(values.size());
        for (int v : values) {
            if (!isGrease(v)) {
                kept.add(v);
            }
        }
        return kept;
    }

    private static List<Integer> sorted(List<Integer> values) {
        List<Integer> copy = new ArrayList<>(values);
        copy.sort(null);
        return copy;
    }

    /**
     * The values as 4-digit lowercase hex, comma-separated. Written digit by digit: {@code String.format} per value
     * was a fifth of a tunnel's CPU on the request thread (docs/performance.md).
     */
    static String hexList(List<Integer> values) {
        StringBuilder text = new StringBuilder(values.size() * 5);
        for (int v : values) {
            if (text.length() > 0) {
                text.append(',');
            }
            text.append(HEX_DIGITS[(v >> 12) & 0xf]).append(HEX_DIGITS[(v >> 8) & 0xf])
                    .append(HEX_DIGITS[(v >> 4) & 0xf]).append(HEX_DIGITS[v & 0xf]);
        }
        return text.toString();
    }

    private static String truncatedSha256(String text) {
        MessageDigest sha256 = SHA256.get();
        byte[] digest = sha256.digest(text.getBytes(StandardCharsets.US_ASCII));
        return HexFormat.of().formatHex(digest, 0, 6);
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
