-- Tenantry schema for PostgreSQL, version 5: single sign-on connections, verified
-- domains, the grants an SSO role mapping gave a member, and the connections and
-- enforced domains of a security policy. As every migration of this package, a plain
-- goose file naming the schema "tenantry".
--
-- A connection's role mapping and a member's mapped grants are jsonb arrays of
-- arrays, in the order given: [group, scope kind, scope ID, level] for a mapping,
-- [scope kind, scope ID, level] for a mapped grant; NULL for none.

-- +goose Up

-- A single sign-on connection of an account or organization, deleted with its
-- tenant. created_by is not a foreign key: the connection names the user it acts for
-- even after the user goes.
CREATE TABLE tenantry.sso_connections (
	id                  text COLLATE "C" PRIMARY KEY,
	tenant_kind         smallint NOT NULL CHECK (tenant_kind IN (1, 2)),
	tenant_id           text COLLATE "C" NOT NULL,
	name                text NOT NULL,
	enforce             boolean NOT NULL,
	no_personal_account boolean NOT NULL,
	mapping             jsonb,
	created_by          text COLLATE "C" NOT NULL,
	created             timestamptz NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX sso_connections_tenant ON tenantry.sso_connections (tenant_kind, tenant_id, id);

-- An email domain that an account or organization verified, lower case: a domain
-- belongs to one tenant at most. Deleted with its tenant.
CREATE TABLE tenantry.domains (
	name        text COLLATE "C" PRIMARY KEY CHECK (name = lower(name)),
	tenant_kind smallint NOT NULL CHECK (tenant_kind IN (1, 2)),
	tenant_id   text COLLATE "C" NOT NULL,
	verified_by text COLLATE "C" NOT NULL,
	verified    timestamptz NOT NULL,
	capture     smallint NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX domains_tenant ON tenantry.domains (tenant_kind, tenant_id, name);

ALTER TABLE tenantry.members ADD COLUMN mapped jsonb;                -- NULL: none
ALTER TABLE tenantry.security_policies ADD COLUMN sso text[];        -- NULL: no connection
ALTER TABLE tenantry.security_policies ADD COLUMN enforce_sso text[]; -- NULL: SSO not enforced

-- +goose Down
ALTER TABLE tenantry.security_policies DROP COLUMN enforce_sso;
ALTER TABLE tenantry.security_policies DROP COLUMN sso;
ALTER TABLE tenantry.members DROP COLUMN mapped;
DROP TABLE tenantry.domains;
DROP TABLE tenantry.sso_connections;
