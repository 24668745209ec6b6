-- The database ceiling of POST /enclave/submit_key (scripts/bench.sh): what
-- the server issues for one submission today, statement for statement, as
-- prepared statements (pgbench -M prepared, like the server's PQexecPrepared),
-- one transaction per submit. The SQL is copied from src/server/db.c
-- (statement ST_SESSION_CREATE, op_session_create: one statement that is its
-- own transaction; the replay check is its unique constraint, and the
-- separate SELECT of ST_ENVELOPE_SEEN runs only when the enclave refuses).
--
-- One addition the server does not make: the first SELECT draws a fresh
-- session id and ephemeral key for this transaction (pgbench's own variables
-- are numbers only, and the schema checks the base64 shape). It reads no
-- table and writes nothing, but it is one more round trip, so the ceiling is
-- slightly LOWER than the database could do: a ratio above 1.0 is possible.
-- The other parameters (nonce, ciphertext, tag, metadata, enclave key,
-- expires) are taken from a real sealed body by scripts/bench.sh (-D).
SELECT gen_random_uuid() AS sid, encode(decode(md5(random()::text) || md5(random()::text), 'hex'), 'base64') AS pub \gset
WITH used AS (INSERT INTO used_envelopes (ephemeral_pub) VALUES (:pub)), s AS (INSERT INTO sessions (id, exchange, label, status, expires_at, enclave_pubkey) VALUES (:sid::uuid, :exchange, :label, 'active', to_timestamp(:expires::double precision / 1000), :enclave_pubkey) RETURNING id) INSERT INTO credentials (session_id, ephemeral_pub, nonce, ciphertext, tag, metadata_jcs, expires_at) SELECT s.id, :pub, :nonce, :ciphertext, :tag, :metadata_jcs, to_timestamp(:expires::double precision / 1000) FROM s;
