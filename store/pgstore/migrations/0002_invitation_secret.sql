-- Tenantry schema for PostgreSQL, version 2: an invitation's secret, kept as a hash
-- (account.Invite returns the secret once; its addressee accepts with it). As every
-- migration of this package, a plain goose file naming the schema "tenantry".

-- +goose Up
ALTER TABLE tenantry.invitations ADD COLUMN hash bytea NOT NULL DEFAULT '\x'::bytea;

-- +goose Down
ALTER TABLE tenantry.invitations DROP COLUMN hash;
