package sqlitestore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// testOptions are the options of the tests' stores: synchronous=NORMAL, which keeps
// every commit across a crash of the process but does not wait for an fsync.
var testOptions = sqlitestore.Options{SynchronousNormal: true}

// openStore opens a Store on a fresh, migrated file in a temporary directory. Cleanup
// closes it.
func openStore(tb testing.TB) *sqlitestore.Store {
	tb.Helper()
	return openStoreAt(tb, filepath.Join(tb.TempDir(), "tenantry.db"), testOptions, true)
}

// openStoreAt opens a Store on path, migrating it when migrate is set. Cleanup closes
// it.
func openStoreAt(tb testing.TB, path string, opts sqlitestore.Options, migrate bool) *sqlitestore.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := sqlitestore.Open(ctx, path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// update runs fn in an Update and fails the test on an error.
func update(tb testing.TB, s store.Store, fn func(ctx context.Context, w store.Writer) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("update: %v", err)
	}
}

// view runs fn in a View and fails the test on an error.
func view(tb testing.TB, s store.Store, fn func(ctx context.Context, r store.Reader) error) {
	tb.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		tb.Fatalf("view: %v", err)
	}
}

// must fails the test when err is not nil.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// wantErr fails the test unless err matches target.
func wantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("got error %v, want %v", err, target)
	}
}
