package dev.tollgate.store.internal;

import dev.tollgate.store.AccessQuery;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL for an {@link AccessQuery}: one condition per filter that is set, each value a {@code ?}
 * parameter, never text in the SQL. Plain SQL for H2 and PostgreSQL alike ({@code LIKE ... ESCAPE} and
 * {@code LIMIT ?} are understood by both).
 * <p>
 * A query with a time range runs in two steps. {@link #idRange} first finds the lowest and highest id in the
 * range through the ts index; the select then walks the primary key between those two ids. Asked for rows
 * in a time range "in id order, 100 at a time", H2's planner walks the primary key from the cursor to the end
 * of the table, filtering on ts, because it cannot tell an hour from a month: for an hour in the middle of a
 * million rows it reads half a million. Ids and timestamps rise together, so the rows of a time range sit
 * between two ids that the ts index finds by reading that range alone.
 * <p>
 * On H2, a query by exact host or by client also runs in two parts, around the key indexer's mark (see
 * {@code KeyIndexer}): the reader takes the ids up to the mark from {@code access_log_key}'s entries, one epoch
 * at a time, and {@link #indexed} looks their rows up, comparing each row's host or client again because keys
 * hold a hash of it; {@link #unindexedTail} reads the rows above the mark from access_log. Every id of the
 * first is below every id of the second, so the second, run after the first, continues it in id order. On
 * PostgreSQL there is no key table: access_log's own (host, id) and (client_addr, id) indexes serve the plain
 * {@link #page} (AccessLogReader chooses).
 */
public final class AccessQuerySql {

    // Escapes LIKE's wildcards in a host suffix. Not a backslash, which the SQL string literal itself would
    // treat differently on PostgreSQL with standard_conforming_strings off.
    static final char LIKE_ESCAPE = '!';

    /** The lowest and highest id of the rows in a time range: bounds for the select, both inclusive. */
    public record IdRange(long first, long last) {
    }

    /** The key of access_log_key that serves a query: its type (AccessLogKeyTable.HOST or CLIENT) and value. */
    public record KeyFilter(String type, String value) {

        /** What each of this value's keys in {@code epoch} exceeds its row's id by (see AccessLogKeyTable). */
        long offset(long epoch) {
            return AccessLogKeyTable.offset(type, value, epoch);
        }
    }

    /**
     * The ids a query reads through the keys: after {@code after}, up to and including {@code upTo}, in the
     * epochs {@link #firstEpoch()} to {@link #lastEpoch()} (see AccessLogKeyTable); empty when {@code after}
     * is not below {@code upTo}.
     */
    public record KeyedIds(long after, long upTo) {

        public boolean isEmpty() {
            return after >= upTo;
        }

        public long firstEpoch() {
            return AccessLogKeyTable.epochOf(after + 1);
        }

        public long lastEpoch() {
            return AccessLogKeyTable.epochOf(upTo);
        }

        /** Whether {@code id} is one of these ids. */
        public boolean contains(long id) {
            return id > after && id <= upTo;
        }
    }

    private final String sql;
    private final List<Object> parameters;

    private AccessQuerySql(String sql, List<Object> parameters) {
        this.sql = sql;
        this.parameters = List.copyOf(parameters);
    }

    /** Whether {@code q} has a time range, and so {@link #idRange} must run before the select. */
    public static boolean hasTimeRange(AccessQuery q) {
        return q.since() != null || q.until() != null;
    }

    /**
     * The lowest id, highest id and number of rows in {@code q}'s time range; MIN and MAX are null when it
     * holds no row. The COUNT is there for PostgreSQL: with MIN and MAX alone its planner may answer each by
     * walking the primary key until a row falls in the range, the slow plan this step exists to avoid.
     */
    public static AccessQuerySql idRange(AccessQuery q) {
        StringBuilder where = new StringBuilder();
        List<Object> parameters = new ArrayList<>();
        addTimeRange(q, where, parameters);
        return new AccessQuerySql("SELECT MIN(id), MAX(id), COUNT(*) FROM access_log WHERE "
                + where.substring(" AND ".length()), parameters);
    }

    /** A page of {@code q}: at most {@code q.limit()} rows; {@code ids} from {@link #idRange}, or null. */
    public static AccessQuerySql page(AccessQuery q, IdRange ids) {
        return select(q, ids, true);
    }

    /** Every row {@code q} matches after its cursor, whatever its limit; {@code ids} as for {@link #page}. */
    public static AccessQuerySql unlimited(AccessQuery q, IdRange ids) {
        return select(q, ids, false);
    }

    /**
     * Which key of {@code access_log_key} serves {@code q}: its exact host, else its client; null when it has
     * neither (a {@code *.example.com} host is no key: it stays a LIKE on access_log, narrowed by time).
     */
    public static KeyFilter keyFilter(AccessQuery q) {
        if (q.host() != null && !q.hostIsSuffixPattern()) {
            return new KeyFilter(AccessLogKeyTable.HOST, q.host());
        }
        return q.client() == null ? null : new KeyFilter(AccessLogKeyTable.CLIENT, q.client());
    }

    /**
     * The ids of {@code q} whose keys are indexed: after its cursor, up to {@code mark}, within {@code ids}
     * (from {@link #idRange}, or null).
     */
    public static KeyedIds keyedIds(AccessQuery q, IdRange ids, long mark) {
        return new KeyedIds(ids == null ? q.after() : Math.max(q.after(), ids.first() - 1),
                ids == null ? mark : Math.min(mark, ids.last()));
    }

    /**
     * The entries of access_log_key ({@link AccessLogKeyTable#SELECT_ENTRIES_SQL}) that may hold ids of {@code
     * keyed} for {@code key} in {@code epoch}: those whose first key lies from the epoch's first id (a run that
     * starts below {@code keyed.after()} may reach above it) to the last id of {@code keyed} in the epoch. The
     * caller keeps the ids that {@link KeyedIds#contains} of what they hold.
     */
    public static AccessQuerySql entries(KeyFilter key, KeyedIds keyed, long epoch) {
        long offset = key.offset(epoch);
        return new AccessQuerySql(AccessLogKeyTable.SELECT_ENTRIES_SQL, List.of(
                offset + AccessLogKeyTable.firstIdOf(epoch),
                offset + Math.min(keyed.upTo(), AccessLogKeyTable.lastIdOf(epoch))));
    }

    /**
     * The rows of {@code q} among {@code ids} (found through access_log_key's entries, in id order), at most {@code
     * q.limit()} when {@code limited}: one primary-key lookup per id, in id order, each row then tested by every
     * filter of {@code q}, the keyed one included (values whose hashes collide share entries). The statement's
     * text is the same for any number of ids; only its parameters differ.
     */
    public static AccessQuerySql indexed(AccessQuery q, Long[] ids, boolean limited) {
        StringBuilder where = new StringBuilder(" AND id = ANY(?)");
        List<Object> parameters = new ArrayList<>();
        parameters.add(ids);
        addFilters(q, where, parameters);
        return finish(AccessLogTable.SELECT_SQL, where, "id", q, limited, parameters);
    }

    /**
     * The rows of {@code q} above {@code mark}, which the key indexer has not reached yet: a walk of
     * access_log's primary key from the mark, about a second of rows. {@code ids} as for {@link #page}.
     */
    public static AccessQuerySql unindexedTail(AccessQuery q, IdRange ids, long mark, boolean limited) {
        return select(q.withAfter(Math.max(q.after(), mark)), ids, limited);
    }

    private static AccessQuerySql select(AccessQuery q, IdRange ids, boolean limited) {
        StringBuilder where = new StringBuilder(" AND id > ?");
        List<Object> parameters = new ArrayList<>();
        if (ids == null) {
            parameters.add(q.after());
        } else {
            parameters.add(Math.max(q.after(), ids.first() - 1));
            where.append(" AND id <= ?");
            parameters.add(ids.last());
        }
        addFilters(q, where, parameters);
        return finish(AccessLogTable.SELECT_SQL, where, "id", q, limited, parameters);
    }

    /** Adds a condition for every filter of {@code q} but the cursor. */
    private static void addFilters(AccessQuery q, StringBuilder where, List<Object> parameters) {
        addTimeRange(q, where, parameters);
        if (q.hostIsSuffixPattern()) {
            where.append(" AND host LIKE ? ESCAPE '").append(LIKE_ESCAPE).append('\'');
            parameters.add(anySubdomainOf(q.hostSuffixDomain()));
        } else {
            addEqual(where, parameters, "host", q.host());
        }
        addEqual(where, parameters, "client_addr", q.client());
        addEqual(where, parameters, "method", q.method());
        addEqual(where, parameters, "status", q.statusCode());
        if (q.statusClass() != null) {
            // A range, not status / 100 = ?, so that an index on status could serve it on either database.
            where.append(" AND status >= ? AND status < ?");
            parameters.add(q.statusClass() * 100);
            parameters.add((q.statusClass() + 1) * 100);
        }
        addEqual(where, parameters, "listener", q.listener());
        addEqual(where, parameters, "username", q.username());
        addEqual(where, parameters, "outcome", q.outcome() == null ? null : q.outcome().name());
        addEqual(where, parameters, "kind", q.kind() == null ? null : q.kind().name());
        addEqual(where, parameters, "node", q.node());
    }

    private static AccessQuerySql finish(String select, StringBuilder where, String orderBy, AccessQuery q,
            boolean limited, List<Object> parameters) {
        String sql = select + " WHERE " + where.substring(" AND ".length()) + " ORDER BY " + orderBy;
        if (limited) {
            sql += " LIMIT ?";
            parameters.add(q.limit());
        }
        return new AccessQuerySql(sql, parameters);
    }

    /** The statement's text: conditions and {@code ?} placeholders only. */
    public String sql() {
        return sql;
    }

    /** The values for the placeholders, in order. */
    public List<Object> parameters() {
        return parameters;
    }

    /** Sets every parameter of {@code statement}, which was prepared from {@link #sql()}. */
    public void bind(PreparedStatement statement) throws SQLException {
        for (int i = 0; i < parameters.size(); i++) {
            statement.setObject(i + 1, parameters.get(i));
        }
    }

    /**
     * The LIKE pattern for any subdomain of {@code domain}: {@code %.domain}, with LIKE's own wildcards in
     * {@code domain} escaped so that they match only themselves. The dot before the domain is what keeps
     * example.com itself and badexample.com out.
     */
    static String anySubdomainOf(String domain) {
        StringBuilder pattern = new StringBuilder("%.");
        for (int i = 0; i < domain.length(); i++) {
            char c = domain.charAt(i);
            if (c == '%' || c == '_' || c == LIKE_ESCAPE) {
                pattern.append(LIKE_ESCAPE);
            }
            pattern.append(c);
        }
        return pattern.toString();
    }

    private static void addTimeRange(AccessQuery q, StringBuilder where, List<Object> parameters) {
        if (q.since() != null) {
            where.append(" AND ts >= ?");
            parameters.add(timestamp(q.since()));
        }
        if (q.until() != null) {
            where.append(" AND ts < ?");
            parameters.add(timestamp(q.until()));
        }
    }

    private static void addEqual(StringBuilder where, List<Object> parameters, String column, Object value) {
        if (value != null) {
            where.append(" AND ").append(column).append(" = ?");
            parameters.add(value);
        }
    }

    private static OffsetDateTime timestamp(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }
}
