package dev.tollgate.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.admin.ControlException;
import dev.tollgate.admin.ListenerView;
import dev.tollgate.admin.ReloadReport;
import dev.tollgate.daemon.config.ConfigException;
import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.stats.DaemonMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Live reload of tollgate.json (SIGHUP, {@code POST /api/v1/reload}, {@code systemctl reload}). The file is
 * loaded and validated whole by the same code as at start, so a bad file changes nothing. A good one is applied
 * to the config listeners as a difference: the ones it no longer names stop accepting at once and are removed
 * after their drain; the ones whose definition changed are restarted (their old connector stops accepting, the
 * new one binds at once, and the old one drains its open requests and tunnels meanwhile); new ones start.
 * Listeners made through the API are left alone, and a config listener may not take one's name. The keys outside
 * the listeners (node name, state directory, drain timeout, admin API, store) apply only at the next start: a
 * change to them is reported as needing a restart, never half-applied. One reload at a time.
 */
final class ConfigReloader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path configFile;
    private final TollgateConfig started;
    private final ListenerManager listeners;
    private final DaemonMetrics metrics;
    private final ObjectMapper json = new ObjectMapper();

    /**
     * @param configFile the file the daemon was started with, or null when it runs on the embedded defaults
     * @param started    the config the daemon was started with: what the keys outside the listeners still are
     */
    ConfigReloader(Path configFile, TollgateConfig started, ListenerManager listeners, DaemonMetrics metrics) {
        this.configFile = configFile;
        this.started = started;
        this.listeners = listeners;
        this.metrics = metrics;
    }

    /** Starts a listener from tollgate.json (at start, or added by a reload) and exports its tunnel gauge. */
    void startConfigListener(ListenerConfig config) throws ListenerException {
        listeners.add(config, ListenerView.ORIGIN_CONFIG);
        metrics.bindTunnels(config.name(), listeners.openTunnels(), t -> t.count(config.name()));
    }

    /**
     * Reads the file again and applies it; returns when the listeners it stopped or restarted have drained.
     *
     * @param trigger what asked for it ({@code SIGHUP}, {@code API}), for the log
     * @throws ControlException BAD_REQUEST for a bad file (nothing changed), CONFLICT without a file
     */
    synchronized ReloadReport reload(String trigger) throws ControlException {
        if (configFile == null) {
            throw new ControlException(ControlException.Kind.CONFLICT, "the daemon runs on its embedded defaults"
                    + " (started without --config): there is no file to reload");
        }
        LOG.info("reload ({}) - reading {}", trigger, configFile);
        TollgateConfig next;
        try {
            next = ConfigLoader.load(configFile);
            ListenerFiles.check(next, configFile);
            checkNoApiListenerNamed(next);
        } catch (ConfigException e) {
            LOG.warn("reload ({}) - refused, nothing changed: {}", trigger, e.getMessage());
            throw new ControlException(ControlException.Kind.BAD_REQUEST, e.getMessage());
        }

        Map<String, ListenerConfig> current = new LinkedHashMap<>();
        for (ListenerManager.Listener listener : listeners.all()) {
            if (ListenerView.ORIGIN_CONFIG.equals(listener.origin())) {
                current.put(listener.config().name(), listener.config());
            }
        }
        List<String> added = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        List<String> restarted = new ArrayList<>();
        List<String> unchanged = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<ListenerManager.Retiring> draining = new ArrayList<>();
        long drainMs = started.drainTimeoutMs();

        for (String name : current.keySet()) {
            if (next.listeners().stream().noneMatch(l -> l.name().equals(name))) {
                retire(() -> listeners.retireForRemoval(name, drainMs), name, removed, failed, draining);
            }
        }
        for (ListenerConfig wanted : next.listeners()) {
            ListenerConfig now = current.get(wanted.name());
            if (now == null) {
                try {
                    startConfigListener(wanted);
                    added.add(wanted.name());
                } catch (ListenerException e) {
                    failed.add(wanted.name() + ": " + e.getMessage());
                }
            } else if (now.equals(wanted)) {
                unchanged.add(wanted.name());
            } else {
                retire(() -> listeners.replace(wanted, drainMs), wanted.name(), restarted, failed, draining);
            }
        }
        finishAll(draining);
        // Users files are re-read by themselves, but a reload is when a removed user's open tunnels are ended.
        listeners.closeTunnelsOfRemovedUsers();

        String outcome = !failed.isEmpty() ? ReloadReport.PARTLY_APPLIED
                : added.isEmpty() && removed.isEmpty() && restarted.isEmpty() ? ReloadReport.UNCHANGED
                : ReloadReport.APPLIED;
        ReloadReport report = new ReloadReport(outcome, added, removed, restarted, unchanged,
                keysNeedingRestart(started, next), failed);
        if (failed.isEmpty()) {
            LOG.info("reload ({}) - {}", trigger, report.summary());
        } else {
            LOG.warn("reload ({}) - {}", trigger, report.summary());
        }
        return report;
    }

    private void checkNoApiListenerNamed(TollgateConfig next) {
        for (int i = 0; i < next.listeners().size(); i++) {
            String name = next.listeners().get(i).name();
            boolean apiMade = listeners.get(name).map(l -> ListenerView.ORIGIN_API.equals(l.origin()))
                    .orElse(false);
            if (apiMade) {
                throw new ConfigException(configFile + ": listeners[" + i + "].name: \"" + name + "\" is the name"
                        + " of a listener made through the admin API on this node; delete that one through the API"
                        + " or give this one another name");
            }
        }
    }

    private static void retire(RetireCall call, String name, List<String> done, List<String> failed,
                               List<ListenerManager.Retiring> draining) {
        try {
            ListenerManager.Retiring retiring = call.run();
            if (retiring != null) {
                draining.add(retiring);
            }
            if (retiring != null && retiring.successorFailure() != null) {
                failed.add(name + ": " + retiring.successorFailure().getMessage());
            } else {
                done.add(name);
            }
        } catch (ListenerException e) {
            failed.add(name + ": " + e.getMessage());
        }
    }

    /** Waits for every old connector to drain and close, all at once, so a reload takes one drain at most. */
    private static void finishAll(List<ListenerManager.Retiring> draining) {
        List<Thread> waits = new ArrayList<>();
        for (ListenerManager.Retiring retiring : draining) {
            Thread wait = new Thread(retiring::finish, "tollgate-drain-" + retiring.name());
            wait.setDaemon(true);
            wait.start();
            waits.add(wait);
        }
        for (Thread wait : waits) {
            try {
                wait.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * The keys outside the listeners whose value in the file differs from the running one, e.g.
     * {@code store.retentionDays}: they apply at the next start.
     */
    List<String> keysNeedingRestart(TollgateConfig running, TollgateConfig file) {
        List<String> keys = new ArrayList<>();
        if (!Objects.equals(running.nodeName(), file.nodeName())) {
            keys.add("nodeName");
        }
        if (!Objects.equals(running.stateDir(), file.stateDir())) {
            keys.add("stateDir");
        }
        if (!Objects.equals(running.drainTimeoutMs(), file.drainTimeoutMs())) {
            keys.add("drainTimeoutMs");
        }
        changedFields("admin", json.valueToTree(running.admin()), json.valueToTree(file.admin()), keys);
        changedFields("store", json.valueToTree(running.store()), json.valueToTree(file.store()), keys);
        return keys;
    }

    private static void changedFields(String prefix, JsonNode running, JsonNode file, List<String> keys) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        running.fieldNames().forEachRemaining(names::add);
        file.fieldNames().forEachRemaining(names::add);
        for (String name : names) {
            if (!Objects.equals(running.get(name), file.get(name))) {
                keys.add(prefix + "." + name);
            }
        }
    }

    @FunctionalInterface
    private interface RetireCall {
        ListenerManager.Retiring run() throws ListenerException;
    }
}
