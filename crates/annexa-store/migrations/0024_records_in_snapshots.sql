-- Accounts, entitlements, assignments and badges are kept in each import's snapshot only;
-- these row-by-row copies were read by nothing and were most of an import's writing.
-- People stay rows: campaigns and tokens look them up by employee id.
DROP TABLE accounts;
DROP TABLE entitlements;
DROP TABLE assignments;
DROP TABLE badges;
