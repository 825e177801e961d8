package dev.tollgate.daemon.config;

import dev.tollgate.store.StoreConfig;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The whole configuration of one daemon, as read from tollgate.json or taken from the embedded defaults.
 * Cross-field checks (unique listener names, no two listeners on one address) live here, in one place.
 *
 * @param nodeName       this daemon's name in access-log rows and its Via token; the host name by default
 * @param stateDir       where the database (and later tokens and the CA) live
 * @param drainTimeoutMs how long a graceful stop waits for open requests and tunnels
 * @param listeners      the proxy listeners
 * @param admin          the admin API's address
 * @param store          the access log's database and writer
 * @param sinks          the push sinks (syslog, OTLP, JSON-lines file) that every record goes to besides the store
 */
public record TollgateConfig(
        String nodeName,
        String stateDir,
        Long drainTimeoutMs,
        List<ListenerConfig> listeners,
        AdminConfig admin,
        StoreConfig store,
        List<SinkConfig> sinks) {

    public static final String DEFAULT_STATE_DIR = "./tollgate-data";
    public static final long DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
    public static final long MAX_DRAIN_TIMEOUT_MS = 3_600_000;

    public TollgateConfig {
        if (nodeName != null && (nodeName.isBlank() || !nodeName.matches("[A-Za-z0-9._-]{1,255}"))) {
            throw new IllegalArgumentException("nodeName: \"" + nodeName + "\" is not a valid node name (1 to 255"
                    + " of letters, digits, '.', '_' and '-')");
        }
        nodeName = nodeName == null ? NodeName.ofThisHost() : nodeName;
        stateDir = stateDir == null ? DEFAULT_STATE_DIR : stateDir;
        if (stateDir.isBlank()) {
            throw new IllegalArgumentException("stateDir: must not be empty");
        }
        drainTimeoutMs = Checks.longInRange("drainTimeoutMs", drainTimeoutMs, DEFAULT_DRAIN_TIMEOUT_MS, 0,
                MAX_DRAIN_TIMEOUT_MS);
        listeners = listeners == null ? List.of(ListenerConfig.defaults()) : listeners;
        checkListeners(listeners); // before List.copyOf, which would fail on a null entry with a bare NPE
        listeners = List.copyOf(listeners);
        admin = admin == null ? AdminConfig.defaults() : admin;
        store = (store == null ? StoreConfig.defaults() : store).withDefaultUrl(
                "jdbc:h2:file:" + Path.of(stateDir).toAbsolutePath().normalize().resolve("access"));
        sinks = sinks == null ? List.of() : sinks;
        checkSinks(sinks);
        sinks = List.copyOf(sinks);
    }

    /** The embedded defaults: one listener on 127.0.0.1:3128, admin on 127.0.0.1:9090, state in ./tollgate-data. */
    public static TollgateConfig defaults() {
        return new TollgateConfig(null, null, null, null, null, null, null);
    }

    public Path stateDirPath() {
        return Path.of(stateDir).toAbsolutePath().normalize();
    }

    private static void checkSinks(List<SinkConfig> sinks) {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < sinks.size(); i++) {
            SinkConfig sink = sinks.get(i);
            if (sink == null) {
                throw new IllegalArgumentException("sinks[" + i + "]: must be an object, not null");
            }
            if (!names.add(sink.name())) {
                throw new IllegalArgumentException("sinks[" + i + "].name: \"" + sink.name()
                        + "\" is used by another sink (names must be unique)");
            }
        }
    }

    private static void checkListeners(List<ListenerConfig> listeners) {
        Set<String> names = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        for (int i = 0; i < listeners.size(); i++) {
            ListenerConfig listener = listeners.get(i);
            if (listener == null) {
                throw new IllegalArgumentException("listeners[" + i + "]: must be an object, not null");
            }
            if (!names.add(listener.name())) {
                throw new IllegalArgumentException("listeners[" + i + "].name: \"" + listener.name()
                        + "\" is used by another listener (names must be unique)");
            }
            if (listener.port() != 0 && !addresses.add(listener.host() + ":" + listener.port())) {
                throw new IllegalArgumentException("listeners[" + i + "].port: " + listener.host() + ":"
                        + listener.port() + " is used by another listener");
            }
        }
    }
}
