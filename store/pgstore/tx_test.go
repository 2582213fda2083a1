package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
)

func TestRollback(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	errBoom := errors.New("boom")
	err := s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertUser(ctx, store.User{ID: "gone1", Email: "gone1@example.com"}))
		return errBoom
	})
	if err != errBoom {
		t.Errorf("Update returned %v, want the closure's error unchanged", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "panic in closure" {
				t.Errorf("recovered %v, want the closure's panic", r)
			}
		}()
		_ = s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
			must(t, w.InsertUser(ctx, store.User{ID: "gone2", Email: "gone2@example.com"}))
			panic("panic in closure")
		})
		t.Error("Update returned after a panic")
	}()
	errView := errors.New("view")
	if err := s.View(t.Context(), func(ctx context.Context, r store.Reader) error { return errView }); err != errView {
		t.Errorf("View returned %v, want the closure's error unchanged", err)
	}
	view(t, s, func(ctx context.Context, r store.Reader) error {
		for _, id := range []string{"gone1", "gone2"} {
			_, err := r.User(ctx, id)
			wantErr(t, err, store.ErrNotFound)
		}
		return nil
	})
	// View is read-only.
	err = s.View(t.Context(), func(ctx context.Context, r store.Reader) error {
		return r.(store.Writer).InsertUser(ctx, store.User{ID: "ro", Email: "ro@example.com"})
	})
	if err == nil {
		t.Error("a write in View succeeded")
	}
}

// incrementPlan treats account a1's plan as a counter and adds one to it; before,
// when not nil, runs between the read and the write.
func incrementPlan(ctx context.Context, w store.Writer, before func()) error {
	a, err := w.Account(ctx, rbac.Account("a1"))
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(a.Plan)
	if before != nil {
		before()
	}
	a.Plan = strconv.Itoa(n + 1)
	return w.UpdateAccount(ctx, a)
}

func planOf(tb testing.TB, s store.Store) string {
	var plan string
	view(tb, s, func(ctx context.Context, r store.Reader) error {
		a, err := r.Account(ctx, rbac.Account("a1"))
		plan = a.Plan
		return err
	})
	return plan
}

// conflictingUpdates runs two Updates that both read account a1 before either writes
// it, and returns their errors and how many times their closures ran.
func conflictingUpdates(t *testing.T, s store.Store) (errs [2]error, calls int32) {
	var n atomic.Int32
	var ready sync.WaitGroup
	ready.Add(2)
	proceed := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			first := true
			errs[i] = s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
				n.Add(1)
				return incrementPlan(ctx, w, func() {
					if first { // overlap the first attempts only
						first = false
						ready.Done()
						select {
						case <-proceed:
						case <-time.After(10 * time.Second):
						}
					}
				})
			})
		})
	}
	ready.Wait()
	close(proceed)
	wg.Wait()
	return errs, n.Load()
}

func TestConflictRetried(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	errs, calls := conflictingUpdates(t, s)
	for _, err := range errs {
		must(t, err)
	}
	if calls < 3 {
		t.Errorf("closures ran %d times, want at least 3 (one retry)", calls)
	}
	if plan := planOf(t, s); plan != "2" {
		t.Errorf("counter = %s, want 2", plan)
	}
}

func TestConflictWithoutRetries(t *testing.T) {
	s := openStore(t, pgstore.Options{MaxRetries: -1})
	fixture(t, s)
	errs, calls := conflictingUpdates(t, s)
	failed := 0
	for _, err := range errs {
		if err != nil {
			wantErr(t, err, store.ErrConflict)
			failed++
		}
	}
	if failed != 1 || calls != 2 {
		t.Errorf("%d updates failed after %d runs, want 1 failure and no retry", failed, calls)
	}
	if plan := planOf(t, s); plan != "1" {
		t.Errorf("counter = %s, want 1", plan)
	}
}

// TestTwoInstances runs read-modify-write transactions on one account from two
// Stores with their own pools, as two instances of a service would.
func TestTwoInstances(t *testing.T) {
	schema := newSchemaName()
	s1 := openStore(t, pgstore.Options{Schema: schema, MaxRetries: 1000})
	fixture(t, s1)
	pool, err := pgxpool.New(t.Context(), withParams(testDSN(t), "pool_max_conns=4"))
	must(t, err)
	defer pool.Close()
	s2 := pgstore.New(pool, pgstore.Options{Schema: schema, MaxRetries: 1000})
	stores := []*pgstore.Store{s1, s2}

	t.Run("Increments", func(t *testing.T) {
		const workers, each = 3, 15
		var wg sync.WaitGroup
		for i := range 2 * workers {
			wg.Go(func() {
				for range each {
					if err := stores[i%2].Update(t.Context(), func(ctx context.Context, w store.Writer) error {
						return incrementPlan(ctx, w, nil)
					}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if plan := planOf(t, s1); plan != strconv.Itoa(2*workers*each) {
			t.Errorf("counter = %s, want %d: an update was lost", plan, 2*workers*each)
		}
	})

	t.Run("TransferOnce", func(t *testing.T) {
		// Every worker moves ownership of a2 from carol to itself if carol still owns
		// it. In any serial order exactly one succeeds.
		const workers = 8
		start := make(chan struct{})
		var moved atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() {
				<-start
				me := fmt.Sprint("w", i)
				var did bool
				err := stores[i%2].Update(t.Context(), func(ctx context.Context, w store.Writer) error {
					did = false
					a, err := w.Account(ctx, rbac.Account("a2"))
					if err != nil || a.Owner != "carol" {
						return err
					}
					a.Owner = me
					did = true
					return w.UpdateAccount(ctx, a)
				})
				if err != nil {
					t.Error(err)
				} else if did {
					moved.Add(1)
					winner.Store(me)
				}
			})
		}
		close(start)
		wg.Wait()
		if moved.Load() != 1 {
			t.Fatalf("%d transfers from carol committed, want exactly 1", moved.Load())
		}
		view(t, s2, func(ctx context.Context, r store.Reader) error {
			a, err := r.Account(ctx, rbac.Account("a2"))
			if err == nil && a.Owner != winner.Load() {
				t.Errorf("owner = %s, want %s", a.Owner, winner.Load())
			}
			return err
		})
	})
}

func TestContextCancellation(t *testing.T) {
	schema := newSchemaName()
	s := openStore(t, pgstore.Options{Schema: schema})
	fixture(t, s)

	t.Run("Before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		ran := false
		err := s.Update(ctx, func(ctx context.Context, w store.Writer) error { ran = true; return nil })
		if !errors.Is(err, context.Canceled) || ran {
			t.Errorf("Update = %v (closure ran: %v), want context.Canceled", err, ran)
		}
		err = s.View(ctx, func(ctx context.Context, r store.Reader) error { return nil })
		wantErr(t, err, context.Canceled)
		_, _, err = s.Reach(ctx, rbac.User("bob"), rbac.Inbox("i1"), nil, nil)
		wantErr(t, err, context.Canceled)
	})

	t.Run("Inside", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			if err := w.InsertUser(ctx, store.User{ID: "c1", Email: "c1@example.com"}); err != nil {
				return err
			}
			cancel()
			return w.InsertUser(ctx, store.User{ID: "c2", Email: "c2@example.com"})
		})
		if err != context.Canceled {
			t.Errorf("Update = %v, want context.Canceled as the context reports it", err)
		}
		view(t, s, func(ctx context.Context, r store.Reader) error {
			_, err := r.User(ctx, "c1")
			wantErr(t, err, store.ErrNotFound)
			return nil
		})
	})

	t.Run("WhileBlocked", func(t *testing.T) {
		// Another session locks a1's row; an Update that writes it blocks until its
		// deadline.
		admin := adminPool(t)
		tx, err := admin.Begin(t.Context())
		must(t, err)
		defer tx.Rollback(context.Background())
		_, err = tx.Exec(t.Context(), `SELECT 1 FROM `+pgx.Identifier{schema}.Sanitize()+`.scopes WHERE kind = 2 AND id = 'a1' FOR UPDATE`)
		must(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		began := time.Now()
		err = s.Update(ctx, func(ctx context.Context, w store.Writer) error { return incrementPlan(ctx, w, nil) })
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Update = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(began); d > 5*time.Second {
			t.Errorf("Update returned after %v", d)
		}
		must(t, tx.Rollback(t.Context()))
		// The store is still usable.
		update(t, s, func(ctx context.Context, w store.Writer) error { return incrementPlan(ctx, w, nil) })
		if plan := planOf(t, s); plan != "1" {
			t.Errorf("counter = %s, want 1", plan)
		}
	})
}

// TestConnectionKilled terminates the backend of an Update in the middle of it:
// nothing of it is committed, and the store goes on with a new connection.
func TestConnectionKilled(t *testing.T) {
	app := fmt.Sprint("pgstore_kill_", time.Now().UnixNano())
	s := openStore(t, pgstore.Options{}, "application_name="+app, "pool_max_conns=1")
	fixture(t, s)
	admin := adminPool(t)
	err := s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertUser(ctx, store.User{ID: "k1", Email: "k1@example.com"}))
		must(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Account("a1"), User: "k1"}))
		var killed bool
		must(t, admin.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
			WHERE application_name = $1`, app).Scan(&killed))
		if !killed {
			t.Fatal("no backend terminated")
		}
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("k1"), Scope: rbac.Account("a1"), Level: rbac.Admin}})
	})
	if err == nil {
		t.Fatal("Update succeeded on a terminated connection")
	}
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("Update = %v, want a connection error", err)
	}
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.User(ctx, "k1")
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Member(ctx, rbac.Account("a1"), "k1")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{ID: "k1", Email: "k1@example.com"})
	})
}

func TestUpdateTx(t *testing.T) {
	name := newSchemaName()
	s := openStore(t, pgstore.Options{Schema: name})
	fixture(t, s)
	schema := pgx.Identifier{name}.Sanitize()
	ctx := t.Context()
	_, err := s.Pool().Exec(ctx, `CREATE TABLE `+schema+`.orders (id text PRIMARY KEY)`)
	must(t, err)

	run := func(commit bool) {
		tx, err := s.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
		must(t, err)
		defer tx.Rollback(context.Background())
		_, err = tx.Exec(ctx, `INSERT INTO `+schema+`.orders VALUES ($1)`, fmt.Sprint("o-", commit))
		must(t, err)
		must(t, s.UpdateTx(ctx, tx, func(ctx context.Context, w store.Writer) error {
			return w.InsertUser(ctx, store.User{ID: fmt.Sprint("tx-", commit), Email: fmt.Sprint("tx-", commit, "@example.com")})
		}))
		if commit {
			must(t, tx.Commit(ctx))
		}
	}
	run(false)
	run(true)
	var orders int
	must(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+schema+`.orders`).Scan(&orders))
	if orders != 1 {
		t.Errorf("%d orders, want 1", orders)
	}
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.User(ctx, "tx-false")
		wantErr(t, err, store.ErrNotFound)
		_, err = r.User(ctx, "tx-true")
		return err
	})
}

func TestMigrateConcurrently(t *testing.T) {
	dsn := testDSN(t)
	schema := newSchemaName()
	t.Cleanup(func() { dropSchema(t, dsn, schema) })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := pgstore.Open(t.Context(), withParams(dsn, "pool_max_conns=1"), pgstore.Options{Schema: schema})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if err := s.Migrate(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	admin := adminPool(t)
	var versions, maxVersion int
	must(t, admin.QueryRow(t.Context(), `SELECT count(*), max(version) FROM `+pgx.Identifier{schema}.Sanitize()+`.tenantry_schema_version`).Scan(&versions, &maxVersion))
	if n := len(migrationFiles(t)); versions != n || maxVersion != pgstore.SchemaVersion {
		t.Errorf("%d versions recorded, latest %d; want %d, latest %d", versions, maxVersion, n, pgstore.SchemaVersion)
	}
}

// The service's own writes and Tenantry's operations commit or roll back together.
func TestUpdateTxWithAccountOperations(t *testing.T) {
	name := newSchemaName()
	s := openStore(t, pgstore.Options{Schema: name})
	schema := pgx.Identifier{name}.Sanitize()
	ctx := t.Context()
	svc := account.New(s, account.Options{})
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "owner@example.com", Name: "Acme"})
	must(t, err)
	u, a := reg.User, reg.Account
	_, err = s.Pool().Exec(ctx, `CREATE TABLE `+schema+`.projects_billed (project text PRIMARY KEY)`)
	must(t, err)

	run := func(commit bool) string {
		tx, err := s.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
		must(t, err)
		defer tx.Rollback(context.Background())
		var project string
		must(t, s.UpdateTx(ctx, tx, func(ctx context.Context, w store.Writer) error {
			p, err := account.Run(ctx, svc.Join(w), rbac.User(u.ID), account.CreateResource{Parent: a.Ref, Kind: rbac.KindProject, Name: "Web"})
			project = p.Ref.ID
			return err
		}))
		_, err = tx.Exec(ctx, `INSERT INTO `+schema+`.projects_billed VALUES ($1)`, project)
		must(t, err)
		if commit {
			must(t, tx.Commit(ctx))
		}
		return project
	}
	gone, kept := run(false), run(true)
	for p, want := range map[string]bool{gone: false, kept: true} {
		_, err := svc.Check(ctx, rbac.User(u.ID), rbac.ProjectView, rbac.Project(p))
		if (err == nil) != want {
			t.Errorf("project %s: exists=%v, want %v", p, err == nil, want)
		}
		var n int
		must(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM `+schema+`.projects_billed WHERE project = $1`, p).Scan(&n))
		if (n == 1) != want {
			t.Errorf("the service's row for %s: %d, want present=%v", p, n, want)
		}
	}
}
