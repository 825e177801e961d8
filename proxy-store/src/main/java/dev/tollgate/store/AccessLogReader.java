package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogKeyTable;
import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.AccessQuerySql;
import dev.tollgate.store.internal.AccessQuerySql.IdRange;
import dev.tollgate.store.internal.AccessQuerySql.KeyFilter;
import dev.tollgate.store.internal.AccessQuerySql.KeyedIds;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * Reads the access log back: filtered pages for the admin API ({@link #query}, {@link #page}), the whole of a
 * filter for a CSV export ({@link #streamAll}), and plain pages by id ({@link #readAfter}). Each call borrows
 * a connection of its own, so it sees what the writer has committed, and nothing after. Rows go to the caller
 * as they are read: nothing here holds more than one fetch of them.
 */
public final class AccessLogReader {

    public static final int MAX_LIMIT = AccessQuery.MAX_LIMIT;
    /** Rows the driver fetches at a time when it streams (PostgreSQL; H2 reads lazily instead). */
    public static final int FETCH_SIZE = 1_000;
    /** Ids whose rows one statement looks up, for a query through the key index. */
    static final int IDS_PER_SELECT = 1_000;

    private final DataSource dataSource;
    private final boolean keyTable;

    /**
     * A reader on {@code dataSource}; {@code keyTable} says whether host and client queries go through
     * access_log_key and its mark (H2, see {@link KeyIndexer}) or straight to access_log, whose own indexes serve
     * them (PostgreSQL).
     */
    public AccessLogReader(DataSource dataSource, boolean keyTable) {
        this.dataSource = dataSource;
        this.keyTable = keyTable;
    }

    /**
     * Gives {@code sink} each row of one page of {@code q}, at most {@code q.limit()} rows in id order, as they
     * are read. An exception from the sink ends the read and propagates; the connection is closed either way.
     *
     * @return how many rows the sink got and the cursor for the next page
     */
    public StreamedRows query(AccessQuery q, Consumer<? super AccessRecord> sink) throws SQLException {
        return stream(q, true, Math.min(q.limit(), FETCH_SIZE), sink);
    }

    /** One page of {@code q} as a list: at most {@code q.limit()} rows, in id order. */
    public List<AccessRecord> page(AccessQuery q) throws SQLException {
        List<AccessRecord> rows = new ArrayList<>(Math.min(q.limit(), FETCH_SIZE));
        query(q, rows::add);
        return rows;
    }

    /**
     * Gives {@code sink} every row {@code q} matches after its cursor, in id order, ignoring {@code q.limit()}:
     * the CSV export. Rows are read a fetch at a time, so a million of them never sit in memory together,
     * unless the sink keeps them. The read is one statement (on PostgreSQL one read-only transaction) and sees
     * the rows committed when it began.
     *
     * @return how many rows the sink got and the id of the last
     */
    public StreamedRows streamAll(AccessQuery q, Consumer<? super AccessRecord> sink) throws SQLException {
        return stream(q, false, FETCH_SIZE, sink);
    }

    /**
     * Up to {@code limit} records with an id greater than {@code afterId}, oldest first, each with its id.
     * Start with {@code afterId} 0 and pass the last id of each page to get the next.
     *
     * @throws IllegalArgumentException when {@code limit} is not between 0 and {@value #MAX_LIMIT}
     */
    public List<AccessRecord> readAfter(long afterId, int limit) throws SQLException {
        if (limit < 0 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " is out of range (0 to " + MAX_LIMIT + ")");
        }
        List<AccessRecord> page = new ArrayList<>(Math.min(limit, 1_000));
        if (limit == 0) {
            return page;
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement select = c.prepareStatement(AccessLogTable.SELECT_AFTER_SQL)) {
            select.setLong(1, afterId);
            select.setInt(2, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    page.add(AccessLogTable.read(rs));
                }
            }
        }
        return page;
    }

    /**
     * The id of the newest stored row, or 0 when the log is empty: where a live tail starts when its client names
     * no cursor. The primary key's index answers it without a scan.
     */
    public long lastId() throws SQLException {
        try (Connection c = dataSource.getConnection();
             Statement select = c.createStatement();
             ResultSet rs = select.executeQuery("SELECT MAX(id) FROM access_log")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private StreamedRows stream(AccessQuery q, boolean limited, int fetchSize, Consumer<? super AccessRecord> sink)
            throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            prepareToStream(c);
            IdRange ids = null;
            if (AccessQuerySql.hasTimeRange(q)) {
                ids = idRange(c, q);
                if (ids == null) {
                    c.commit();
                    return new StreamedRows(0, q.after());
                }
            }
            StreamedRows streamed;
            KeyFilter key = keyTable ? AccessQuerySql.keyFilter(q) : null;
            if (key == null) {
                AccessQuerySql select = limited ? AccessQuerySql.page(q, ids) : AccessQuerySql.unlimited(q, ids);
                streamed = run(c, select, fetchSize, sink, new StreamedRows(0, q.after()));
            } else {
                streamed = streamByKey(c, q, ids, key, limited, fetchSize, sink);
            }
            c.commit();
            return streamed;
        }
    }

    /**
     * The rows of {@code q} through the key index: first those up to the mark from access_log_key, then the
     * unindexed tail above it from access_log, which continues them in id order. The mark is read once, so
     * the two parts meet exactly there whatever the indexer commits meanwhile: keys up to a mark were
     * committed with it, and rows above it are still in access_log.
     */
    private static StreamedRows streamByKey(Connection c, AccessQuery q, IdRange ids, KeyFilter key,
            boolean limited, int fetchSize, Consumer<? super AccessRecord> sink) throws SQLException {
        long mark = AccessLogKeyTable.mark(c, AccessLogKeyTable.SELECT_MARK_SQL);
        StreamedRows streamed = streamIndexed(c, q, AccessQuerySql.keyedIds(q, ids, mark), key, limited, fetchSize,
                sink);
        long left = q.limit() - streamed.count();
        if (limited && left == 0) {
            return streamed;
        }
        AccessQuery rest = limited ? q.withLimit((int) left) : q;
        return run(c, AccessQuerySql.unindexedTail(rest, ids, mark, limited), fetchSize, sink, streamed);
    }

    /**
     * The indexed rows of {@code q}, one epoch of ids after another (see AccessLogKeyTable): each epoch's entries
     * of the key's range give their ids in id order, whose rows are then looked up {@value #IDS_PER_SELECT} at a
     * time through one prepared statement, until the page is full.
     */
    private static StreamedRows streamIndexed(Connection c, AccessQuery q, KeyedIds keyed, KeyFilter key,
            boolean limited, int fetchSize, Consumer<? super AccessRecord> sink) throws SQLException {
        StreamedRows streamed = new StreamedRows(0, q.after());
        if (keyed.isEmpty()) {
            return streamed;
        }
        try (PreparedStatement entries = c.prepareStatement(AccessLogKeyTable.SELECT_ENTRIES_SQL);
             PreparedStatement rows = c.prepareStatement(
                     AccessQuerySql.indexed(q, new Long[0], limited).sql())) {
            rows.setFetchSize(fetchSize);
            for (long epoch = keyed.firstEpoch(); epoch <= keyed.lastEpoch(); epoch++) {
                List<Long> ids = keyedIds(entries, AccessQuerySql.entries(key, keyed, epoch), keyed);
                for (int from = 0; from < ids.size(); from += IDS_PER_SELECT) {
                    long left = q.limit() - streamed.count();
                    if (limited && left == 0) {
                        return streamed;
                    }
                    Long[] some = ids.subList(from, Math.min(from + IDS_PER_SELECT, ids.size())).toArray(Long[]::new);
                    streamed = read(rows, AccessQuerySql.indexed(limited ? q.withLimit((int) left) : q, some,
                            limited), sink, streamed);
                }
            }
        }
        return streamed;
    }

    /** The ids of {@code keyed} that the entries {@code select} finds hold, in id order. */
    private static List<Long> keyedIds(PreparedStatement entries, AccessQuerySql select, KeyedIds keyed)
            throws SQLException {
        List<Long> ids = new ArrayList<>();
        select.bind(entries);
        try (ResultSet rs = entries.executeQuery()) {
            while (rs.next()) {
                for (long id : AccessLogKeyTable.idsOf(rs.getLong(1), rs.getBytes(2))) {
                    if (keyed.contains(id)) {
                        ids.add(id);
                    }
                }
            }
        }
        return ids;
    }

    /** Gives {@code sink} every row of {@code select}, counting on from {@code before}. */
    private static StreamedRows run(Connection c, AccessQuerySql select, int fetchSize,
            Consumer<? super AccessRecord> sink, StreamedRows before) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(select.sql())) {
            statement.setFetchSize(fetchSize);
            return read(statement, select, sink, before);
        }
    }

    /** Runs {@code statement}, prepared from {@code select}'s text, with {@code select}'s parameters. */
    private static StreamedRows read(PreparedStatement statement, AccessQuerySql select,
            Consumer<? super AccessRecord> sink, StreamedRows before) throws SQLException {
        long count = before.count();
        long lastId = before.lastId();
        select.bind(statement);
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                AccessRecord r = AccessLogTable.read(rs);
                sink.accept(r);
                count++;
                lastId = r.id();
            }
        }
        return new StreamedRows(count, lastId);
    }

    /** The ids that bound {@code q}'s time range, or null when no row falls in it (see {@link AccessQuerySql}). */
    private static IdRange idRange(Connection c, AccessQuery q) throws SQLException {
        AccessQuerySql probe = AccessQuerySql.idRange(q);
        try (PreparedStatement statement = c.prepareStatement(probe.sql())) {
            probe.bind(statement);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                long first = rs.getLong(1);
                return rs.wasNull() ? null : new IdRange(first, rs.getLong(2));
            }
        }
    }

    /**
     * Sets {@code c} up so that a large result reaches the caller a fetch at a time. PostgreSQL's driver
     * honours the fetch size only inside a transaction (with autocommit on it reads the whole result first).
     * H2 builds a whole result before it returns the first row unless the session reads lazily.
     */
    private static void prepareToStream(Connection c) throws SQLException {
        c.setAutoCommit(false);
        c.setReadOnly(true);
        if ("H2".equals(c.getMetaData().getDatabaseProductName())) {
            try (Statement s = c.createStatement()) {
                s.execute("SET LAZY_QUERY_EXECUTION TRUE");
            }
        }
    }
}
