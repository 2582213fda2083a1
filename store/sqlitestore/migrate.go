package sqlitestore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the store's schema as plain SQL files, NNNN_name.sql at the root
// of the file system, in the format of goose (github.com/pressly/goose/v3): each file
// has an Up section, which Migrate runs, and a Down section. goose can run them as
// they are, with its SQLite dialect; see the package documentation.
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
	up      string // the statements of its Up section
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
			return nil, fmt.Errorf("sqlitestore: migration %s: name must be NNNN_name.sql", base)
		}
		body, err := migrationFS.ReadFile(path)
		if err != nil {
			return nil, err
		}
		up, err := upSection(string(body))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, up: up})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlitestore: migrations %s and %s have the same version", ms[i-1].name, ms[i].name)
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

// SchemaVersion is the schema version this package's migrations lead to.
var SchemaVersion = func() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		panic(fmt.Sprintf("sqlitestore: bad embedded migrations: %v", err))
	}
	return ms[len(ms)-1].version
}()

// Migrate creates the tables, or brings them up to SchemaVersion, in one transaction,
// recording each applied version in the table tenantry_schema_version. It is
// idempotent, and safe to run from several processes at once: its transaction holds
// the database's write lock, and those that come later find nothing to do. A database
// at a newer version than this package knows is left as it is (a warning is logged).
//
// Migrate and goose keep separate records of what they applied: a database is
// migrated by one or the other, not both.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return wrapErr(ctx, "migrate", err)
	}
	defer func() { _ = tx.Rollback() }()
	fail := func(what string, err error) error { return wrapErr(ctx, "migrate: "+what, err) }

	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tenantry_schema_version (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied TEXT NOT NULL
	) STRICT`); err != nil {
		return fail("version table", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM tenantry_schema_version`).Scan(&current); err != nil {
		return fail("read version", err)
	}
	if current > SchemaVersion {
		s.log.WarnContext(ctx, "sqlitestore: database schema is newer than this package", "version", current, "known", SchemaVersion)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.up); err != nil {
			return fail(m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenantry_schema_version (version, name, applied) VALUES (?1, ?2, ?3)`,
			m.version, m.name, dbTime(time.Now())); err != nil {
			return fail("record "+m.name, err)
		}
		s.log.InfoContext(ctx, "sqlitestore: applied migration", "path", s.path, "migration", m.name)
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return nil
}
