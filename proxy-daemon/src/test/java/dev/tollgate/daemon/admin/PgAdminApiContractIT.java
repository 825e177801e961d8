package dev.tollgate.daemon.admin;

import dev.tollgate.daemon.PgStore;

import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link AdminApiContractIT} on PostgreSQL: the same admin API's JSON contract, with the daemon's store on a
 * database of each test's own. Skipped unless TOLLGATE_TEST_PG_URL is set.
 */
class PgAdminApiContractIT extends AdminApiContractIT {

    @RegisterExtension
    static final PgStore PG = new PgStore();
}
