package dev.tollgate.daemon.tunnel;

import dev.tollgate.daemon.exchange.TunnelSession;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The tunnels open right now, for the admin API and for a graceful stop that waits for their records. */
public final class OpenTunnels {

    /** Each open tunnel and the drain of the connector that accepted it. */
    private final Map<TunnelSession, Drain> sessions = new ConcurrentHashMap<>();

    void add(TunnelSession session, Drain drain) {
        sessions.put(session, drain);
    }

    void remove(TunnelSession session) {
        synchronized (this) {
            sessions.remove(session);
            notifyAll();
        }
    }

    public int count() {
        return sessions.size();
    }

    /** Tunnels open now on one listener. */
    public int count(String listener) {
        int count = 0;
        for (TunnelSession session : sessions.keySet()) {
            if (session.listener.equals(listener)) {
                count++;
            }
        }
        return count;
    }

    /**
     * Tunnels open now through one connector, named by its drain: during a reload a listener's old connector
     * drains while its successor, of the same name, opens new tunnels.
     */
    public int count(Drain drain) {
        int count = 0;
        for (Drain owner : sessions.values()) {
            if (owner == drain) {
                count++;
            }
        }
        return count;
    }

    /** Waits until a tunnel closes or {@code timeoutMs} passes. */
    public synchronized void awaitChange(long timeoutMs) throws InterruptedException {
        wait(timeoutMs);
    }

    public List<TunnelSession> snapshot() {
        return List.copyOf(sessions.keySet());
    }

    /** Waits until every tunnel has closed and recorded itself, or the timeout ran out; true when none is left. */
    public synchronized boolean awaitNone(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!sessions.isEmpty()) {
            long leftMs = (deadline - System.nanoTime()) / 1_000_000;
            if (leftMs <= 0) {
                return false;
            }
            wait(leftMs);
        }
        return true;
    }
}
