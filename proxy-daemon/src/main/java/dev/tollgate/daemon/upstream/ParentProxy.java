package dev.tollgate.daemon.upstream;

import dev.tollgate.daemon.config.UpstreamProxyConfig;
import dev.tollgate.daemon.policy.AddressLiterals;
import dev.tollgate.daemon.policy.DestinationRule;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.store.Outcome;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The listener's parent proxy ({@code upstreamProxy}), or {@link #DIRECT} when it has none: which destinations
 * go through it ({@code noProxy} says which do not), the {@code Proxy-Authorization} value for the parent hop,
 * and the CONNECT handshake that opens a tunnel through it.
 */
public class ParentProxy {

    /** No parent: every destination is dialled directly. */
    public static final ParentProxy DIRECT = new ParentProxy();

    private static final int BAD_GATEWAY = 502;
    private static final int GATEWAY_TIMEOUT = 504;
    private static final int MAX_HEAD_BYTES = 16 * 1024;

    private final String host;
    private final int port;
    private final ParentCredentials credentials;
    private final List<DestinationRule> noProxy;

    private ParentProxy() {
        this.host = null;
        this.port = 0;
        this.credentials = null;
        this.noProxy = List.of();
    }

    private ParentProxy(UpstreamProxyConfig config) {
        this.host = config.host();
        this.port = config.port();
        this.noProxy = DestinationRule.parseAll("noProxy", config.noProxy());
        this.credentials = config.username() == null ? null
                : new ParentCredentials(config.username(), Path.of(config.passwordFile()));
    }

    /** The parent a listener's config names, or {@link #DIRECT}; reads the password file now (and on change). */
    public static ParentProxy of(UpstreamProxyConfig config) {
        return config == null ? DIRECT : new ParentProxy(config);
    }

    public boolean isDirect() {
        return host == null;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** Whether a request for {@code destinationHost} goes through the parent (it has one, and noProxy does not match). */
    public boolean appliesTo(String destinationHost) {
        if (isDirect()) {
            return false;
        }
        InetAddress literal = AddressLiterals.parse(destinationHost);
        for (DestinationRule rule : noProxy) {
            if (rule.matchesName(destinationHost) || rule.matchesAddress(literal)) {
                return false;
            }
        }
        return true;
    }

    /** The {@code Proxy-Authorization} value for the parent, or null when it needs none. */
    public String authorization() {
        return credentials == null ? null : credentials.header();
    }

    /** Names the parent in reasons: {@code parent proxy 10.0.0.1:8080}. */
    public String describe() {
        return "parent proxy " + host + ":" + port;
    }

    /**
     * Dials the parent and asks it for a tunnel to {@code target:targetPort} (RFC 9110 9.3.6), blocking for at
     * most {@code timeoutMs} for each step. Returns the connected, non-blocking channel once the parent answered
     * 2xx; the bytes after its answer belong to the tunnel. Called on a pool thread, never a selector.
     *
     * @param checkParent checks the parent's resolved address before it is dialled (the loop guard); the tunnel
     *                    also takes it as its upstream address there, so a failed dial still names it
     */
    public SocketChannel openTunnel(String target, int targetPort, long timeoutMs, AddressCheck checkParent)
            throws RequestRefusedException {
        String forWhat = describe() + " (tunnel to " + target + ":" + targetPort + ")";
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE, forWhat
                    + ": the parent's name cannot be resolved");
        }
        checkParent.check(address);
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open();
            channel.socket().setTcpNoDelay(true);
            channel.socket().connect(address, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
            channel.socket().setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs));
            String authority = target.indexOf(':') >= 0 ? "[" + target + "]:" + targetPort : target + ":" + targetPort;
            StringBuilder connect = new StringBuilder("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ")
                    .append(authority).append("\r\n");
            String authorization = authorization();
            if (authorization != null) {
                connect.append("Proxy-Authorization: ").append(authorization).append("\r\n");
            }
            connect.append("\r\n");
            channel.socket().getOutputStream().write(connect.toString().getBytes(StandardCharsets.ISO_8859_1));
            String statusLine = readHead(channel.socket().getInputStream());
            int status = statusOf(statusLine);
            if (status / 100 != 2) {
                String why = status == 407 ? (authorization == null ? "asks for credentials (407) and"
                        + " upstreamProxy has no username" : "refused our credentials (407)")
                        : "answered \"" + statusLine + "\"";
                throw new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE, forWhat + " " + why);
            }
            channel.socket().setSoTimeout(0);
            channel.configureBlocking(false);
            return channel;
        } catch (RequestRefusedException refused) {
            closeQuietly(channel);
            throw refused;
        } catch (SocketTimeoutException e) {
            closeQuietly(channel);
            throw new RequestRefusedException(GATEWAY_TIMEOUT, Outcome.UPSTREAM_TIMEOUT, forWhat
                    + " did not answer within " + timeoutMs + " ms");
        } catch (ConnectException | NoRouteToHostException e) {
            closeQuietly(channel);
            throw new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_UNREACHABLE, forWhat
                    + " refused the connection (" + e.getMessage() + ")");
        } catch (IOException e) {
            closeQuietly(channel);
            throw new RequestRefusedException(BAD_GATEWAY, Outcome.UPSTREAM_RESET, forWhat
                    + " closed the connection without an answer (" + e + ")");
        }
    }

    /** Checks an address before it is dialled. */
    @FunctionalInterface
    public interface AddressCheck {
        void check(InetSocketAddress address) throws RequestRefusedException;
    }

    /** Reads the response head byte by byte, so that no tunnel byte after it is consumed; returns its status line. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (head.size() < MAX_HEAD_BYTES) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("end of stream inside the response head");
            }
            head.write(b);
            matched = (b == '\n' && (matched == 1 || matched == 3)) || (b == '\r' && (matched == 0 || matched == 2))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                String text = head.toString(StandardCharsets.ISO_8859_1);
                return text.substring(0, text.indexOf('\r'));
            }
        }
        throw new IOException("response head longer than " + MAX_HEAD_BYTES + " bytes");
    }

    private static int statusOf(String statusLine) {
        String[] parts = statusLine.split(" ", 3);
        try {
            return parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing more to release.
            }
        }
    }
}
