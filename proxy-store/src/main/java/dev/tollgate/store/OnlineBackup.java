package dev.tollgate.store;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A consistent copy of the embedded H2 database taken while it is in use (H2's {@code BACKUP TO}): the writer
 * goes on storing records meanwhile. The result is a zip file holding the database file ({@code access.mv.db});
 * restoring is unzipping it into a stopped daemon's state directory (docs/operations.md).
 */
public final class OnlineBackup {

    private OnlineBackup() {
    }

    /**
     * Writes the backup to {@code zip}, which must not exist yet.
     *
     * @return the size of the zip file in bytes
     * @throws SQLException when the database refuses (not H2, or the file cannot be written)
     */
    public static long toZip(DataSource dataSource, Path zip) throws SQLException {
        if (Files.exists(zip)) {
            throw new SQLException(zip + " exists already: a backup never overwrites a file");
        }
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement()) {
            // The path is ours (made by the caller from the state directory and a time stamp), never a client's.
            statement.execute("BACKUP TO '" + zip.toString().replace("'", "''") + "'");
        }
        try {
            return Files.size(zip);
        } catch (java.io.IOException e) {
            throw new SQLException("the backup was written but " + zip + " cannot be read: " + e.getMessage(), e);
        }
    }
}
