package storetest_test

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// The feed's broken stores, each with the clauses of the Feed group that must catch
// its defect; TestBrokenStores runs them with the others.
func init() {
	brokenCases = append(brokenCases,
		brokenCase{"feed-shows-rolled-back", []string{"Feed/RolledBackNeverAppear", "Feed/ConcurrentWritersNeverSkip"}, func() store.Store {
			return &sideFeed{Store: memstore.New()}
		}},
		brokenCase{"feed-wait-returns-at-once", []string{"Feed/RolledBackNeverAppear", "Feed/WaitWakesOnCommit", "Feed/WaitHonoursContext"}, func() store.Store {
			return waitAtOnce{memstore.New()}
		}},
		brokenCase{"feed-wait-never-wakes", []string{"Feed/WaitWakesOnCommit"}, func() store.Store {
			return waitForever{memstore.New()}
		}},
		brokenCase{"feed-wait-ignores-context", []string{"Feed/WaitHonoursContext"}, func() store.Store {
			return waitWithoutContext{memstore.New()}
		}},
		brokenCase{"feed-by-tenant", []string{"Feed/ChangesInCommitOrder", "Feed/CursorExactlyOnce"}, func() store.Store {
			return byTenant{memstore.New()}
		}},
		brokenCase{"feed-second-latest-late", []string{"Feed/ChangesInCommitOrder", "Feed/CursorExactlyOnce", "Feed/ConcurrentWritersNeverSkip"}, func() store.Store {
			return lateEvent{memstore.New()}
		}},
	)
}

// sideFeed serves its feed from every event appended, committed or not.
type sideFeed struct {
	*memstore.Store
	mu     sync.Mutex
	events []store.Event
}

type recordEvents struct {
	store.Writer
	s *sideFeed
}

func (r recordEvents) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	e, err := r.Writer.AppendEvent(ctx, e)
	if err == nil {
		r.s.mu.Lock()
		r.s.events = append(r.s.events, e)
		r.s.mu.Unlock()
	}
	return e, err
}

func (s *sideFeed) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	return s.Store.Update(ctx, func(ctx context.Context, w store.Writer) error { return fn(ctx, recordEvents{w, s}) })
}

func (s *sideFeed) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := slices.Clone(s.events)
	slices.SortStableFunc(evs, func(a, b store.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	var out []store.Event
	for _, e := range evs {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// waitAtOnce's Wait returns nil whatever was committed.
type waitAtOnce struct{ *memstore.Store }

func (waitAtOnce) Wait(context.Context, uint64) error { return nil }

// waitForever's Wait returns only when its context is done.
type waitForever struct{ *memstore.Store }

func (w waitForever) Wait(ctx context.Context, after uint64) error {
	if err := w.Store.Wait(ctx, after); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

// waitWithoutContext's Wait ignores its context's cancellation.
type waitWithoutContext struct{ *memstore.Store }

func (w waitWithoutContext) Wait(ctx context.Context, after uint64) error {
	return w.Store.Wait(context.WithoutCancel(ctx), after)
}

// byTenant's Changes lists the events after the cursor tenant by tenant.
type byTenant struct{ *memstore.Store }

func (b byTenant) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	evs, err := b.Store.Changes(ctx, after, limit)
	slices.SortStableFunc(evs, func(a, b store.Event) int { return cmp.Compare(a.Tenant.ID, b.Tenant.ID) })
	return evs, err
}

// lateEvent's Changes hides the event before the last one committed, as a store would
// whose events become visible out of Seq order: a consumer reading then moves its
// cursor past an event it has not seen.
type lateEvent struct{ *memstore.Store }

func (l lateEvent) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	all, err := l.Store.Changes(ctx, 0, 1<<30)
	if err != nil || len(all) < 2 {
		return l.Store.Changes(ctx, after, limit)
	}
	hidden := all[len(all)-2].Seq
	var out []store.Event
	for _, e := range all {
		if e.Seq > after && e.Seq != hidden && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}
