-- The indexes behind the admin API's access-log queries by exact host or by client (AccessQuery) on
-- PostgreSQL: plain B-trees on access_log, each ending in id, so that a page "host = ? AND id > ? ORDER BY id
-- LIMIT ?" is one range scan of the index, no sort.
--
-- H2 has its own V3 to V5 instead (db/migration/h2): there a B-tree on host cut the writer's insert rate
-- eightfold, so a background indexer fills a table of hashed keys. PostgreSQL updates a B-tree in place,
-- page by page in its shared buffers, and pays for it with a modest share of the writer's rate; and that
-- indexer's mark ("every row up to this id is indexed") assumes ids are committed in order, which several
-- nodes writing at once do not do.
--
-- Versions 4 and 5 are H2's (the sequence cache, the hashed keys): PostgreSQL has no script for them, and a
-- later common migration (V6 and up) runs on both.
CREATE INDEX access_log_host_idx ON access_log (host, id);
CREATE INDEX access_log_client_idx ON access_log (client_addr, id);
