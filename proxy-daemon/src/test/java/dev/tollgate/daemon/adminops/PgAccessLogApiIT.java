package dev.tollgate.daemon.adminops;

import dev.tollgate.daemon.PgStore;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link AccessLogApiIT} on PostgreSQL: the same access-log queries (every filter, paging, CSV), with the
 * daemon's store on a database of each test's own. Skipped unless TOLLGATE_TEST_PG_URL is set.
 */
class PgAccessLogApiIT extends AccessLogApiIT {

    @RegisterExtension
    static final PgStore PG = new PgStore();
}
