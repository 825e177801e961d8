package dev.tollgate.store.internal;

import org.h2.api.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The auditors' SQL port: a gate in front of H2's TCP server that lets a session through only as
 * {@value AuditorAccount#USER}, to the one database it serves.
 * <p>
 * H2's TCP server has no way to refuse an account, and the log's owner may delete rows and compile Java
 * ({@code CREATE ALIAS ... AS}); so H2's server listens on a port of its own that takes no session without a
 * random key (H2's {@code -key}: the database name a client must ask for, made at each start and held in memory
 * alone), and this gate, on the port auditors use, reads the first message of H2's protocol (protocol versions,
 * database name, URL, user name), refuses any user but the auditor and any other database with H2's own
 * "wrong user name or password" error, and otherwise passes the session on with the database name replaced by
 * the key. After that first message it copies bytes both ways and reads nothing.
 * <p>
 * A session that cancels a statement (H2 opens one with no database name and a session id) is passed on as it
 * is: H2 answers it without logging anyone in.
 */
public final class AuditorSqlGate implements AutoCloseable {

    /** The longest database name, URL or user name the first message may carry, in characters. */
    static final int MAX_NAME_CHARS = 4_096;
    /** Sessions at once; one more is closed at once. */
    static final int MAX_SESSIONS = 64;
    /** How long a client may take to send its first message. */
    static final int FIRST_MESSAGE_TIMEOUT_MS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(AuditorSqlGate.class);
    private static final int STATUS_ERROR = 0;
    private static final String WRONG_USER_OR_PASSWORD_STATE = "28000";
    private static final int KEY_BYTES = 32;

    private final ServerSocket listener;
    private final String database;
    private final int h2Port;
    private final String key;
    private final Runnable beforeEachSession;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closed;

    private AuditorSqlGate(ServerSocket listener, String database, int h2Port, String key,
                           Runnable beforeEachSession) {
        this.listener = listener;
        this.database = database;
        this.h2Port = h2Port;
        this.key = key;
        this.beforeEachSession = beforeEachSession;
        this.acceptor = new Thread(this::accept, "tollgate-sql-gate");
        this.acceptor.setDaemon(true);
    }

    /** A new random key for H2's {@code -key}: the database name only this gate asks H2's server for. */
    public static String newKey() {
        return SecretFile.random(KEY_BYTES);
    }

    /**
     * Listens on {@code address}:{@code port} (0 for any free port) and passes auditors' sessions for
     * {@code database} to H2's server on {@code address}:{@code h2Port}, asking it for {@code key}. Runs
     * {@code beforeEachSession} before it passes a session on (the daemon sets the auditor's password back there,
     * should a session have changed it, so that nobody is locked out).
     */
    public static AuditorSqlGate start(InetAddress address, int port, String database, int h2Port, String key,
                                       Runnable beforeEachSession) throws IOException {
        ServerSocket listener = new ServerSocket();
        try {
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(address, port), 50);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        AuditorSqlGate gate = new AuditorSqlGate(listener, database, h2Port, key, beforeEachSession);
        gate.acceptor.start();
        return gate;
    }

    /** The port the gate listens on. */
    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("sql - accepting a connection failed: {}", e.getMessage());
                }
                continue;
            }
            if (open.size() >= MAX_SESSIONS) {
                LOG.warn("sql - {} sessions are open already; closing a new one from port {}", MAX_SESSIONS,
                        client.getPort());
                closeQuietly(client);
                continue;
            }
            open.add(client);
            Thread session = new Thread(() -> serve(client), "tollgate-sql-session-" + client.getPort());
            session.setDaemon(true);
            session.start();
        }
    }

    private void serve(Socket client) {
        Socket h2 = null;
        try {
            client.setSoTimeout(FIRST_MESSAGE_TIMEOUT_MS);
            client.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(new BufferedInputStream(client.getInputStream()));
            int minVersion = in.readInt();
            int maxVersion = in.readInt();
            String requested = readString(in);
            String url = readString(in);
            List<String> passedOn;
            if (requested == null && url == null) {
                passedOn = Arrays.asList(null, null); // a statement's cancellation: no database, no login
            } else {
                String user = readString(in);
                String userName = user == null ? "" : user.toUpperCase(Locale.ENGLISH);
                if (!AuditorAccount.USER.equals(userName) || !database.equals(requested)) {
                    LOG.info("sql - refused a session as {} for database {} from port {}: only {} on {} is served",
                            printable(user), printable(requested), client.getPort(), AuditorAccount.USER, database);
                    refuse(client);
                    return;
                }
                beforeEachSession.run();
                passedOn = Arrays.asList(key, url, user);
            }
            h2 = connectToH2();
            DataOutputStream out = new DataOutputStream(h2.getOutputStream());
            out.writeInt(minVersion);
            out.writeInt(maxVersion);
            for (String text : passedOn) {
                writeString(out, text);
            }
            client.setSoTimeout(0);
            Socket server = h2;
            Thread back = new Thread(() -> copy(server, client), Thread.currentThread().getName() + "-back");
            back.setDaemon(true);
            back.start();
            copy(in, client, server);
        } catch (EOFException | SocketException e) {
            LOG.debug("sql - a session ended: {}", e.toString());
        } catch (IOException | RuntimeException e) {
            LOG.debug("sql - a session failed", e);
        } finally {
            closeQuietly(h2);
            closeQuietly(client);
            open.remove(client);
        }
    }

    private Socket connectToH2() throws IOException {
        Socket h2 = new Socket(listener.getInetAddress(), h2Port);
        h2.setTcpNoDelay(true);
        return h2;
    }

    /** H2's own answer to a wrong user or password, so that every client reports it as such. */
    private static void refuse(Socket client) throws IOException {
        DataOutputStream out = new DataOutputStream(client.getOutputStream());
        out.writeInt(STATUS_ERROR);
        writeString(out, WRONG_USER_OR_PASSWORD_STATE);
        writeString(out, "Wrong user name or password: this port serves the read-only "
                + AuditorAccount.USER + " alone");
        writeString(out, null);
        out.writeInt(ErrorCode.WRONG_USER_OR_PASSWORD);
        writeString(out, "");
        out.flush();
    }

    private static void copy(Socket from, Socket to) {
        try {
            copy(from.getInputStream(), from, to);
        } catch (IOException e) {
            LOG.debug("sql - a session ended: {}", e.toString());
        }
    }

    /** Copies until {@code in} ends, then closes both sockets so that the other direction ends too. */
    private static void copy(InputStream in, Socket from, Socket to) throws IOException {
        try {
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[16 * 1024];
            int read;
            while ((read = in.read(buffer)) >= 0) {
                out.write(buffer, 0, read);
                if (in.available() == 0) {
                    out.flush();
                }
            }
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    /** H2's string: its length in chars (-1 for null), then each char as two bytes. */
    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length == -1) {
            return null;
        }
        if (length < 0 || length > MAX_NAME_CHARS) {
            throw new IOException("a string of " + length + " characters in the first message (at most "
                    + MAX_NAME_CHARS + ")");
        }
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append(in.readChar());
        }
        return text.toString();
    }

    private static void writeString(DataOutputStream out, String text) throws IOException {
        if (text == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(text.length());
            out.writeChars(text);
        }
    }

    private static String printable(String text) {
        if (text == null) {
            return "(none)";
        }
        String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        return shown.replaceAll("\\p{Cntrl}", "?");
    }

    private static void closeQuietly(Socket socket) {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** Stops listening and ends every session. Calling it again does nothing. */
    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket socket : open) {
            closeQuietly(socket);
        }
    }
}
