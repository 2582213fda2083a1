package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
