package sqlitestore

import (
	"context"
	"embed"
	"fmt"
	"github.com/tenantry/tenantry/internal/sqlmigrate"
	"io/fs"
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

// migrations returns the embedded migrations, in order.
func migrations() ([]sqlmigrate.Migration, error) {
	return sqlmigrate.Load(Migrations(), "sqlitestore")
}

// SchemaVersion is the schema version this package's migrations lead to.
var SchemaVersion = func() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		panic(fmt.Sprintf("sqlitestore: bad embedded migrations: %v", err))
	}
	return ms[len(ms)-1].Version
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
		if m.Version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.Up); err != nil {
			return fail(m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenantry_schema_version (version, name, applied) VALUES (?1, ?2, ?3)`,
			m.Version, m.Name, dbTime(time.Now())); err != nil {
			return fail("record "+m.Name, err)
		}
		s.log.InfoContext(ctx, "sqlitestore: applied migration", "path", s.path, "migration", m.Name)
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return nil
}
