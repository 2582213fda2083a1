-- Tenantry schema for PostgreSQL, version 1.
--
-- A plain SQL file in goose's format (github.com/pressly/goose/v3): the statements of
-- its Up section create the schema, those of its Down section remove it. It creates
-- the schema "tenantry" and every object in it, each name qualified with it, so that
-- goose (or psql) can run it as it is, whatever the search_path. pgstore.Migrate runs
-- the Up part, with "tenantry" replaced by the quoted name of Options.Schema when that
-- is another schema.
--
-- Scope kinds and holder kinds are stored as the numbers of rbac.Kind and
-- rbac.HolderKind (organization 1, account 2, project 3, inbox 4, domain 5, billing 6,
-- templates 7, campaigns 8; user 1, team 2, token 3, invite 4). IDs use the "C"
-- collation so that listings sort bytewise, as Go's strings.Compare does. Values that
-- are unique ignoring case have a key column (*_fold) computed by the store, equal for
-- two values exactly when Go's strings.EqualFold says so, so that uniqueness agrees
-- with Go and does not depend on the database's locale.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS tenantry;

-- Every scope of the tree: organizations, accounts and resources. path_kinds and
-- path_ids hold the path from the root to the scope (itself included), computed on
-- insert: a scope never moves. tenant is the account on the path, or the organization
-- itself for an organization. Deleting a scope deletes everything below it.
CREATE TABLE tenantry.scopes (
	kind        smallint NOT NULL CHECK (kind > 0),
	id          text COLLATE "C" NOT NULL,
	parent_kind smallint,
	parent_id   text COLLATE "C",
	tenant_kind smallint NOT NULL,
	tenant_id   text COLLATE "C" NOT NULL,
	name        text NOT NULL,
	owner_id    text COLLATE "C",  -- accounts and organizations
	plan        text,              -- accounts and organizations
	created     timestamptz NOT NULL,
	path_kinds  smallint[] NOT NULL,
	path_ids    text[] COLLATE "C" NOT NULL,
	PRIMARY KEY (kind, id),
	FOREIGN KEY (parent_kind, parent_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE,
	CHECK ((parent_kind IS NULL) = (parent_id IS NULL))
);
CREATE INDEX scopes_parent ON tenantry.scopes (parent_kind, parent_id, kind, id);

CREATE TABLE tenantry.users (
	id         text COLLATE "C" PRIMARY KEY,
	email      text NOT NULL,
	email_fold text COLLATE "C" NOT NULL UNIQUE,
	name       text NOT NULL,
	time_zone  text NOT NULL,
	two_factor boolean NOT NULL,
	created    timestamptz NOT NULL
);

CREATE TABLE tenantry.oauth_links (
	provider text COLLATE "C" NOT NULL,
	subject  text COLLATE "C" NOT NULL,
	user_id  text COLLATE "C" NOT NULL REFERENCES tenantry.users ON DELETE CASCADE,
	pos      integer NOT NULL,
	PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_links_user ON tenantry.oauth_links (user_id, pos);

CREATE TABLE tenantry.members (
	tenant_kind smallint NOT NULL,
	tenant_id   text COLLATE "C" NOT NULL,
	user_id     text COLLATE "C" NOT NULL REFERENCES tenantry.users ON DELETE CASCADE,
	created     timestamptz NOT NULL,
	PRIMARY KEY (tenant_kind, tenant_id, user_id),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX members_user ON tenantry.members (user_id, tenant_kind, tenant_id);

-- A holder has at most one grant per scope. tenant is the tenant of the scope.
-- Holders are not foreign keys (a grant may name a holder the store does not know);
-- the triggers below delete a holder's grants when the holder goes.
CREATE TABLE tenantry.grants (
	holder_kind  smallint NOT NULL,
	holder_id    text COLLATE "C" NOT NULL,
	scope_kind   smallint NOT NULL,
	scope_id     text COLLATE "C" NOT NULL,
	level        smallint NOT NULL,
	view_content boolean NOT NULL,
	tenant_kind  smallint NOT NULL,
	tenant_id    text COLLATE "C" NOT NULL,
	PRIMARY KEY (holder_kind, holder_id, scope_kind, scope_id),
	FOREIGN KEY (scope_kind, scope_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX grants_scope ON tenantry.grants (scope_kind, scope_id, holder_kind, holder_id);
CREATE INDEX grants_tenant ON tenantry.grants (holder_kind, holder_id, tenant_kind, tenant_id, scope_kind, scope_id);

CREATE TABLE tenantry.teams (
	id          text COLLATE "C" PRIMARY KEY,
	tenant_kind smallint NOT NULL,
	tenant_id   text COLLATE "C" NOT NULL,
	name        text NOT NULL,
	name_fold   text COLLATE "C" NOT NULL,
	created     timestamptz NOT NULL,
	UNIQUE (tenant_kind, tenant_id, name_fold),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX teams_tenant ON tenantry.teams (tenant_kind, tenant_id, id);

CREATE TABLE tenantry.team_members (
	team_id text COLLATE "C" NOT NULL REFERENCES tenantry.teams ON DELETE CASCADE,
	user_id text COLLATE "C" NOT NULL REFERENCES tenantry.users ON DELETE CASCADE,
	PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON tenantry.team_members (user_id, team_id);

CREATE TABLE tenantry.invitations (
	id              text COLLATE "C" PRIMARY KEY,
	tenant_kind     smallint NOT NULL,
	tenant_id       text COLLATE "C" NOT NULL,
	email           text NOT NULL,
	email_fold      text COLLATE "C" NOT NULL,
	invited_by_kind smallint NOT NULL,
	invited_by_id   text COLLATE "C" NOT NULL,
	teams           text[] COLLATE "C",
	created         timestamptz NOT NULL,
	UNIQUE (tenant_kind, tenant_id, email_fold),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX invitations_tenant ON tenantry.invitations (tenant_kind, tenant_id, id);
CREATE INDEX invitations_email ON tenantry.invitations (email_fold, id);

CREATE TABLE tenantry.tokens (
	id          text COLLATE "C" PRIMARY KEY,
	tenant_kind smallint NOT NULL,
	tenant_id   text COLLATE "C" NOT NULL,
	name        text NOT NULL,
	hash        bytea,
	last4       text NOT NULL,
	created_by  text COLLATE "C" NOT NULL,
	created     timestamptz NOT NULL,
	expires     timestamptz,       -- NULL: never expires
	reset_to    text COLLATE "C" NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES tenantry.scopes (kind, id) ON DELETE CASCADE
);
CREATE INDEX tokens_tenant ON tenantry.tokens (tenant_kind, tenant_id, id);

-- The audit log: append-only, never deleted. seq is drawn while the appending
-- transaction holds a transaction-level advisory lock, so it increases in commit order.
-- tenant_kind 0 and tenant_id '' mark a profile change.
CREATE TABLE tenantry.events (
	seq         bigserial PRIMARY KEY,
	time        timestamptz NOT NULL,
	tenant_kind smallint NOT NULL,
	tenant_id   text COLLATE "C" NOT NULL,
	actor_kind  smallint NOT NULL,
	actor_id    text COLLATE "C" NOT NULL,
	action      text NOT NULL,
	target      text NOT NULL,
	before      text NOT NULL,
	after       text NOT NULL
);
CREATE INDEX events_tenant ON tenantry.events (tenant_kind, tenant_id, seq);

-- delete_holder_grants deletes the grants of a deleted user, team, token or invitation
-- (TG_ARGV[0] is the holder kind). Its body names its table with the schema, and its
-- search_path is empty, so that it works whatever the session's search_path.
-- +goose StatementBegin
CREATE FUNCTION tenantry.delete_holder_grants() RETURNS trigger
LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
	DELETE FROM tenantry.grants WHERE holder_kind = TG_ARGV[0]::smallint AND holder_id = OLD.id;
	RETURN OLD;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_delete_grants AFTER DELETE ON tenantry.users
	FOR EACH ROW EXECUTE FUNCTION tenantry.delete_holder_grants('1');
CREATE TRIGGER teams_delete_grants AFTER DELETE ON tenantry.teams
	FOR EACH ROW EXECUTE FUNCTION tenantry.delete_holder_grants('2');
CREATE TRIGGER tokens_delete_grants AFTER DELETE ON tenantry.tokens
	FOR EACH ROW EXECUTE FUNCTION tenantry.delete_holder_grants('3');
CREATE TRIGGER invitations_delete_grants AFTER DELETE ON tenantry.invitations
	FOR EACH ROW EXECUTE FUNCTION tenantry.delete_holder_grants('4');

-- +goose Down
-- The schema itself stays: it may hold other objects (the version table of
-- pgstore.Migrate, or goose's when the search_path names it).
DROP TABLE tenantry.events, tenantry.tokens, tenantry.invitations, tenantry.team_members, tenantry.teams,
	tenantry.grants, tenantry.members, tenantry.oauth_links, tenantry.users, tenantry.scopes;
DROP FUNCTION tenantry.delete_holder_grants();
