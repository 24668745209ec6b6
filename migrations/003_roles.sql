-- Roles and grants. Roles are cluster-wide and created only if absent (an
-- operator may have created them already, e.g. with a password); grants are
-- per database and re-stated here. The migration sets no password: for TCP
-- connections the operator sets one (ALTER ROLE app_service PASSWORD ...) out
-- of band, so no secret lives in this repository.
--
-- The tables are owned by whoever runs the migrations (the database owner or
-- a superuser). Neither role owns anything, so neither can DROP, ALTER or
-- TRUNCATE; no TRUNCATE, REFERENCES or TRIGGER privilege is granted.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_service') THEN
        CREATE ROLE app_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
            NOREPLICATION NOBYPASSRLS NOINHERIT;
    END IF;
EXCEPTION
    -- Two databases of one cluster migrated at the same time: the other one
    -- created it between our check and our CREATE.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'operator_readonly') THEN
        CREATE ROLE operator_readonly LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
            NOREPLICATION NOBYPASSRLS NOINHERIT;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- Nobody but the owner creates objects in the schema (already the default on
-- PostgreSQL 15; explicit for older servers).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO app_service, operator_readonly;

-- operator_readonly: reads everything except the encrypted credentials.
GRANT SELECT ON users, sessions, used_envelopes, aggregates, merkle_logs,
                ops_logs, schema_migrations
    TO operator_readonly;

-- app_service: exactly what src/server/db.c does.
--   sessions: create, read, and the revoke/expire transitions (only these
--     columns may change; UPDATE also allows the SELECT ... FOR UPDATE lock).
GRANT SELECT, INSERT ON sessions TO app_service;
GRANT UPDATE (status, label, revoked_at) ON sessions TO app_service;
--   credentials: stored once, read for the enclave, deleted on revoke/expiry;
--     never updated.
GRANT SELECT, INSERT, DELETE ON credentials TO app_service;
--   used_envelopes: insert-only; a replay shows up as a unique violation.
GRANT INSERT ON used_envelopes TO app_service;
--   aggregates and their logs: stored, served, purged on revoke.
GRANT SELECT, INSERT, DELETE ON aggregates, merkle_logs TO app_service;
--   ops_logs: append-only (and the sequence behind its id).
GRANT INSERT ON ops_logs TO app_service;
GRANT USAGE ON SEQUENCE ops_logs_id_seq TO app_service;
--   the sweeper.
GRANT EXECUTE ON FUNCTION cleanup_expired_credentials() TO app_service;
-- users: no grant; db.c never touches it (foreign-key checks run as the
-- table owner, so sessions.user_id still works).
