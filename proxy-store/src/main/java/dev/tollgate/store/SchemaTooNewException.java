package dev.tollgate.store;

import java.sql.SQLException;

/**
 * The database holds migrations newer than this build knows: another node, or a newer release, has upgraded
 * it. This build does not write to a schema it cannot vouch for; the node must be upgraded instead. Flyway
 * itself only warns about such "future" migrations and carries on, which in a fleet would let an old node
 * write rows a newer schema may not expect.
 */
public final class SchemaTooNewException extends SQLException {

    private final String databaseVersion;
    private final String buildVersion;

    SchemaTooNewException(String name, String databaseVersion, String buildVersion) {
        super(name + " - the database schema is at version " + databaseVersion + ", newer than this Tollgate"
                + " knows (up to version " + buildVersion + "); another node or a newer release has upgraded it:"
                + " run the same release on this node");
        this.databaseVersion = databaseVersion;
        this.buildVersion = buildVersion;
    }

    /** The highest migration version applied to the database. */
    public String databaseVersion() {
        return databaseVersion;
    }

    /** The highest migration version this build ships for that database. */
    public String buildVersion() {
        return buildVersion;
    }
}
