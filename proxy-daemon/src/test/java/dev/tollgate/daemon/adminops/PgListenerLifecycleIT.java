package dev.tollgate.daemon.adminops;

import dev.tollgate.daemon.PgStore;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link ListenerLifecycleIT} on PostgreSQL: the same API-made listeners, kept per node and restored after a
 * restart, with the daemon's store on a database of each test's own. Skipped unless TOLLGATE_TEST_PG_URL is set.
 */
class PgListenerLifecycleIT extends ListenerLifecycleIT {

    @RegisterExtension
    static final PgStore PG = new PgStore();
}
