package dev.tollgate.store;

/** The roll-ups' scenarios on a real H2 file. */
class AccessSummaryIT extends SummaryScenarios {

    @Override
    protected StoreConfig config() {
        return new StoreConfig("jdbc:h2:file:" + dir.resolve("access"), null, null, null, 500, 60_000, null, null,
                null, null, null, null);
    }
}
