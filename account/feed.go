package account

import (
	"context"
	"errors"
	"iter"

	"github.com/tenantry/tenantry/store"
)

// ErrNoFeed: the service's store does not serve the change feed (it implements
// store.Feed neither itself nor through store.Unwrapper).
var ErrNoFeed = errors.New("account: the store has no change feed")

// followPage is how many events Follow reads at a time.
const followPage = 256

// Changes returns up to limit audit events of the whole store (every account and
// organization, and the profile changes, whose Tenant is zero) with Seq greater than
// after, in commit order, without waiting: the change feed, a page at a time. limit 0
// means DefaultPageSize; more than MaxPageSize is refused with an *InvalidError. The
// cursor is the Seq of the last event the caller handled, 0 for the start; it stays
// valid across restarts of the host and of the store.
//
// Changes is for the host (its webhooks, search index, caches), not for a user's
// request: it checks no actor. Erased profiles appear as their opaque IDs only, as in
// every audit event. ErrNoFeed when the store has no feed.
func (s *Service) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	n, err := PageRequest{Limit: limit}.limit()
	if err != nil {
		return nil, err
	}
	f, ok := store.FeedOf(s.st)
	if !ok {
		return nil, ErrNoFeed
	}
	return f.Changes(ctx, after, n)
}

// Follow ranges over every audit event of the whole store with Seq greater than
// after, in commit order, and then waits for each new one as it is committed, until
// ctx is done: the change feed for the host, as Changes describes it. Each event is
// yielded once; a consumer that keeps the Seq of the last event it handled, and follows
// again from it after a stop or a restart, sees every event exactly once. The events
// of a transaction that rolled back never appear.
//
// The sequence ends without an error when ctx is done, or when the loop breaks; any
// other error (ErrNoFeed, the store's) is yielded once and ends it.
func (s *Service) Follow(ctx context.Context, after uint64) iter.Seq2[store.Event, error] {
	return func(yield func(store.Event, error) bool) {
		f, ok := store.FeedOf(s.st)
		if !ok {
			yield(store.Event{}, ErrNoFeed)
			return
		}
		for {
			evs, err := f.Changes(ctx, after, followPage)
			if err == nil {
				for _, e := range evs {
					if !yield(e, nil) {
						return
					}
					after = e.Seq
				}
				// A short page was the end of the feed when it was read: wait for more
				// (Wait returns at once if more has been committed since).
				if len(evs) < followPage {
					err = f.Wait(ctx, after)
				}
			}
			if err != nil {
				if ctx.Err() == nil {
					yield(store.Event{}, err)
				}
				return
			}
		}
	}
}
