-- The index behind the admin API's access-log queries by exact host or by client (AccessQuery), kept
-- outside access_log and written in bulk, away from the request path.
--
-- Why not CREATE INDEX ON access_log (host, id): on H2 each such index cut the writer's insert rate from
-- about 59,000 to about 7,000 rows/s. A row with a random host dirties a random leaf page of the index, and
-- H2's MVStore rewrites every dirtied page whole at every durable commit (WRITE_DELAY=0). Instead
-- KeyIndexer reads newly written rows about once a second, sorts their (type, value, id) keys and inserts
-- them into this table in one transaction: sorted keys share few leaf pages, so a round dirties each page
-- once, not once per row. See docs/performance.md.
--
-- key_type: 'H' the row's host, 'C' its client_addr. Rows whose host or client is NULL have no key of that
-- type. key_value is as wide as access_log.host, the widest keyed column.
CREATE TABLE access_log_key (
    key_type  CHAR(1) NOT NULL,
    key_value VARCHAR(1024) NOT NULL,
    id        BIGINT NOT NULL,
    -- key_type, key_value, then id: a page "host = ? AND id > ? ORDER BY id" is one range scan, no sort.
    PRIMARY KEY (key_type, key_value, id)
);

-- For retention, which deletes the keys of purged rows by id range. Its inserts come in id order, so this
-- index only ever appends to its last pages: cheap.
CREATE INDEX access_log_key_id_idx ON access_log_key (id);

-- One row: the highest access_log id whose keys are in access_log_key. Rows above it are "the unindexed
-- tail", which queries read straight from access_log. KeyIndexer moves it in the same transaction as the
-- keys it inserts, so the two always agree, and a crash just leaves more tail to catch up on.
CREATE TABLE access_log_key_mark (
    id BIGINT NOT NULL
);
INSERT INTO access_log_key_mark (id) VALUES (0);
