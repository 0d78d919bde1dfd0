-- Outpost vault schema 10: accounts sync between a clinic's laptops as
-- versions of kind 'account' (backend/auth/account.go). The users table
-- is their projection; these columns hold when each group of an
-- account's state last changed, which the merge of concurrent versions
-- compares, and the sign-in time the last version carried (a new
-- version is written at a sign-in at most once a day, so that another
-- laptop does not disable the account for inactivity).
ALTER TABLE users ADD COLUMN roles_at TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_at TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mfa_at TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN active_synced TEXT NOT NULL DEFAULT '';
