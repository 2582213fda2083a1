package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

func TestOpenRefusesWhatIsNotAFile(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if s, err := sqlitestore.Open(t.Context(), path, sqlitestore.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", path)
		}
	}
}

// TestOpenThroughSymlink opens the store through a symbolic link and checks that
// the check cache follows the commits of a store opened by the file's own name.
func TestOpenThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	link := filepath.Join(dir, "link.db")
	a := openStoreAt(t, real, testOptions, true)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	b := openStoreAt(t, link, testOptions, false)
	cacheWorld(t, a)
	bob, a1 := rbac.User("u-bob"), rbac.Account("a1")
	for _, want := range []bool{true, false} {
		for range 2 {
			if d, err := b.Check(t.Context(), bob, rbac.AccountView, a1, time.Now()); err != nil || d.Allowed != want {
				t.Fatalf("Check = %+v, %v; want allowed %v", d, err, want)
			}
		}
		if want {
			update(t, a, func(ctx context.Context, w store.Writer) error { return w.DeleteGrant(ctx, bob, a1) })
		}
	}
}

// TestMigrateConcurrently migrates one file from several stores at once.
func TestMigrateConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	var wg sync.WaitGroup
	for range 4 {
		s := openStoreAt(t, path, testOptions, false)
		wg.Go(func() {
			if err := s.Migrate(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s := openStoreAt(t, path, testOptions, true) // again: nothing to do
	db, err := sql.Open("sqlite", "file:"+path)
	must(t, err)
	defer db.Close()
	var n, v int
	must(t, db.QueryRow(`SELECT count(*), max(version) FROM tenantry_schema_version`).Scan(&n, &v))
	if want := len(migrationFiles(t)); n != want || v != sqlitestore.SchemaVersion {
		t.Errorf("%d versions recorded, latest %d; want %d, latest %d", n, v, want, sqlitestore.SchemaVersion)
	}
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{ID: "u1", Email: "ann@example.test"})
	})
}

// TestBusyIsConflict holds the write lock from another connection: Update waits for
// it, tries again, and returns an error matching store.ErrConflict without running its
// closure.
func TestBusyIsConflict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	s := openStoreAt(t, path, sqlitestore.Options{BusyTimeout: 20 * time.Millisecond, MaxRetries: 2, SynchronousNormal: true}, true)
	other, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	must(t, err)
	defer other.Close()
	tx, err := other.Begin()
	must(t, err)
	ran := false
	err = s.Update(t.Context(), func(ctx context.Context, w store.Writer) error { ran = true; return nil })
	if !errors.Is(err, store.ErrConflict) || ran {
		t.Errorf("Update while another connection writes: %v, closure ran: %v; want ErrConflict, not run", err, ran)
	}
	// Views go on meanwhile.
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.User(ctx, "nope")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	must(t, tx.Rollback())
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{ID: "u1", Email: "ann@example.test"})
	})
}

// TestUpdateContextDoneInside cancels the context of an Update while its closure runs:
// Update returns the context's error and writes nothing, even when the closure
// returns nil.
func TestUpdateContextDoneInside(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, store.User{ID: "u1", Email: "ann@example.test"}); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update = %v, want context.Canceled", err)
	}
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.User(ctx, "u1")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
}

// TestSeqAcrossStores appends events from concurrent Updates of two stores on one
// file: their Seq numbers are one sequence, 1 to n without gaps or repeats, since
// the Updates commit one at a time.
func TestSeqAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seq.db")
	stores := []*sqlitestore.Store{openStoreAt(t, path, testOptions, true), openStoreAt(t, path, testOptions, false)}
	var wg sync.WaitGroup
	for i := range 8 {
		s := stores[i%2]
		wg.Go(func() {
			for range 20 {
				err := s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
					_, err := w.AppendEvent(ctx, store.Event{Action: "x"})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var evs []store.Event
	view(t, stores[0], func(ctx context.Context, r store.Reader) error {
		var err error
		evs, err = r.Events(ctx, rbac.Ref{}, 0, 1000)
		return err
	})
	if len(evs) != 160 {
		t.Fatalf("%d events, want 160", len(evs))
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has Seq %d, want %d", i, e.Seq, i+1)
		}
	}
}
