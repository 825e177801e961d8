package dev.tollgate.daemon.proxy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The tunnels open right now, for the admin API and for a graceful stop that waits for their records. */
public final class OpenTunnels {

    private final Set<TunnelSession> sessions = ConcurrentHashMap.newKeySet();

    void add(TunnelSession session) {
        sessions.add(session);
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
        for (TunnelSession session : sessions) {
            if (session.listener.equals(listener)) {
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
        return List.copyOf(sessions);
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
