package pgstore

import (
	"context"
	"embed"
	"fmt"
	"github.com/tenantry/tenantry/internal/sqlmigrate"
	"io/fs"
	"regexp"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the store's schema as plain SQL files, NNNN_name.sql at the root
// of the file system, in the format of goose (github.com/pressly/goose/v3): each file
// has an Up section, which Migrate runs, and a Down section. The files create the
// schema DefaultSchema ("tenantry") and name every object in it, so that goose, with
// its PostgreSQL dialect, runs them as they are; see the package documentation.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err) // the directory is embedded
	}
	return sub
}

// migrations returns the embedded migrations, in order.
func migrations() ([]sqlmigrate.Migration, error) { return sqlmigrate.Load(Migrations(), "pgstore") }

// schemaRef matches the schema name of the migration files where it qualifies a name
// ("tenantry.users") or ends a statement ("CREATE SCHEMA IF NOT EXISTS tenantry;").
var schemaRef = regexp.MustCompile(`\b` + DefaultSchema + `[.;]`)

// inSchema returns the statements sql of a migration file for schema ident (quoted),
// instead of DefaultSchema.
func inSchema(sql, ident string) string {
	return schemaRef.ReplaceAllStringFunc(sql, func(m string) string { return ident + m[len(DefaultSchema):] })
}

// SchemaVersion is the schema version this package's migrations lead to.
var SchemaVersion = func() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		panic(fmt.Sprintf("pgstore: bad embedded migrations: %v", err))
	}
	return ms[len(ms)-1].Version
}()

// Migrate creates the schema (Options.Schema, DefaultSchema when empty) and its
// tables, or brings them up to SchemaVersion, in one transaction, recording each
// applied version in the table tenantry_schema_version of the schema. It is
// idempotent, and safe to run from several instances at once: they take turns on a
// transaction-level advisory lock, and those that come later find nothing to do. A
// database at a newer version than this package knows is left as it is (a warning is
// logged).
//
// Migrate runs the Up sections of the files of Migrations, with DefaultSchema
// replaced by Options.Schema. Migrate and goose keep separate records of what they
// applied: a schema is migrated by one or the other, not both.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return wrapErr(ctx, "migrate", err)
	}
	defer rollback(ctx, tx)
	fail := func(what string, err error) error { return wrapErr(ctx, "migrate: "+what, err) }

	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "tenantry.pgstore.migrate:"+s.schema); err != nil {
		return fail("lock", err)
	}
	ident := pgx.Identifier{s.schema}.Sanitize()
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
		return fail("create schema", err)
	}
	// The version table, unqualified, is the schema's.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
		return fail("search_path", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS tenantry_schema_version (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fail("version table", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM tenantry_schema_version`).Scan(&current); err != nil {
		return fail("read version", err)
	}
	if current > SchemaVersion {
		s.log.WarnContext(ctx, "pgstore: database schema is newer than this package", "schema", s.schema, "version", current, "known", SchemaVersion)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		// Without arguments, Exec uses the simple protocol, which runs a file of
		// several statements.
		if _, err := tx.Exec(ctx, inSchema(m.Up, ident)); err != nil {
			return fail(m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tenantry_schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fail("record "+m.Name, err)
		}
		s.log.InfoContext(ctx, "pgstore: applied migration", "schema", s.schema, "migration", m.Name)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail("commit", err)
	}
	return nil
}
