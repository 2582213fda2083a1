-- Tenantry schema for SQLite, version 4: the security policies of accounts and
-- organizations, and a token's own IP allowlist.
--
-- An IP allowlist is a JSON array of prefixes as net/netip writes them
-- ("192.0.2.0/24", "2001:db8::/32"), in the order given (the store keeps them as
-- rbac.NormalizeAllowlist leaves them), or NULL for none.

-- +goose Up

-- The security policy of an account or organization: at most one, deleted with its
-- tenant. require_2fa NULL: two-factor authentication is never required. updated_by
-- is not a foreign key: the policy names the user who last set it even after the
-- user goes. The primary key is the check path's look-up, one per tenant of a path.
CREATE TABLE security_policies (
	tenant_kind  INTEGER NOT NULL CHECK (tenant_kind IN (1, 2)),
	tenant_id    TEXT NOT NULL,
	require_2fa  TEXT,
	ip_allowlist TEXT,
	updated_by   TEXT NOT NULL,
	updated      TEXT NOT NULL,
	PRIMARY KEY (tenant_kind, tenant_id),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

ALTER TABLE tokens ADD COLUMN ip_allowlist TEXT;   -- NULL: no allowlist of its own

-- +goose Down
ALTER TABLE tokens DROP COLUMN ip_allowlist;
DROP TABLE security_policies;
