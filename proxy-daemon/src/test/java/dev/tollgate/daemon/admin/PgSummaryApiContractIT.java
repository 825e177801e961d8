package dev.tollgate.daemon.admin;

import dev.tollgate.daemon.PgStore;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link SummaryApiContractIT} on PostgreSQL, the daemon's store on a database of each test's own. Skipped unless
 * TOLLGATE_TEST_PG_URL is set.
 */
class PgSummaryApiContractIT extends SummaryApiContractIT {

    @RegisterExtension
    static final PgStore PG = new PgStore();
}
