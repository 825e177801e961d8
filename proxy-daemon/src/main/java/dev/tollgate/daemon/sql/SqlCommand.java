package dev.tollgate.daemon.sql;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import org.h2.tools.Shell;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Callable;

/**
 * {@code tollgate sql}: read-only SQL on the live access log of the daemon that the config describes, as the
 * auditor, through the daemon's SQL server on 127.0.0.1; or, when the store is PostgreSQL, on that database
 * (the whole fleet's log) as the configured user in a read-only session. With {@code -c} it runs one statement
 * and prints the result; without, it opens H2's interactive JDBC shell on the same connection, whichever the
 * database.
 */
@Command(name = "sql", mixinStandardHelpOptions = true,
        description = {"Query the running daemon's access log, read-only, as the auditor (SELECT on access_log,"
                + " admin_event and listener).",
                "Connects to the daemon's SQL server on 127.0.0.1 (store.sqlPort) with the password in"
                        + " <stateDir>/sql.password; with a PostgreSQL store, to store.url as store.user, the"
                        + " session read-only. Without -c, an interactive JDBC shell (H2's)."})
public final class SqlCommand implements Callable<Integer> {

    /** Rows fetched from the server per round trip: csv and json stream whatever the result's size. */
    private static final int FETCH_SIZE = 1000;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The daemon's tollgate.json; without it the embedded defaults apply, as for run.")
    private Path configFile;

    @Option(names = {"-c", "--command"}, paramLabel = "QUERY",
            description = "Run this one statement, print its result and exit.")
    private String query;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table",
            description = "How -c prints the result: table (aligned columns, the default), csv (RFC 4180) or"
                    + " json (an array of objects).")
    private ResultFormat format;

    @Override
    public Integer call() throws Exception {
        TollgateConfig config = ConfigLoader.loadOrDefaults(configFile);
        try (Connection connection = AuditorConnection.open(config)) {
            if (query == null) {
                // H2's shell: statements end with ';', "help" lists its commands, "quit" or Ctrl-D leaves.
                new Shell().runTool(connection);
            } else {
                run(connection, query);
            }
        }
        return 0;
    }

    private void run(Connection connection, String sql) throws IOException {
        Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        try (Statement statement = connection.createStatement()) {
            statement.setFetchSize(FETCH_SIZE);
            if (statement.execute(sql)) {
                try (ResultSet rows = statement.getResultSet()) {
                    format.write(rows, out);
                }
            }
        } catch (SQLException e) {
            throw new SqlCommandException(QueryErrors.of(e), e);
        } finally {
            out.flush();
        }
    }
}
