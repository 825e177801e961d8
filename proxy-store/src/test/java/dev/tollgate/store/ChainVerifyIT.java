package dev.tollgate.store;

import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** The chain's scenarios on a real H2 file, changed by hand as its owner. */
class ChainVerifyIT extends ChainVerifyScenarios {

    @Override
    protected StoreConfig config() {
        return new StoreConfig(url(), null, null, null, 500, 60_000, null, null, null, null, null, null);
    }

    /** The owner, as anyone who can read the 0600 password file can be. */
    @Override
    protected Connection connect() throws SQLException {
        try {
            return DriverManager.getConnection(url(), StoreConfig.DEFAULT_USER,
                    Files.readString(dir.resolve(AccessLog.OWNER_PASSWORD_FILE)).trim());
        } catch (IOException e) {
            throw new SQLException(e);
        }
    }

    private String url() {
        return "jdbc:h2:file:" + dir.resolve("access");
    }
}
