-- rdns_reverify_spend() - take p_n tokens from the re-verification budget, after
-- rdns_reverify_tokens() in the same transaction.

CREATE OR REPLACE FUNCTION rdns_reverify_spend(p_n integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reverify_budget SET tokens = tokens - p_n WHERE id = 1;
END $$;
