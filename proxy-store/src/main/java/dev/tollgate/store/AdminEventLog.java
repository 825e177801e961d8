package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.ChainHead;
import dev.tollgate.store.internal.ChainedColumn;
import dev.tollgate.store.internal.RowChain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Table {@code admin_event}: who changed what through the admin API. Unlike access records, these are few,
 * and each is written at once, on the caller's thread, so that none is lost to a crash.
 * <p>
 * The trail is hash-chained per node like the access log (docs/access-log.md, "Tamper evidence"): each event gets
 * the next number of its node ({@code seq}) and the SHA-256 of the previous event's chain and its own
 * {@link #CHAINED_COLUMNS}; with a signer set, each event's head is signed as a checkpoint right after it is stored.
 * Events are stored one at a time (this is synchronized), so the chain needs no writer thread.
 */
public final class AdminEventLog {

    public static final int MAX_LIMIT = AccessQuery.MAX_LIMIT;
    // The VARCHAR widths of V2__admin.sql. Each string is cut to fit rather than refused: an audit row
    // with a shortened detail is better than none.
    static final int NODE_WIDTH = 255;
    static final int ROLE_WIDTH = 16;
    static final int CLIENT_ADDR_WIDTH = 64;
    static final int ACTION_WIDTH = 64;
    static final int LISTENER_WIDTH = 64;
    static final int RESULT_WIDTH = 16;
    static final int DETAIL_WIDTH = 1024;

    /**
     * The columns of an event that its chain covers, in the order of its canonical bytes and of the insert's
     * parameters; {@code seq} and {@code chain} come after them. A column added to admin_event is added here.
     */
    public static final List<ChainedColumn<AdminEvent>> CHAINED_COLUMNS = List.of(
            ChainedColumn.timestamp("ts", e -> e.ts().toEpochMilli()),
            ChainedColumn.text("node", NODE_WIDTH, AdminEvent::node),
            ChainedColumn.text("role", ROLE_WIDTH, AdminEvent::role),
            ChainedColumn.text("client_addr", CLIENT_ADDR_WIDTH, AdminEvent::clientAddr),
            ChainedColumn.text("action", ACTION_WIDTH, AdminEvent::action),
            ChainedColumn.text("listener", LISTENER_WIDTH, AdminEvent::listener),
            ChainedColumn.text("result", RESULT_WIDTH, AdminEvent::result),
            ChainedColumn.number("status", AdminEvent::status),
            ChainedColumn.text("detail", DETAIL_WIDTH, AdminEvent::detail));

    private static final Logger LOG = LoggerFactory.getLogger(AdminEventLog.class);
    private static final String COLUMNS = "ts, node, role, client_addr, action, listener, result, status, detail";
    private static final String INSERT_SQL = "INSERT INTO admin_event (" + COLUMNS + ", seq, chain)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String HEAD_SQL = "SELECT seq, chain FROM admin_event WHERE node = ? AND seq IS NOT NULL"
            + " ORDER BY seq DESC LIMIT 1";
    private static final String SELECT_NODE_AFTER_SQL = "SELECT id, " + COLUMNS + ", seq, chain FROM admin_event"
            + " WHERE node = ? AND seq > ? ORDER BY seq LIMIT ?";
    private static final String SELECT_AFTER_SQL = "SELECT id, " + COLUMNS + " FROM admin_event"
            + " WHERE id > ? ORDER BY id LIMIT ?";

    private final DataSource dataSource;
    private final RowChain<AdminEvent> rowChain = new RowChain<>(CHAINED_COLUMNS);
    // The newest stored event of each node that stored one here; read from the database when missing.
    private final Map<String, ChainHead> heads = new HashMap<>();
    private volatile ChainCheckpoints signer;

    public AdminEventLog(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Signs each event's head as a checkpoint right after it is stored; the daemon calls this once at start. */
    public void signCheckpointsWith(ChainCheckpoints signer) {
        this.signer = signer;
    }

    /**
     * Stores {@code e} and returns once it is committed. Its {@code id} is ignored: the database assigns one.
     *
     * @throws SQLException when it could not be stored; the caller decides whether the call it records may
     *                      still go ahead
     */
    public synchronized void record(AdminEvent e) throws SQLException {
        String node = AccessLogTable.fit(e.node(), NODE_WIDTH);
        ChainHead stored;
        try (Connection c = dataSource.getConnection()) {
            ChainHead head = heads.containsKey(node) ? heads.get(node) : head(c, node);
            long seq = head.seq() + 1;
            byte[] chain = rowChain.next(head.chain(), seq, e);
            try (PreparedStatement insert = c.prepareStatement(INSERT_SQL)) {
                int i = 1;
                insert.setObject(i++, OffsetDateTime.ofInstant(e.ts(), ZoneOffset.UTC));
                insert.setString(i++, node);
                insert.setString(i++, AccessLogTable.fit(e.role(), ROLE_WIDTH));
                insert.setString(i++, AccessLogTable.fit(e.clientAddr(), CLIENT_ADDR_WIDTH));
                insert.setString(i++, AccessLogTable.fit(e.action(), ACTION_WIDTH));
                insert.setString(i++, AccessLogTable.fit(e.listener(), LISTENER_WIDTH));
                insert.setString(i++, AccessLogTable.fit(e.result(), RESULT_WIDTH));
                insert.setInt(i++, e.status());
                insert.setString(i++, AccessLogTable.fit(e.detail(), DETAIL_WIDTH));
                insert.setLong(i++, seq);
                insert.setBytes(i, chain);
                insert.executeUpdate();
            } catch (SQLException | RuntimeException failed) {
                // What was stored is not known: read the head again next time.
                heads.remove(node);
                throw failed;
            }
            stored = new ChainHead(seq, chain);
            heads.put(node, stored);
        }
        ChainCheckpoints s = signer;
        if (s != null) {
            try {
                s.sign(dataSource, List.of(new ChainCheckpoints.Head(ChainCheckpoints.ADMIN_EVENTS, node, stored)),
                        e.ts(), ChainCheckpoints.Reason.EVENT);
            } catch (SQLException | RuntimeException failed) {
                // The event is stored; the next one's checkpoint covers it.
                LOG.warn("signing the checkpoint of admin event {} of node {} failed: {}", stored.seq(), node,
                        failed.toString());
            }
        }
    }

    /** The newest event of {@code node} with a chain: its number and chain, or 0 and the genesis. */
    private static ChainHead head(Connection c, String node) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(HEAD_SQL)) {
            select.setString(1, node);
            try (ResultSet rs = select.executeQuery()) {
                if (!rs.next()) {
                    return new ChainHead(0, RowChain.genesis());
                }
                byte[] chain = rs.getBytes(2);
                return new ChainHead(rs.getLong(1), chain == null ? RowChain.genesis() : chain);
            }
        }
    }

    /**
     * Up to {@code limit} events with an id greater than {@code after}, oldest first, each with its id. Start
     * with {@code after} 0 and pass the last id of each page to get the next.
     *
     * @throws IllegalArgumentException when {@code limit} is not between 1 and {@value #MAX_LIMIT}, or
     *                                  {@code after} is negative
     */
    public List<AdminEvent> page(long after, int limit) throws SQLException {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " is out of range (1 to " + MAX_LIMIT + ")");
        }
        if (after < 0) {
            throw new IllegalArgumentException("after: " + after + " is negative (0 means from the start)");
        }
        List<AdminEvent> page = new ArrayList<>(Math.min(limit, 1_000));
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(SELECT_AFTER_SQL)) {
            select.setLong(1, after);
            select.setInt(2, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    page.add(read(rs));
                }
            }
        }
        return page;
    }

    /**
     * An event with its place in its node's chain.
     *
     * @param seq   its number among its node's events
     * @param chain its chain value
     */
    public record Chained(long seq, byte[] chain, AdminEvent event) {
    }

    /**
     * Up to {@code limit} events of {@code node} numbered above {@code afterSeq}, in order, with their numbers and
     * chain values: for a push sink, which sends them on beside the access records. The trail is small (what
     * operators do), so this reads it without an index.
     */
    public List<Chained> ofNodeAfter(String node, long afterSeq, int limit) throws SQLException {
        List<Chained> events = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(SELECT_NODE_AFTER_SQL)) {
            select.setString(1, AccessLogTable.fit(node, NODE_WIDTH));
            select.setLong(2, afterSeq);
            select.setInt(3, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    events.add(new Chained(rs.getLong("seq"), rs.getBytes("chain"), read(rs)));
                }
            }
        }
        return events;
    }

    /** The number of {@code node}'s newest event, or 0 when it has none. */
    public long headSeq(String node) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return head(c, AccessLogTable.fit(node, NODE_WIDTH)).seq();
        }
    }

    private static AdminEvent read(ResultSet rs) throws SQLException {
        return new AdminEvent(
                rs.getLong("id"),
                rs.getObject("ts", OffsetDateTime.class).toInstant(),
                rs.getString("node"),
                rs.getString("role"),
                rs.getString("client_addr"),
                rs.getString("action"),
                rs.getString("listener"),
                rs.getString("result"),
                rs.getInt("status"),
                rs.getString("detail"));
    }
}
