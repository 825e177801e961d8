package dev.tollgate.store.internal;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/** What the store needs to know about a JDBC URL, and the settings it adds to an embedded H2 one. */
public final class DatabaseUrl {

    private static final String H2_PREFIX = "jdbc:h2:";
    private static final String POSTGRESQL_PREFIX = "jdbc:postgresql:";

    /** The databases Tollgate's schema runs on, each with its folder of migrations beside the common one. */
    public enum Vendor {
        H2("h2"),
        POSTGRESQL("postgresql");

        private final String migrationFolder;

        Vendor(String migrationFolder) {
            this.migrationFolder = migrationFolder;
        }

        /** The folder under db/migration that holds this database's own scripts. */
        public String migrationFolder() {
            return migrationFolder;
        }
    }
    private static final Pattern SECRET = Pattern.compile("(?i)(password=)[^&;]*");

    private DatabaseUrl() {
    }

    /** Which database {@code url} opens, or null when it is neither H2 nor PostgreSQL. */
    public static Vendor vendorOf(String url) {
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith(H2_PREFIX)) {
            return Vendor.H2;
        }
        return lower.startsWith(POSTGRESQL_PREFIX) ? Vendor.POSTGRESQL : null;
    }

    /** Whether {@code url} opens an H2 database inside this process (file or memory), not a server's. */
    public static boolean isEmbeddedH2(String url) {
        String lower = url.toLowerCase(Locale.ROOT);
        return lower.startsWith(H2_PREFIX)
                && !lower.startsWith(H2_PREFIX + "tcp:")
                && !lower.startsWith(H2_PREFIX + "ssl:");
    }

    /** Whether {@code url} is an embedded H2 database kept in files (not {@code jdbc:h2:mem:}). */
    public static boolean isH2File(String url) {
        return isEmbeddedH2(url) && !url.toLowerCase(Locale.ROOT).startsWith(H2_PREFIX + "mem:");
    }

    /**
     * {@code url} with the settings an audit trail needs from an H2 file, each added only where the URL
     * does not set it already; any other URL unchanged.
     * <ul>
     * <li>{@code WRITE_DELAY=0}: H2's default delay loses committed rows on kill -9 (STACK.md, "H2 facts").</li>
     * <li>{@code DB_CLOSE_ON_EXIT=FALSE}: H2's own shutdown hook would otherwise close the database while
     *     the daemon's shutdown is still flushing the writer, losing the last records of a SIGTERM.
     *     {@link dev.tollgate.store.AccessLog#close()} closes the database instead. Not with
     *     {@code AUTO_SERVER=TRUE}, which H2 refuses to combine with it (error 50100).</li>
     * </ul>
     */
    public static String withAuditSettings(String url) {
        if (!isH2File(url)) {
            return url;
        }
        String durable = withSetting(url, "WRITE_DELAY", "0");
        return hasSetting(url, "AUTO_SERVER") ? durable : withSetting(durable, "DB_CLOSE_ON_EXIT", "FALSE");
    }

    /**
     * The database an H2 file URL names, as an absolute path without H2's {@code .mv.db} suffix: the
     * {@code file:} prefix and {@code ;KEY=value} settings dropped, {@code ~} taken as the user's home and a
     * relative path taken from this process's working directory, as H2 does.
     *
     * @throws IllegalArgumentException when {@code url} is not an H2 file URL
     */
    public static Path h2FilePath(String url) {
        if (!isH2File(url)) {
            throw new IllegalArgumentException(masked(url) + " is not an H2 file URL");
        }
        String name = url.substring(H2_PREFIX.length());
        if (name.toLowerCase(Locale.ROOT).startsWith("file:")) {
            name = name.substring("file:".length());
        }
        int settings = name.indexOf(';');
        if (settings >= 0) {
            name = name.substring(0, settings);
        }
        if (name.equals("~") || name.startsWith("~/")) {
            name = System.getProperty("user.home") + name.substring(1);
        }
        return Path.of(name).toAbsolutePath().normalize();
    }

    /** {@code url} fit for a log line: password parameters masked. */
    public static String masked(String url) {
        return url == null ? null : SECRET.matcher(url).replaceAll("$1***");
    }

    private static String withSetting(String url, String key, String value) {
        return hasSetting(url, key) ? url : url + ";" + key + "=" + value;
    }

    private static boolean hasSetting(String url, String key) {
        return url.toUpperCase(Locale.ROOT).contains(";" + key + "=");
    }
}
