-- rdns_audit() - append one entry to audit_log, in the caller's transaction.

CREATE OR REPLACE FUNCTION rdns_audit(p_actor bigint, p_actor_name text, p_action text, p_ip inet,
                                      p_object text, p_old text, p_new text, p_request bigint,
                                      p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (actor_id, actor_name, action, ip, object, old_value, new_value, request_id, detail)
    VALUES (p_actor, p_actor_name, p_action, p_ip, p_object, p_old, p_new, p_request, p_detail);
END $$;
