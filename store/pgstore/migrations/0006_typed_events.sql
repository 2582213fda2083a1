-- Tenantry schema for PostgreSQL, version 6: typed audit events. Each event keeps how
-- its actor signed in and from where, and the facts about access its operation
-- changed. As every migration of this package, a plain goose file naming the schema
-- "tenantry".
--
-- auth is rbac.AuthMethod's number (0: not said); client_ip the address's text (''
-- when unknown); changes store.MarshalChanges's JSON array ('' for none). Events
-- written before this version have none of them.

-- +goose Up
ALTER TABLE tenantry.events ADD COLUMN auth smallint NOT NULL DEFAULT 0;
ALTER TABLE tenantry.events ADD COLUMN client_ip text NOT NULL DEFAULT '';
ALTER TABLE tenantry.events ADD COLUMN changes text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tenantry.events DROP COLUMN changes;
ALTER TABLE tenantry.events DROP COLUMN client_ip;
ALTER TABLE tenantry.events DROP COLUMN auth;
