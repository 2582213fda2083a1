-- Tenantry schema for PostgreSQL, version 4: the security policies of accounts and
-- organizations, and a token's own IP allowlist. As every migration of this package,
-- a plain goose file naming the schema "tenantry".
--
-- An IP allowlist is an array of cidr, the prefixes in the order given (the store
-- keeps them as rbac.NormalizeAllowlist leaves them: masked, sorted, none inside
-- another), NULL for none.

-- +goose Up

-- The security policy of an account or organization: at most one, deleted with its
-- tenant. require_2fa NULL: two-factor authentication is never required. updated_by
-- is not a foreign key: the policy names the user who last set it even after the
-- user goes. The primary key is the check path's look-up, one per tenant of a path.
CREATE TABLE tenantry.security_policies (
	tenant_kind  smallint NOT NULL CHECK (tenant_kind IN (1, 2)),
	tenant_id    text COLLATE "C" NOT NULL,
	require_2fa  timestamptz,
	ip_allowlist cidr[],
	updated_by   text COLLATE "C" NOT NULL,
	updated      timestamptz NOT NULL,
	PRIMARY KEY (tenant_kind, tenant_id),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);

ALTER TABLE tenantry.tokens ADD COLUMN ip_allowlist cidr[];   -- NULL: no allowlist of its own

-- +goose Down
ALTER TABLE tenantry.tokens DROP COLUMN ip_allowlist;
DROP TABLE tenantry.security_policies;
