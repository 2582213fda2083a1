package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
)

// BenchmarkReach measures a check's read at inbox depth (organization > account >
// project > inbox) for a user with a direct grant and a team: one round trip.
func BenchmarkReach(b *testing.B) {
	s := openStore(b, pgstore.Options{})
	fixture(b, s)
	update(b, s, func(ctx context.Context, w store.Writer) error {
		must(b, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "T1"}))
		must(b, w.InsertTeamMember(ctx, "t1", "dave"))
		must(b, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.Team("t1"), Scope: rbac.Account("a1"), Level: rbac.Viewer}}))
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Admin}})
	})
	ctx := b.Context()
	path := make(rbac.Path, 0, 8)
	grants := make([]rbac.Grant, 0, 8)
	var err error
	b.ReportAllocs()
	for b.Loop() {
		path, grants, err = s.Reach(ctx, rbac.User("dave"), rbac.Inbox("i1"), path, grants)
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(path) != 4 || len(grants) != 2 {
		b.Fatalf("path %v, grants %v", path, grants)
	}
}

// BenchmarkWriteParallel measures small SERIALIZABLE write transactions (PutGrant and
// AppendEvent) from 8 concurrent callers, and reports transactions per second.
func BenchmarkWriteParallel(b *testing.B) {
	const callers = 8
	s := openStore(b, pgstore.Options{MaxRetries: 1000}, "pool_max_conns=8")
	fixture(b, s)
	// Warm the pool's connections and their statement caches.
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			_ = s.View(b.Context(), func(ctx context.Context, r store.Reader) error { time.Sleep(10 * time.Millisecond); return nil })
		})
	}
	wg.Wait()

	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for c := range callers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				holder := rbac.User(fmt.Sprint("c", c, "-", i%64))
				err := s.Update(b.Context(), func(ctx context.Context, w store.Writer) error {
					if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: holder, Scope: rbac.Project("p1"), Level: rbac.Viewer}}); err != nil {
						return err
					}
					_, err := w.AppendEvent(ctx, store.Event{Tenant: rbac.Account("a1"), Actor: rbac.User("bob"), Action: "access.grant", Target: holder.String()})
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
}

// checkFixture loads the fixture of BenchmarkReach: dave reaches inbox i1 through his
// admin grant on project p1 and his team's viewer grant on account a1.
func checkFixture(b *testing.B, s *pgstore.Store) {
	fixture(b, s)
	update(b, s, func(ctx context.Context, w store.Writer) error {
		must(b, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "T1"}))
		must(b, w.InsertTeamMember(ctx, "t1", "dave"))
		must(b, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.Team("t1"), Scope: rbac.Account("a1"), Level: rbac.Viewer}}))
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Admin}})
	})
}

// planModes are the connection settings the check benchmarks compare: the server's
// default plan_cache_mode (auto: custom plans for a prepared statement's first five
// executions on a connection, then a generic plan if it is not costlier) and
// force_generic_plan.
var planModes = []struct{ name, param string }{
	{"plan=auto", "plan_cache_mode=auto"},
	{"plan=generic", "plan_cache_mode=force_generic_plan"},
}

// BenchmarkCheckRoundTrip measures a bare round trip (SELECT 1) beside Store.Check
// (dave's inbox.read on i1, one round trip) on the same pool of one connection,
// warmed, so that the time Check adds to the round trip is read from one run.
func BenchmarkCheckRoundTrip(b *testing.B) {
	for _, m := range planModes {
		b.Run(m.name, func(b *testing.B) {
			s := openStore(b, pgstore.Options{}, "pool_max_conns=1", m.param)
			checkFixture(b, s)
			ctx := b.Context()
			b.Run("select1", func(b *testing.B) {
				var one int
				for b.Loop() {
					if err := s.Pool().QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("check", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					d, err := s.Check(ctx, rbac.User("dave"), rbac.InboxRead, rbac.Inbox("i1"), time.Now())
					if err != nil || !d.Allowed {
						b.Fatalf("Check = %+v, %v", d, err)
					}
				}
			})
		})
	}
}

// BenchmarkCheckSideBySide measures a bare round trip (SELECT 1) and Store.Check
// (dave's inbox.read on i1) alternately on the same pool of one connection, each
// iteration timing one of each, so that both see the same load of the machine. It
// reports the median latency of each and their ratio (check-µs / select1-µs); ns/op
// is the time of the pair. The sub-benchmarks grants=N load the fixture first with N
// more inboxes in account a2, a viewer grant of dave on each, and N teams in account
// a1 (none of which dave belongs to), analyzed: a check still reads only the grants
// and teams it needs.
func BenchmarkCheckSideBySide(b *testing.B) {
	for _, n := range []int{0, 1_000, 100_000} {
		b.Run(fmt.Sprint("grants=", n), func(b *testing.B) {
			schema := newSchemaName()
			s := openStore(b, pgstore.Options{Schema: schema}, "pool_max_conns=1")
			checkFixture(b, s)
			if n > 0 {
				loadChecks(b, s, schema, n)
			}
			sideBySide(b, s)
		})
	}
}

// loadChecks adds to the fixture of checkFixture n inboxes below project p2 with a
// viewer grant of dave on each, and n teams in account a1, and analyzes the tables.
func loadChecks(b *testing.B, s *pgstore.Store, schema string, n int) {
	q := strings.NewReplacer("$schema.", pgx.Identifier{schema}.Sanitize()+".")
	for _, sql := range []string{
		`INSERT INTO $schema.scopes (kind, id, parent_kind, parent_id, tenant_kind, tenant_id, name, created, path_kinds, path_ids)
		SELECT 4, 'x' || i, 3, 'p2', 2, 'a2', 'X', now(), '{2,3,4}', ARRAY['a2', 'p2', 'x' || i]
		FROM generate_series(1, $1) i`,
		`INSERT INTO $schema.grants (holder_kind, holder_id, scope_kind, scope_id, level, view_content, tenant_kind, tenant_id)
		SELECT 1, 'dave', 4, 'x' || i, 10, false, 2, 'a2' FROM generate_series(1, $1) i`,
		`INSERT INTO $schema.teams (id, tenant_kind, tenant_id, name, name_fold, created)
		SELECT 'tx' || i, 2, 'a1', 'TX' || i, 'tx' || i, now() FROM generate_series(1, $1) i`,
	} {
		if _, err := s.Pool().Exec(b.Context(), q.Replace(sql), n); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Pool().Exec(b.Context(), q.Replace(`ANALYZE $schema.scopes, $schema.grants, $schema.teams`)); err != nil {
		b.Fatal(err)
	}
	// The pool's connection prepared its statements before the load: start afresh.
	s.Pool().Reset()
}

// sideBySide runs the loop of BenchmarkCheckSideBySide on s.
func sideBySide(b *testing.B, s *pgstore.Store) {
	ctx := b.Context()
	var one int
	var sel, chk []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		if err := s.Pool().QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		d, err := s.Check(ctx, rbac.User("dave"), rbac.InboxRead, rbac.Inbox("i1"), t1)
		sel, chk = append(sel, t1.Sub(t0)), append(chk, time.Since(t1))
		if err != nil || !d.Allowed {
			b.Fatalf("Check = %+v, %v", d, err)
		}
	}
	median := func(all []time.Duration) float64 {
		slices.Sort(all)
		return float64(all[len(all)/2].Nanoseconds()) / 1e3
	}
	ms, mc := median(sel), median(chk)
	b.ReportMetric(ms, "select1-µs")
	b.ReportMetric(mc, "check-µs")
	b.ReportMetric(mc/ms, "ratio")
}

// BenchmarkCheckFirst10 measures the first 10 checks of a fresh connection: each
// iteration opens a Store of one connection on the fixture's schema (Open pings, so
// the connection is made before the clock runs), runs 10 checks timing each, and
// closes it. It reports the median latency of the 1st, the 2nd to 5th, the 6th (when
// the server first considers a generic plan) and the 7th to 10th checks, and ns/op is
// the time of the 10 checks.
func BenchmarkCheckFirst10(b *testing.B) {
	for _, m := range planModes {
		b.Run(m.name, func(b *testing.B) {
			schema := newSchemaName()
			s := openStore(b, pgstore.Options{Schema: schema}, "pool_max_conns=1")
			checkFixture(b, s)
			ctx := b.Context()
			dsn := withParams(testDSN(b), "pool_max_conns=1", m.param)
			var lat [10][]time.Duration
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				fresh, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for i := range lat {
					t0 := time.Now()
					d, err := fresh.Check(ctx, rbac.User("dave"), rbac.InboxRead, rbac.Inbox("i1"), t0)
					lat[i] = append(lat[i], time.Since(t0))
					if err != nil || !d.Allowed {
						b.Fatalf("Check = %+v, %v", d, err)
					}
				}
				b.StopTimer()
				fresh.Close()
				b.StartTimer()
			}
			median := func(from, to int) float64 {
				var all []time.Duration
				for i := from; i < to; i++ {
					all = append(all, lat[i]...)
				}
				slices.Sort(all)
				return float64(all[len(all)/2].Microseconds())
			}
			b.ReportMetric(median(0, 1), "1st-µs")
			b.ReportMetric(median(1, 5), "2nd-5th-µs")
			b.ReportMetric(median(5, 6), "6th-µs")
			b.ReportMetric(median(6, 10), "7th-10th-µs")
		})
	}
}
