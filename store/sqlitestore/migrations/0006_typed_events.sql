-- Tenantry schema for SQLite, version 6: typed audit events. Each event keeps how its
-- actor signed in and from where, and the facts about access its operation changed.
--
-- auth is rbac.AuthMethod's number (0: not said); client_ip the address's text (''
-- when unknown); changes store.MarshalChanges's JSON array ('' for none). Events
-- written before this version have none of them.

-- +goose Up
ALTER TABLE events ADD COLUMN auth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN changes TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN changes;
ALTER TABLE events DROP COLUMN client_ip;
ALTER TABLE events DROP COLUMN auth;
