package dev.tollgate.admin;

/**
 * What the daemon offers the admin API. The admin module sees only this interface and the store's API, never
 * Jetty's proxy classes; the daemon implements it. It grows with the admin API (listeners, stats, tunnels).
 */
public interface ProxyControl {

    /** Liveness and whether the access-log store is reachable now. */
    Health health();

    /**
     * @param status UP when everything works, DEGRADED when the proxy serves but the store does not, DOWN
     * @param store  UP or DOWN
     */
    record Health(String status, String store) {
    }
}
