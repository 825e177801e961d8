package dev.tollgate.daemon.sql;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.store.ChainVerifier;
import dev.tollgate.store.CheckpointKey;
import dev.tollgate.store.internal.AccessLogTable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code tollgate verify}: walks the access log's hash chains and signed checkpoints ({@link ChainVerifier}) and
 * says whether the log is intact: exit 0 when it is, 1 when it is not (the first problem on one line, then how
 * many there are) or cannot be checked, 2 for a bad command line.
 * <p>
 * It reads what {@code tollgate sql} reads, the same way: a running daemon's embedded H2 log through its SQL
 * server as the read-only auditor (the file is locked while the daemon runs, and verifying the live log is what an
 * auditor wants), a PostgreSQL store directly in a read-only session. With no daemon running, an H2 file is
 * opened directly as its owner (which needs the owner's password file, readable by the daemon's user only). It
 * writes nothing in either case.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check that no access-log row was altered, deleted, inserted or reordered since it was"
                + " stored: walk each node's hash chain and check the signed checkpoints.",
                "Exit 0 when intact, 1 when not (the first problem is printed, then the count), 2 for a bad"
                        + " command line. Reads the running daemon's log as the auditor, like tollgate sql; with"
                        + " the daemon stopped, opens its H2 file as the owner."})
public final class VerifyCommand implements Callable<Integer> {

    static final int EXIT_INTACT = 0;
    static final int EXIT_NOT_INTACT = 1;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The daemon's tollgate.json; without it the embedded defaults apply, as for run.")
    private Path configFile;

    @Option(names = "--since", paramLabel = "ISO-TIME",
            description = "Check only from the newest checkpoint signed at or before this time (e.g."
                    + " 2026-12-01T00:00:00Z), which covers every row stored after it; the default is the whole log.")
    private String since;

    @Option(names = "--node", paramLabel = "NAME", description = "Check only this node's chain.")
    private String node;

    @Option(names = "--expect-checkpoint", paramLabel = "NUMBER",
            description = "The newest checkpoint number an earlier run printed for this config's node: fewer"
                    + " checkpoints now means some were deleted from the end, which the database alone cannot show.")
    private Long expectCheckpoint;

    @Option(names = "--public-key", paramLabel = "[SIGNER=]FILE",
            description = "The key checkpoints must be signed with; the default is <stateDir>/checkpoint.pub. Keep a"
                    + " copy where the database's writers cannot change it, and name it here. On a fleet's shared"
                    + " database give each node's key as NODE=FILE (repeat the option); a plain FILE is the key for"
                    + " every signer not named.")
    private List<String> publicKeys = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Instant from = parseSince();
        TollgateConfig config = ConfigLoader.loadOrDefaults(configFile);
        Function<String, PublicKey> keyOfSigner = keys(config);
        ChainVerifier.Result result;
        try (Connection c = AuditorConnection.openOrFile(config)) {
            result = ChainVerifier.verify(c, keyOfSigner, node, from, expectCheckpoint == null ? Map.of()
                    : Map.of(AccessLogTable.fit(config.nodeName(), AccessLogTable.NODE_WIDTH), expectCheckpoint));
        } catch (SQLException e) {
            throw new SqlCommandException("verifying failed: " + QueryErrors.oneLine(e), e);
        }
        print(result);
        return result.intact() ? EXIT_INTACT : EXIT_NOT_INTACT;
    }

    /**
     * The key of each signer: those named SIGNER=FILE, and for the others the plain FILE given, else the state
     * directory's own public key (which may be missing only when every signer is named).
     */
    private Function<String, PublicKey> keys(TollgateConfig config) {
        Map<String, PublicKey> named = new HashMap<>();
        Path plain = null;
        for (String given : publicKeys) {
            int eq = given.indexOf('=');
            String signer = eq > 0 ? given.substring(0, eq) : null;
            if (signer != null && !signer.contains("/")) {
                Path file = Path.of(given.substring(eq + 1));
                if (named.put(AccessLogTable.fit(signer, AccessLogTable.NODE_WIDTH), readKey(file)) != null) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--public-key: signer \""
                            + signer + "\" is named twice");
                }
            } else if (plain != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--public-key: give one plain FILE"
                        + " at most (" + plain + " and " + given + "); name the others' signers as NODE=FILE");
            } else {
                plain = Path.of(given);
            }
        }
        PublicKey others;
        if (plain != null) {
            others = readKey(plain);
        } else {
            Path own = config.stateDirPath().resolve(CheckpointKey.PUBLIC_FILE);
            others = named.isEmpty() || Files.exists(own) ? readKey(own) : null;
        }
        return signer -> named.getOrDefault(signer, others);
    }

    private static PublicKey readKey(Path file) {
        try {
            return CheckpointKey.readPublic(file);
        } catch (IOException e) {
            throw new SqlCommandException("cannot read the checkpoints' public key: " + e.getMessage(), e);
        }
    }

    private Instant parseSince() {
        if (since == null) {
            return null;
        }
        try {
            return Instant.parse(since);
        } catch (DateTimeParseException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--since: \"" + since + "\" is not an ISO"
                    + " time such as 2026-12-01T00:00:00Z");
        }
    }

    /** The verdict first (and the count of problems), then where the walk started and the newest checkpoints. */
    private static void print(ChainVerifier.Result result) {
        String counts = result.rowsChecked() + " rows checked, " + result.eventsChecked() + " admin events checked"
                + (result.ranges().isEmpty() ? ""
                : " (" + String.join(", ", result.ranges()) + ")") + ", " + result.checkpointsVerified()
                + " checkpoints verified" + (result.rowsBeforeChain() == 0 ? ""
                : ", " + result.rowsBeforeChain() + " rows stored before the chain began (migration V9) not checked");
        if (result.intact()) {
            System.out.println("verify: intact: " + counts);
        } else {
            System.out.println("verify: NOT INTACT: " + result.problems().get(0));
            System.out.println("verify: " + result.problems().size() + " problem" + (result.problems().size() == 1
                    ? "" : "s") + " in all; " + counts);
        }
        for (String note : result.notes()) {
            System.out.println("verify: " + note);
        }
    }
}
