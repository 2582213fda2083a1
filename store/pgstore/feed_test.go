package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
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

// TestFeedResumesAcrossReopen: a consumer that stops with its cursor and resumes on a
// store opened anew on the same schema sees every event exactly once; Wait on a
// closed store returns an error at once.
func TestFeedResumesAcrossReopen(t *testing.T) {
	schema := newSchemaName()
	s1 := openStore(t, pgstore.Options{Schema: schema})
	appendEvents(t, s1, 0, 5)
	page, err := s1.Changes(t.Context(), 0, 3)
	must(t, err)
	cursor := page[len(page)-1].Seq
	seen := slices.Clone(page)
	// A waiter opens the listening connection; Close ends it.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	must(t, s1.Wait(ctx, cursor))
	s1.Close()
	if err := s1.Wait(ctx, 1<<40); err == nil || ctx.Err() != nil {
		t.Errorf("Wait on a closed store must return an error at once: got %v", err)
	}

	s3 := openStore(t, pgstore.Options{Schema: schema})
	s3.Close()
	if err := s3.Wait(ctx, 1<<40); err == nil || ctx.Err() != nil {
		t.Errorf("Wait on a store closed before any Wait must return an error at once: got %v", err)
	}

	s2 := openStore(t, pgstore.Options{Schema: schema})
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
		t.Errorf("resuming from the cursor on a reopened store must yield every event exactly once: got %v, want %v", got, want)
	}
}

// TestFeedAppendWaitsForEarlierAppender confirms, step by step, what makes the feed
// skip nothing: a transaction that appends an event holds the events' lock until it
// ends, so a second appender draws its Seq only after the first has committed, and a
// reader never sees a greater Seq while a smaller one may still commit.
func TestFeedAppendWaitsForEarlierAppender(t *testing.T) {
	s := openStore(t, pgstore.Options{}, "pool_max_conns=6")
	ctx := t.Context()
	pool := s.Pool()
	begin := func() pgx.Tx {
		tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
		must(t, err)
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		return tx
	}
	appendIn := func(tx pgx.Tx, i int) (store.Event, error) {
		var e store.Event
		err := s.UpdateTx(ctx, tx, func(ctx context.Context, w store.Writer) error {
			var err error
			e, err = w.AppendEvent(ctx, feedEvent(i))
			return err
		})
		return e, err
	}
	tx1 := begin()
	e1, err := appendIn(tx1, 1)
	must(t, err)

	tx2 := begin()
	second := make(chan store.Event, 1)
	go func() {
		e, err := appendIn(tx2, 2)
		if err != nil {
			t.Error(err)
		}
		second <- e
	}()
	select {
	case e := <-second:
		t.Fatalf("a second transaction appended (Seq %d) while the first, which appended Seq %d, was open", e.Seq, e1.Seq)
	case <-time.After(300 * time.Millisecond):
	}
	woken := make(chan error, 1)
	go func() { woken <- s.Wait(ctx, 0) }()
	if evs, err := s.Changes(ctx, 0, 10); err != nil || len(evs) != 0 {
		t.Fatalf("the feed must show nothing uncommitted: %v, %v", targets(evs), err)
	}
	must(t, tx1.Commit(ctx))
	select {
	case err := <-woken:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Wait was not woken by the first commit")
	}
	var e2 store.Event
	select {
	case e2 = <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("the second transaction did not append after the first committed")
	}
	if e2.Seq <= e1.Seq {
		t.Fatalf("the second appender drew Seq %d, not after the first's %d", e2.Seq, e1.Seq)
	}
	if evs, err := s.Changes(ctx, 0, 10); err != nil || !slices.Equal(targets(evs), []string{"1"}) {
		t.Fatalf("with the second transaction open, the feed must show the first's event only: %v, %v", targets(evs), err)
	}
	must(t, tx2.Commit(ctx))
	if evs, err := s.Changes(ctx, e1.Seq, 10); err != nil || !slices.Equal(targets(evs), []string{"2"}) {
		t.Fatalf("after both commits the feed must show the second event after the first's Seq: %v, %v", targets(evs), err)
	}
}

// TestFeedListenerReconnects: when the server ends the listening connection, the
// waiters read again once a new one listens, and later commits still wake them.
func TestFeedListenerReconnects(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	appendEvents(t, s, 0, 1)
	must(t, s.Wait(ctx, 0)) // the listener runs
	admin := adminPool(t)
	var killed int
	must(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %' || $1 || '%' AND pid <> pg_backend_pid()`, pgstore.FeedChannel(s)).Scan(&killed))
	if killed == 0 {
		t.Fatal("found no listening connection to end")
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, 1) }()
	time.Sleep(200 * time.Millisecond)
	appendEvents(t, s, 1, 1)
	select {
	case err := <-done:
		must(t, err)
	case <-ctx.Done():
		t.Fatal("Wait was not woken by a commit after its listening connection was ended")
	}
}

// TestFeedConcurrentOperations: account operations from several goroutines (each
// serializable, some retried after conflicts) while a consumer follows the feed: it
// sees every event exactly once, in Seq order.
func TestFeedConcurrentOperations(t *testing.T) {
	s := openStore(t, pgstore.Options{}, "pool_max_conns=8")
	svc := account.New(s, account.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "owner@feed.test"})
	must(t, err)
	owner, acct := rbac.User(reg.User.ID), reg.Account.Ref

	var mu sync.Mutex
	var seen []store.Event
	followed := make(chan error, 1)
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for e, err := range svc.Follow(fctx, 0) {
			if err != nil {
				followed <- err
				return
			}
			mu.Lock()
			seen = append(seen, e)
			mu.Unlock()
		}
		followed <- nil
	}()
	const writers, ops = 6, 15
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range ops {
				_, err := account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: fmt.Sprintf("p%d-%d", g, i)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := s.Changes(ctx, 0, 100000)
	must(t, err)
	if len(all) != 1+writers*ops {
		t.Fatalf("the feed holds %d events, want %d", len(all), 1+writers*ops)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= len(all) || time.Now().After(deadline) {
			break
		}
	}
	stop()
	must(t, <-followed)
	if !slices.EqualFunc(seen, all, func(a, b store.Event) bool { return a.Seq == b.Seq && a.Target == b.Target }) {
		t.Errorf("the consumer must see every event exactly once, in Seq order: saw %d events, the feed holds %d", len(seen), len(all))
	}
}

// BenchmarkFeedWrite measures a write (SetPermissions of two grants, with its audit
// event, in one serializable transaction) as the store appended events before it had
// a feed (no-notify), with the feed's notification in the append statement (notify),
// and with a consumer blocked in Follow, woken by every commit (notify+follower).
func BenchmarkFeedWrite(b *testing.B) {
	for _, c := range []string{"no-notify", "notify", "notify+follower"} {
		b.Run(c, func(b *testing.B) {
			w := newOpsWorld(b)
			if c == "no-notify" {
				pgstore.WithoutFeedNotify(w.store)
			}
			ctx, cancel := context.WithCancel(b.Context())
			defer cancel()
			if c == "notify+follower" {
				go func() {
					for _, err := range w.svc.Follow(ctx, 0) {
						if err != nil {
							return
						}
					}
				}()
			}
			levels := [2]rbac.Level{rbac.Admin, rbac.Viewer}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				_, err := account.Do(ctx, w.svc, w.owner, account.SetPermissions{Tenant: w.acct, Holder: w.member, Changes: []account.PermissionChange{
					{Scope: w.project, Level: levels[i%2]},
					{Scope: w.inbox, Level: levels[(i+1)%2]},
				}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFeedLatency measures how soon a consumer blocked in Service.Follow gets an
// event on PostgreSQL: from the moment its transaction's closure returns (before the
// commit) to the moment Follow yields it, through NOTIFY and the listening
// connection. It reports the median and the 99th percentile (run with -benchtime
// 1000x for a median over 1,000 events).
func BenchmarkFeedLatency(b *testing.B) {
	s := openStore(b, pgstore.Options{})
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
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1e3, "p99-ms")
	}
}
