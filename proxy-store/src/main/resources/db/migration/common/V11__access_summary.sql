-- Roll-ups of access_log for the auditor's console and `tollgate report` (issue #25; docs/access-log.md, "Roll-ups"):
-- summaries over a range answer from these tables, never by scanning access_log, so that they stay fast at 100M
-- rows. The writer adds each batch's rows to them in the batch's own transaction (on H2 the key indexer adds them to
-- access_summary_key_hour, in the transaction that moves its mark), retention subtracts the rows it deletes in the
-- delete's transaction: they equal a GROUP BY over access_log at every commit (SummaryTables). V12 fills them from
-- the rows already stored.
--
-- Plain SQL that runs unchanged on H2 2.x and PostgreSQL 10+.

-- Requests and body bytes per minute by kind, outcome and status class: status / 100 for 100 to 599 (1 to 5),
-- 0 for a row without such a status (a refusal answered before a status, a tunnel that never got one). The key's
-- cardinality is small whatever the traffic: 3 kinds x 16 outcomes x 6 classes at most, in practice about 20
-- combinations in a busy minute, so about 29,000 rows a day.
CREATE TABLE access_summary_minute (
    bucket            TIMESTAMP(3) WITH TIME ZONE NOT NULL,
    kind              VARCHAR(16) NOT NULL,
    outcome           VARCHAR(32) NOT NULL,
    status_class      INT NOT NULL,
    requests          BIGINT NOT NULL,
    bytes_from_client BIGINT NOT NULL,
    bytes_to_client   BIGINT NOT NULL,
    PRIMARY KEY (bucket, kind, outcome, status_class)
);

-- The same per hour: what hour and day series read (a day is 24 of its rows, summed as they are read).
CREATE TABLE access_summary_hour (
    bucket            TIMESTAMP(3) WITH TIME ZONE NOT NULL,
    kind              VARCHAR(16) NOT NULL,
    outcome           VARCHAR(32) NOT NULL,
    status_class      INT NOT NULL,
    requests          BIGINT NOT NULL,
    bytes_from_client BIGINT NOT NULL,
    bytes_to_client   BIGINT NOT NULL,
    PRIMARY KEY (bucket, kind, outcome, status_class)
);

-- Requests and bytes per hour by one value of one dimension, for "top N over a range":
--   dim 'H': host; 'C': client_addr; 'U': username; 'R': outcome || ': ' || reason (outcome alone without a
--   reason) of the rows whose outcome is not OK.
-- A row without a host, client or user has no entry for that dimension. key_value is the value cut to 255
-- characters: at most 1,020 bytes in UTF-8, under PostgreSQL's limit for a B-tree entry (about 2,700 bytes),
-- which a 1,024-character host could pass.
--
-- This is the table whose size follows the traffic: one row per distinct host (client, user, reason) per hour.
-- With 5,000 hosts and 1,000 clients seen every hour that is about 145,000 rows a day, 4.3 million in 30 days;
-- a top-N over 24 hours reads about 145,000 rows, over 30 days all of them (docs/access-log.md, "Roll-ups").
-- dim leads the key, then bucket: a range of one dimension is one contiguous scan of the primary key.
CREATE TABLE access_summary_key_hour (
    dim               CHAR(1) NOT NULL,
    bucket            TIMESTAMP(3) WITH TIME ZONE NOT NULL,
    key_value         VARCHAR(255) NOT NULL,
    requests          BIGINT NOT NULL,
    bytes_from_client BIGINT NOT NULL,
    bytes_to_client   BIGINT NOT NULL,
    PRIMARY KEY (dim, bucket, key_value)
);
