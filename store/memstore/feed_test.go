package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

var errRollback = errors.New("roll back")

// TestFeedLaws states the feed's laws over random histories of transactions that
// append events to random tenants and commit, fail or panic: Changes(after, limit) is
// exactly the first limit committed events with Seq greater than after, in Seq order;
// the committed Seqs are 1, 2, 3... (the numbers of a rolled-back transaction are
// used again, never seen); and every tenant's log is the feed's events of that tenant.
func TestFeedLaws(t *testing.T) {
	tenants := []rbac.Ref{{}, rbac.Account("a1"), rbac.Account("a2"), rbac.Org("o1")}
	rapid.Check(t, func(rt *rapid.T) {
		s := memstore.New()
		ctx := context.Background()
		var model []store.Event // committed, in Seq order
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for step := range steps {
			n := rapid.IntRange(0, 4).Draw(rt, "events")
			outcome := rapid.SampledFrom([]string{"commit", "commit", "error", "panic"}).Draw(rt, "outcome")
			var appended []store.Event
			func() {
				defer func() {
					if p := recover(); p != nil && outcome != "panic" {
						panic(p)
					}
				}()
				err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
					for i := range n {
						e := store.Event{Time: time.Unix(int64(step), 0).UTC(), Tenant: tenants[rapid.IntRange(0, len(tenants)-1).Draw(rt, "tenant")],
							Actor: rbac.User("u"), Action: "test.step", Target: fmt.Sprintf("%d.%d", step, i)}
						got, err := w.AppendEvent(ctx, e)
						if err != nil {
							return err
						}
						appended = append(appended, got)
					}
					switch outcome {
					case "error":
						return errRollback
					case "panic":
						panic("roll back")
					}
					return nil
				})
				if outcome == "commit" && err != nil || outcome == "error" && !errors.Is(err, errRollback) {
					rt.Fatalf("Update: %v", err)
				}
			}()
			if outcome == "commit" {
				model = append(model, appended...)
			}
		}
		for i, e := range model {
			if e.Seq != uint64(i+1) {
				rt.Fatalf("committed Seqs must be 1, 2, 3...: event %d has Seq %d", i, e.Seq)
			}
		}
		last := uint64(len(model))
		for _, after := range []uint64{0, last / 2, last, last + 1, rapid.Uint64Range(0, last+2).Draw(rt, "after")} {
			for _, limit := range []int{-1, 0, 1, 3, len(model) + 1} {
				got, err := s.Changes(ctx, after, limit)
				if err != nil {
					rt.Fatal(err)
				}
				i := sort.Search(len(model), func(i int) bool { return model[i].Seq > after })
				var want []store.Event
				if limit > 0 {
					want = model[i:min(len(model), i+limit)]
				}
				if !sameEvents(got, want) {
					rt.Fatalf("Changes(%d, %d) = %d events, want %d", after, limit, len(got), len(want))
				}
			}
		}
		for _, tn := range tenants {
			var log []store.Event
			if err := s.View(ctx, func(ctx context.Context, r store.Reader) error {
				var err error
				log, err = r.Events(ctx, tn, 0, 1<<20)
				return err
			}); err != nil {
				rt.Fatal(err)
			}
			var fromFeed []store.Event
			for _, e := range model {
				if e.Tenant == tn {
					fromFeed = append(fromFeed, e)
				}
			}
			if !sameEvents(log, fromFeed) {
				rt.Fatalf("tenant %v: log has %d events, the feed %d", tn, len(log), len(fromFeed))
			}
		}
		// Wait: at once below the last committed Seq; blocked at it.
		if last > 0 {
			if err := s.Wait(ctx, last-1); err != nil {
				rt.Fatalf("Wait(%d) with Seq %d committed: %v", last-1, last, err)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		if err := s.Wait(wctx, last); !errors.Is(err, context.DeadlineExceeded) {
			rt.Fatalf("Wait(%d) with nothing after it committed: %v", last, err)
		}
	})
}

// feedWorld is an account whose owner changes a member's permissions, for the feed's
// benchmarks of a write.
type feedWorld struct {
	svc           *account.Service
	st            *memstore.Store
	owner, member rbac.Holder
	acct, project rbac.Ref
	n             int
}

func newFeedWorld(b *testing.B) *feedWorld {
	ctx := b.Context()
	st := memstore.New()
	svc := account.New(st, account.Options{})
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "owner@feed.test"})
	if err != nil {
		b.Fatal(err)
	}
	w := &feedWorld{svc: svc, st: st, owner: rbac.User(reg.User.ID), acct: reg.Account.Ref}
	if _, err := account.Do(ctx, svc, w.owner, account.SetPlan{Account: w.acct, Plan: "team"}); err != nil {
		b.Fatal(err)
	}
	p, err := account.Do(ctx, svc, w.owner, account.CreateResource{Parent: w.acct, Kind: rbac.KindProject, Name: "Web"})
	if err != nil {
		b.Fatal(err)
	}
	w.project = p.Ref
	m, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "member@feed.test"})
	if err != nil {
		b.Fatal(err)
	}
	inv, err := account.Do(ctx, svc, w.owner, account.Invite{Tenant: w.acct, Email: "member@feed.test", Grants: []account.GrantSpec{{Scope: p.Ref, Level: rbac.Viewer}}})
	if err != nil {
		b.Fatal(err)
	}
	w.member = rbac.User(m.User.ID)
	if _, err := account.Do(ctx, svc, w.member, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
		b.Fatal(err)
	}
	return w
}

// write changes the member's level on the project, back and forth: one SetPermissions,
// one audit event.
func (w *feedWorld) write(b *testing.B) {
	w.n++
	level := []rbac.Level{rbac.Admin, rbac.Viewer}[w.n%2]
	if _, err := account.Do(b.Context(), w.svc, w.owner, account.SetPermissions{Tenant: w.acct, Holder: w.member,
		Changes: []account.PermissionChange{{Scope: w.project, Level: level}}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFeedWrite measures a write (SetPermissions, with its audit event) with no
// consumer of the feed and with one blocked in Wait, which each commit wakes. The
// feed's own cost in a write, the store-wide index and the commit's signal, is in
// BenchmarkFeedAppend.
func BenchmarkFeedWrite(b *testing.B) {
	b.Run("follower=none", func(b *testing.B) {
		w := newFeedWorld(b)
		b.ReportAllocs()
		for b.Loop() {
			w.write(b)
		}
	})
	b.Run("follower=blocked", func(b *testing.B) {
		w := newFeedWorld(b)
		ctx, cancel := context.WithCancel(b.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, err := range w.svc.Follow(ctx, 0) {
				if err != nil {
					return
				}
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			w.write(b)
		}
		b.StopTimer()
		cancel()
		<-done
	})
}

// BenchmarkFeedLatency measures how soon a consumer blocked in Service.Follow gets an
// event: from the moment its transaction's closure returns (the commit) to the moment
// Follow yields it. It reports the median and the 99th percentile over the iterations
// (run with -benchtime 1000x for a median over 1,000 events).
func BenchmarkFeedLatency(b *testing.B) {
	st := memstore.New()
	svc := account.New(st, account.Options{})
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	got := make(chan time.Time)
	go func() {
		for _, err := range svc.Follow(ctx, 0) {
			if err != nil {
				return
			}
			got <- time.Now()
		}
	}()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		var start time.Time
		err := st.Update(ctx, func(ctx context.Context, w store.Writer) error {
			_, err := w.AppendEvent(ctx, store.Event{Tenant: rbac.Account("a"), Actor: rbac.User("u"), Action: "bench.event", Target: fmt.Sprint(i)})
			start = time.Now()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got).Sub(start))
	}
	reportLatency(b, lat)
}

// reportLatency reports the median and the 99th percentile of lat, in µs.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// sameEvents reports whether a and b hold equal events in the same order.
func sameEvents(a, b []store.Event) bool {
	return slices.EqualFunc(a, b, func(x, y store.Event) bool { return reflect.DeepEqual(x, y) })
}
