package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite" // also registers the database/sql driver "sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tenantry/tenantry/store"
)

// sqliteCode returns the extended result code of an SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isBusy reports whether err is, or wraps, SQLITE_BUSY or SQLITE_LOCKED (in any of
// their extended forms): a lock that another connection held for longer than the
// busy timeout.
func isBusy(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// wrapErr turns an error of the driver into the store's: the context's own error when
// ctx is done; one matching store.ErrConflict (busy or locked), store.ErrExists (a
// unique or primary key violation) or store.ErrNotFound (a foreign key violation, or
// no row), still wrapping the driver's error; else err with op.
func wrapErr(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	switch code := sqliteCode(err); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("sqlitestore: %s: %w: %w", op, store.ErrExists, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("sqlitestore: %s: %w: %w", op, store.ErrNotFound, err)
	case isBusy(err):
		return fmt.Errorf("sqlitestore: %s: %w: %w", op, store.ErrConflict, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlitestore: %s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// notFound and exists are the errors of a write that changed nothing because a record
// was missing or already there.
func notFound(op string) error { return fmt.Errorf("sqlitestore: %s: %w", op, store.ErrNotFound) }
func exists(op string) error   { return fmt.Errorf("sqlitestore: %s: %w", op, store.ErrExists) }

// isNoRows reports whether err says that a record is missing.
func isNoRows(err error) bool { return errors.Is(err, store.ErrNotFound) }
