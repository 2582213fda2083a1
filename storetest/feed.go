package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// feedClauses are the clauses of the Feed group, about the optional store.Feed.
var feedClauses = []clause{
	{name: "ChangesInCommitOrder", fn: feedCommitOrder},
	{name: "CursorExactlyOnce", fn: feedCursor},
	{name: "RolledBackNeverAppear", fn: feedRolledBack},
	{name: "WaitWakesOnCommit", fn: feedWaitWakes},
	{name: "WaitHonoursContext", fn: feedWaitContext},
	{name: "ConcurrentWritersNeverSkip", fn: feedConcurrent},
	{name: "ChangeLogAgreesWithFeed", fn: feedChangeLog},
}

// feedQuiet is how long a clause watches Wait to see that it does not return: long
// enough for a store's notification to arrive, were one (wrongly) sent.
const feedQuiet = 150 * time.Millisecond

// feedPatience bounds how long a clause waits for Wait to return after a commit or
// the end of its context.
const feedPatience = 5 * time.Second

// wait runs f.Wait(ctx, after) and returns its error, and stops the clause when it
// has not returned within feedPatience of ctx's end.
func (e *env) wait(f store.Feed, ctx context.Context, after uint64) error {
	res := make(chan error, 1)
	go func() { res <- f.Wait(ctx, after) }()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-res:
		return err
	case <-time.After(feedPatience):
		e.Fatalf("store.go: Feed.Wait did not return within %v of the end of its context", feedPatience)
		return nil
	}
}

// needFeed returns the store's store.Feed, and skips the clause when it has none.
func (e *env) needFeed() store.Feed {
	f, ok := store.FeedOf(e.s)
	if !ok {
		e.skipf("the store does not implement the optional store.Feed, itself or through store.Unwrapper (%T)", e.s)
	}
	return f
}

// changes returns every event of the feed after the cursor, read a page of limit
// events at a time, each after the previous page's last Seq.
func (e *env) changes(f store.Feed, after uint64, limit int) []store.Event {
	var out []store.Event
	for pages := 0; ; pages++ {
		if pages > 1<<16 {
			e.Fatalf("store.go: Feed.Changes pages never end (limit %d)", limit)
		}
		page, err := f.Changes(e.ctx, after, limit)
		if err != nil {
			e.Fatalf("Feed.Changes failed: %v", err)
		}
		if len(page) > limit {
			e.Errorf("store.go: Feed.Changes must return at most limit events: got %d with limit %d", len(page), limit)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// appendAll appends evs in one Update and returns them as stored.
func (e *env) appendAll(evs ...store.Event) []store.Event {
	var got []store.Event
	e.do("append", func(ctx context.Context, w store.Writer) error {
		got = got[:0] // this run's events only, should the store run the closure again
		for _, ev := range evs {
			s, err := w.AppendEvent(ctx, ev)
			if err != nil {
				return err
			}
			got = append(got, s)
		}
		return nil
	})
	return got
}

// feedCommitOrder: the feed lists every tenant's events and the profile changes, in
// Seq order, which is the order the transactions committed in; each as stored.
func feedCommitOrder(e *env) {
	f := e.needFeed()
	var want []store.Event
	tenants := []rbac.Ref{a1, a2, {}, o1, a1}
	for round := range 4 {
		var batch []store.Event
		for i, t := range tenants[:1+round] {
			batch = append(batch, newEvent(t, round*10+i))
		}
		stored := e.appendAll(batch...)
		if len(want) > 0 && len(stored) > 0 && stored[0].Seq <= want[len(want)-1].Seq {
			e.Errorf("store.go: Seq must increase in commit order: a later transaction's first event has Seq %d, after %d", stored[0].Seq, want[len(want)-1].Seq)
		}
		want = append(want, stored...)
	}
	got := e.changes(f, 0, 1000)
	if !slices.EqualFunc(got, want, eqEvent) {
		e.Errorf("store.go: Feed.Changes from 0 must list every event of every tenant (and the profile changes) as stored, in commit order:\n got %+v\nwant %+v", got, want)
	}
	if !slices.IsSortedFunc(got, func(a, b store.Event) int { return cmp.Compare(a.Seq, b.Seq) }) {
		e.Errorf("store.go: Feed.Changes must list events in Seq order: %v", seqs(got))
	}
	// The feed is the union of the tenants' logs.
	for _, t := range []rbac.Ref{a1, a2, {}, o1} {
		var inT []store.Event
		for _, ev := range got {
			if ev.Tenant == t {
				inT = append(inT, ev)
			}
		}
		if log := e.events(t); !slices.EqualFunc(log, inT, eqEvent) {
			e.Errorf("store.go: the feed's events of tenant %v must be the tenant's log (Reader.Events): feed %v, log %v", t, seqs(inT), seqs(log))
		}
	}
	for _, limit := range []int{0, -1} {
		if page, err := f.Changes(e.ctx, 0, limit); err != nil || len(page) != 0 {
			e.Errorf("store.go: Feed.Changes with limit %d must return no events: got %d, error %v", limit, len(page), err)
		}
	}
}

// feedCursor: read from any cursor, page by page, with writes between the pages, a
// consumer sees every event exactly once, in order; after the last event there is
// nothing.
func feedCursor(e *env) {
	f := e.needFeed()
	var want []store.Event
	for round := range 3 {
		want = append(want, e.appendAll(newEvent(a1, round*10), newEvent(a2, round*10+1), newEvent(rbac.Ref{}, round*10+2))...)
	}
	for _, limit := range []int{1, 2, 4, 100} {
		if got := e.changes(f, 0, limit); !slices.EqualFunc(got, want, eqEvent) {
			e.Errorf("store.go: Feed.Changes pages (limit %d, each after the previous page's last Seq) must list every event once, in order: got %v, want %v", limit, seqs(got), seqs(want))
		}
	}
	for i := range want {
		got := e.changes(f, want[i].Seq, 3)
		if !slices.EqualFunc(got, want[i+1:], eqEvent) {
			e.Errorf("store.go: Feed.Changes after Seq %d must list exactly the events after it: got %v, want %v", want[i].Seq, seqs(got), seqs(want[i+1:]))
		}
	}
	// A consumer that reads a page, then more is committed, then reads on.
	var seen []store.Event
	cursor := uint64(0)
	all := slices.Clone(want)
	for round := range 4 {
		page, err := f.Changes(e.ctx, cursor, 2)
		if err != nil {
			e.Fatalf("Feed.Changes failed: %v", err)
		}
		seen = append(seen, page...)
		if len(page) > 0 {
			cursor = page[len(page)-1].Seq
		}
		all = append(all, e.appendAll(newEvent(o1, 100+round), newEvent(a2, 110+round))...)
	}
	seen = append(seen, e.changes(f, cursor, 3)...)
	if !slices.EqualFunc(seen, all, eqEvent) {
		e.Errorf("store.go: a consumer reading on from its cursor while writes commit must see every event exactly once, in order: got %v, want %v", seqs(seen), seqs(all))
	}
}

// feedRolledBack: the events of an Update that returns an error or panics never
// appear in the feed, and do not wake a waiter.
func feedRolledBack(e *env) {
	f := e.needFeed()
	first := e.appendAll(newEvent(a1, 1))
	err := e.try(func(ctx context.Context, w store.Writer) error {
		for i := range 3 {
			if _, err := w.AppendEvent(ctx, newEvent(a2, 50+i)); err != nil {
				return err
			}
		}
		return errBoom
	})
	e.wantErr(err, errBoom, "store.go: Store.Update must return the closure's error")
	func() {
		defer func() { _ = recover() }()
		_ = e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
			if _, err := w.AppendEvent(ctx, newEvent(o1, 60)); err != nil {
				return err
			}
			panic("storetest: panic on purpose")
		})
	}()
	if got := e.changes(f, 0, 10); !slices.EqualFunc(got, first, eqEvent) {
		e.Errorf("store.go: the events of a rolled-back Update must never appear in the feed: got %+v, want %+v", got, first)
	}
	ctx, cancel := context.WithTimeout(e.ctx, feedQuiet)
	err = e.wait(f, ctx, first[0].Seq)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		e.Errorf("store.go: Feed.Wait must not return before an event after the cursor is committed (only rolled-back ones were): got %v, want context.DeadlineExceeded", err)
	}
	last := e.appendAll(newEvent(a1, 2))
	want := append(slices.Clone(first), last...)
	if got := e.changes(f, 0, 10); !slices.EqualFunc(got, want, eqEvent) {
		e.Errorf("store.go: after a rollback, the feed must list the committed events only: got %+v, want %+v", got, want)
	}
	if got := e.changes(f, first[0].Seq, 10); !slices.EqualFunc(got, last, eqEvent) {
		e.Errorf("store.go: a consumer at the last committed event before a rollback must see the next committed event and nothing rolled back: got %+v, want %+v", got, last)
	}
}

// feedWaitWakes: Wait returns at once when an event after the cursor is committed
// already, blocks while none is, and returns when one commits.
func feedWaitWakes(e *env) {
	f := e.needFeed()
	first := e.appendAll(newEvent(a1, 1), newEvent(a2, 2))
	ctx, cancel := context.WithTimeout(e.ctx, feedPatience)
	defer cancel()
	if err := f.Wait(ctx, 0); err != nil {
		e.Errorf("store.go: Feed.Wait must return nil at once when events after the cursor exist: %v", err)
	}
	if err := f.Wait(ctx, first[0].Seq); err != nil {
		e.Errorf("store.go: Feed.Wait must return nil at once when an event after the cursor exists: %v", err)
	}
	cursor := first[len(first)-1].Seq
	for round := range 2 {
		done := make(chan error, 1)
		go func() { done <- f.Wait(ctx, cursor) }()
		select {
		case err := <-done:
			e.Fatalf("store.go: Feed.Wait must block while no event after the cursor is committed; it returned %v", err)
		case <-time.After(feedQuiet):
		}
		// A transaction that appends nothing does not count.
		e.do("write without an event", func(ctx context.Context, w store.Writer) error {
			return w.InsertUser(ctx, newUser(fmt.Sprintf("u-feed-%d", round), fmt.Sprintf("feed-%d@example.test", round)))
		})
		select {
		case err := <-done:
			e.Fatalf("store.go: Feed.Wait must not return for a commit that appended no event; it returned %v", err)
		case <-time.After(feedQuiet):
		}
		next := e.appendAll(newEvent(rbac.Ref{}, 10+round))
		select {
		case err := <-done:
			if err != nil {
				e.Errorf("store.go: Feed.Wait must return nil when an event after the cursor commits: %v", err)
			}
		case <-time.After(feedPatience):
			e.Fatalf("store.go: Feed.Wait did not return within %v of a commit after the cursor", feedPatience)
		}
		if got := e.changes(f, cursor, 10); !slices.EqualFunc(got, next, eqEvent) {
			e.Errorf("store.go: after Feed.Wait, Feed.Changes must list the event that woke it: got %+v, want %+v", got, next)
		}
		cursor = next[0].Seq
	}
}

// feedWaitContext: Wait returns ctx's error when ctx is done, whether before the call,
// at a deadline, or cancelled while it waits; Changes honours ctx too.
func feedWaitContext(e *env) {
	f := e.needFeed()
	ev := e.appendAll(newEvent(a1, 1))
	done, cancel := context.WithCancel(e.ctx)
	cancel()
	if err := e.wait(f, done, ev[0].Seq); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Feed.Wait on a cancelled context must return its error: got %v", err)
	}
	if err := e.wait(f, done, 0); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Feed.Wait on a cancelled context must return its error even when events exist: got %v", err)
	}
	if _, err := f.Changes(done, 0, 10); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Feed.Changes on a cancelled context must return its error: got %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, feedQuiet)
	err := e.wait(f, ctx, ev[0].Seq)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		e.Errorf("store.go: Feed.Wait must return the context's error at its deadline: got %v", err)
	}
	ctx, cancel = context.WithCancel(e.ctx)
	time.AfterFunc(feedQuiet, cancel)
	if err := e.wait(f, ctx, ev[0].Seq); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Feed.Wait cancelled while waiting must return context.Canceled: got %v", err)
	}
}

// feedConcurrent: while several goroutines commit (and roll back) transactions of
// events, a consumer that reads from its cursor and waits when it is through sees
// every committed event exactly once, in Seq order, and no rolled-back one.
func feedConcurrent(e *env) {
	f := e.needFeed()
	const writers, txs = 4, 12
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	writing, finished := context.WithCancel(ctx)
	var committed sync.Map // target → true: the events whose transaction committed
	var wg sync.WaitGroup
	var werr atomic.Value
	for g := range writers {
		wg.Go(func() {
			for i := range txs {
				tenant := []rbac.Ref{a1, a2, o1, {}}[(g+i)%4]
				fail := i%5 == 4
				targets := []string{fmt.Sprintf("w%d-%d-a", g, i), fmt.Sprintf("w%d-%d-b", g, i)}
				n := 1 + i%2
				err := e.s.Update(ctx, func(ctx context.Context, w store.Writer) error {
					for _, tg := range targets[:n] {
						ev := newEvent(tenant, i)
						ev.Target = tg
						if _, err := w.AppendEvent(ctx, ev); err != nil {
							return err
						}
					}
					if fail {
						return errBoom
					}
					return nil
				})
				switch {
				case fail && errors.Is(err, errBoom):
				case err != nil:
					werr.Store(fmt.Errorf("writer %d, transaction %d: %w", g, i, err))
					return
				default:
					for _, tg := range targets[:n] {
						committed.Store(tg, true)
					}
				}
			}
		})
	}
	var seen []store.Event
	consumed := make(chan error, 1)
	go func() {
		var cursor uint64
		for {
			last := writing.Err() != nil // the writers were done before this read
			page, err := f.Changes(ctx, cursor, 5)
			if err != nil {
				consumed <- err
				return
			}
			seen = append(seen, page...)
			if len(page) > 0 {
				cursor = page[len(page)-1].Seq
				continue
			}
			if last {
				consumed <- nil
				return
			}
			if err := f.Wait(writing, cursor); err != nil && writing.Err() == nil {
				consumed <- err
				return
			}
		}
	}()
	wg.Wait()
	finished()
	var cerr error
	select {
	case cerr = <-consumed:
	case <-time.After(feedPatience):
		cancel()
		e.Fatalf("store.go: the consumer did not finish within %v of the writers: Feed.Wait or Feed.Changes did not return", feedPatience)
	}
	if err, _ := werr.Load().(error); err != nil {
		e.Fatalf("a concurrent writer failed: %v", err)
	}
	if cerr != nil {
		e.Fatalf("the consumer failed: %v", cerr)
	}
	var targets []string
	for i, ev := range seen {
		if i > 0 && ev.Seq <= seen[i-1].Seq {
			e.Errorf("store.go: a consumer must see the feed in Seq order: %d after %d", ev.Seq, seen[i-1].Seq)
		}
		if _, ok := committed.Load(ev.Target); !ok {
			e.Errorf("store.go: the feed showed %q, an event of a transaction that rolled back", ev.Target)
		}
		targets = append(targets, ev.Target)
	}
	var want []string
	committed.Range(func(k, _ any) bool { want = append(want, k.(string)); return true })
	slices.Sort(want)
	slices.Sort(targets)
	if !slices.Equal(targets, want) {
		e.Errorf("store.go: under concurrent writers, a consumer reading on from its cursor must see every committed event exactly once: saw %d events, %d committed; saw %v, want %v",
			len(targets), len(want), targets, want)
	}
	if all := e.changes(f, 0, 1000); !slices.EqualFunc(all, seen, eqEvent) {
		e.Errorf("store.go: the consumer, reading while writers committed, must have seen what the feed lists once they were done: saw %v, the feed lists %v", seqs(seen), seqs(all))
	}
}

func seqs(evs []store.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, ev := range evs {
		out[i] = ev.Seq
	}
	return out
}

// feedChangeLog: a store.ChangeLog's ReadChanges gives, for any time, the Seq, Time
// and Changes of exactly the committed events with Changes not after that time, in
// Seq order — what the feed says, events without Changes and rolled-back ones left
// out — and honours a done context. Skipped when the store has no ChangeLog.
func feedChangeLog(e *env) {
	cl, ok := store.ChangeLogOf(e.s)
	if !ok {
		e.skipf("the store does not implement the optional store.ChangeLog, itself or through store.Unwrapper (%T)", e.s)
	}
	f := e.needFeed()
	e.world()
	for round := range 3 {
		e.do("append", func(ctx context.Context, w store.Writer) error {
			for i := range 4 {
				if _, err := w.AppendEvent(ctx, newEvent([]rbac.Ref{a1, a2, {}, o1}[i], round*4+i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := e.try(func(ctx context.Context, w store.Writer) error {
		if _, err := w.AppendEvent(ctx, newEvent(a1, 0)); err != nil {
			return err
		}
		return errBoom
	})
	e.wantErr(err, errBoom, "store.go: Store.Update must return the closure's error")
	all := e.changes(f, 0, 100)
	for _, at := range []time.Time{t0.Add(-time.Second), t0, t0.Add(5 * time.Second), t0.Add(5*time.Second + time.Millisecond), t0.Add(time.Hour)} {
		var want, got []store.Event
		for _, ev := range all {
			if len(ev.Changes) > 0 && !ev.Time.After(at) {
				want = append(want, store.Event{Seq: ev.Seq, Time: ev.Time, Changes: ev.Changes})
			}
		}
		err := cl.ReadChanges(e.ctx, at, func(seq uint64, t time.Time, cs []store.Change) {
			got = append(got, store.Event{Seq: seq, Time: t, Changes: slices.Clone(cs)})
		})
		if err != nil {
			e.Fatalf("ChangeLog.ReadChanges failed: %v", err)
		}
		if !slices.EqualFunc(got, want, eqEvent) {
			e.Errorf("store.go: ChangeLog.ReadChanges(%v) must give the Seq, Time and Changes of the committed events with Changes not after it, in Seq order:\n got %+v\nwant %+v", at, got, want)
		}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if err := cl.ReadChanges(ctx, t0.Add(time.Hour), func(uint64, time.Time, []store.Change) {}); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: ChangeLog.ReadChanges must return the context's error on a done context: got %v", err)
	}
}
