-- The database ceiling of POST /enclave/submit_key (scripts/bench.sh): what
-- the server issues for one submission today, statement for statement, as
-- prepared statements (pgbench -M prepared, like the server's PQexecPrepared),
-- one transaction per submit. The SQL is copied from src/server/db.c
-- (statements ST_ENVELOPE_SEEN, ST_BEGIN, ST_ENVELOPE_USE, ST_SESSION_INSERT,
-- ST_CREDENTIALS_INSERT, ST_COMMIT; op_envelope_seen and op_session_create).
--
-- One addition the server does not make: the first SELECT draws a fresh
-- session id and ephemeral key for this transaction (pgbench's own variables
-- are numbers only, and the schema checks the base64 shape). It reads no
-- table and writes nothing, but it is one more round trip, so the ceiling is
-- slightly LOWER than the database could do: a ratio above 1.0 is possible.
-- The other parameters (nonce, ciphertext, tag, metadata, enclave key,
-- expires) are taken from a real sealed body by scripts/bench.sh (-D).
SELECT gen_random_uuid() AS sid, encode(decode(md5(random()::text) || md5(random()::text), 'hex'), 'base64') AS pub \gset
SELECT 1 FROM used_envelopes WHERE ephemeral_pub = :pub;
BEGIN;
INSERT INTO used_envelopes (ephemeral_pub) VALUES (:pub);
INSERT INTO sessions (id, exchange, label, status, expires_at, enclave_pubkey) VALUES (:sid::uuid, :exchange, :label, 'active', to_timestamp(:expires::double precision / 1000), :enclave_pubkey);
INSERT INTO credentials (session_id, ephemeral_pub, nonce, ciphertext, tag, metadata_jcs, expires_at) VALUES (:sid::uuid, :pub, :nonce, :ciphertext, :tag, :metadata_jcs, to_timestamp(:expires::double precision / 1000));
COMMIT;
