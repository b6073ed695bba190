-- 016: GET /v1/accounts by pages, and a search of accounts by the start of their name (issue #17).
--
-- The route returned every account in one answer (200,000 at the provider profile), and the
-- panel fetched them all to show a name beside an id. A page is now a range of an index from
-- the cursor (db/staff.c): by id through the primary key; by (role, id) for ?role=, which the
-- primary key served only by reading past every account of the other role (a page of the few
-- staff accounts read the whole table); by name in the C collation for ?q=, whose prefix is
-- a range of that order whatever the database's collation (accounts_name_key sorts in the
-- database's, where a prefix is no range). Two more index entries per account; accounts are
-- few and seldom written.
CREATE INDEX accounts_role ON accounts (role, id);
CREATE INDEX accounts_name_c ON accounts (name COLLATE "C");
