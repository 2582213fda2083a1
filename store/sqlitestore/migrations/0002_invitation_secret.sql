-- Tenantry schema for SQLite, version 2: an invitation's secret, kept as a hash
-- (account.Invite returns the secret once; its addressee accepts with it).

-- +goose Up
ALTER TABLE invitations ADD COLUMN hash BLOB NOT NULL DEFAULT x'';

-- +goose Down
ALTER TABLE invitations DROP COLUMN hash;
