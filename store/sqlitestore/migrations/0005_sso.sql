-- Tenantry schema for SQLite, version 5: single sign-on connections, verified
-- domains, the grants an SSO role mapping gave a member, and the connections and
-- enforced domains of a security policy.
--
-- A connection's role mapping and a member's mapped grants are JSON arrays of arrays,
-- in the order given: [group, scope kind, scope ID, level] for a mapping, [scope kind,
-- scope ID, level] for a mapped grant; NULL for none. A policy's connections and
-- enforced domains are JSON arrays of strings, in order, or NULL for none.

-- +goose Up

-- A single sign-on connection of an account or organization, deleted with its
-- tenant. created_by is not a foreign key: the connection names the user it acts for
-- even after the user goes.
CREATE TABLE sso_connections (
	id                  TEXT PRIMARY KEY,
	tenant_kind         INTEGER NOT NULL CHECK (tenant_kind IN (1, 2)),
	tenant_id           TEXT NOT NULL,
	name                TEXT NOT NULL,
	enforce             INTEGER NOT NULL,
	no_personal_account INTEGER NOT NULL,
	mapping             TEXT,
	created_by          TEXT NOT NULL,
	created             TEXT NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX sso_connections_tenant ON sso_connections (tenant_kind, tenant_id, id);

-- An email domain that an account or organization verified, lower case: a domain
-- belongs to one tenant at most. Deleted with its tenant.
CREATE TABLE domains (
	name        TEXT PRIMARY KEY,
	tenant_kind INTEGER NOT NULL CHECK (tenant_kind IN (1, 2)),
	tenant_id   TEXT NOT NULL,
	verified_by TEXT NOT NULL,
	verified    TEXT NOT NULL,
	capture     INTEGER NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX domains_tenant ON domains (tenant_kind, tenant_id, name);

ALTER TABLE members ADD COLUMN mapped TEXT;                -- NULL: none
ALTER TABLE security_policies ADD COLUMN sso TEXT;         -- NULL: no connection
ALTER TABLE security_policies ADD COLUMN enforce_sso TEXT; -- NULL: SSO not enforced

-- +goose Down
ALTER TABLE security_policies DROP COLUMN enforce_sso;
ALTER TABLE security_policies DROP COLUMN sso;
ALTER TABLE members DROP COLUMN mapped;
DROP TABLE domains;
DROP TABLE sso_connections;
