package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

func feedEvent(i int) store.Event {
	return store.Event{Tenant: rbac.Account("a1"), Actor: rbac.User("u1"), Action: "test.event", Target: fmt.Sprint(i)}
}

// appendEvents appends n events, one transaction each, numbered from first.
func appendEvents(tb testing.TB, s store.Store, first, n int) {
	tb.Helper()
	for i := range n {
		update(tb, s, func(ctx context.Context, w store.Writer) error {
			_, err := w.AppendEvent(ctx, feedEvent(first+i))
			return err
		})
	}
}

func targets(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Target
	}
	return out
}

// TestFeedResumesAcrossReopen: a consumer that stops with its cursor and resumes on the
// file opened anew sees every event exactly once; a Wait in progress when the store is
// closed returns an error.
func TestFeedResumesAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.db")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s1, err := sqlitestore.Open(ctx, path, testOptions)
	must(t, err)
	must(t, s1.Migrate(ctx))
	appendEvents(t, s1, 0, 5)
	page, err := s1.Changes(ctx, 0, 3)
	must(t, err)
	seen := slices.Clone(page)
	cursor := page[len(page)-1].Seq
	waiting := make(chan error, 1)
	go func() { waiting <- s1.Wait(ctx, 1<<40) }()
	time.Sleep(50 * time.Millisecond)
	must(t, s1.Close())
	select {
	case err := <-waiting:
		if err == nil || ctx.Err() != nil {
			t.Errorf("a Wait in progress when the store closes must return an error: got %v", err)
		}
	case <-ctx.Done():
		t.Fatal("a Wait in progress did not return when the store closed")
	}

	s2 := openStoreAt(t, path, testOptions, false)
	appendEvents(t, s2, 5, 4)
	svc := account.New(s2, account.Options{})
	for e, err := range svc.Follow(ctx, cursor) {
		must(t, err)
		seen = append(seen, e)
		if e.Target == "8" {
			break
		}
	}
	want := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8"}
	if got := targets(seen); !slices.Equal(got, want) {
		t.Errorf("resuming from the cursor on a reopened file must yield every event exactly once: got %v, want %v", got, want)
	}
}

// TestFeedSeesOtherStores: a Wait on one Store returns when another Store on the same
// file (as another process would) commits an event, through the poll; and a consumer
// of one sees the other's events in order.
func TestFeedSeesOtherStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.db")
	for _, cache := range []bool{true, false} {
		t.Run(fmt.Sprintf("cache=%v", cache), func(t *testing.T) {
			opts := testOptions
			if !cache {
				opts.CheckCacheSize = -1
			}
			writer := openStoreAt(t, path, testOptions, true)
			reader := openStoreAt(t, path, opts, false)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			all, err := reader.Changes(ctx, 0, 1000)
			must(t, err)
			var cursor uint64
			if len(all) > 0 {
				cursor = all[len(all)-1].Seq
			}
			done := make(chan error, 1)
			go func() { done <- reader.Wait(ctx, cursor) }()
			select {
			case err := <-done:
				t.Fatalf("Wait returned %v with nothing committed", err)
			case <-time.After(2 * sqlitestore.FeedPollInterval):
			}
			appendEvents(t, writer, 100, 3)
			select {
			case err := <-done:
				must(t, err)
			case <-ctx.Done():
				t.Fatal("Wait did not see another Store's commit")
			}
			evs, err := reader.Changes(ctx, cursor, 10)
			must(t, err)
			if got := targets(evs); !slices.Equal(got, []string{"100", "101", "102"}) {
				t.Errorf("the other Store's events, in order: got %v", got)
			}
		})
	}
}

// BenchmarkFeedWrite measures a write (a grant and its audit event) with no consumer
// of the feed and with one blocked in Follow, which every commit wakes.
func BenchmarkFeedWrite(b *testing.B) {
	for _, follower := range []bool{false, true} {
		b.Run(fmt.Sprintf("follower=%v", follower), func(b *testing.B) {
			s := openStoreAt(b, filepath.Join(b.TempDir(), "bench.db"), testOptions, true)
			loadWorld(b, s, 1_000)
			ctx, cancel := context.WithCancel(b.Context())
			defer cancel()
			if follower {
				svc := account.New(s, account.Options{})
				go func() {
					for _, err := range svc.Follow(ctx, 0) {
						if err != nil {
							return
						}
					}
				}()
			}
			acct, proj := rbac.Account("a0"), rbac.Project("p0.0")
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				holder := rbac.User(fmt.Sprint("w", i%64))
				i++
				err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
					if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: holder, Scope: proj, Level: rbac.Viewer}, Tenant: acct}); err != nil {
						return err
					}
					_, err := w.AppendEvent(ctx, store.Event{Tenant: acct, Actor: rbac.User("u0"), Action: "access.grant", Target: holder.String()})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFeedLatency measures how soon a consumer blocked in Service.Follow on the
// same Store gets an event: from the moment its transaction's closure returns (before
// the commit) to the moment Follow yields it. It reports the median and the 99th
// percentile (run with -benchtime 1000x for a median over 1,000 events).
func BenchmarkFeedLatency(b *testing.B) {
	s := openStoreAt(b, filepath.Join(b.TempDir(), "bench.db"), testOptions, true)
	svc := account.New(s, account.Options{})
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
		err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			_, err := w.AppendEvent(ctx, feedEvent(i))
			start = time.Now()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got).Sub(start))
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	}
}
