-- Tenantry schema for SQLite, version 1.
--
-- A plain SQL file in goose's format (github.com/pressly/goose/v3): the statements of
-- its Up section create the schema, those of its Down section remove it.
-- sqlitestore.Migrate runs the Up part; goose can run the file as it is.
--
-- Scope kinds and holder kinds are stored as the numbers of rbac.Kind and
-- rbac.HolderKind (organization 1, account 2, project 3, inbox 4, domain 5, billing 6,
-- templates 7, campaigns 8; user 1, team 2, token 3, invite 4). Text compares with
-- SQLite's BINARY collation, bytewise, as Go's strings.Compare does. Values that are
-- unique ignoring case have a key column (*_fold) computed by the store with
-- store.FoldKey, equal for two values exactly when Go's strings.EqualFold says so.
-- Times are TEXT in UTC, as Go's time.RFC3339Nano formats them. Every table is STRICT.

-- +goose Up

-- Every scope of the tree: organizations, accounts and resources. tenant is the
-- account the scope belongs to, or the organization itself for an organization.
-- Deleting a scope deletes everything below it.
CREATE TABLE scopes (
	kind        INTEGER NOT NULL CHECK (kind > 0),
	id          TEXT NOT NULL,
	parent_kind INTEGER,
	parent_id   TEXT,
	tenant_kind INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	name        TEXT NOT NULL,
	owner_id    TEXT,  -- accounts and organizations
	plan        TEXT,  -- accounts and organizations
	created     TEXT NOT NULL,
	PRIMARY KEY (kind, id),
	FOREIGN KEY (parent_kind, parent_id) REFERENCES scopes (kind, id) ON DELETE CASCADE,
	CHECK ((parent_kind IS NULL) = (parent_id IS NULL))
) STRICT, WITHOUT ROWID;
CREATE INDEX scopes_parent ON scopes (parent_kind, parent_id, kind, id);

-- The path from the root to each scope, one row per scope of the path (the scope
-- itself included, at the greatest depth; the root at depth 1), written when the
-- scope is inserted: a scope never moves.
CREATE TABLE scope_paths (
	kind     INTEGER NOT NULL,
	id       TEXT NOT NULL,
	depth    INTEGER NOT NULL,
	anc_kind INTEGER NOT NULL,
	anc_id   TEXT NOT NULL,
	PRIMARY KEY (kind, id, depth),
	FOREIGN KEY (kind, id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX scope_paths_ancestor ON scope_paths (anc_kind, anc_id);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	email      TEXT NOT NULL,
	email_fold TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	time_zone  TEXT NOT NULL,
	two_factor INTEGER NOT NULL,
	created    TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE oauth_links (
	provider TEXT NOT NULL,
	subject  TEXT NOT NULL,
	user_id  TEXT NOT NULL REFERENCES users ON DELETE CASCADE,
	pos      INTEGER NOT NULL,
	PRIMARY KEY (provider, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_links_user ON oauth_links (user_id, pos);

CREATE TABLE members (
	tenant_kind INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	user_id     TEXT NOT NULL REFERENCES users ON DELETE CASCADE,
	created     TEXT NOT NULL,
	PRIMARY KEY (tenant_kind, tenant_id, user_id),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id, tenant_kind, tenant_id);

-- A holder has at most one grant per scope. tenant is the tenant of the scope.
-- Holders are not foreign keys (a grant may name a holder the store does not know);
-- the triggers below delete a holder's grants when the holder goes.
CREATE TABLE grants (
	holder_kind  INTEGER NOT NULL,
	holder_id    TEXT NOT NULL,
	scope_kind   INTEGER NOT NULL,
	scope_id     TEXT NOT NULL,
	level        INTEGER NOT NULL,
	view_content INTEGER NOT NULL,
	tenant_kind  INTEGER NOT NULL,
	tenant_id    TEXT NOT NULL,
	PRIMARY KEY (holder_kind, holder_id, scope_kind, scope_id),
	FOREIGN KEY (scope_kind, scope_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX grants_scope ON grants (scope_kind, scope_id, holder_kind, holder_id);
CREATE INDEX grants_tenant ON grants (holder_kind, holder_id, tenant_kind, tenant_id, scope_kind, scope_id);

CREATE TABLE teams (
	id          TEXT PRIMARY KEY,
	tenant_kind INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	name        TEXT NOT NULL,
	name_fold   TEXT NOT NULL,
	created     TEXT NOT NULL,
	UNIQUE (tenant_kind, tenant_id, name_fold),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX teams_tenant ON teams (tenant_kind, tenant_id, id);

CREATE TABLE team_members (
	team_id TEXT NOT NULL REFERENCES teams ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users ON DELETE CASCADE,
	PRIMARY KEY (team_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX team_members_user ON team_members (user_id, team_id);

-- teams is a JSON array of team IDs, or NULL for none.
CREATE TABLE invitations (
	id              TEXT PRIMARY KEY,
	tenant_kind     INTEGER NOT NULL,
	tenant_id       TEXT NOT NULL,
	email           TEXT NOT NULL,
	email_fold      TEXT NOT NULL,
	invited_by_kind INTEGER NOT NULL,
	invited_by_id   TEXT NOT NULL,
	teams           TEXT,
	created         TEXT NOT NULL,
	UNIQUE (tenant_kind, tenant_id, email_fold),
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX invitations_tenant ON invitations (tenant_kind, tenant_id, id);
CREATE INDEX invitations_email ON invitations (email_fold, id);

CREATE TABLE tokens (
	id          TEXT PRIMARY KEY,
	tenant_kind INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	name        TEXT NOT NULL,
	hash        BLOB,
	last4       TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created     TEXT NOT NULL,
	expires     TEXT,  -- NULL: never expires
	reset_to    TEXT NOT NULL,
	FOREIGN KEY (tenant_kind, tenant_id) REFERENCES scopes (kind, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX tokens_tenant ON tokens (tenant_kind, tenant_id, id);

-- The audit log: append-only, never deleted. Writers take turns (one write
-- transaction at a time in SQLite), so seq increases in commit order; AUTOINCREMENT
-- never hands out a number twice. tenant_kind 0 and tenant_id '' mark a profile
-- change.
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	time        TEXT NOT NULL,
	tenant_kind INTEGER NOT NULL,
	tenant_id   TEXT NOT NULL,
	actor_kind  INTEGER NOT NULL,
	actor_id    TEXT NOT NULL,
	action      TEXT NOT NULL,
	target      TEXT NOT NULL,
	before      TEXT NOT NULL,
	after       TEXT NOT NULL
) STRICT;
CREATE INDEX events_tenant ON events (tenant_kind, tenant_id, seq);

-- Deleting a user, team, token or invitation deletes the grants it holds. The
-- triggers also run for the rows that a foreign key's cascade deletes.
-- +goose StatementBegin
CREATE TRIGGER users_delete_grants AFTER DELETE ON users BEGIN
	DELETE FROM grants WHERE holder_kind = 1 AND holder_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER teams_delete_grants AFTER DELETE ON teams BEGIN
	DELETE FROM grants WHERE holder_kind = 2 AND holder_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tokens_delete_grants AFTER DELETE ON tokens BEGIN
	DELETE FROM grants WHERE holder_kind = 3 AND holder_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER invitations_delete_grants AFTER DELETE ON invitations BEGIN
	DELETE FROM grants WHERE holder_kind = 4 AND holder_id = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE events;
DROP TABLE tokens;
DROP TABLE invitations;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE grants;
DROP TABLE members;
DROP TABLE oauth_links;
DROP TABLE users;
DROP TABLE scope_paths;
DROP TABLE scopes;
