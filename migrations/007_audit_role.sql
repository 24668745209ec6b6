-- pgaudit object audit of the credentials table (docs/OPERATIONS.md, "Audit
-- of the credentials table"). With pgaudit loaded and
-- pgaudit.role = 'perfagg_auditor' (deploy/postgres/pgaudit.conf), PostgreSQL
-- logs every statement that reads or writes credentials, by any role, the
-- owner and superusers included: pgaudit audits an access when this role
-- holds the privilege for it. The role cannot log in and is granted to
-- nobody: its grants only say what is audited (never GRANT perfagg_auditor
-- TO anyone, that would hand out read access to the ciphertext). Without
-- pgaudit the role and its grants do nothing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'perfagg_auditor') THEN
        CREATE ROLE perfagg_auditor NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
            NOREPLICATION NOBYPASSRLS NOINHERIT;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON credentials TO perfagg_auditor;
