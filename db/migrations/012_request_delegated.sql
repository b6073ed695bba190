-- 012: a request whose address was delegated before it could be applied (issue #16).
--
-- The apply functions refuse an address inside a delegation (db/functions/050, 060, 080,
-- 150, 230: 'RDDLG', or a row without a request); a PUT and a staff approval answer 409.
-- A request waiting for forward DNS has nobody to answer: rdns-verifier ends it in
-- state 'delegated', audited, with a 'request.delegated' event naming the delegation.
ALTER DOMAIN rdns_request_state DROP CONSTRAINT rdns_request_state_check;
ALTER DOMAIN rdns_request_state ADD CONSTRAINT rdns_request_state_check
    CHECK (VALUE IN ('applied', 'failed_checks', 'pending_review', 'approved', 'rejected', 'superseded',
                     'waiting_forward', 'expired', 'cancelled', 'delegated'));

-- The apply functions ask, per address, whether a request is pending review or waiting
-- for forward DNS (to supersede it): through ptr_requests_ip that read every request the
-- address ever had (its whole history: 2 heap pages an address in bench D1 after a few
-- rounds, more with age). The open ones are few: a partial index finds them at once.
CREATE INDEX ptr_requests_open ON ptr_requests (ip) WHERE state IN ('pending_review', 'waiting_forward');
