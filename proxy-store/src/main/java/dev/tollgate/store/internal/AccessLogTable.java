package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Table {@code access_log} as the Java side sees it: the column widths of {@code V1__access_log.sql}, the
 * insert and select statements, and the mapping between a row and an {@link AccessRecord}. The writer and
 * the reader share it so that the two cannot disagree about a column.
 */
public final class AccessLogTable {

    // The VARCHAR widths of V1__access_log.sql. A new migration that widens a column updates these.
    public static final int NODE_WIDTH = 255;
    public static final int LISTENER_WIDTH = 64;
    public static final int CLIENT_ADDR_WIDTH = 64;
    public static final int USERNAME_WIDTH = 255;
    public static final int KIND_WIDTH = 16;
    public static final int PROTOCOL_WIDTH = 16;
    public static final int METHOD_WIDTH = 32;
    public static final int HOST_WIDTH = 1024;
    public static final int PATH_WIDTH = 8192;
    public static final int UPSTREAM_ADDR_WIDTH = 64;
    public static final int SNI_WIDTH = 1024;
    public static final int OUTCOME_WIDTH = 32;
    public static final int REASON_WIDTH = 1024;
    // V10__access_log_client_hello.sql.
    public static final int ALPN_WIDTH = 255;
    public static final int TLS_VERSION_WIDTH = 16;
    public static final int JA4_WIDTH = 64;

    /**
     * The columns of a row that its chain covers ({@link RowChain}), in the order of its canonical bytes, which is
     * also the order of the insert's parameters ({@link #bind}) and of {@link #SELECT_SQL}. Every column a record
     * fills is here, so that no stored value escapes the chain; {@code seq} and {@code chain} itself come after
     * these. A migration that adds a column to access_log adds it here, at the end (a new tag changes no older
     * row's hash, since a NULL column adds nothing to the canonical bytes), and to {@link #bind} and {@link #read}.
     */
    public static final List<ChainedColumn<AccessRecord>> CHAINED_COLUMNS = List.of(
            ChainedColumn.timestamp("ts", AccessRecord::tsMs),
            ChainedColumn.number("duration_ms", AccessRecord::durationMs),
            ChainedColumn.text("node", NODE_WIDTH, AccessRecord::node),
            ChainedColumn.text("listener", LISTENER_WIDTH, AccessRecord::listener),
            ChainedColumn.text("client_addr", CLIENT_ADDR_WIDTH, AccessRecord::clientAddr),
            ChainedColumn.number("client_port", AccessRecord::clientPort),
            ChainedColumn.text("username", USERNAME_WIDTH, AccessRecord::username),
            ChainedColumn.text("kind", KIND_WIDTH, r -> r.kind().name()),
            ChainedColumn.text("protocol", PROTOCOL_WIDTH, AccessRecord::protocol),
            ChainedColumn.text("method", METHOD_WIDTH, AccessRecord::method),
            ChainedColumn.text("host", HOST_WIDTH, AccessRecord::host),
            ChainedColumn.number("port", AccessRecord::port),
            ChainedColumn.text("path", PATH_WIDTH, AccessRecord::path),
            ChainedColumn.number("status", AccessRecord::status),
            ChainedColumn.number("bytes_from_client", AccessRecord::bytesFromClient),
            ChainedColumn.number("bytes_to_client", AccessRecord::bytesToClient),
            ChainedColumn.text("upstream_addr", UPSTREAM_ADDR_WIDTH, AccessRecord::upstreamAddr),
            ChainedColumn.text("sni", SNI_WIDTH, AccessRecord::sni),
            ChainedColumn.text("outcome", OUTCOME_WIDTH, r -> r.outcome().name()),
            ChainedColumn.text("reason", REASON_WIDTH, AccessRecord::reason),
            ChainedColumn.text("alpn", ALPN_WIDTH, AccessRecord::alpn),
            ChainedColumn.text("tls_version", TLS_VERSION_WIDTH, AccessRecord::tlsVersion),
            ChainedColumn.text("ja4", JA4_WIDTH, AccessRecord::ja4));

    private static final String COLUMNS = CHAINED_COLUMNS.stream().map(ChainedColumn::name)
            .collect(Collectors.joining(", "));

    // One parameter per chained column, then seq and chain.
    private static final String INSERT_VALUES = " VALUES (" + "?, ".repeat(CHAINED_COLUMNS.size()) + "?, ?)";

    /**
     * Stores one journaled record on H2. A second copy of the same (node, seq), replayed after a crash, violates
     * V7's unique index (SQLSTATE 23505), which the inserter takes as "already stored" (the first copy stays). Not
     * a MERGE that skips it in the statement: H2's MERGE ... USING costs the writer about 2.4 KB more allocation
     * per row (AllocationPerRequestIT), and a copy only ever arrives after a crash, where the start's replay
     * has already skipped the records the database holds. {@code id} is left to the identity column.
     */
    public static final String INSERT_SQL_H2 = "INSERT INTO access_log (" + COLUMNS + ", seq, chain)" + INSERT_VALUES;

    /**
     * As {@link #INSERT_SQL_H2}, on PostgreSQL, where a second copy is skipped in the statement: a batch retried
     * after a commit whose answer was lost may hold rows the server did commit, and one failed statement would abort
     * the whole transaction.
     */
    public static final String INSERT_SQL_POSTGRESQL = INSERT_SQL_H2 + " ON CONFLICT (node, seq) DO NOTHING";

    /** Every column of every row; {@link AccessQuerySql} adds the WHERE, ORDER BY and LIMIT. */
    public static final String SELECT_SQL = "SELECT id, " + COLUMNS + " FROM access_log";

    /** Rows after an id, oldest first; parameters: the id, the row limit. LIMIT is understood by H2 and PostgreSQL. */
    public static final String SELECT_AFTER_SQL = SELECT_SQL + " WHERE id > ? ORDER BY id LIMIT ?";

    private AccessLogTable() {
    }

    /** The statement that stores a journaled record once on {@code vendor}'s database. */
    public static String insertSql(DatabaseUrl.Vendor vendor) {
        return vendor == DatabaseUrl.Vendor.POSTGRESQL ? INSERT_SQL_POSTGRESQL : INSERT_SQL_H2;
    }

    /**
     * Sets every parameter of {@link #insertSql}{@code (vendor)} from {@code r}, its journal sequence number
     * {@code seq} and its {@code chain} ({@link RowChain}), each string made to {@link #fit} its column.
     */
    public static void bind(PreparedStatement insert, long seq, AccessRecord r, byte[] chain) throws SQLException {
        int i = 1;
        insert.setObject(i++, OffsetDateTime.ofInstant(Instant.ofEpochMilli(r.tsMs()), ZoneOffset.UTC));
        insert.setLong(i++, r.durationMs());
        insert.setString(i++, fit(r.node(), NODE_WIDTH));
        insert.setString(i++, fit(r.listener(), LISTENER_WIDTH));
        insert.setString(i++, fit(r.clientAddr(), CLIENT_ADDR_WIDTH));
        insert.setInt(i++, r.clientPort());
        insert.setString(i++, fit(r.username(), USERNAME_WIDTH));
        insert.setString(i++, fit(r.kind().name(), KIND_WIDTH));
        insert.setString(i++, fit(r.protocol(), PROTOCOL_WIDTH));
        insert.setString(i++, fit(r.method(), METHOD_WIDTH));
        insert.setString(i++, fit(r.host(), HOST_WIDTH));
        insert.setInt(i++, r.port());
        insert.setString(i++, fit(r.path(), PATH_WIDTH));
        insert.setInt(i++, r.status());
        insert.setLong(i++, r.bytesFromClient());
        insert.setLong(i++, r.bytesToClient());
        insert.setString(i++, fit(r.upstreamAddr(), UPSTREAM_ADDR_WIDTH));
        insert.setString(i++, fit(r.sni(), SNI_WIDTH));
        insert.setString(i++, fit(r.outcome().name(), OUTCOME_WIDTH));
        insert.setString(i++, fit(r.reason(), REASON_WIDTH));
        insert.setString(i++, fit(r.alpn(), ALPN_WIDTH));
        insert.setString(i++, fit(r.tlsVersion(), TLS_VERSION_WIDTH));
        insert.setString(i++, fit(r.ja4(), JA4_WIDTH));
        insert.setLong(i++, seq);
        insert.setBytes(i, chain);
    }

    /** The record in the current row of a result of {@link #SELECT_SQL}. */
    public static AccessRecord read(ResultSet rs) throws SQLException {
        return new AccessRecord(
                rs.getLong("id"),
                rs.getObject("ts", OffsetDateTime.class).toInstant().toEpochMilli(),
                rs.getLong("duration_ms"),
                rs.getString("node"),
                rs.getString("listener"),
                rs.getString("client_addr"),
                rs.getInt("client_port"),
                rs.getString("username"),
                Kind.valueOf(rs.getString("kind")),
                rs.getString("protocol"),
                rs.getString("method"),
                rs.getString("host"),
                rs.getInt("port"),
                rs.getString("path"),
                rs.getInt("status"),
                rs.getLong("bytes_from_client"),
                rs.getLong("bytes_to_client"),
                rs.getString("upstream_addr"),
                rs.getString("sni"),
                Outcome.valueOf(rs.getString("outcome")),
                rs.getString("reason"),
                rs.getString("alpn"),
                rs.getString("tls_version"),
                rs.getString("ja4"));
    }

    /**
     * {@code s} made fit for a column of {@code width} characters, so that the database never rejects it:
     * <ul>
     * <li>cut to at most {@code width} characters. A column counts characters and a Java string's length
     *     counts UTF-16 units, so a cut to {@code width} units always fits; the cut never splits a surrogate
     *     pair, because PostgreSQL rejects the lone half that would remain.</li>
     * <li>NUL characters replaced by U+FFFD, because PostgreSQL rejects NUL in text (SQLSTATE 22021); H2 gets
     *     the same, so that both databases store the same value.</li>
     * </ul>
     */
    public static String fit(String s, int width) {
        if (s == null) {
            return null;
        }
        String cut = s;
        if (s.length() > width) {
            cut = s.substring(0, Character.isHighSurrogate(s.charAt(width - 1)) ? width - 1 : width);
        }
        return cut.indexOf('\0') < 0 ? cut : cut.replace('\0', '\uFFFD');
    }

    /**
     * The highest journal number stored for {@code node} (any node when null), or 0. On H2, a single node's
     * database whose rows the writer stores in journal order with no index on the number, it is the number of the
     * newest row that has one (the primary key read backwards); on PostgreSQL, V7's (node, seq) index answers. The
     * {@link #head} the inserter reads, without its chain.
     */
    public static long highestStoredSeq(Connection c, DatabaseUrl.Vendor vendor, String node) throws SQLException {
        if (vendor == DatabaseUrl.Vendor.H2 || node != null) {
            return head(c, vendor, node).seq();
        }
        // PostgreSQL, any node's: a tool that opens the store for no node in particular.
        try (PreparedStatement select = c.prepareStatement("SELECT MAX(seq) FROM access_log");
             ResultSet rs = select.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /**
     * The newest stored row of {@code node}'s chain: its journal number and chain, or number 0 and the
     * {@link RowChain#genesis} when the node has no row with a chain (none yet, or all stored before V9). On H2 (one
     * node) the newest row by id, read backwards through the primary key; on PostgreSQL the node's highest number,
     * through V7's (node, seq) index.
     */
    public static ChainHead head(Connection c, DatabaseUrl.Vendor vendor, String node) throws SQLException {
        String sql = vendor == DatabaseUrl.Vendor.H2
                ? "SELECT seq, chain FROM access_log WHERE seq IS NOT NULL ORDER BY id DESC LIMIT 1"
                : "SELECT seq, chain FROM access_log WHERE node = ? AND seq ="
                        + " (SELECT MAX(seq) FROM access_log WHERE node = ?)";
        try (PreparedStatement select = c.prepareStatement(sql)) {
            if (vendor != DatabaseUrl.Vendor.H2) {
                select.setString(1, fit(node, NODE_WIDTH));
                select.setString(2, fit(node, NODE_WIDTH));
            }
            try (ResultSet rs = select.executeQuery()) {
                if (!rs.next()) {
                    return new ChainHead(0, RowChain.genesis());
                }
                byte[] chain = rs.getBytes(2);
                return new ChainHead(rs.getLong(1), chain == null ? RowChain.genesis() : chain);
            }
        }
    }
}
