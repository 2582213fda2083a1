package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

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

// migration is one file of migrations/: NNNN_name.sql, applied in order of NNNN.
type migration struct {
	version int
	name    string
	sql     string // the statements of its Up section
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, path := range names {
		base := strings.TrimPrefix(path, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("pgstore: migration %s: name must be NNNN_name.sql", base)
		}
		body, err := migrationFS.ReadFile(path)
		if err != nil {
			return nil, err
		}
		up, err := upSection(string(body))
		if err != nil {
			return nil, fmt.Errorf("pgstore: migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: up})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("pgstore: migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// upSection returns the lines of a goose migration file between its "-- +goose Up"
// annotation and its "-- +goose Down" annotation (or its end), without the
// annotations.
func upSection(body string) (string, error) {
	var b strings.Builder
	in, seen := false, false
	for line := range strings.Lines(body) {
		if a, ok := strings.CutPrefix(strings.TrimSpace(line), "-- +goose "); ok {
			switch strings.TrimSpace(a) {
			case "Up":
				if seen {
					return "", fmt.Errorf("two Up annotations")
				}
				in, seen = true, true
			case "Down":
				in = false
			case "StatementBegin", "StatementEnd":
			default:
				return "", fmt.Errorf("unsupported annotation %q", a)
			}
			continue
		}
		if in {
			b.WriteString(line)
		}
	}
	if !seen {
		return "", fmt.Errorf("no -- +goose Up annotation")
	}
	return b.String(), nil
}

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
	return ms[len(ms)-1].version
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
		if m.version <= current {
			continue
		}
		// Without arguments, Exec uses the simple protocol, which runs a file of
		// several statements.
		if _, err := tx.Exec(ctx, inSchema(m.sql, ident)); err != nil {
			return fail(m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tenantry_schema_version (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return fail("record "+m.name, err)
		}
		s.log.InfoContext(ctx, "pgstore: applied migration", "schema", s.schema, "migration", m.name)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail("commit", err)
	}
	return nil
}
