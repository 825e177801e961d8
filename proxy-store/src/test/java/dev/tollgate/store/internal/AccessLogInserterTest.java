package dev.tollgate.store.internal;

import org.junit.jupiter.api.Test;

import java.sql.BatchUpdateException;
import java.sql.SQLException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccessLogInserterTest {

    @Test
    void dataAndConstraintErrorsAreBadData() {
        assertTrue(AccessLogInserter.isBadData(new SQLException("NUL in text", "22021")));
        assertTrue(AccessLogInserter.isBadData(new SQLException("check violated", "23513")));
    }

    @Test
    void aBatchFailureIsJudgedByTheStatementThatFailed() {
        BatchUpdateException batch = new BatchUpdateException("batch failed", null, 0, new int[0], null);
        batch.setNextException(new SQLException("value too long", "22001"));

        assertTrue(AccessLogInserter.isBadData(batch));
    }

    @Test
    void connectionResourceAndSchemaErrorsAreRetried() {
        assertFalse(AccessLogInserter.isBadData(new SQLException("connection lost", "08006")));
        assertFalse(AccessLogInserter.isBadData(new SQLException("disk full", "53100")));
        assertFalse(AccessLogInserter.isBadData(new SQLException("table not found", "42S02")));
        assertFalse(AccessLogInserter.isBadData(new SQLException("no state")));
    }
}
