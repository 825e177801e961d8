package dev.tollgate.daemon;

import dev.tollgate.admin.BackupReport;
import dev.tollgate.admin.ControlException;
import dev.tollgate.store.OnlineBackup;
import dev.tollgate.store.internal.DatabaseUrl;
import dev.tollgate.store.internal.Directories;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Online backups of the embedded H2 access log into {@code <stateDir>/backups/}, one new file each time,
 * named by the time it was taken ({@code access-20261127T140501Z.zip}). The folder is made like the state
 * directory (owner and group may read), since a backup holds everything the database holds.
 */
final class DatabaseBackup {

    private static final Logger LOG = LoggerFactory.getLogger(DatabaseBackup.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final DataSource dataSource;
    private final String storeUrl;
    private final Path backupDir;

    DatabaseBackup(DataSource dataSource, String storeUrl, Path stateDir) {
        this.dataSource = dataSource;
        this.storeUrl = storeUrl;
        this.backupDir = stateDir.resolve("backups");
    }

    synchronized BackupReport take() throws ControlException {
        if (!DatabaseUrl.isH2File(storeUrl)) {
            throw new ControlException(ControlException.Kind.CONFLICT, "online backup covers the embedded H2"
                    + " database; the store is " + DatabaseUrl.masked(storeUrl) + ": back it up with that"
                    + " database's own tools");
        }
        long started = System.nanoTime();
        Path zip;
        long bytes;
        try {
            createBackupDir();
            zip = freshName(Instant.now());
            bytes = OnlineBackup.toZip(dataSource, zip);
        } catch (IOException | SQLException e) {
            LOG.warn("backup - failed: {}", e.getMessage());
            throw new IllegalStateException("the backup failed: " + e.getMessage(), e);
        }
        long durationMs = (System.nanoTime() - started) / 1_000_000;
        LOG.info("backup - {} written ({} bytes, {} ms)", zip, bytes, durationMs);
        return new BackupReport(zip.toString(), bytes, durationMs);
    }

    private void createBackupDir() throws IOException {
        Directories.createIfMissing(backupDir, Directories.GROUP_READABLE);
    }

    /** A file name not taken yet: two backups in one second get -2, -3, ... */
    private Path freshName(Instant now) {
        String stamp = STAMP.format(now);
        Path zip = backupDir.resolve("access-" + stamp + ".zip");
        for (int n = 2; Files.exists(zip); n++) {
            zip = backupDir.resolve("access-" + stamp + "-" + n + ".zip");
        }
        return zip;
    }
}
