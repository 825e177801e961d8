package dev.tollgate.store;

import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.ChainHead;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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

/**
 * Table {@code chain_checkpoint} (migration V9): signed statements "the row numbered seq of node N had chain C at
 * time T". The daemon writes one every {@code store.checkpointIntervalSeconds} and at a graceful stop (the head
 * its writer committed, as it computed it, not as read back), and retention writes one for the last row of each
 * run of rows it deletes (an anchor, so that the row after it can still be checked). Without the private key no
 * one can make one, so a rewritten history before a checkpoint shows, even to an attacker who can write the
 * database and recompute every hash.
 */
public final class ChainCheckpoints {

    /** Why a checkpoint was made. */
    public enum Reason { INTERVAL, STOP, RETENTION }

    /** One stored checkpoint. */
    public record Checkpoint(long id, String node, long seq, byte[] chain, Instant madeAt, String reason,
                             byte[] signature) {

        /** Whether {@code signature} is the key's signature of this checkpoint's fields. */
        public boolean signedBy(java.security.PublicKey key) {
            return CheckpointKey.verify(key, signedBytes(node, seq, chain, madeAt, reason), signature);
        }
    }

    private static final String INSERT_SQL = "INSERT INTO chain_checkpoint (node, seq, chain, made_at, reason,"
            + " signature) VALUES (?, ?, ?, ?, ?, ?)";
    private static final String SELECT_SQL = "SELECT id, node, seq, chain, made_at, reason, signature"
            + " FROM chain_checkpoint WHERE node = ? ORDER BY seq, id";

    private ChainCheckpoints() {
    }

    /**
     * What a checkpoint's signature covers: a fixed label, the node, seq, chain, time (epoch ms) and reason, each
     * with its length where it has one, so that no two checkpoints share these bytes.
     */
    public static byte[] signedBytes(String node, long seq, byte[] chain, Instant madeAt, String reason) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
            DataOutputStream out = new DataOutputStream(bytes);
            out.write("tollgate-checkpoint-v1".getBytes(StandardCharsets.US_ASCII));
            byte[] nodeBytes = node.getBytes(StandardCharsets.UTF_8);
            out.writeInt(nodeBytes.length);
            out.write(nodeBytes);
            out.writeLong(seq);
            out.writeInt(chain.length);
            out.write(chain);
            out.writeLong(madeAt.toEpochMilli());
            byte[] reasonBytes = reason.getBytes(StandardCharsets.UTF_8);
            out.writeInt(reasonBytes.length);
            out.write(reasonBytes);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Signs and inserts a checkpoint of {@code head} for {@code node} on {@code c}, in its transaction (the
     * caller commits). Does nothing for a head with no row (seq 0).
     */
    public static void write(Connection c, CheckpointKey key, String node, ChainHead head, Instant at, Reason reason)
            throws SQLException {
        if (head == null || head.seq() == 0) {
            return;
        }
        String storedNode = AccessLogTable.fit(node, AccessLogTable.NODE_WIDTH);
        // Whole milliseconds, as made_at is stored, so that the signed time is the stored one.
        Instant madeAt = at.truncatedTo(ChronoUnit.MILLIS);
        byte[] signature = key.sign(signedBytes(storedNode, head.seq(), head.chain(), madeAt, reason.name()));
        try (PreparedStatement insert = c.prepareStatement(INSERT_SQL)) {
            insert.setString(1, storedNode);
            insert.setLong(2, head.seq());
            insert.setBytes(3, head.chain());
            insert.setObject(4, OffsetDateTime.ofInstant(madeAt, ZoneOffset.UTC));
            insert.setString(5, reason.name());
            insert.setBytes(6, signature);
            insert.executeUpdate();
        }
    }

    /** Every checkpoint of {@code node}, by seq. */
    public static List<Checkpoint> read(Connection c, String node) throws SQLException {
        List<Checkpoint> all = new ArrayList<>();
        try (PreparedStatement select = c.prepareStatement(SELECT_SQL)) {
            select.setString(1, node);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    all.add(new Checkpoint(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getBytes(4),
                            rs.getObject(5, OffsetDateTime.class).toInstant(), rs.getString(6), rs.getBytes(7)));
                }
            }
        }
        return all;
    }
}
