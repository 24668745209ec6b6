-- perfagg schema, version 1.
-- Applied by scripts/migrate.sh inside one transaction together with its
-- schema_migrations row, so this file must not contain BEGIN/COMMIT.
--
-- What is stored: public data (ids, exchange names, labels, timestamps, public
-- keys, signed results and their audit logs) and, in `credentials`, the
-- trader's envelope exactly as submitted: ciphertext, never plaintext. The
-- CHECK constraints pin down the shape and decoded length of every encrypted or
-- binary field (strict, canonical base64, as src/common/codec.h decodes it), so
-- the database itself refuses anything that is not a well-formed envelope.

-- Optional owner metadata; a session may reference one.
CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text UNIQUE,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per submitted envelope. The row outlives its credentials: after
-- revoke it is a tombstone (status 'revoked', label NULL) so later requests on
-- the id answer 410 rather than 404. The id is the trader's capability; it is
-- a row key here and never copied into anything shared (ops_logs included).
CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid REFERENCES users (id),
    exchange        text NOT NULL CHECK (exchange ~ '^[a-z0-9_]{1,31}$'),
    label           text,
    status          text NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    -- The enclave X25519 key the envelope was sealed to (public). After an
    -- enclave restart it tells "sealed to a key that is gone" apart.
    enclave_pubkey  text CHECK (enclave_pubkey ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'),
    -- Tombstone invariants: revoked <=> revoked_at set, and a revoked session
    -- keeps no label.
    CONSTRAINT sessions_revoked_at_consistent CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
    CONSTRAINT sessions_tombstone_unlabelled CHECK (status <> 'revoked' OR label IS NULL)
);
CREATE INDEX sessions_expiring_idx ON sessions (expires_at) WHERE status = 'active';

-- The envelope as submitted: encrypted data and its AAD only. Deleted on
-- revoke and by cleanup_expired_credentials() once the session expires.
CREATE TABLE credentials (
    session_id     uuid PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    -- 32 bytes: 43 symbols + one '=', last symbol with its 2 unused bits zero.
    ephemeral_pub  text NOT NULL UNIQUE
                   CHECK (ephemeral_pub ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'),
    -- 12 bytes: exactly 16 symbols, no padding.
    nonce          text NOT NULL CHECK (nonce ~ '^[A-Za-z0-9+/]{16}$'),
    -- 1..8192 bytes. The CASE makes sure decode() only ever sees a string the
    -- regex accepted (decode() itself is lenient about whitespace).
    ciphertext     text NOT NULL CHECK (
        CASE WHEN char_length(ciphertext) BETWEEN 4 AND 10924
                  AND ciphertext ~ '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=|[A-Za-z0-9+/][AQgw]==)?$'
             THEN octet_length(decode(ciphertext, 'base64')) BETWEEN 1 AND 8192
             ELSE false END),
    -- 16 bytes: 22 symbols + '==', last symbol with its 4 unused bits zero.
    tag            text NOT NULL CHECK (tag ~ '^[A-Za-z0-9+/]{21}[AQgw]==$'),
    -- The AAD: JCS text of the metadata as sent (exchange, label, ttl, not_after).
    metadata_jcs   text NOT NULL CHECK (char_length(metadata_jcs) BETWEEN 2 AND 65536),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);

-- Single-use record of every envelope ever accepted. It survives revoke and
-- expiry on purpose: deleting it would let a captured envelope be replayed.
-- ephemeral_pub is a public value (the client's one-time X25519 public key,
-- sent in clear over the wire); without the enclave's private key it reveals
-- nothing about the credentials.
CREATE TABLE used_envelopes (
    ephemeral_pub  text PRIMARY KEY
                   CHECK (ephemeral_pub ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'),
    first_seen     timestamptz NOT NULL DEFAULT now()
);

-- Signed results. payload_jcs is the exact byte string that was signed, kept
-- as text (not jsonb, which would re-order and re-format it).
CREATE TABLE aggregates (
    result_id    uuid PRIMARY KEY,
    session_id   uuid NOT NULL REFERENCES sessions (id),
    payload_jcs  text NOT NULL CHECK (char_length(payload_jcs) >= 2),
    -- Raw 64-byte Ed25519 signature: 86 symbols + '=='.
    signature    text NOT NULL CHECK (signature ~ '^[A-Za-z0-9+/]{85}[AQgw]==$'),
    merkle_root  text NOT NULL CHECK (merkle_root ~ '^[0-9a-f]{64}$'),
    -- JSON text {quote, enclave_pubkey, signing_pubkey, image_hash}, served as is.
    attestation  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX aggregates_session_idx ON aggregates (session_id);

-- The audit log of one aggregation run, one row per entry, in order.
CREATE TABLE merkle_logs (
    result_id  uuid NOT NULL REFERENCES aggregates (result_id) ON DELETE CASCADE,
    idx        integer NOT NULL CHECK (idx >= 0),
    entry_jcs  text NOT NULL,
    leaf_hash  text NOT NULL CHECK (leaf_hash ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (result_id, idx)
);

-- Non-sensitive operational events only: no secrets, no session ids, no
-- ciphertext, no labels.
CREATE TABLE ops_logs (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    event   text NOT NULL CHECK (event ~ '^[a-z0-9_.]{1,64}$'),
    detail  jsonb CHECK (detail IS NULL OR jsonb_typeof(detail) = 'object')
);
