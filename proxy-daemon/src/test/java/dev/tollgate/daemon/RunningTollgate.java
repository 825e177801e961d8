package dev.tollgate.daemon;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.testing.Poll;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Tollgate daemon in this JVM, on loopback ports chosen by the kernel, with its state (and H2 file) in
 * a test's temporary directory. Listener settings come as the JSON of one listener object.
 */
public final class RunningTollgate implements AutoCloseable {

    /**
     * Listener "main" on a free port that may reach loopback origins (no denied destinations), CONNECT
     * allowed to the given ports.
     */
    public static String loopbackListener(int... connectPorts) {
        StringBuilder ports = new StringBuilder();
        for (int port : connectPorts) {
            ports.append(ports.length() == 0 ? "" : ", ").append(port);
        }
        return "{\"name\": \"main\", \"port\": 0, \"denyDestinations\": [], \"allowLocalHost\": true, \"connectPorts\": [" + ports + "]}";
    }

    // Store keys (JSON, no braces) that configs naming no store.url get: a PostgreSQL database (PgStore).
    private static volatile String storeKeys;

    private final Daemon daemon;

    private RunningTollgate(Daemon daemon) {
        this.daemon = daemon;
    }

    /** Starts a daemon whose only listener is {@code listenerJson} (name it "main"). */
    public static RunningTollgate start(Path stateDir, String listenerJson) throws Exception {
        return startWithConfig(stateDir, "{\"listeners\": [" + listenerJson + "]}");
    }

    /**
     * Starts a daemon from config JSON; {@code stateDir}, an admin port of 0 and no SQL server are added unless
     * the JSON sets them.
     */
    public static RunningTollgate startWithConfig(Path stateDir, String configJson) throws Exception {
        String json = configJson.trim();
        if (!json.contains("\"stateDir\"")) {
            json = "{\"stateDir\": \"" + stateDir.toString().replace("\\", "\\\\") + "\", " + json.substring(1);
        }
        if (!json.contains("\"admin\"")) {
            json = "{\"admin\": {\"port\": 0}, " + json.substring(1);
        }
        // No auditors' SQL server in-process unless a test asks for one: its default port 9092 is shared with
        // other processes here, and H2's bind address is JVM-wide. SqlCommandIT tests it in a child process.
        if (!json.contains("\"store\"")) {
            json = "{\"store\": {\"sqlPort\": -1}, " + json.substring(1);
        } else if (!json.contains("\"sqlPort\"")) {
            json = withoutSqlServer(json);
        }
        String database = storeKeys;
        if (database != null && !json.matches("(?s).*\"store\"\\s*:\\s*\\{[^}]*\"url\".*")) {
            json = withStoreKeys(json, database);
        }
        TollgateConfig config = ConfigLoader.parse("test config", json);
        return new RunningTollgate(Daemon.start(config));
    }

    /**
     * Starts a daemon from a config file, as {@code tollgate run --config FILE} does, so that a reload reads the
     * file again. The file must set everything a test needs (state directory, admin port 0, sqlPort -1).
     */
    public static RunningTollgate startFromFile(Path configFile) throws Exception {
        return new RunningTollgate(Daemon.start(ConfigLoader.load(configFile), configFile));
    }

    /**
     * Makes every daemon started afterwards whose config names no {@code store.url} use the database these
     * store keys describe ({@code "url": ..., "user": ..., "password": ...}); null goes back to each daemon's H2
     * file. For {@link PgStore}.
     */
    static void useStore(String keys) {
        storeKeys = keys;
    }

    /** {@code json} with {@code "sqlPort": -1} added to its store object. */
    private static String withoutSqlServer(String json) {
        return withStoreKeys(json, "\"sqlPort\": -1");
    }

    /** {@code json} with {@code keys} (JSON members, no braces) added to its store object. */
    private static String withStoreKeys(String json, String keys) {
        Matcher store = Pattern.compile("\"store\"\\s*:\\s*\\{\\s*").matcher(json);
        if (!store.find()) {
            throw new IllegalArgumentException("no store object in " + json);
        }
        String rest = json.substring(store.end());
        return json.substring(0, store.end()) + keys + (rest.startsWith("}") ? "" : ", ") + rest;
    }

    public Daemon daemon() {
        return daemon;
    }

    /** The port listener {@code main} bound. */
    public int port() {
        return daemon.listenerPort("main");
    }

    public int adminPort() {
        return daemon.adminPort();
    }

    /** A ProxySelector for the JDK HttpClient pointing at listener {@code main}. */
    public ProxySelector proxySelector() {
        return ProxySelector.of(new InetSocketAddress("127.0.0.1", port()));
    }

    /** Every stored access record, oldest first, after the writer has flushed what was handed to it. */
    public List<AccessRecord> rows() throws SQLException {
        daemon.accessLog().writer().flush(10_000);
        List<AccessRecord> all = new ArrayList<>();
        long after = 0;
        while (true) {
            List<AccessRecord> page = daemon.accessLog().reader().readAfter(after, 10_000);
            if (page.isEmpty()) {
                return all;
            }
            all.addAll(page);
            after = page.get(page.size() - 1).id();
        }
    }

    /**
     * Polls until at least {@code count} stored records match, or fails after the deadline. Records are
     * written when an exchange completes, which may be just after the client has read its response.
     */
    public List<AccessRecord> awaitRows(int count, Predicate<AccessRecord> filter) throws Exception {
        return Poll.forMatch("at least " + count + " matching access records",
                () -> rows().stream().filter(filter).toList(), matching -> matching.size() >= count);
    }

    /** Polls until at least {@code count} records are stored; returns all of them. */
    public List<AccessRecord> awaitRows(int count) throws Exception {
        return awaitRows(count, r -> true);
    }

    @Override
    public void close() {
        daemon.close();
    }
}
