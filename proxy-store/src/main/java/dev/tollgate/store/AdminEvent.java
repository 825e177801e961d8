package dev.tollgate.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * One call to the admin API that changed something, or tried to: who, from where, what, and what they were
 * answered. A row of table {@code admin_event}.
 *
 * @param id         the row id once stored (the paging cursor), {@code null} before
 * @param ts         when the call was answered; kept to the millisecond, as stored
 * @param node       the daemon's node name
 * @param role       the caller's role ({@code admin} or {@code auditor}), or {@code null} when the call was
 *                   refused before the caller was known
 * @param clientAddr the caller's IP address, or {@code null}
 * @param action     what was asked, e.g. {@code listener.create}, {@code listener.stop}
 * @param listener   the listener it was about, or {@code null}
 * @param result     {@value #OK} or {@value #REFUSED}
 * @param status     the HTTP status answered
 * @param detail     the error message answered when refused, or {@code null}
 */
public record AdminEvent(
        Long id,
        Instant ts,
        String node,
        String role,
        String clientAddr,
        String action,
        String listener,
        String result,
        int status,
        String detail) {

    public static final String OK = "OK";
    public static final String REFUSED = "REFUSED";

    public AdminEvent {
        Objects.requireNonNull(ts, "ts");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(result, "result");
        ts = ts.truncatedTo(ChronoUnit.MILLIS);
    }

    /** This event as stored under the given row id. */
    public AdminEvent withId(long rowId) {
        return new AdminEvent(rowId, ts, node, role, clientAddr, action, listener, result, status, detail);
    }
}
