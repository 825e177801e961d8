package dev.tollgate.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.admin.BackupReport;
import dev.tollgate.admin.ControlException;
import dev.tollgate.admin.Counters;
import dev.tollgate.admin.ListenerView;
import dev.tollgate.admin.ProxyControl;
import dev.tollgate.admin.ReloadReport;
import dev.tollgate.admin.StatsView;
import dev.tollgate.admin.TunnelView;
import dev.tollgate.daemon.config.ConfigException;
import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.exchange.TunnelSession;
import dev.tollgate.daemon.sink.Sinks;
import dev.tollgate.daemon.stats.DaemonMetrics;
import dev.tollgate.daemon.stats.TrafficStats;
import dev.tollgate.store.AccessJournal;
import dev.tollgate.store.AccessLog;
import dev.tollgate.store.AccessLogWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon as the admin API drives it: listeners at runtime (API-made ones kept in the store so they come
 * back after a restart in their last state), live stats, open tunnels, health and metrics.
 */
final class DaemonControl implements ProxyControl {

    private static final Logger LOG = LoggerFactory.getLogger(DaemonControl.class);

    private final String node;
    private final Instant startedAt = Instant.now();
    private final ListenerManager listeners;
    private final TrafficStats stats;
    private final AccessLog accessLog;
    private final AccessLogSink sink;
    private final DaemonMetrics metrics;
    private final ConfigReloader reloader;
    private final DatabaseBackup backup;
    private final ObjectMapper json = new ObjectMapper();

    private final Sinks sinks;

    DaemonControl(String node, ListenerManager listeners, TrafficStats stats, AccessLog accessLog,
                  AccessLogSink sink, DaemonMetrics metrics, ConfigReloader reloader, DatabaseBackup backup,
                  Sinks sinks) {
        this.node = node;
        this.sinks = sinks;
        this.listeners = listeners;
        this.stats = stats;
        this.accessLog = accessLog;
        this.sink = sink;
        this.metrics = metrics;
        this.reloader = reloader;
        this.backup = backup;
    }

    /**
     * Brings back the listeners made through the API on this node, each in the state it was left in. One that
     * clashes with a config listener's name, or cannot bind any more, is reported and kept stopped.
     */
    void restoreApiListeners() throws SQLException {
        for (var stored : accessLog.listeners().list(node)) {
            ListenerConfig config;
            try {
                config = ConfigLoader.parseListener("stored listener " + stored.name(),
                        json.readTree(stored.definitionJson()));
            } catch (ConfigException | java.io.IOException e) {
                LOG.warn("{} - stored listener cannot be used any more: {}", stored.name(), e.getMessage());
                continue;
            }
            try {
                if (ListenerView.RUNNING.equals(stored.state())) {
                    try {
                        listeners.add(config, ListenerView.ORIGIN_API);
                    } catch (ListenerException e) {
                        if (e.reason() != ListenerException.Reason.CANNOT_BIND
                                && e.reason() != ListenerException.Reason.INVALID) {
                            throw e;
                        }
                        LOG.warn("{} - {}; it stays stopped until started through the API", stored.name(),
                                e.getMessage());
                        listeners.addStopped(config, ListenerView.ORIGIN_API);
                    }
                } else {
                    listeners.addStopped(config, ListenerView.ORIGIN_API);
                }
                metrics.bindTunnels(config.name(), listeners.openTunnels(), t -> t.count(config.name()));
            } catch (ListenerException e) {
                LOG.warn("{} - stored listener not restored: {}", stored.name(), e.getMessage());
            }
        }
    }

    /**
     * UP while records are being stored and every sink delivers; DEGRADED (the proxy still serves, within the
     * overflow policy) while the writer cannot store them, the database does not answer, or a sink fails or fell
     * behind, with the reason.
     */
    @Override
    public Health health() {
        AccessLogWriter writer = accessLog.writer();
        AccessJournal journal = writer.journal();
        ProxyControl.Journal depth = new ProxyControl.Journal(journal.depthRecords(), journal.depthBytes(),
                writer.oldestUnstoredAgeMs());
        List<ProxyControl.Sink> sinkStates = sinks.health();
        Optional<String> failure = writer.failure();
        if (failure.isPresent()) {
            return new Health("DEGRADED", "DOWN", failure.get(), depth, sinkStates);
        }
        Optional<String> journalFailure = journal.failure();
        if (journalFailure.isPresent()) {
            return new Health("DEGRADED", "UP", journalFailure.get() + " (records are stored from memory; a crash"
                    + " now loses those not yet stored)", depth, sinkStates);
        }
        try (Connection connection = accessLog.dataSource().getConnection()) {
            if (!connection.isValid(2)) {
                return new Health("DEGRADED", "DOWN", "the access-log database does not answer", depth, sinkStates);
            }
        } catch (SQLException e) {
            return new Health("DEGRADED", "DOWN", "the access-log database cannot be reached: " + e.getMessage(),
                    depth, sinkStates);
        }
        for (ProxyControl.Sink s : sinkStates) {
            if (!s.status().equals("UP")) {
                return new Health("DEGRADED", "UP", "sink " + s.name() + " is " + s.status() + ": " + s.reason(),
                        depth, sinkStates);
            }
        }
        return new Health("UP", "UP", null, depth, sinkStates);
    }

    @Override
    public List<ListenerView> listeners() {
        return listeners.all().stream().map(this::view).toList();
    }

    @Override
    public Optional<ListenerView> listener(String name) {
        return listeners.get(name).map(this::view);
    }

    @Override
    public synchronized ListenerView createListener(JsonNode definition) throws ControlException {
        ListenerConfig config;
        try {
            config = ConfigLoader.parseListener("listener", definition);
        } catch (ConfigException e) {
            throw new ControlException(ControlException.Kind.BAD_REQUEST, e.getMessage());
        }
        ListenerManager.Listener started = control(() -> listeners.add(config, ListenerView.ORIGIN_API));
        try {
            accessLog.listeners().save(node, config.name(), json.writeValueAsString(config), ListenerView.RUNNING);
        } catch (Exception e) {
            LOG.error("{} - could not keep the new listener in the store; stopping it again", config.name(), e);
            try {
                listeners.remove(config.name(), 0);
            } catch (ListenerException ignored) {
                // It was just added: nothing else can have removed it.
            }
            throw new IllegalStateException("the listener could not be kept in the store", e);
        }
        metrics.bindTunnels(config.name(), listeners.openTunnels(), t -> t.count(config.name()));
        return view(started);
    }

    @Override
    public synchronized ListenerView startListener(String name) throws ControlException {
        ListenerManager.Listener started = control(() -> listeners.start(name));
        keepState(started, ListenerView.RUNNING);
        return view(started);
    }

    @Override
    public ListenerView stopListener(String name, long drainMs) throws ControlException {
        ListenerManager.Listener stopped = control(() -> listeners.stop(name, drainMs));
        keepState(stopped, ListenerView.STOPPED);
        return view(stopped);
    }

    @Override
    public void deleteListener(String name, long drainMs) throws ControlException {
        boolean fromApi = listeners.get(name).map(l -> ListenerView.ORIGIN_API.equals(l.origin())).orElse(false);
        control(() -> {
            listeners.remove(name, drainMs);
            return null;
        });
        if (fromApi) {
            try {
                accessLog.listeners().delete(node, name);
            } catch (SQLException e) {
                throw new IllegalStateException("listener " + name + " was removed, but the store still holds it", e);
            }
        }
    }

    @Override
    public ReloadReport reload() throws ControlException {
        return reloader.reload("API");
    }

    @Override
    public BackupReport backup() throws ControlException {
        return backup.take();
    }

    @Override
    public StatsView stats() {
        Map<String, Counters> perListener = new LinkedHashMap<>();
        long connections = 0;
        for (ListenerManager.Listener listener : listeners.all()) {
            String name = listener.config().name();
            long active = listeners.activeConnections(name);
            connections += active;
            perListener.put(name, stats.listener(name, active, listeners.openTunnels().count(name)));
        }
        AccessLogWriter writer = accessLog.writer();
        return new StatsView(node, startedAt.toString(), Instant.now().toEpochMilli() - startedAt.toEpochMilli(),
                stats.totals(connections, listeners.openTunnels().count()), perListener,
                new StatsView.AccessLogStats(writer.queueDepth(), writer.written(), writer.failed(),
                        sink.dropped(), sink.unlogged()));
    }

    @Override
    public List<TunnelView> tunnels() {
        return listeners.openTunnels().snapshot().stream()
                .sorted(java.util.Comparator.comparingLong(TunnelSession::tsMs))
                .map(t -> new TunnelView(t.listener(), t.clientAddr(), t.clientPort(), t.host(), t.port(),
                        t.upstreamAddr(), Instant.ofEpochMilli(t.tsMs()).toString(), t.bytesFromClient(),
                        t.bytesToClient()))
                .toList();
    }

    @Override
    public String prometheusMetrics() {
        return metrics.scrape();
    }

    private ListenerView view(ListenerManager.Listener listener) {
        String name = listener.config().name();
        boolean running = listener.running();
        return new ListenerView(name, running ? ListenerView.RUNNING : ListenerView.STOPPED, listener.origin(),
                running ? listener.connector().getLocalPort() : null,
                running ? listener.startedAt().toString() : null,
                json.valueToTree(listener.config()),
                stats.listener(name, listeners.activeConnections(name), listeners.openTunnels().count(name)));
    }

    private void keepState(ListenerManager.Listener listener, String state) {
        if (!ListenerView.ORIGIN_API.equals(listener.origin())) {
            return;
        }
        try {
            accessLog.listeners().updateState(node, listener.config().name(), state);
        } catch (SQLException e) {
            LOG.warn("{} - is {} now, but the store could not record it", listener.config().name(), state, e);
        }
    }

    private static <T> T control(ListenerCall<T> call) throws ControlException {
        try {
            return call.run();
        } catch (ListenerException e) {
            ControlException.Kind kind = switch (e.reason()) {
                case NOT_FOUND -> ControlException.Kind.NOT_FOUND;
                case NAME_TAKEN, ALREADY, CANNOT_BIND -> ControlException.Kind.CONFLICT;
                case INVALID -> ControlException.Kind.BAD_REQUEST;
            };
            throw new ControlException(kind, e.getMessage());
        }
    }

    @FunctionalInterface
    private interface ListenerCall<T> {
        T run() throws ListenerException;
    }
}
