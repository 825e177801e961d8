-- The indexes behind the admin API's access-log queries (AccessQuery), which always read in id order from a
-- cursor: WHERE host = ? AND id > ? ORDER BY id LIMIT ?. With id as the second column such a page is one
-- range scan of the index, with no sort, however many rows the host has.
--
-- Only these two: each index is written on every insert, on the writer's hot path (docs/performance.md has
-- the insert rate with and without them). A time range uses access_log_ts_idx from V1. A host suffix
-- (*.example.com) cannot use a B-tree index on host (the pattern starts with a wildcard); it is meant to be
-- combined with a time range. The other filters (method, status, listener, username, outcome, kind) narrow
-- a scan that one of these, or the primary key, drives.
CREATE INDEX access_log_host_idx ON access_log (host, id);
CREATE INDEX access_log_client_idx ON access_log (client_addr, id);
