package dev.tollgate.daemon.tls;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a client's ClientHello from the first bytes of a tunnel, fed as they arrive, in whatever pieces TCP
 * delivers them. The ClientHello may span TLS records (RFC 8446 5.1 lets a handshake message be fragmented): up to
 * {@link #MAX_BYTES}, two full records' worth, is read; beyond that the reader gives up. Each byte is looked at
 * once. Not thread-safe: one tunnel's reads feed it, one at a time.
 */
public final class ClientHelloReader {

    /** The largest TLSPlaintext fragment (RFC 8446 5.1). */
    static final int MAX_RECORD_FRAGMENT = 16_384;
    private static final int RECORD_HEADER = 5;
    private static final int HANDSHAKE_HEADER = 4;
    /** At most two full records are read: a ClientHello split over them is read whole, a larger one is not. */
    public static final int MAX_BYTES = 2 * (RECORD_HEADER + MAX_RECORD_FRAGMENT);
    private static final int CONTENT_HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int INITIAL_BYTES = 2048;

    /** Grown as bytes arrive (most ClientHellos are under 2 KiB), up to {@link #MAX_BYTES}. */
    private byte[] records = new byte[INITIAL_BYTES];
    private int seen;
    /** Where the next record's header starts in {@link #records}. */
    private int nextRecord;
    /** The handshake bytes of the records read so far, fragments joined. */
    private byte[] handshake = new byte[INITIAL_BYTES];
    private int handshakeLength;
    private ClientHello result;

    /**
     * Reads the bytes from {@code bytes}' position to its limit, without moving either.
     *
     * @return the result once there is one (then further calls return it and read nothing), else null
     */
    public ClientHello offer(ByteBuffer bytes) {
        if (result != null) {
            return result;
        }
        int n = Math.min(bytes.remaining(), MAX_BYTES - seen);
        if (seen + n > records.length) {
            records = Arrays.copyOf(records, Math.min(MAX_BYTES, Math.max(seen + n, 2 * records.length)));
        }
        bytes.duplicate().get(records, seen, n);
        seen += n;
        result = readRecords();
        if (result == null && seen == MAX_BYTES) {
            result = ClientHello.unreadable("no whole ClientHello in the first " + MAX_BYTES + " bytes");
        }
        return result;
    }

    /** The result when the bytes stop coming: the client sent nothing, or not all of its ClientHello. */
    public ClientHello giveUp(String why) {
        if (result == null) {
            result = seen == 0 ? null : ClientHello.unreadable("only " + seen + " bytes of a ClientHello " + why);
        }
        return result;
    }

    /** How many bytes were read. */
    public int bytesSeen() {
        return seen;
    }

    private ClientHello readRecords() {
        while (seen - nextRecord >= RECORD_HEADER) {
            int type = records[nextRecord] & 0xff;
            int major = records[nextRecord + 1] & 0xff;
            int length = u16(records, nextRecord + 3);
            if (type != CONTENT_HANDSHAKE || major != 3) {
                return nextRecord == 0 ? ClientHello.notTls("the first bytes are not a TLS handshake record")
                        : ClientHello.unreadable("a record of type " + type + " inside the ClientHello");
            }
            if (length == 0 || length > MAX_RECORD_FRAGMENT) {
                return nextRecord == 0 ? ClientHello.notTls("a TLS record header with length " + length)
                        : ClientHello.unreadable("a handshake record of " + length + " bytes");
            }
            if (nextRecord == 0 && seen >= RECORD_HEADER + HANDSHAKE_HEADER) {
                // Judged on the first record's first bytes: neither waits for a ClientHello that is not coming.
                ClientHello early = checkHandshakeHeader(records, RECORD_HEADER);
                if (early != null) {
                    return early;
                }
            }
            if (seen - nextRecord - RECORD_HEADER < length) {
                return null;
            }
            if (handshakeLength + length > handshake.length) {
                handshake = Arrays.copyOf(handshake, Math.max(handshakeLength + length, 2 * handshake.length));
            }
            System.arraycopy(records, nextRecord + RECORD_HEADER, handshake, handshakeLength, length);
            handshakeLength += length;
            nextRecord += RECORD_HEADER + length;
            if (handshakeLength >= HANDSHAKE_HEADER) {
                ClientHello wrong = checkHandshakeHeader(handshake, 0);
                if (wrong != null) {
                    return wrong;
                }
                int bodyLength = ((handshake[1] & 0xff) << 16) | u16(handshake, 2);
                if (handshakeLength >= HANDSHAKE_HEADER + bodyLength) {
                    return parse(bodyLength);
                }
            }
        }
        return null;
    }

    /** Null when the handshake message at {@code at} is a ClientHello that fits in what is read, else why not. */
    private static ClientHello checkHandshakeHeader(byte[] bytes, int at) {
        if ((bytes[at] & 0xff) != CLIENT_HELLO) {
            return ClientHello.notTls("the first handshake message is of type " + (bytes[at] & 0xff)
                    + ", not a ClientHello");
        }
        int bodyLength = ((bytes[at + 1] & 0xff) << 16) | u16(bytes, at + 2);
        if (HANDSHAKE_HEADER + bodyLength > MAX_BYTES - 2 * RECORD_HEADER) {
            return ClientHello.unreadable("a ClientHello of " + bodyLength + " bytes, over the " + MAX_BYTES
                    + " bytes read");
        }
        return null;
    }

    private ClientHello parse(int bodyLength) {
        try {
            return parseBody(ByteBuffer.wrap(handshake, HANDSHAKE_HEADER, bodyLength).slice());
        } catch (RuntimeException malformed) {
            // A length that runs past its container: BufferUnderflowException or IllegalArgumentException.
            return ClientHello.unreadable("a malformed ClientHello (" + malformed.getClass().getSimpleName() + ")");
        }
    }

    private static ClientHello parseBody(ByteBuffer body) {
        int legacyVersion = body.getShort() & 0xffff;
        skip(body, 32);
        skip(body, body.get() & 0xff);
        ByteBuffer cipherBytes = slice(body, body.getShort() & 0xffff);
        List<Integer> ciphers = new ArrayList<>();
        while (cipherBytes.remaining() >= 2) {
            ciphers.add(cipherBytes.getShort() & 0xffff);
        }
        skip(body, body.get() & 0xff);
        List<Integer> extensions = new ArrayList<>();
        List<Integer> sigalgs = new ArrayList<>();
        List<String> alpn = new ArrayList<>();
        byte[] firstAlpn = null;
        String sni = null;
        int version = legacyVersion;
        int highestSupported = -1;
        ByteBuffer extensionBytes = body.remaining() >= 2 ? slice(body, body.getShort() & 0xffff)
                : ByteBuffer.allocate(0);
        while (extensionBytes.remaining() >= 4) {
            int type = extensionBytes.getShort() & 0xffff;
            ByteBuffer data = slice(extensionBytes, extensionBytes.getShort() & 0xffff);
            extensions.add(type);
            switch (type) {
                case 0x0000 -> sni = serverName(data);
                case 0x0010 -> {
                    ByteBuffer list = slice(data, data.getShort() & 0xffff);
                    while (list.hasRemaining()) {
                        byte[] protocol = new byte[list.get() & 0xff];
                        list.get(protocol);
                        if (firstAlpn == null) {
                            firstAlpn = protocol;
                        }
                        alpn.add(printable(protocol));
                    }
                }
                case 0x002b -> {
                    ByteBuffer list = slice(data, data.get() & 0xff);
                    while (list.remaining() >= 2) {
                        int offered = list.getShort() & 0xffff;
                        if (!Ja4.isGrease(offered) && offered > highestSupported) {
                            highestSupported = offered;
                        }
                    }
                }
                case 0x000d -> {
                    ByteBuffer list = slice(data, data.getShort() & 0xffff);
                    while (list.remaining() >= 2) {
                        sigalgs.add(list.getShort() & 0xffff);
                    }
                }
                default -> {
                    // Counted and hashed by type alone.
                }
            }
        }
        if (highestSupported >= 0) {
            version = highestSupported;
        }
        String ja4 = Ja4.of(version, ciphers, extensions, firstAlpn, sigalgs);
        return new ClientHello(versionName(version), sni, alpn, ja4, null);
    }

    /** The host_name of a server_name extension (RFC 6066 3), or null when it names none. */
    private static String serverName(ByteBuffer data) {
        ByteBuffer list = slice(data, data.getShort() & 0xffff);
        while (list.remaining() >= 3) {
            int nameType = list.get() & 0xff;
            byte[] name = new byte[list.getShort() & 0xffff];
            list.get(name);
            if (nameType == 0) {
                return printable(name);
            }
        }
        return null;
    }

    /** A name or protocol as text: printable ASCII as it is, anything else as {@code 0x} and its hex. */
    private static String printable(byte[] bytes) {
        StringBuilder text = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            if (b <= 0x20 || b >= 0x7f || b == ',') {
                return "0x" + java.util.HexFormat.of().formatHex(bytes);
            }
            text.append((char) b);
        }
        return text.toString();
    }

    /** The name the access log gives a TLS version: {@code TLSv1.3}, ..., {@code SSLv3}, else its hex. */
    static String versionName(int version) {
        return switch (version) {
            case 0x0304 -> "TLSv1.3";
            case 0x0303 -> "TLSv1.2";
            case 0x0302 -> "TLSv1.1";
            case 0x0301 -> "TLSv1.0";
            case 0x0300 -> "SSLv3";
            default -> String.format("0x%04x", version);
        };
    }

    private static ByteBuffer slice(ByteBuffer from, int length) {
        ByteBuffer part = from.slice(from.position(), length);
        from.position(from.position() + length);
        return part;
    }

    private static void skip(ByteBuffer from, int length) {
        from.position(from.position() + length);
    }

    private static int u16(byte[] bytes, int at) {
        return ((bytes[at] & 0xff) << 8) | (bytes[at + 1] & 0xff);
    }
}
