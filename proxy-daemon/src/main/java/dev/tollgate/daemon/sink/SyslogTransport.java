package dev.tollgate.daemon.sink;

import dev.tollgate.daemon.config.SinkConfig;
import dev.tollgate.daemon.tls.Pem;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Syslog over TCP (RFC 6587, octet counting) or TLS (RFC 5425), one RFC 5424 message per record
 * ({@link SyslogMessage}). A batch is written through a buffer and flushed once.
 *
 * <p>TCP syslog has no application-level acknowledgement: {@link #deliver} returning means the batch was written and
 * flushed to the kernel, not that the receiver stored it. A receiver that crashes with bytes in its socket buffer
 * loses them, and the pump has already committed their journal position by then. {@link RelpTransport} (sink
 * protocol {@code relp}, rsyslog's Reliable Event Logging Protocol, which acknowledges each message) closes that gap.
 *
 * <p>A receiver that accepts bytes but stops reading would block a socket write for ever (SO_TIMEOUT applies to
 * reads only), so a watchdog closes the connection when a batch has not gone out within the write timeout.
 */
public final class SyslogTransport implements SinkTransport {

    /** How long a TCP connect, and a TLS handshake's reads, may take. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** How long one batch may take to be written and flushed before the connection is given up. */
    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);
    private static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    private static final int BUFFER_BYTES = 64 * 1024;

    private final SinkConfig config;
    private final SyslogMessage messages;
    private final SSLSocketFactory tls;
    private final String trustSource;
    private final Duration connectTimeout;
    private final Duration writeTimeout;
    // Volatile: the pump may close the transport from the thread that stops it, during a delivery (which then
    // fails and is retried by the next start).
    private volatile ScheduledExecutorService watchdog;
    private volatile Socket connection;
    private volatile Socket tcp;
    private volatile OutputStream out;

    /** A transport for {@code config} (a syslog sink) with the default timeouts. */
    public SyslogTransport(SinkConfig config) {
        this(config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_WRITE_TIMEOUT);
    }

    /**
     * As {@link #SyslogTransport(SinkConfig)}, with timeouts of the caller's (tests use short ones).
     *
     * @throws IllegalArgumentException naming {@code caFile} when it cannot be read as PEM certificates
     */
    public SyslogTransport(SinkConfig config, Duration connectTimeout, Duration writeTimeout) {
        if (!SinkConfig.SYSLOG.equals(config.type()) || config.relp()) {
            throw new IllegalArgumentException("sink " + config.name() + " is not a syslog sink with protocol tcp");
        }
        this.config = config;
        this.connectTimeout = connectTimeout;
        this.writeTimeout = writeTimeout;
        this.messages = new SyslogMessage(config.facilityCode(), config.appName(), pid(),
                "sd".equals(config.format()));
        this.tls = config.tls() ? socketFactory(config.caFile()) : null;
        this.trustSource = config.caFile() == null ? "the JDK's trust store" : "caFile " + config.caFile();
    }

    @Override
    public void deliver(List<SinkEvent> events) throws IOException {
        if (out != null && peerHasClosed()) {
            close();
        }
        if (out == null) {
            connect();
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        Socket watched = tcp;
        ScheduledFuture<?> alarm = watchdog().schedule(() -> {
            timedOut.set(true);
            closeQuietly(watched);
        }, writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            for (SinkEvent event : events) {
                out.write(messages.frame(event));
            }
            out.flush();
        } catch (IOException e) {
            close();
            if (timedOut.get()) {
                throw new IOException(target() + " did not take a batch of " + events.size() + " records within "
                        + writeTimeout.toSeconds() + " s (write timeout: it stopped reading, or reads slower than"
                        + " that): connection closed, the batch will be sent again", e);
            }
            throw new IOException("connection to " + address() + " lost while sending (" + e.getMessage()
                    + "): the batch will be sent again", e);
        } finally {
            alarm.cancel(false);
        }
    }

    @Override
    public String target() {
        return (tls == null ? "syslog://" : "syslog+tls://") + address();
    }

    /** Drops the connection and the watchdog's thread; the next {@link #deliver} connects again. */
    @Override
    public void close() {
        if (connection != tcp && watchdog != null) {
            // TLS sends close_notify, a write that a stalled receiver would block: the watchdog ends it too.
            Socket watched = tcp;
            watchdog.schedule(() -> closeQuietly(watched), writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        closeQuietly(connection);
        closeQuietly(tcp);
        connection = null;
        tcp = null;
        out = null;
        if (watchdog != null) {
            watchdog.shutdownNow();
            watchdog = null;
        }
    }

    /**
     * Whether the receiver closed the connection since the last batch (restarted, say). A syslog receiver never
     * sends on it (RFC 6587 3.2: the transport is simplex), so end of stream, any byte or an error all mean the
     * connection is gone; only a read that times out means it is alive. Without this check the first batch after a
     * receiver's restart would be "written" into a half-closed connection, answered by a reset, and lost.
     */
    private boolean peerHasClosed() {
        try {
            connection.setSoTimeout(1);
            connection.getInputStream().read();
            return true;
        } catch (SocketTimeoutException alive) {
            try {
                connection.setSoTimeout(0);
                return false;
            } catch (IOException e) {
                return true;
            }
        } catch (IOException e) {
            return true;
        }
    }

    private void connect() throws IOException {
        Socket plain = new Socket();
        try {
            plain.setKeepAlive(true);
            plain.connect(new InetSocketAddress(config.host(), config.port()), (int) connectTimeout.toMillis());
            Socket socket = tls == null ? plain : handshake(plain);
            out = new BufferedOutputStream(socket.getOutputStream(), BUFFER_BYTES);
            tcp = plain;
            connection = socket;
        } catch (ConnectException e) {
            closeQuietly(plain);
            throw new IOException("connection to " + address() + " refused: is the syslog receiver listening there?",
                    e);
        } catch (SocketTimeoutException e) {
            closeQuietly(plain);
            throw new IOException("no answer from " + address() + " within " + connectTimeout.toSeconds()
                    + " s (connect timeout)", e);
        } catch (UnknownHostException e) {
            closeQuietly(plain);
            throw new IOException("cannot resolve the syslog host " + config.host(), e);
        } catch (IOException e) {
            closeQuietly(plain);
            throw e;
        }
    }

    /**
     * RFC 5425 5.2: the client checks the receiver's certificate against the name it meant to reach, here
     * {@code serverName} (the host by default), as HTTPS does (RFC 2818/6125: subject alternative names).
     */
    private Socket handshake(Socket plain) throws IOException {
        String name = serverName();
        SSLSocket socket = (SSLSocket) tls.createSocket(plain, name, config.port(), true);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setProtocols(TLS_PROTOCOLS.stream()
                .filter(List.of(socket.getSupportedProtocols())::contains).toArray(String[]::new));
        if (!isAddressLiteral(name)) {
            parameters.setServerNames(List.of(new SNIHostName(name)));
        }
        socket.setSSLParameters(parameters);
        // The handshake's reads wait at most the connect timeout; a receiver that says nothing cannot hang us.
        plain.setSoTimeout((int) connectTimeout.toMillis());
        try {
            socket.startHandshake();
        } catch (SSLHandshakeException e) {
            throw new IOException("TLS handshake with " + address() + " failed: " + handshakeReason(e), e);
        } catch (SocketTimeoutException e) {
            throw new IOException("TLS handshake with " + address() + " failed: no answer within "
                    + connectTimeout.toSeconds() + " s (is it a TLS port?)", e);
        }
        plain.setSoTimeout(0);
        return socket;
    }

    /** The cause a person can act on, from the JDK's chain of exceptions. */
    private String handshakeReason(SSLHandshakeException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof CertificateExpiredException || cause instanceof CertificateNotYetValidException) {
                return "the receiver's certificate is outside its validity period (" + cause.getMessage() + ")";
            }
            if (cause instanceof CertPathValidatorException
                    || String.valueOf(cause.getMessage()).contains("PKIX path building failed")) {
                return "certificate not trusted (" + trustSource + ")";
            }
            String message = String.valueOf(cause.getMessage());
            if (message.startsWith("No subject alternative") || message.startsWith("No name matching")) {
                return "the receiver's certificate is not for " + serverName() + " (" + message + "; set"
                        + " serverName to a name it carries)";
            }
        }
        return e.getMessage();
    }

    private String serverName() {
        return config.serverName() == null ? config.host() : config.serverName();
    }

    private String address() {
        return SyslogSockets.address(config);
    }

    private ScheduledExecutorService watchdog() {
        if (watchdog == null) {
            watchdog = SyslogSockets.watchdog(config, "write");
        }
        return watchdog;
    }

    /** Trust for the receiver: the PEM certificates of {@code caFile} and nothing else, or the JDK's defaults. */
    private static SSLSocketFactory socketFactory(String caFile) {
        if (caFile == null) {
            try {
                return SSLContext.getDefault().getSocketFactory();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JVM has no default TLS context: " + e.getMessage(), e);
            }
        }
        try {
            List<X509Certificate> certificates = Pem.readCertificates(Path.of(caFile));
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("caFile: " + caFile + " holds no PEM certificate");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca-" + i, certificates.get(i));
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("caFile: cannot read " + caFile + " as PEM certificates ("
                    + e.getMessage() + ")", e);
        }
    }

    private static boolean isAddressLiteral(String name) {
        return name.indexOf(':') >= 0 || name.matches("[0-9.]+");
    }

    /** The daemon's pid for PROCID, or null where the platform will not say. */
    static Long pid() {
        try {
            return ProcessHandle.current().pid();
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    private static void closeQuietly(Socket socket) {
        SyslogSockets.closeQuietly(socket);
    }
}
