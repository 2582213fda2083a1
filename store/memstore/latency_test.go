package memstore_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// loadEvents appends n audit events to tenant, in Updates of 100k events.
func loadEvents(tb testing.TB, s *memstore.Store, tenant rbac.Ref, n int) {
	const batch = 100_000
	for lo := 0; lo < n; lo += batch {
		err := s.Update(context.Background(), func(ctx context.Context, w store.Writer) error {
			for i := lo; i < min(n, lo+batch); i++ {
				if _, err := w.AppendEvent(ctx, store.Event{Tenant: tenant, Actor: rbac.User("loader"), Action: "access.grant", Target: "user:u" + strconv.Itoa(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// percentiles sorts lat and reports its p50, p99, p99.9 and maximum in nanoseconds.
func percentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
	b.ReportMetric(at(0.999), "p99.9-ns")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds()), "max-ns")
}

// BenchmarkCheckUnderWrites measures the latency of Store.Check (the allow check of
// BenchmarkReach's user, 100k grants) on one goroutine, in a store holding 1M audit
// events in the tenant being written, with no writer (writers=0) and while one or two
// goroutines run Updates back to back (writers=1, 2), each a PutGrant and an AppendEvent
// in that tenant. It reports the percentiles of the checks' latencies, and the
// writers' transactions per second.
func BenchmarkCheckUnderWrites(b *testing.B) {
	const grants, events = 100_000, 1_000_000
	s := memstore.New()
	loadGrants(b, s, grants)
	h, inbox := benchHolder(grants)
	acct := rbac.Account("a" + strconv.Itoa(accountsFor(grants)/2))
	proj := rbac.Project("p" + strconv.Itoa(accountsFor(grants)/2) + ".1")
	loadEvents(b, s, acct, events)
	ctx := context.Background()
	for _, writers := range []int{0, 1, 2} {
		b.Run("writers="+strconv.Itoa(writers), func(b *testing.B) {
			var stop atomic.Bool
			var txs atomic.Int64
			var wg sync.WaitGroup
			for c := range writers {
				wg.Go(func() {
					for i := 0; !stop.Load(); i++ {
						holder := rbac.User("w" + strconv.Itoa(c) + "-" + strconv.Itoa(i%64))
						err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
							if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: holder, Scope: proj, Level: rbac.Viewer}}); err != nil {
								return err
							}
							_, err := w.AppendEvent(ctx, store.Event{Tenant: acct, Actor: rbac.User("bob"), Action: "access.grant", Target: holder.String()})
							return err
						})
						if err != nil {
							b.Error(err)
							return
						}
						txs.Add(1)
					}
				})
			}
			lat := make([]time.Duration, 0, 1<<20)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				t0 := time.Now()
				d, err := s.Check(ctx, h, rbac.InboxRead, inbox, t0)
				el := time.Since(t0)
				if err != nil || !d.Allowed {
					b.Fatalf("Check = %+v, %v", d, err)
				}
				lat = append(lat, el)
			}
			elapsed := time.Since(start)
			stop.Store(true)
			wg.Wait()
			percentiles(b, lat)
			if writers > 0 {
				b.ReportMetric(float64(txs.Load())/elapsed.Seconds(), "tx/s")
			}
		})
	}
}
