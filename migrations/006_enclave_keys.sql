-- Enclave-made Ed25519 API keys (POST /enclave/keygen; docs/PROTOCOL.md,
-- "Enclave-made API keys").
--
-- The enclave makes the key pair, returns the public key and keeps the private
-- key only sealed to its own instance (AES-256-GCM under a key derived from
-- the enclave's X25519 key, which never leaves its memory). The host stores
-- the sealed bytes here, as it stores credential envelopes: ciphertext only.
-- An enclave restart makes every row useless (enclave_key_lost), exactly as it
-- does for sessions.
--
-- Life of a row: made by keygen with expires_at = now + 1 hour (time to
-- register the public key at the exchange); claimed by the one session whose
-- envelope names it (session_id set, expires_at = the session's, in the same
-- transaction that creates the session), never by a second; deleted when
-- that session is revoked, and by cleanup_expired_enclave_keys() once
-- expires_at has passed (claimed or not).
CREATE TABLE enclave_keys (
    key_id          uuid PRIMARY KEY,
    exchange        text NOT NULL CHECK (exchange ~ '^[a-z0-9_]{1,31}$'),
    -- the raw Ed25519 public key, 32 bytes of base64 (public)
    public_key      text NOT NULL CHECK (public_key ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'),
    -- 93 bytes (src/enclave/key_seal.h): exactly 124 symbols, no padding
    sealed_key      text NOT NULL CHECK (sealed_key ~ '^[A-Za-z0-9+/]{124}$'),
    -- the enclave instance it is sealed to (its X25519 public key)
    enclave_pubkey  text NOT NULL CHECK (enclave_pubkey ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'),
    -- the one session that uses it; UNIQUE: a key signs for one session only
    session_id      uuid UNIQUE REFERENCES sessions (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX enclave_keys_expiring_idx ON enclave_keys (expires_at);

-- cleanup_expired_enclave_keys(): the sweeper's second statement. Deletes
-- every key row past expires_at and returns how many. SECURITY INVOKER with
-- search_path pinned, as cleanup_expired_credentials() (002_cleanup.sql).
CREATE FUNCTION cleanup_expired_enclave_keys() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
AS $$
DECLARE
    deleted integer;
BEGIN
    DELETE FROM enclave_keys WHERE expires_at <= now();
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END;
$$;
REVOKE ALL ON FUNCTION cleanup_expired_enclave_keys() FROM PUBLIC;

-- app_service: exactly what src/server/keygen_db.c and db.c do: store a key,
-- read it, claim it for a session (session_id, expires_at only), delete it.
GRANT SELECT, INSERT, DELETE ON enclave_keys TO app_service;
GRANT UPDATE (session_id, expires_at) ON enclave_keys TO app_service;
GRANT EXECUTE ON FUNCTION cleanup_expired_enclave_keys() TO app_service;
-- operator_readonly: every column but the sealed key (like credentials, the
-- ciphertext is closed to the operator).
GRANT SELECT (key_id, exchange, public_key, enclave_pubkey, session_id, created_at, expires_at)
    ON enclave_keys TO operator_readonly;
