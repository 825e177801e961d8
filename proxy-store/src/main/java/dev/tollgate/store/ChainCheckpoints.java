package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.ChainHead;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Table {@code chain_checkpoint} (migration V9): signed statements "the row numbered seq of node N in log L
 * (access_log or admin_event) had chain C at time T", each the next of its signer's numbered series. The daemon
 * writes one every {@code store.checkpointIntervalSeconds} and at a graceful stop (the head its writer committed, as
 * it computed it, not as read back), retention one for the last row of each run of rows it deletes (an anchor, so
 * that the row after it can still be checked), and the admin-event log one for each event. Without the private key
 * no one can make one, so a rewritten history before a checkpoint shows, even to an attacker who can write the
 * database and recompute every hash; and since the numbers are signed and have no gap, neither can one be deleted
 * from the middle of the series unseen.
 * <p>
 * One instance per daemon, shared by everything that signs (the checkpointer, retention, the admin-event log): it
 * hands out the numbers.
 */
public final class ChainCheckpoints {

    /** Why a checkpoint was made. */
    public enum Reason { INTERVAL, STOP, RETENTION, EVENT }

    /** The chain of {@code access_log}'s rows, per node. */
    public static final String ACCESS_LOG = "access_log";
    /** The chain of {@code admin_event}'s rows, per node. */
    public static final String ADMIN_EVENTS = "admin_event";

    /** What a checkpoint says: row {@code head.seq()} of {@code node} in {@code log} had chain {@code head.chain()}. */
    public record Head(String log, String node, ChainHead head) {
    }

    /** One stored checkpoint. */
    public record Checkpoint(long id, String signer, long number, String log, String node, long seq, byte[] chain,
                             Instant madeAt, String reason, byte[] signature) {

        /** Whether {@code signature} is {@code key}'s signature of this checkpoint's fields. */
        public boolean signedBy(PublicKey key) {
            return CheckpointKey.verify(key, signedBytes(signer, number, log, node, seq, chain, madeAt, reason),
                    signature);
        }
    }

    private static final String INSERT_SQL = "INSERT INTO chain_checkpoint (signer, number, log_name, node, seq,"
            + " chain, made_at, reason, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String SELECT_SQL = "SELECT id, signer, number, log_name, node, seq, chain, made_at,"
            + " reason, signature FROM chain_checkpoint ORDER BY signer, number";
    private static final String HIGHEST_NUMBER_SQL = "SELECT MAX(number) FROM chain_checkpoint WHERE signer = ?";

    private final CheckpointKey key;
    private final String signer;
    // The signer's highest number stored; -1 when it must be read (at first, and after a failed write).
    private long number = -1;

    /**
     * @param key    the daemon's signing key
     * @param signer the daemon's node name: its checkpoints are numbered in a series of their own
     */
    public ChainCheckpoints(CheckpointKey key, String signer) {
        this.key = Objects.requireNonNull(key, "key");
        this.signer = AccessLogTable.fit(Objects.requireNonNull(signer, "signer"), AccessLogTable.NODE_WIDTH);
    }

    /**
     * What a checkpoint's signature covers: a fixed label, then each field, strings and the chain with their
     * length, so that no two checkpoints share these bytes.
     */
    public static byte[] signedBytes(String signer, long number, String log, String node, long seq, byte[] chain,
                                     Instant madeAt, String reason) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(160);
            DataOutputStream out = new DataOutputStream(bytes);
            out.write("tollgate-checkpoint-v1".getBytes(StandardCharsets.US_ASCII));
            writeString(out, signer);
            out.writeLong(number);
            writeString(out, log);
            writeString(out, node);
            out.writeLong(seq);
            out.writeInt(chain.length);
            out.write(chain);
            out.writeLong(madeAt.toEpochMilli());
            writeString(out, reason);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Signs and stores one checkpoint per head of {@code heads} (those with no row, seq 0, are skipped), numbered on
     * from this signer's highest, in one transaction of its own, committed before this returns. Synchronized, so
     * that the numbers of the daemon's threads never interleave with a transaction that could still fail: a number
     * is either stored or handed out again.
     */
    public synchronized void sign(DataSource dataSource, List<Head> heads, Instant at, Reason reason)
            throws SQLException {
        List<Head> real = heads.stream().filter(h -> h.head() != null && h.head().seq() > 0).toList();
        if (real.isEmpty()) {
            return;
        }
        // Whole milliseconds, as made_at is stored, so that the signed time is the stored one.
        Instant madeAt = at.truncatedTo(ChronoUnit.MILLIS);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(INSERT_SQL)) {
                long next = highestNumber(c);
                for (Head h : real) {
                    next++;
                    String node = AccessLogTable.fit(h.node(), AccessLogTable.NODE_WIDTH);
                    ChainHead head = h.head();
                    insert.setString(1, signer);
                    insert.setLong(2, next);
                    insert.setString(3, h.log());
                    insert.setString(4, node);
                    insert.setLong(5, head.seq());
                    insert.setBytes(6, head.chain());
                    insert.setObject(7, OffsetDateTime.ofInstant(madeAt, ZoneOffset.UTC));
                    insert.setString(8, reason.name());
                    insert.setBytes(9, key.sign(signedBytes(signer, next, h.log(), node, head.seq(), head.chain(),
                            madeAt, reason.name())));
                    insert.addBatch();
                }
                insert.executeBatch();
                c.commit();
                number = next;
            } catch (SQLException | RuntimeException e) {
                number = -1;
                try {
                    c.rollback();
                } catch (SQLException rollbackFailed) {
                    e.addSuppressed(rollbackFailed);
                }
                throw e;
            }
        }
    }

    /** Every checkpoint of every signer, by signer and number. */
    public static List<Checkpoint> read(Connection c) throws SQLException {
        List<Checkpoint> all = new ArrayList<>();
        try (PreparedStatement select = c.prepareStatement(SELECT_SQL); ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
                all.add(new Checkpoint(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4),
                        rs.getString(5), rs.getLong(6), rs.getBytes(7),
                        rs.getObject(8, OffsetDateTime.class).toInstant(), rs.getString(9), rs.getBytes(10)));
            }
        }
        return all;
    }

    private long highestNumber(Connection c) throws SQLException {
        if (number >= 0) {
            return number;
        }
        try (PreparedStatement select = c.prepareStatement(HIGHEST_NUMBER_SQL)) {
            select.setString(1, signer);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }
}
