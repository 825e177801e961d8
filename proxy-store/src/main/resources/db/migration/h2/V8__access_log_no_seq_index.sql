-- H2 stores without V7's unique index on (node, seq): the index cost every request's row about 2.5 KB of
-- allocation in H2's copy-on-write pages and a tenth of the http_small rate (docs/performance.md, "The
-- journal"). It is not needed on H2, where one node writes: the writer stores records in journal order, so the
-- rows at or below the highest number stored are exactly the journal records the database has, and that number
-- is read from the newest row through the primary key (AccessLogTable.highestStoredSeq). A replay after a crash
-- and a retry after a commit that reported a failure skip what is at or below it. PostgreSQL, where nodes share
-- the table and a lost commit answer is normal, keeps the index and its ON CONFLICT (node, seq) DO NOTHING.
DROP INDEX IF EXISTS access_log_node_seq_idx;
