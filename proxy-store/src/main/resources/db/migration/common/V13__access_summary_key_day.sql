-- The ranks of access_summary_key_hour (V11) summed per UTC day, so that a top-N over weeks reads one row per value
-- per day instead of 24 (issue #25; docs/access-log.md, "Roll-ups"). A top-N reads this table for the sealed whole
-- UTC days of its range and access_summary_key_hour for the rest (AccessSummary.top).
--
-- It holds the days before access_summary_key_day_mark.sealed_until, and each of them exactly: the sum of that
-- day's hour ranks at every commit. A day is sealed once it is over (the first change to the ranks after midnight
-- UTC sums its hour ranks into this table and moves the mark, SealedDays); from then on every transaction that adds
-- rows to its hour ranks (a late row: a journal replay, a tunnel that closes after midnight) or subtracts purged
-- ones (retention) changes its day ranks by the same rows. Today is not held: its hour ranks change in every
-- key-indexer round, and keeping a second copy of them would double what H2 writes per round
-- (docs/performance.md, "Summary queries").
--
-- Size: one row per distinct value per day, about a twentieth of the hour table for values seen every hour (5,000
-- hosts: 5,000 rows a day against 120,000); rarer values, seen in few hours of a day, shrink less.
--
-- Plain SQL that runs unchanged on H2 2.x and PostgreSQL 10+. bucket is the day's start, 00:00 UTC. V14 seals the
-- days the hour ranks already hold and writes the mark's one row.
CREATE TABLE access_summary_key_day (
    dim               CHAR(1) NOT NULL,
    bucket            TIMESTAMP(3) WITH TIME ZONE NOT NULL,
    key_value         VARCHAR(255) NOT NULL,
    requests          BIGINT NOT NULL,
    bytes_from_client BIGINT NOT NULL,
    bytes_to_client   BIGINT NOT NULL,
    PRIMARY KEY (dim, bucket, key_value)
);

-- One row: the start of the first UTC day not sealed yet.
CREATE TABLE access_summary_key_day_mark (
    sealed_until      TIMESTAMP(3) WITH TIME ZONE NOT NULL
);
