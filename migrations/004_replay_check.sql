-- The server checks whether an envelope was used before it asks the enclave to
-- open it, so a replay is always 409 envelope_replayed -- also after an enclave
-- restart or past the envelope's not_after, when opening would fail first.
-- ephemeral_pub is a public key: reading it reveals nothing secret.
GRANT SELECT (ephemeral_pub) ON used_envelopes TO app_service;
