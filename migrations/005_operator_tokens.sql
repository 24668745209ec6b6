-- Operator bearer tokens (docs/OPERATIONS.md): who may call /operator/* and
-- /metrics.
--
-- A token is `paop_<id>_<secret>`: id is 8 random bytes (16 hex digits) and
-- names the row; secret is 32 random bytes (64 hex digits). Only SHA-256 of
-- the whole token text is stored. The server looks a token up by its id (not
-- by the hash, so the index lookup reveals nothing about the secret) and then
-- compares the hash in constant time. A plain hash is enough: the secret has
-- 256 bits of entropy, so unlike a password there is no dictionary to try and
-- a slow KDF would only add CPU per request.
--
-- Tokens are created and revoked by `perfagg-admin operator-token ...`, which
-- connects as the database owner (the role that runs the migrations):
-- app_service can only read the columns it needs to check a token, so a
-- compromised server cannot mint or revive one.
CREATE TABLE operator_tokens (
    id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    token_hash  text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CONSTRAINT operator_tokens_expiry_after_creation CHECK (expires_at > created_at)
);

-- The server checks a token: these columns only, never a write.
GRANT SELECT (id, token_hash, expires_at, revoked_at) ON operator_tokens TO app_service;
-- operator_readonly reads every table but credentials (docs/DATABASE.md); the
-- hashes of 256-bit random tokens give nothing to guess from.
GRANT SELECT ON operator_tokens TO operator_readonly;

-- Operator requests are audited in ops_logs (event 'operator_request'); an
-- index keeps "what did this token do" cheap.
CREATE INDEX ops_logs_operator_token_idx ON ops_logs ((detail ->> 'token_id'))
    WHERE event = 'operator_request';
