package dev.tollgate.store;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The reason health shows while the writer fails: the innermost cause, which an operator can act on. */
class AccessLogWriterFailureReasonTest {

    @Test
    void aFailedBatchIsExplainedByTheCauseOfItsNextException() {
        // As H2 reports a disk-full commit: the batch exception has no cause, its next exception has.
        BatchUpdateException batch = new BatchUpdateException("General error: \"MVStoreException: Writing to"
                + " FileChannel failed\"", "HY000", 50000, new int[0]);
        batch.setNextException(new SQLException("General error", "HY000", new IllegalStateException(
                "Writing to FileChannel failed", new IOException("No space left on device"))));

        assertEquals("No space left on device", AccessLogWriter.rootCause(batch));
    }

    @Test
    void aPlainCauseChainEndsAtItsFirstLine() {
        SQLException e = new SQLException("Table \"ACCESS_LOG\" not found; SQL statement:\nINSERT INTO ...");

        assertEquals("Table \"ACCESS_LOG\" not found; SQL statement:", AccessLogWriter.rootCause(e));
    }

    @Test
    void aNextExceptionThatLoopsBackEnds() {
        SQLException e = new SQLException("first");
        e.setNextException(e);

        assertEquals("first", AccessLogWriter.rootCause(e));
    }
}
