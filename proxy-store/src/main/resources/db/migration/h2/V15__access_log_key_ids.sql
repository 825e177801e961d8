-- access_log_key's rows become entries: k names the first row of a run of one key range (one value's hash, type
-- and epoch) that the key indexer gathered in one round, ids the rest of the run as varint distances, NULL for a
-- run of one row. See AccessLogKeyTable.
--
-- Why: every row inserted into an H2 B-tree copies the pages on its path from the root (copy-on-write), about
-- 1.7 KB of allocation per key. Two keys a row (host, client) made the keys the largest part of the store's
-- allocation per request; a value seen many times in a round now costs one insert (docs/performance.md,
-- session 18).
--
-- The keys already stored are entries of one row each (ids NULL): nothing is rebuilt, and the mark stays.
ALTER TABLE access_log_key ADD COLUMN ids VARBINARY;

-- H2's alone, like V4 to V6, V8 and V9: PostgreSQL has no key table.
