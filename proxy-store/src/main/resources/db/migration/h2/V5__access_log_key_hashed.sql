-- access_log_key again, one BIGINT per key instead of (key_type, key_value, id): see AccessLogKeyTable.
--
-- Why: V3's keys held the host or client text itself under a three-column primary key, which H2 keeps as a
-- row map, a primary-key index and the id index: three maps, each key's text written twice. The key indexer
-- managed about 21,000 rows/s that way, a fifth of what the writer stores, so at full load it fell behind
-- for good and queries turned into scans. One BIGINT that packs the key's type, a hash of its value and the
-- row's id is one map of 8-byte keys, and a round of sorted keys appends to few pages: about 140,000 rows/s
-- in the same measurement (docs/performance.md, "Writer").
--
-- A hash can collide, so a query through the keys still compares the host or client of each row it joins.
--
-- The old keys are dropped and the mark goes back to 0: the indexer builds the new keys from the start in
-- the background, and until it has caught up queries read the unindexed rows from access_log directly (as
-- they always do above the mark), slower but complete.
DROP TABLE access_log_key;

CREATE TABLE access_log_key (
    k BIGINT NOT NULL PRIMARY KEY
);

UPDATE access_log_key_mark SET id = 0;
