package dev.tollgate.daemon.sql;

import dev.tollgate.store.AuditorSqlServer;
import org.h2.api.ErrorCode;
import org.h2.jdbc.JdbcException;

import java.sql.SQLException;

/** H2's errors as the one line {@code tollgate sql} prints. */
final class QueryErrors {

    private QueryErrors() {
    }

    /**
     * The message for a failed statement: a write, or a read of a table the auditor may not see, says so
     * plainly; anything else is H2's own message on one line.
     */
    static String of(SQLException e) {
        if (e.getErrorCode() == ErrorCode.NOT_ENOUGH_RIGHTS_FOR_1
                || e.getErrorCode() == ErrorCode.ADMIN_RIGHTS_REQUIRED) {
            return "permission denied: the auditor may only read (SELECT) "
                    + String.join(", ", AuditorSqlServer.auditTables()) + " (" + oneLine(e) + ")";
        }
        return oneLine(e);
    }

    /**
     * H2's message without the statement it appends on further lines, whitespace folded to single spaces,
     * with the error code, e.g. {@code Table "NOSUCH" not found [42102]}.
     */
    static String oneLine(SQLException e) {
        String message = e instanceof JdbcException h2 ? h2.getOriginalMessage() : e.getMessage();
        if (message == null) {
            message = e.toString();
        }
        String code = e instanceof JdbcException ? " [" + e.getErrorCode() + "]" : "";
        return message.replaceAll("\\s+", " ").trim() + code;
    }
}
