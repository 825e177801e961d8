package dev.tollgate.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StoreConfigTest {

    @TempDir
    Path dir;

    @Test
    void aPasswordFileGivesItsFirstLineAsThePassword() throws Exception {
        Path file = Files.writeString(dir.resolve("db.password"), "s3cret\nnot this\n");

        StoreConfig config = withPasswordFile(null, file.toString());

        assertEquals("s3cret", config.readPassword());
        assertEquals("", config.password(), "the secret stays out of the config record");
    }

    @Test
    void aMissingPasswordFileIsRefusedNamingTheKeyAndThePath() {
        Path missing = dir.resolve("nope");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withPasswordFile(null, missing.toString()));

        assertEquals("passwordFile: " + missing + ": no such file", e.getMessage());
    }

    @Test
    void aPasswordAndAPasswordFileTogetherAreRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("db.password"), "s3cret\n");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> withPasswordFile("other", file.toString()));

        assertTrue(e.getMessage().startsWith("passwordFile: " + file + " is set and so is password"), e.getMessage());
    }

    @Test
    void aUrlOfAnotherDatabaseIsRefusedWithItsPasswordMasked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StoreConfig("jdbc:mysql://h/db?password=x", null, null, null, null, null));

        assertEquals("url: \"jdbc:mysql://h/db?password=***\" is neither H2 (jdbc:h2:) nor PostgreSQL"
                + " (jdbc:postgresql:), the two databases Tollgate's schema runs on", e.getMessage());
    }

    private static StoreConfig withPasswordFile(String password, String passwordFile) {
        return new StoreConfig("jdbc:postgresql://127.0.0.1:5432/tollgate", "tollgate", password, passwordFile, null,
                null, null, null, null, null);
    }

    @Test
    void everyKeyLeftOutTakesItsDefault() {
        StoreConfig config = StoreConfig.defaults();

        assertNull(config.url());
        assertEquals("tollgate", config.user());
        assertEquals("", config.password());
        assertEquals(500, config.batchSize());
        assertEquals(200, config.flushIntervalMs());
        assertEquals(65_536, config.queueCapacity());
        assertEquals(16 * 1024 * 1024, config.journalSegmentBytes());
        assertEquals(false, config.fsync());
    }

    @Test
    void valuesAtTheLimitsAreAccepted() {
        StoreConfig low = new StoreConfig("jdbc:h2:mem:x", "u", "p", 1, 1, 1);
        StoreConfig high = new StoreConfig("jdbc:h2:mem:x", "u", "p", 10_000, 60_000, 10_000_000);

        assertEquals(1, low.batchSize());
        assertEquals(1, low.flushIntervalMs());
        assertEquals(1, low.queueCapacity());
        assertEquals(10_000, high.batchSize());
        assertEquals(60_000, high.flushIntervalMs());
        assertEquals(10_000_000, high.queueCapacity());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "batchSize, 0, (1 to 10000)",
            "batchSize, -1, (1 to 10000)",
            "batchSize, 10001, (1 to 10000)",
            "flushIntervalMs, 0, (1 to 60000)",
            "flushIntervalMs, 60001, (1 to 60000)",
            "queueCapacity, 0, (1 to 10000000)",
            "queueCapacity, 10000001, (1 to 10000000)",
            "journalSegmentBytes, 65535, (65536 to 1073741824)",
            "journalSegmentBytes, 1073741825, (65536 to 1073741824)",
            "checkpointIntervalSeconds, 0, (1 to 86400)",
            "checkpointIntervalSeconds, 86401, (1 to 86400)",
    })
    void anOutOfRangeValueIsRejectedNamingKeyValueAndLimits(String key, int value, String limits) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> configWith(key, value));

        String message = e.getMessage();
        assertTrue(message.startsWith(key + ": " + value + " "), message);
        assertTrue(message.contains(limits), message);
    }

    @Test
    void aUrlThatIsNotJdbcIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new StoreConfig("h2:file:/tmp/x", null, null, null, null, null));

        assertTrue(e.getMessage().startsWith("url: "), e.getMessage());
        assertTrue(e.getMessage().contains("h2:file:/tmp/x"), e.getMessage());
    }

    @Test
    void theDefaultUrlFillsOnlyAMissingUrl() {
        StoreConfig given = new StoreConfig("jdbc:h2:mem:given", null, null, 7, null, null);

        assertSame(given, given.withDefaultUrl("jdbc:h2:file:/var/lib/tollgate/access"));
        StoreConfig filled = StoreConfig.defaults().withDefaultUrl("jdbc:h2:file:/var/lib/tollgate/access");
        assertEquals("jdbc:h2:file:/var/lib/tollgate/access", filled.url());
        assertEquals(StoreConfig.DEFAULT_BATCH_SIZE, filled.batchSize());
    }

    private static StoreConfig configWith(String key, int value) {
        return switch (key) {
            case "batchSize" -> new StoreConfig(null, null, null, value, null, null);
            case "flushIntervalMs" -> new StoreConfig(null, null, null, null, value, null);
            case "queueCapacity" -> new StoreConfig(null, null, null, null, null, value);
            case "journalSegmentBytes" -> new StoreConfig(null, null, null, null, null, null, null, null, null, null,
                    value, null);
            case "checkpointIntervalSeconds" -> new StoreConfig(null, null, null, null, null, null, null, null, null,
                    null, null, null, null, value);
            default -> throw new IllegalArgumentException(key);
        };
    }
}
