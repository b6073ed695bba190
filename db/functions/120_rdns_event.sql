-- rdns_event() - append one entry to the event feed (GET /v1/events), in the caller's
-- transaction: the event commits with the change it tells of, or not at all.

CREATE OR REPLACE FUNCTION rdns_event(p_account bigint, p_kind text, p_ip inet, p_request bigint,
                                      p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (account_id, kind, ip, request_id, detail)
    VALUES (p_account, p_kind, p_ip, p_request, coalesce(p_detail, '{}'));
END $$;
