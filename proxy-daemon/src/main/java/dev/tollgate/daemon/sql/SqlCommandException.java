package dev.tollgate.daemon.sql;

/**
 * Why {@code tollgate sql} could not do what it was asked, in one line a person can act on; the command line
 * prints it after {@code tollgate: } and exits 1, with no stack trace.
 */
public final class SqlCommandException extends RuntimeException {

    public SqlCommandException(String message) {
        super(message);
    }

    public SqlCommandException(String message, Throwable cause) {
        super(message, cause);
    }
}
