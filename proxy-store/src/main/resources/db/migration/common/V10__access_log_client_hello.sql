-- What a tunnel's client said in its TLS ClientHello, read as it passed without decrypting it (issue #22): the
-- ALPN protocols offered (comma-separated), the highest TLS version offered (or 'none' when the tunnel did not
-- start with TLS, 'unknown' when no whole ClientHello came within the bounds) and the JA4 fingerprint. The SNI
-- already has its column (V1). NULL in every row before this migration and in every row that is not a tunnel.
--
-- V10, not V9: V9 is another change's, made at the same time. Plain SQL that runs unchanged on H2 2.x and
-- PostgreSQL 10+; adding a nullable column rewrites no row on either.
ALTER TABLE access_log ADD COLUMN alpn VARCHAR(255);
ALTER TABLE access_log ADD COLUMN tls_version VARCHAR(16);
ALTER TABLE access_log ADD COLUMN ja4 VARCHAR(64);
