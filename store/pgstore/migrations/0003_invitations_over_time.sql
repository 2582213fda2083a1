-- Tenantry schema for PostgreSQL, version 3: when an invitation expires, when a member
-- last acted in a tenant and when a token was last used, an index of the tokens that
-- expire, and invite links. As every migration of this package, a plain goose file
-- naming the schema "tenantry".

-- +goose Up
ALTER TABLE tenantry.invitations ADD COLUMN expires timestamptz;     -- NULL: never expires
ALTER TABLE tenantry.members ADD COLUMN last_active timestamptz;     -- NULL: never recorded
ALTER TABLE tenantry.tokens ADD COLUMN last_used timestamptz;        -- NULL: never used

-- Reader.TokensExpiring: the tokens of every tenant by expiry, those that never expire
-- left out.
CREATE INDEX tokens_expires ON tenantry.tokens (expires, id) WHERE expires IS NOT NULL;

-- A reusable invite link of a tenant. scope_kinds and scope_ids hold its scopes, in
-- order. created_by is not a foreign key (a link may name a user the store does not
-- know); the trigger below deletes a user's links when the user goes.
CREATE TABLE tenantry.invite_links (
	id          text COLLATE "C" PRIMARY KEY,
	tenant_kind smallint NOT NULL,
	tenant_id   text COLLATE "C" NOT NULL,
	level       smallint NOT NULL,
	scope_kinds smallint[] NOT NULL,
	scope_ids   text[] COLLATE "C" NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	hash        bytea NOT NULL,
	created     timestamptz NOT NULL,
	disabled    boolean NOT NULL,
	joined      bigint NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE,
	CHECK (cardinality(scope_kinds) = cardinality(scope_ids))
);
CREATE INDEX invite_links_tenant ON tenantry.invite_links (tenant_kind, tenant_id, id);
CREATE INDEX invite_links_creator ON tenantry.invite_links (created_by);

-- delete_user_invite_links deletes the invite links a deleted user created. As
-- delete_holder_grants, it names its table with the schema and runs with an empty
-- search_path.
-- +goose StatementBegin
CREATE FUNCTION tenantry.delete_user_invite_links() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
	DELETE FROM tenantry.invite_links WHERE created_by = OLD.id;
	RETURN OLD;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_delete_invite_links AFTER DELETE ON tenantry.users
	FOR EACH ROW EXECUTE FUNCTION tenantry.delete_user_invite_links();

-- +goose Down
DROP TRIGGER users_delete_invite_links ON tenantry.users;
DROP FUNCTION tenantry.delete_user_invite_links();
DROP TABLE tenantry.invite_links;
DROP INDEX tenantry.tokens_expires;
ALTER TABLE tenantry.tokens DROP COLUMN last_used;
ALTER TABLE tenantry.members DROP COLUMN last_active;
ALTER TABLE tenantry.invitations DROP COLUMN expires;
