-- Each record's place in its node's audit journal (docs/access-log.md, "The journal"): the node's sequence
-- number, handed out as the record is appended to the journal in the state directory, before the client gets
-- the end of its answer. The writer stores records from the journal; after a crash the daemon replays the
-- journal, and the same record may reach the database twice (once before the crash, once in the replay), or a
-- batch may be retried after a commit whose answer was lost (PostgreSQL). The unique index makes the second
-- copy a no-op: on H2 the writer takes the unique violation as "stored already", on PostgreSQL the insert says
-- ON CONFLICT (node, seq) DO NOTHING.
--
-- Rows stored before this migration have no seq (NULL): a unique index admits any number of NULLs on both
-- databases, and they never conflict. seq increases with the journal, so the index's inserts land on its
-- rightmost page, which is why this index, unlike host or client (H2's V3 to V6), costs the writer little.
--
-- Plain SQL that runs unchanged on H2 2.x and PostgreSQL 10+.
ALTER TABLE access_log ADD COLUMN seq BIGINT;
CREATE UNIQUE INDEX access_log_node_seq_idx ON access_log (node, seq);
