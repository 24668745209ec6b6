-- cleanup_expired_credentials(): the TTL sweeper's one statement.
--
-- Deletes the credentials of every session whose expires_at has passed, marks
-- those sessions that are still 'active' as 'expired' (revoked tombstones keep
-- their status), and returns how many credentials it deleted.
--
-- SECURITY INVOKER (the default), not SECURITY DEFINER: app_service already
-- holds exactly the rights this needs for revoke (DELETE on credentials,
-- UPDATE of sessions.status), so running as the caller grants nothing new. A
-- SECURITY DEFINER function would run as the migration owner (often a
-- superuser), a wider privilege than the work requires. search_path is still
-- pinned so that a caller cannot redirect the unqualified names.
--
-- Lock order matches pa_db_session_revoke and pa_db_result_store (the
-- sessions row first, then its dependants), so a sweep racing a revoke of the
-- same session waits instead of deadlocking.
CREATE FUNCTION cleanup_expired_credentials() RETURNS integer
    LANGUAGE plpgsql
    SET search_path = public, pg_temp
AS $$
DECLARE
    deleted integer;
BEGIN
    PERFORM 1 FROM sessions s
     WHERE s.expires_at <= now()
       AND (s.status = 'active'
            OR EXISTS (SELECT 1 FROM credentials c WHERE c.session_id = s.id))
     ORDER BY s.id
       FOR UPDATE OF s;

    DELETE FROM credentials c
     USING sessions s
     WHERE c.session_id = s.id
       AND s.expires_at <= now();
    GET DIAGNOSTICS deleted = ROW_COUNT;

    UPDATE sessions
       SET status = 'expired'
     WHERE status = 'active'
       AND expires_at <= now();

    RETURN deleted;
END;
$$;

-- Functions are executable by PUBLIC by default; only the server may sweep.
REVOKE ALL ON FUNCTION cleanup_expired_credentials() FROM PUBLIC;
