package dev.tollgate.store.internal;

import dev.tollgate.store.JournaledRecord;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.Predicate;
import javax.sql.DataSource;

/**
 * The JDBC side of the access-log writer: one connection (autocommit off) and one reused insert statement,
 * opened on first use and again after any failure. Used by the writer thread only, so nothing here is
 * synchronized; the two counters are volatile so that other threads can read them as gauges.
 */
public final class AccessLogInserter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AccessLogInserter.class);

    private final DataSource dataSource;
    private final DatabaseUrl.Vendor vendor;
    private final LongConsumer released;
    private Connection connection;
    private PreparedStatement insert;
    // Whether a connection was dropped after a failure: the next one first looks what its last commit stored.
    private boolean failedBefore;
    private volatile long written;
    private volatile long rejected;

    /**
     * @param released told the journal number of each record once it is committed or rejected, in order
     */
    public AccessLogInserter(DataSource dataSource, DatabaseUrl.Vendor vendor, LongConsumer released) {
        this.dataSource = dataSource;
        this.vendor = vendor;
        this.released = released;
    }

    /**
     * Inserts and commits every record in {@code pending}, removing each one once it is committed or
     * rejected. A batch is committed as a whole; when the database rejects one of its rows as bad data, the
     * batch is rolled back and its rows go in one at a time, so that the bad row is the only one lost.
     *
     * @throws SQLException on any other failure: the records not yet stored stay in {@code pending}, and the
     *                      connection is dropped so that the next call starts on a fresh one
     */
    public void insert(List<JournaledRecord> pending) throws SQLException {
        try {
            open();
            if (failedBefore) {
                skipStoredAlready(pending);
            }
            for (JournaledRecord r : pending) {
                AccessLogTable.bind(insert, r.seq(), r.record());
                insert.addBatch();
            }
            insert.executeBatch();
            connection.commit();
            written += pending.size();
            for (JournaledRecord r : pending) {
                released.accept(r.seq());
            }
            pending.clear();
        } catch (SQLException e) {
            if (connection == null || !isBadData(e)) {
                discardConnection();
                throw e;
            }
            rollback();
            insert.clearBatch();
            LOG.debug("A batch of {} access records holds a row the database rejects; inserting one at a time",
                    pending.size(), e);
            insertOneByOne(pending);
        } catch (RuntimeException e) {
            discardConnection();
            throw e;
        }
    }

    /** Rows committed so far. */
    public long written() {
        return written;
    }

    /** Rows the database rejected as bad data, each logged at ERROR with its content. */
    public long rejected() {
        return rejected;
    }

    /** Closes the connection; the writer calls this once, as it stops. */
    @Override
    public void close() {
        discardConnection();
    }

    private void insertOneByOne(List<JournaledRecord> pending) throws SQLException {
        int handled = 0;
        try {
            for (JournaledRecord r : pending) {
                try {
                    AccessLogTable.bind(insert, r.seq(), r.record());
                    insert.executeUpdate();
                    // One commit per row: PostgreSQL aborts the whole transaction at the first failed statement.
                    connection.commit();
                    written++;
                } catch (SQLException e) {
                    if (!isBadData(e)) {
                        discardConnection();
                        throw e;
                    }
                    rollback();
                    if (isAlreadyStored(e)) {
                        // PostgreSQL with its unique index, should ON CONFLICT not apply: the first copy stays.
                        LOG.debug("access record {} of node {} is stored already", r.seq(), r.record().node());
                        released.accept(r.seq());
                        handled++;
                        continue;
                    }
                    rejected++;
                    // Above DEBUG although it is per record: this line is the only copy of an audit row left.
                    LOG.error("The database rejected an access record, which is not stored: {} (journal number {})",
                            r.record(), r.seq(), e);
                }
                released.accept(r.seq());
                handled++;
            }
        } finally {
            pending.subList(0, handled).clear();
        }
    }

    private void open() throws SQLException {
        if (connection != null) {
            return;
        }
        Connection c = dataSource.getConnection();
        try {
            c.setAutoCommit(false);
            insert = c.prepareStatement(AccessLogTable.insertSql(vendor));
            connection = c;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private void rollback() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            LOG.debug("Rollback failed", e);
        }
    }

    /**
     * After a failure, drops from {@code pending} (releasing them) the records whose commit took effect although it
     * reported a failure. H2 only: its table has no unique index on the journal number to turn the second copy
     * away, but rows are stored in journal order, so those are the records at or below the highest number stored.
     * PostgreSQL's insert skips them itself (ON CONFLICT DO NOTHING).
     */
    private void skipStoredAlready(List<JournaledRecord> pending) throws SQLException {
        if (vendor == DatabaseUrl.Vendor.H2 && !pending.isEmpty()) {
            long floor = AccessLogTable.highestStoredSeq(connection, vendor, null);
            connection.commit();
            while (!pending.isEmpty() && pending.get(0).seq() <= floor) {
                LOG.info("access record {} was stored by a commit that reported a failure", pending.get(0).seq());
                released.accept(pending.remove(0).seq());
            }
        }
        failedBefore = false;
    }

    private void discardConnection() {
        if (connection != null) {
            failedBefore = true;
            closeQuietly(connection);
        }
        connection = null;
        insert = null;
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Closing the access-log connection failed", e);
        }
    }

    /** Whether {@code e} is a unique violation (SQLSTATE 23505): on access_log, V7's (node, seq) already stored. */
    static boolean isAlreadyStored(SQLException e) {
        return anyState(e, state -> state.equals("23505"));
    }

    /**
     * Whether the database refused a value rather than failed: SQLSTATE class 22 (data exception) or 23
     * (integrity constraint violation, e.g. a CHECK an operator added). Retrying such a row can never
     * succeed; anything else (connection lost, disk full, table missing) may pass, so it is retried.
     */
    static boolean isBadData(SQLException e) {
        return anyState(e, state -> state.startsWith("22") || state.startsWith("23"));
    }

    /** Whether {@code e} or an exception chained to it by {@code getNextException} has a SQLSTATE that matches. */
    private static boolean anyState(SQLException e, Predicate<String> matches) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            String state = x.getSQLState();
            if (state != null && matches.test(state)) {
                return true;
            }
            if (x.getNextException() == x) {
                break;
            }
        }
        return false;
    }
}
