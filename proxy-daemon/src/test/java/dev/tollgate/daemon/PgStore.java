package dev.tollgate.daemon;

import dev.tollgate.testing.PgTestDatabase;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test's daemons on a PostgreSQL database of its own instead of their H2 files: before each test it
 * creates the database ({@link PgTestDatabase}, which skips the test when {@value PgTestDatabase#URL_VARIABLE}
 * is not set) and has {@link RunningTollgate} put it into every config that names no {@code store.url};
 * after each test it drops it. Register it on a subclass of an H2 contract test to run the same contract on
 * PostgreSQL: {@code @RegisterExtension static final PgStore PG = new PgStore();}.
 */
public final class PgStore implements BeforeEachCallback, AfterEachCallback {

    private PgTestDatabase db;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        db = PgTestDatabase.create();
        RunningTollgate.useStore(db.storeKeys());
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        RunningTollgate.useStore(null);
        if (db != null) {
            db.close();
            db = null;
        }
    }

    /** This test's database. */
    public PgTestDatabase database() {
        return db;
    }
}
