-- Tenantry schema for SQLite, version 3: when an invitation expires, when a member last
-- acted in a tenant and when a token was last used, an index of the tokens that
-- expire, and invite links.

-- +goose Up
ALTER TABLE invitations ADD COLUMN expires TEXT;     -- NULL: never expires
ALTER TABLE members ADD COLUMN last_active TEXT;     -- NULL: never recorded
ALTER TABLE tokens ADD COLUMN last_used TEXT;        -- NULL: never used

-- expires_key is expires with all nine fractional digits (RFC 3339 text drops the
-- trailing zeros), so that keys sort as the times do, for years 0000 to 9999.
-- Reader.TokensExpiring reads the tokens of every tenant by it, those that never
-- expire left out.
ALTER TABLE tokens ADD COLUMN expires_key TEXT GENERATED ALWAYS AS (
	substr(expires, 1, 19) || '.' ||
	substr(CASE WHEN length(expires) > 20 THEN substr(expires, 21, length(expires) - 21) ELSE '' END || '000000000', 1, 9) ||
	'Z'
) VIRTUAL;
CREATE INDEX tokens_expires ON tokens (expires_key, id) WHERE expires_key IS NOT NULL;

-- A reusable invite link of a tenant. scopes is a JSON array of [kind, id] pairs, in
-- order, or NULL for none. created_by is not a foreign key (a link may name a user
-- the store does not know); the trigger below deletes a user's links when the user
-- goes.
CREATE TABLE invite_links (
	id          TEXT PRIMARY KEY,
	tenant_kind INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	level       INTEGER NOT NULL,
	scopes      TEXT,
	created_by  TEXT NOT NULL,
	hash        BLOB NOT NULL,
	created     TEXT NOT NULL,
	disabled    INTEGER NOT NULL,
	joined      INTEGER NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX invite_links_tenant ON invite_links (tenant_kind, tenant_id, id);
CREATE INDEX invite_links_creator ON invite_links (created_by);

-- +goose StatementBegin
CREATE TRIGGER users_delete_invite_links AFTER DELETE ON users BEGIN
	DELETE FROM invite_links WHERE created_by = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_delete_invite_links;
DROP TABLE invite_links;
DROP INDEX tokens_expires;
ALTER TABLE tokens DROP COLUMN expires_key;
ALTER TABLE tokens DROP COLUMN last_used;
ALTER TABLE members DROP COLUMN last_active;
ALTER TABLE invitations DROP COLUMN expires;
