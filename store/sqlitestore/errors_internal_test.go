package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/tenantry/tenantry/store"
)

// TestWrapErr maps real SQLite errors: a unique violation to store.ErrExists, a
// foreign key violation and a missing row to store.ErrNotFound, a lock held by
// another connection to store.ErrConflict, and a done context to its error.
func TestWrapErr(t *testing.T) {
	path := filepath.Join(t.TempDir(), "errors.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_foreign_keys=1&_busy_timeout=10&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Exec(`CREATE TABLE p (id TEXT PRIMARY KEY, u TEXT UNIQUE) STRICT;
		CREATE TABLE c (p TEXT REFERENCES p) STRICT;
		INSERT INTO p VALUES ('a', 'x')`); err != nil {
		t.Fatal(err)
	}
	_, uniq := db.Exec(`INSERT INTO p VALUES ('b', 'x')`)
	_, pkey := db.Exec(`INSERT INTO p VALUES ('a', 'y')`)
	_, fkey := db.Exec(`INSERT INTO c VALUES ('nope')`)
	norow := db.QueryRow(`SELECT id FROM p WHERE id = 'nope'`).Scan(new(string))

	// Another connection holds the write lock.
	other, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=10&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, busy := db.Exec(`INSERT INTO p VALUES ('c', 'z')`)

	done, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want error
	}{
		{ctx, uniq, store.ErrExists},
		{ctx, pkey, store.ErrExists},
		{ctx, fkey, store.ErrNotFound},
		{ctx, norow, store.ErrNotFound},
		{ctx, busy, store.ErrConflict},
		{done, busy, context.Canceled},
	} {
		if got := wrapErr(c.ctx, "op", c.err); !errors.Is(got, c.want) {
			t.Errorf("wrapErr(%v) = %v, want one matching %v", c.err, got, c.want)
		}
	}
	if !isBusy(busy) || isBusy(uniq) {
		t.Errorf("isBusy(%v) = %v, isBusy(%v) = %v", busy, isBusy(busy), uniq, isBusy(uniq))
	}
}
