package dev.tollgate.store;

import dev.tollgate.store.ChainCheckpoints.Checkpoint;
import dev.tollgate.store.internal.AccessLogTable;
import dev.tollgate.store.internal.ChainedColumn;
import dev.tollgate.store.internal.RowChain;

import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Walks the access log's hash chains ({@link RowChain}) and checkpoints ({@link ChainCheckpoints}) and says what
 * was altered, deleted, inserted or reordered: what {@code tollgate verify} runs. Read-only: it needs SELECT on
 * access_log and chain_checkpoint, which the auditor has.
 * <p>
 * Each node's rows are walked in journal order (seq). A row whose chain is the hash of the previous row's chain
 * and its own bytes is intact. When it is not, the rows around it tell why: the next row links past it (it was
 * inserted), the next row links to its stored chain and no number is missing before it (it was altered), numbers
 * are missing before it (rows were deleted). A signed checkpoint of a number just before it (retention's anchor)
 * makes a missing run of rows a purge. Row ids must increase with seq (the writer stores in journal order), or
 * rows were reordered. A checkpoint must match the row of its number, or the history up to it was rewritten; a
 * checkpoint past the last row means rows were deleted from the end.
 * <p>
 * A little past 400 lines: one walk, whose cases (altered, inserted, deleted, purged, reordered, rewritten) read
 * best side by side, since each is told from the others by what the neighbouring rows say.
 */
public final class ChainVerifier {

    /**
     * A chained table: its name (also its {@code log_name} in chain_checkpoint), its chained columns, and what its
     * problems start with.
     */
    private record Log(String table, RowChain<?> rowChain, String columns, String prefix) {

        static <T> Log of(String table, List<ChainedColumn<T>> columns, String prefix) {
            return new Log(table, new RowChain<>(columns), columns.stream().map(ChainedColumn::name)
                    .collect(Collectors.joining(", ")), prefix);
        }
    }

    private static final List<Log> LOGS = List.of(
            Log.of(ChainCheckpoints.ACCESS_LOG, AccessLogTable.CHAINED_COLUMNS, ""),
            Log.of(ChainCheckpoints.ADMIN_EVENTS, AdminEventLog.CHAINED_COLUMNS, "admin_event: "));

    /**
     * What a walk found.
     *
     * @param problems            one line each, the first found first; empty when the log is intact
     * @param rowsChecked         access-log rows whose chain was checked
     * @param eventsChecked       admin events whose chain was checked
     * @param rowsBeforeChain     rows (of either table) stored before the chain began (migration V9), not checked
     * @param checkpointsVerified checkpoints whose signature is good
     * @param ranges              per node, "node: seq A to B"
     * @param notes               what else the reader should know (where the walk started)
     */
    public record Result(List<String> problems, long rowsChecked, long eventsChecked, long rowsBeforeChain,
                         int checkpointsVerified, List<String> ranges, List<String> notes) {

        public boolean intact() {
            return problems.isEmpty();
        }
    }

    private final Connection connection;
    private final Function<String, PublicKey> keyOfSigner;
    private final List<String> problems = new ArrayList<>();
    private final List<String> ranges = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private long rowsChecked;
    private long eventsChecked;
    private long rowsBeforeChain;
    private int checkpointsVerified;

    private ChainVerifier(Connection connection, Function<String, PublicKey> keyOfSigner) {
        this.connection = connection;
        this.keyOfSigner = keyOfSigner;
    }

    /**
     * Verifies the chains of every node (or only {@code node}) on {@code c}.
     *
     * @param key   the public key that checkpoints must be signed with
     * @param since when not null, the walk starts at the newest good checkpoint made at or before it (every row
     *              stored after that time is after it), or at the start when there is none
     */
    public static Result verify(Connection c, PublicKey key, String node, Instant since) throws SQLException {
        return verify(c, key, node, since, Map.of());
    }

    /**
     * As {@link #verify(Connection, PublicKey, String, Instant)}, and each signer named in {@code expected} must
     * have signed checkpoints up to at least the number given: the newest number an earlier run printed, kept
     * where the database's writers cannot change it. Only that shows checkpoints deleted from the end of a series.
     */
    public static Result verify(Connection c, PublicKey key, String node, Instant since, Map<String, Long> expected)
            throws SQLException {
        return verify(c, signer -> key, node, since, expected);
    }

    /**
     * As {@link #verify(Connection, PublicKey, String, Instant, Map)} on a fleet's database, where each node signs
     * its own checkpoints with its own key: {@code keyOfSigner} gives the key a signer's checkpoints must be signed
     * with, or null when none was given, and then its checkpoints cannot be checked, which is reported as a problem
     * (a log that could not be verified is not called intact).
     */
    public static Result verify(Connection c, Function<String, PublicKey> keyOfSigner, String node, Instant since,
                                Map<String, Long> expected) throws SQLException {
        ChainVerifier verifier = new ChainVerifier(c, keyOfSigner);
        List<Checkpoint> all = ChainCheckpoints.read(c);
        Map<String, List<Checkpoint>> good = verifier.checkSignaturesAndNumbers(all, expected);
        for (Log log : LOGS) {
            List<String> nodes = node != null ? List.of(node) : verifier.nodes(log);
            for (String n : nodes) {
                verifier.verifyNode(log, n, since, good.getOrDefault(log.table() + "\0" + n, List.of()));
            }
        }
        return new Result(List.copyOf(verifier.problems), verifier.rowsChecked, verifier.eventsChecked,
                verifier.rowsBeforeChain, verifier.checkpointsVerified, List.copyOf(verifier.ranges),
                List.copyOf(verifier.notes));
    }

    private List<String> nodes(Log log) throws SQLException {
        List<String> nodes = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement("SELECT node FROM " + log.table() + " UNION"
                + " SELECT node FROM chain_checkpoint WHERE log_name = ? ORDER BY node")) {
            select.setString(1, log.table());
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    nodes.add(rs.getString(1));
                }
            }
        }
        return nodes;
    }

    /** One row of the walk: what identifies it, its stored chain and its canonical bytes. */
    private record Row(long id, long seq, byte[] chain, byte[] canonical) {
    }

    /** The walk along one node's chain. */
    private final class Walk {
        final Log log;
        final String node;
        final TreeMap<Long, List<Checkpoint>> checkpoints;
        final Set<Long> matched = new HashSet<>();
        byte[] previous = RowChain.genesis();
        long previousSeq;
        long previousId = -1;
        long firstSeq = -1;
        long lastSeq = -1;

        Walk(Log log, String node, TreeMap<Long, List<Checkpoint>> checkpoints) {
            this.log = log;
            this.node = node;
            this.checkpoints = checkpoints;
        }

        void step(Row r, Row next) {
            if (log.table().equals(ChainCheckpoints.ACCESS_LOG)) {
                rowsChecked++;
            } else {
                eventsChecked++;
            }
            if (firstSeq < 0) {
                firstSeq = r.seq;
            }
            lastSeq = r.seq;
            if (previousId >= 0 && r.id < previousId) {
                problem("rows of node " + node + " were reordered: row id " + r.id + " (seq " + r.seq
                        + ") is stored before row id " + previousId + " (seq " + previousSeq
                        + ") but follows it in the chain");
            }
            if (links(previous, r)) {
                accept(r);
                return;
            }
            Checkpoint anchor = anchorOf(r);
            if (anchor != null) {
                matched.add(anchor.id());
                accept(r);
                return;
            }
            boolean missingBefore = r.seq > previousSeq + 1;
            if (next != null && links(previous, next)) {
                problem("row id " + r.id + " (node " + node + ", seq " + r.seq + ") was inserted: it is not"
                        + " in the chain");
                return;
            }
            if (missingBefore && next == null && previousId >= 0) {
                problem("row id " + r.id + " (node " + node + ", seq " + r.seq + "), the last, does not link"
                        + " to seq " + previousSeq + ": it was inserted, or the rows between were deleted");
            } else if (missingBefore) {
                problem(previousId < 0 && previousSeq == 0
                        ? "rows of node " + node + " before seq " + r.seq + " were deleted: the first row does not"
                                + " link to the start of the chain or to a signed checkpoint"
                        : "rows between seq " + (previousSeq + 1) + " and " + (r.seq - 1) + " of node " + node
                                + " were deleted: row id " + r.id + " (seq " + r.seq + ") does not link to seq "
                                + previousSeq);
            } else {
                problem("row id " + r.id + " (node " + node + ", seq " + r.seq + ") was altered: its hash"
                        + " does not match its content");
            }
            // Carry on from what it stores, so that one change is reported once, not at every row after it.
            accept(r);
        }

        void problem(String line) {
            problems.add(log.prefix() + line);
        }

        boolean links(byte[] from, Row r) {
            return Arrays.equals(log.rowChain().link(from, r.canonical), r.chain);
        }

        /** A good checkpoint between the previous row and {@code r} whose chain {@code r} links to. */
        Checkpoint anchorOf(Row r) {
            for (List<Checkpoint> at : checkpoints.subMap(previousSeq, false, r.seq, false).descendingMap().values()) {
                for (Checkpoint cp : at) {
                    if (links(cp.chain(), r)) {
                        return cp;
                    }
                }
            }
            return null;
        }

        void accept(Row r) {
            for (Checkpoint cp : checkpoints.getOrDefault(r.seq, List.of())) {
                matched.add(cp.id());
                if (!Arrays.equals(cp.chain(), r.chain)) {
                    problem("the chain of node " + node + " was rewritten up to seq " + r.seq + ": row id "
                            + r.id + " differs from checkpoint id " + cp.id() + " signed at " + cp.madeAt());
                }
            }
            previous = r.chain;
            previousSeq = r.seq;
            previousId = r.id;
        }

        /** The checkpoints no row matched: past the last row they mean rows were deleted from the end. */
        void finish(long startSeq) {
            for (List<Checkpoint> at : checkpoints.tailMap(startSeq, false).values()) {
                for (Checkpoint cp : at) {
                    if (matched.contains(cp.id()) || (firstSeq >= 0 && cp.seq() < firstSeq)) {
                        continue;
                    }
                    problem(lastSeq < 0 || cp.seq() > lastSeq
                            ? "rows of node " + node + " after seq " + (lastSeq < 0 ? startSeq : lastSeq)
                                    + " were deleted: checkpoint id " + cp.id() + " signed at " + cp.madeAt()
                                    + " covers seq " + cp.seq()
                            : "row seq " + cp.seq() + " of node " + node + " was deleted: checkpoint id " + cp.id()
                                    + " signed at " + cp.madeAt() + " covers it");
                }
            }
        }
    }

    /**
     * Checks every checkpoint's signature and that each signer's numbers run from 1 without a gap (and up to the
     * number {@code expected} names, if any); returns the good ones by the node whose chain they state.
     */
    private Map<String, List<Checkpoint>> checkSignaturesAndNumbers(List<Checkpoint> all, Map<String, Long> expected) {
        Map<String, List<Checkpoint>> good = new TreeMap<>();
        Map<String, TreeSet<Long>> numbers = new TreeMap<>();
        Map<String, Checkpoint> newest = new TreeMap<>();
        Set<String> unkeyed = new TreeSet<>();
        for (Checkpoint cp : all) {
            numbers.computeIfAbsent(cp.signer(), s -> new TreeSet<>()).add(cp.number());
            PublicKey key = keyOfSigner.apply(cp.signer());
            if (key == null) {
                if (unkeyed.add(cp.signer())) {
                    problems.add("checkpoints signed by " + cp.signer() + " cannot be checked: no public key was"
                            + " given for that signer");
                }
            } else if (cp.signedBy(key)) {
                checkpointsVerified++;
                good.computeIfAbsent(cp.log() + "\0" + cp.node(), n -> new ArrayList<>()).add(cp);
                newest.merge(cp.signer(), cp, (a, b) -> a.number() >= b.number() ? a : b);
            } else {
                problems.add("checkpoint id " + cp.id() + " (number " + cp.number() + " signed by " + cp.signer()
                        + ", " + cp.log() + " of node " + cp.node() + ", seq " + cp.seq() + ", signed at " + cp.madeAt()
                        + ") has a bad signature: it was forged or altered");
            }
        }
        for (Map.Entry<String, TreeSet<Long>> series : numbers.entrySet()) {
            long expectedNext = 1;
            for (long n : series.getValue()) {
                if (n > expectedNext) {
                    problems.add("checkpoints number " + expectedNext + (n - 1 > expectedNext ? " to " + (n - 1) : "")
                            + " signed by " + series.getKey() + " were deleted: the series goes on at " + n);
                }
                expectedNext = n + 1;
            }
        }
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            long highest = numbers.getOrDefault(e.getKey(), new TreeSet<>(List.of(0L))).last();
            if (highest < e.getValue()) {
                problems.add("checkpoints signed by " + e.getKey() + " after number " + highest + " were deleted:"
                        + " number " + e.getValue() + " was expected");
            }
        }
        for (Checkpoint cp : newest.values()) {
            notes.add("newest checkpoint signed by " + cp.signer() + ": number " + cp.number() + " (" + cp.log()
                    + " of node " + cp.node() + ", seq " + cp.seq() + ", signed at " + cp.madeAt() + ")");
        }
        return good;
    }

    private void verifyNode(Log log, String node, Instant since, List<Checkpoint> checkpoints) throws SQLException {
        TreeMap<Long, List<Checkpoint>> good = new TreeMap<>();
        for (Checkpoint cp : checkpoints) {
            good.computeIfAbsent(cp.seq(), s -> new ArrayList<>()).add(cp);
        }
        Walk walk = new Walk(log, node, good);
        long startSeq = Long.MIN_VALUE;
        if (since != null) {
            Checkpoint start = good.values().stream().flatMap(List::stream)
                    .filter(cp -> !cp.madeAt().isAfter(since))
                    .max((a, b) -> Long.compare(a.seq(), b.seq())).orElse(null);
            if (start != null) {
                startSeq = start.seq();
                walk.previous = start.chain();
                walk.previousSeq = start.seq();
                walk.matched.add(start.id());
                notes.add(log.prefix() + "node " + node + ": starting at checkpoint id " + start.id() + " (seq "
                        + start.seq() + ", signed at " + start.madeAt() + ")");
            } else {
                notes.add(log.prefix() + "node " + node + ": no checkpoint at or before " + since
                        + ", starting at the first row");
            }
        }
        if (startSeq == Long.MIN_VALUE) {
            walk.previousSeq = unchainedRows(walk);
        }
        walkRows(walk, startSeq);
        walk.finish(startSeq == Long.MIN_VALUE ? walk.previousSeq : startSeq);
        if (walk.firstSeq >= 0) {
            ranges.add(log.prefix() + node + ": seq " + walk.firstSeq + " to " + walk.lastSeq);
        }
    }

    /**
     * Counts the rows stored before the chain began (no chain, ids below the first chained row's) and reports any
     * other row without a chain or number as inserted. Returns the highest number among the rows before the
     * chain (0 when none): the chain's first row follows it.
     */
    private long unchainedRows(Walk walk) throws SQLException {
        String node = walk.node;
        String table = walk.log.table();
        long firstChainedId = Long.MAX_VALUE;
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT MIN(id) FROM " + table + " WHERE node = ? AND chain IS NOT NULL AND seq IS NOT NULL")) {
            select.setString(1, node);
            try (ResultSet rs = select.executeQuery()) {
                if (rs.next() && rs.getObject(1) != null) {
                    firstChainedId = rs.getLong(1);
                }
            }
        }
        long highestBefore = 0;
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT id, seq FROM " + table + " WHERE node = ? AND (chain IS NULL OR seq IS NULL) ORDER BY id")) {
            select.setString(1, node);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    long seq = rs.getLong(2);
                    boolean hasSeq = !rs.wasNull();
                    if (id < firstChainedId) {
                        rowsBeforeChain++;
                        highestBefore = hasSeq ? Math.max(highestBefore, seq) : highestBefore;
                    } else {
                        walk.problem("row id " + id + " (node " + node + ", seq " + (hasSeq ? seq : "none")
                                + ") was inserted: it has no " + (hasSeq ? "chain" : "journal number"));
                    }
                }
            }
        }
        return highestBefore;
    }

    private void walkRows(Walk walk, long startSeq) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT id, seq, chain, " + walk.log.columns()
                + " FROM " + walk.log.table() + " WHERE node = ? AND chain IS NOT NULL AND seq > ? ORDER BY seq, id")) {
            select.setFetchSize(1000);
            select.setString(1, walk.node);
            select.setLong(2, startSeq);
            try (ResultSet rs = select.executeQuery()) {
                Row held = null;
                while (rs.next()) {
                    Row row = new Row(rs.getLong("id"), rs.getLong("seq"), rs.getBytes("chain"),
                            walk.log.rowChain().canonical(rs));
                    if (held != null) {
                        walk.step(held, row);
                    }
                    held = row;
                }
                if (held != null) {
                    walk.step(held, null);
                }
            }
        }
    }
}
