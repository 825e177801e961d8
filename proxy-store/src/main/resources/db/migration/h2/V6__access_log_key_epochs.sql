-- access_log_key's keys laid out epoch first: (id's epoch, type, hash of the value, id's low 14 bits) instead of
-- (type, hash, id). See AccessLogKeyTable.
--
-- Why: with keys in (type, hash, id) order, each round of the key indexer dirtied one B-tree leaf per distinct
-- host and client anywhere in the table, and H2 rewrites every dirtied leaf whole at the next commit, the
-- writer's commits included. With real traffic (thousands of hosts and clients) that made the index cost about
-- four times what the writer costs per row. Epoch first, a round's keys all fall into the newest epoch's few
-- hundred leaves: the indexer's and writer's CPU per row halved and the bytes written per row fell by five
-- sixths (docs/performance.md, session 8).
--
-- The old keys are dropped and the mark goes back to 0, as in V5: the indexer rebuilds the keys from the start
-- in the background, and until it has caught up queries read the unindexed rows from access_log directly (as
-- they always do above the mark), slower but complete.
TRUNCATE TABLE access_log_key;

UPDATE access_log_key_mark SET id = 0;

-- H2's alone, like V4 and V5 (PostgreSQL has no key table): the next migration for both databases is V7, whatever
-- the comment in postgresql/V3, written before this one, says (an applied migration's text cannot change).
