package dev.tollgate.store.internal;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatabaseUrlTest {

    @Test
    void anH2FileGetsDurableWritesAndNoCloseOnExit() {
        assertEquals("jdbc:h2:file:/var/lib/tollgate/access;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE",
                DatabaseUrl.withAuditSettings("jdbc:h2:file:/var/lib/tollgate/access"));
        assertEquals("jdbc:h2:./access;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE",
                DatabaseUrl.withAuditSettings("jdbc:h2:./access"));
    }

    @Test
    void settingsTheUrlAlreadyHasAreKept() {
        assertEquals("jdbc:h2:file:/x;write_delay=100;DB_CLOSE_ON_EXIT=FALSE",
                DatabaseUrl.withAuditSettings("jdbc:h2:file:/x;write_delay=100"));
        assertEquals("jdbc:h2:file:/x;DB_CLOSE_ON_EXIT=TRUE;WRITE_DELAY=0",
                DatabaseUrl.withAuditSettings("jdbc:h2:file:/x;DB_CLOSE_ON_EXIT=TRUE"));
    }

    @Test
    void anAutoServerFileKeepsClosingOnExitBecauseH2RefusesTheCombination() {
        assertEquals("jdbc:h2:file:/x;AUTO_SERVER=TRUE;WRITE_DELAY=0",
                DatabaseUrl.withAuditSettings("jdbc:h2:file:/x;AUTO_SERVER=TRUE"));
    }

    @Test
    void memoryServerAndOtherDatabasesAreLeftAlone() {
        assertEquals("jdbc:h2:mem:test", DatabaseUrl.withAuditSettings("jdbc:h2:mem:test"));
        assertEquals("jdbc:h2:tcp://localhost/~/access", DatabaseUrl.withAuditSettings("jdbc:h2:tcp://localhost/~/access"));
        assertEquals("jdbc:postgresql://db/audit", DatabaseUrl.withAuditSettings("jdbc:postgresql://db/audit"));
    }

    @Test
    void embeddedMeansInThisProcess() {
        assertTrue(DatabaseUrl.isEmbeddedH2("jdbc:h2:mem:test"));
        assertTrue(DatabaseUrl.isEmbeddedH2("JDBC:H2:FILE:/x"));
        assertFalse(DatabaseUrl.isEmbeddedH2("jdbc:h2:ssl://host/x"));
        assertFalse(DatabaseUrl.isEmbeddedH2("jdbc:postgresql://db/audit"));
    }

    @Test
    void passwordsAreMaskedForLogs() {
        assertEquals("jdbc:postgresql://db/audit?user=t&password=***&ssl=true",
                DatabaseUrl.masked("jdbc:postgresql://db/audit?user=t&password=s3cret&ssl=true"));
        assertEquals("jdbc:h2:file:/x;PASSWORD=***", DatabaseUrl.masked("jdbc:h2:file:/x;PASSWORD=s3cret"));
    }

    @Test
    void theFilePathOfAnH2UrlIsAbsoluteWithoutPrefixOrSettings() {
        assertEquals(Path.of("/var/lib/tollgate/access"),
                DatabaseUrl.h2FilePath("jdbc:h2:file:/var/lib/tollgate/access;WRITE_DELAY=0"));
        assertEquals(Path.of("/var/lib/tollgate/access"), DatabaseUrl.h2FilePath("jdbc:h2:/var/lib/tollgate/./access"));
        assertEquals(Path.of(System.getProperty("user.home"), "db", "access"),
                DatabaseUrl.h2FilePath("jdbc:h2:~/db/access"));
        assertEquals(Path.of("").toAbsolutePath().resolve("data/access"),
                DatabaseUrl.h2FilePath("jdbc:h2:./data/access"));
    }

    @Test
    void onlyH2FilesHaveAFilePath() {
        assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.h2FilePath("jdbc:h2:mem:test"));
        assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.h2FilePath("jdbc:h2:tcp://localhost/~/x"));
        assertThrows(IllegalArgumentException.class, () -> DatabaseUrl.h2FilePath("jdbc:postgresql://db/audit"));
    }
}
