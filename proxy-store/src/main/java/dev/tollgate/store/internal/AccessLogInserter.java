package dev.tollgate.store.internal;

import dev.tollgate.store.AccessRecord;
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
 * <p>
 * It also keeps the node's hash chain ({@link RowChain}): each row is stored with the chain of the row before it
 * (the last one stored, the head) and its own bytes. The head moves only when a commit returns, so a rejected row
 * is not in the chain (the next row links to the last stored one). It is read from the database on the first
 * insert and again after any failure, when what the last commit stored is not known.
 * <p>
 * And it keeps the roll-up tables ({@link SummaryTables}; on H2 the ranks are the key indexer's, see
 * {@link SummaryTables#ranksWithTheWriter}): the rows a batch stored are summed in memory and added to them before
 * the batch's commit, in the same transaction, so that a row and its counts are committed together or
 * not at all, and a record the database has already (skipped before the insert, or by ON CONFLICT in it) is never
 * counted again.
 */
public final class AccessLogInserter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AccessLogInserter.class);

    private final DataSource dataSource;
    private final DatabaseUrl.Vendor vendor;
    private final LongConsumer released;
    private final RowChain<AccessRecord> rowChain = RowChain.accessLog();
    // The newest stored row's chain and number: what the next row links to. Read from the database when null.
    private byte[] head;
    private volatile ChainHead committed;
    private Connection connection;
    private PreparedStatement insert;
    // Whether a connection was dropped after a failure: the next one first looks what its last commit stored.
    private boolean failedBefore = true;
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
            if (pending.isEmpty()) {
                return;
            }
            byte[] chain = head;
            for (JournaledRecord r : pending) {
                chain = rowChain.next(chain, r.seq(), r.record());
                AccessLogTable.bind(insert, r.seq(), r.record(), chain);
                insert.addBatch();
            }
            SummaryTables.add(connection, vendor, stored(pending, insert.executeBatch()));
            connection.commit();
            advance(pending.get(pending.size() - 1).seq(), chain);
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

    /**
     * The newest row this inserter committed, with its chain as computed here (not read back): what a checkpoint
     * signs. Null before its first commit.
     */
    public ChainHead committed() {
        return committed;
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
                    byte[] chain = rowChain.next(head, r.seq(), r.record());
                    AccessLogTable.bind(insert, r.seq(), r.record(), chain);
                    SummaryTables.add(connection, vendor, stored(List.of(r), new int[] {insert.executeUpdate()}));
                    // One commit per row: PostgreSQL aborts the whole transaction at the first failed statement.
                    connection.commit();
                    advance(r.seq(), chain);
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

    /**
     * The roll-up delta of the rows of {@code batch} that the insert stored: all of them, but on PostgreSQL a row
     * whose (node, seq) is there already, which ON CONFLICT skipped with a count of 0, so that the roll-ups count
     * each stored row once whatever is replayed or retried (skipStoredAlready drops most such rows before the
     * insert; this catches the rest). SUCCESS_NO_INFO, which a driver may give for a batch, counts as stored.
     */
    private SummaryDelta stored(List<JournaledRecord> batch, int[] counts) {
        SummaryDelta delta = new SummaryDelta();
        boolean ranks = SummaryTables.ranksWithTheWriter(vendor);
        for (int i = 0; i < batch.size(); i++) {
            if (counts[i] != 0) {
                delta.add(batch.get(i).record(), ranks);
            }
        }
        return delta;
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
     * On the first insert and after a failure: reads the chain's head, the newest stored row of the node, and drops
     * from {@code pending} (releasing them) the records at or below its number. The writer stores records in journal
     * order, so those are stored already: by a commit that reported a failure, or (PostgreSQL) by a batch whose
     * commit answer was lost, which ON CONFLICT would skip but whose chain this inserter must not compute again.
     */
    private void skipStoredAlready(List<JournaledRecord> pending) throws SQLException {
        if (pending.isEmpty()) {
            return;
        }
        ChainHead stored = AccessLogTable.head(connection, vendor, pending.get(0).record().node());
        connection.commit();
        boolean first = head == null;
        while (!pending.isEmpty() && pending.get(0).seq() <= stored.seq()) {
            if (!first) {
                LOG.info("access record {} was stored by a commit that reported a failure", pending.get(0).seq());
            }
            released.accept(pending.remove(0).seq());
        }
        head = stored.chain();
        failedBefore = false;
    }

    private void advance(long seq, byte[] chain) {
        head = chain;
        committed = new ChainHead(seq, chain);
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
