// Package replica answers the checks of a database-backed store from an in-memory
// copy of its authorization data, kept current by the store's change feed, so that
// every instance of a service answers Check, Authorize and Explain at memory speed
// while its writes keep the database's transactions.
//
// Open loads the copy (store.Loader) and follows the change feed (store.Feed) from
// the revision the load reflects, applying each committed event's Changes to the copy
// in order. Checks (the store.Checker methods) are answered from the copy; every
// other read and every write go to the backing store. A Store is a store.Store:
// wrap a pgstore.Store with it and give it to account.New.
//
// # Revisions
//
// A revision is a Seq of the change feed. account.DoRevision returns the revision of
// a write; a check whose context carries one (account.WithRevision) is answered at
// least as fresh as it: the replica waits until its copy has applied it (up to
// Options.RevisionWait, and no longer than the context allows), and otherwise asks the
// backing store, which holds every committed write. A check without a revision is
// answered at once from the copy; Status reports how fresh the copy is. An Update
// made through a Store returns once the copy has applied it, so an instance always
// reads its own writes.
//
// # Freshness and faults
//
// The follower proves the copy fresh each time it reads the feed to its end, at least
// every Options.Heartbeat. When it has not done so for Options.MaxStaleness — the
// database is unreachable, the listening connection was lost, the follower is behind
// — checks go to the backing store until it has caught up again. After an error it
// reads on from the last revision it applied. When the feed no longer holds that
// revision (the database was restored from an older copy) or an event cannot be
// applied to the copy, it loads a new copy while the old one keeps answering (or the
// backing store does, once the old one is stale) and swaps it in.
//
// # What the copy holds
//
// Accounts, organizations and resources, users' IDs and addresses, memberships,
// teams and their members, API tokens, the grants of users, teams and tokens, and
// security policies: what a check reads. Checks for other holders (invitations) go to
// the backing store. Writes that change access without an audit event — which no
// operation of package account makes — reach only the copy of the instance that made
// them, since the feed carries the changes of audit events.
package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// Options configure a Store. The zero value is ready to use.
type Options struct {
	// MaxStaleness is how long after it last proved its copy fresh the replica goes
	// on answering checks from it; then checks go to the backing store until the
	// follower catches up again. Zero means 5 seconds.
	MaxStaleness time.Duration
	// Heartbeat is how long the follower waits for a new event before it reads the
	// feed again, which proves the copy fresh while nothing is written. Zero means a
	// quarter of MaxStaleness, at most 1 second.
	Heartbeat time.Duration
	// RevisionWait is the longest a check waits for the copy to apply the revision
	// its context asks for before it goes to the backing store, and the longest an
	// Update waits for the copy to apply its own commit. The context may end the wait
	// sooner. Zero means 1 second.
	RevisionWait time.Duration
	// Batch is the most events the follower reads and applies at once. Zero means
	// 1000.
	Batch int
	// Logger receives the follower's errors and reloads. Nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxStaleness <= 0 {
		o.MaxStaleness = 5 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = min(o.MaxStaleness/4, time.Second)
	}
	o.Heartbeat = max(min(o.Heartbeat, o.MaxStaleness/2), time.Millisecond)
	if o.RevisionWait <= 0 {
		o.RevisionWait = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// ErrNoFeed is returned by Open for a backing store without a change feed
// (store.Feed) or a way to load its data (store.Loader).
var ErrNoFeed = errors.New("replica: the backing store has no change feed or loader")

// Store is a store.Store whose checks are answered from an in-memory copy of a
// backing store (see the package documentation). Its methods are safe for concurrent
// use. Close stops the follower.
type Store struct {
	backing store.Store
	feed    store.Feed
	loader  store.Loader
	checker store.Checker // the backing store's, or nil
	opts    Options

	copy    atomic.Pointer[memstore.Store]
	applied atomic.Uint64 // the feed's Seq up to which the copy holds every change
	stale   atomic.Bool   // checks go to the backing store
	freshAt atomic.Int64  // when the copy was last proved fresh, in Unix nanoseconds

	advMu sync.Mutex
	adv   chan struct{} // closed, and replaced, when applied advances

	fallbacks atomic.Uint64
	reloads   atomic.Int64
	lastErr   atomic.Pointer[error]

	stop context.CancelFunc
	done chan struct{}
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Checker   = (*Store)(nil)
	_ store.Unwrapper = (*Store)(nil)
)

// Open loads a copy of backing's authorization data and starts following its change
// feed. ctx bounds the load only; the follower runs until Close. backing must have a
// change feed and a loader (store.FeedOf, store.LoaderOf), as memstore, pgstore and
// sqlitestore do; ErrNoFeed otherwise.
func Open(ctx context.Context, backing store.Store, opts Options) (*Store, error) {
	feed, ok := store.FeedOf(backing)
	loader, ok2 := store.LoaderOf(backing)
	if !ok || !ok2 {
		return nil, ErrNoFeed
	}
	s := &Store{backing: backing, feed: feed, loader: loader, opts: opts.withDefaults(), adv: make(chan struct{})}
	s.checker, _ = store.CheckerOf(backing)
	c, seq, at, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.copy.Store(c)
	s.applied.Store(seq)
	s.freshAt.Store(at.UnixNano())
	fctx, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go s.run(fctx)
	return s, nil
}

// Close stops following the feed; checks then go to the backing store once the copy
// is stale. It does not close the backing store.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	s.stale.Store(true)
	return nil
}

// Unwrap returns the backing store: store.FeedOf and the other look-ups of optional
// interfaces find the backing store's through it.
func (s *Store) Unwrap() store.Store { return s.backing }

// View runs fn in a read-only transaction of the backing store.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return s.backing.View(ctx, fn)
}

// Update runs fn in a transaction of the backing store. Once it has committed, Update
// waits (up to Options.RevisionWait) until the copy has applied the events fn
// appended, so that checks on this Store read the write; changes written without an
// event are applied to the copy directly.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	var rw *recorder
	err := s.backing.Update(ctx, func(ctx context.Context, w store.Writer) error {
		rw = &recorder{Writer: w}
		return fn(ctx, rw)
	})
	if err != nil {
		return err
	}
	if rw.seq > 0 {
		if !s.stale.Load() {
			s.await(ctx, rw.seq)
		}
		return nil
	}
	if len(rw.ops) > 0 {
		s.applyOps(rw.ops)
	}
	return nil
}

// Status is how fresh a replica's copy is.
type Status struct {
	// Revision is the Seq of the change feed up to which the copy holds every
	// change.
	Revision uint64
	// Fresh is when the copy was last proved to hold every committed change: the
	// start of the last read that reached the end of the feed.
	Fresh time.Time
	// Stale reports that checks go to the backing store: the copy was last proved
	// fresh more than Options.MaxStaleness ago, or the Store is closed.
	Stale bool
	// Fallbacks counts the checks the backing store answered: stale, waiting too long
	// for a revision, or for a holder the copy does not hold.
	Fallbacks uint64
	// Reloads counts the copies loaded after the first.
	Reloads int64
	// Err is the follower's last error, nil once it read the feed again.
	Err error
}

// Status reports how fresh the copy is.
func (s *Store) Status() Status {
	st := Status{
		Revision:  s.applied.Load(),
		Fresh:     time.Unix(0, s.freshAt.Load()),
		Stale:     s.stale.Load(),
		Fallbacks: s.fallbacks.Load(),
		Reloads:   s.reloads.Load(),
	}
	if e := s.lastErr.Load(); e != nil {
		st.Err = *e
	}
	return st
}

// WaitFor waits until the copy has applied rev, or ctx is done (its error). It does
// not give up after Options.RevisionWait.
func (s *Store) WaitFor(ctx context.Context, rev uint64) error {
	for {
		ch := s.advanced()
		if s.applied.Load() >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// advanced returns the channel closed when applied next advances.
func (s *Store) advanced() chan struct{} {
	s.advMu.Lock()
	defer s.advMu.Unlock()
	return s.adv
}

// advance records that the copy holds every change up to seq.
func (s *Store) advance(seq uint64) {
	s.advMu.Lock()
	defer s.advMu.Unlock()
	if seq > s.applied.Load() {
		s.applied.Store(seq)
	}
	close(s.adv)
	s.adv = make(chan struct{})
}

// await waits, up to Options.RevisionWait and while ctx lasts, until the copy has
// applied rev, and reports whether it has.
func (s *Store) await(ctx context.Context, rev uint64) bool {
	if s.applied.Load() >= rev {
		return true
	}
	t := time.NewTimer(s.opts.RevisionWait)
	defer t.Stop()
	for {
		ch := s.advanced()
		if s.applied.Load() >= rev {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// local returns the copy when it may answer holder's check in ctx, else nil.
func (s *Store) local(ctx context.Context, holder rbac.Holder) *memstore.Store {
	switch holder.Kind {
	case rbac.HolderUser, rbac.HolderTeam, rbac.HolderToken:
	default:
		return nil
	}
	if s.stale.Load() {
		return nil
	}
	if rev := store.RevisionFrom(ctx); rev > s.applied.Load() && !s.await(ctx, rev) {
		return nil
	}
	return s.copy.Load()
}

// Reach implements store.Checker.
func (s *Store) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	if c := s.local(ctx, holder); c != nil {
		return c.Reach(ctx, holder, scope, path, grants)
	}
	s.fallbacks.Add(1)
	if s.checker != nil {
		return s.checker.Reach(ctx, holder, scope, path, grants)
	}
	err := s.backing.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		path, grants, err = r.Reach(ctx, holder, scope, path, grants)
		return err
	})
	return path, grants, err
}

// Check implements store.Checker: from the copy when it is fresh (and has applied the
// revision ctx asks for), else from the backing store.
func (s *Store) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	if c := s.local(ctx, holder); c != nil {
		return c.Check(ctx, holder, action, scope, now)
	}
	s.fallbacks.Add(1)
	if s.checker != nil {
		return s.checker.Check(ctx, holder, action, scope, now)
	}
	return store.CheckIn(ctx, s.backing, holder, action, scope, now)
}

// Sees implements store.Checker.
func (s *Store) Sees(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	if c := s.local(ctx, holder); c != nil {
		return c.Sees(ctx, holder, scope)
	}
	s.fallbacks.Add(1)
	if s.checker != nil {
		return s.checker.Sees(ctx, holder, scope)
	}
	return store.SeesIn(ctx, s.backing, holder, scope)
}

// fail records the follower's error.
func (s *Store) fail(err error) {
	s.lastErr.Store(&err)
	s.opts.Logger.Warn("tenantry replica: following the change feed", slog.String("err", err.Error()), slog.Uint64("revision", s.applied.Load()))
}

// load reads a new copy of the backing store, and returns it with the revision it
// reflects and the time the read started.
func (s *Store) load(ctx context.Context) (*memstore.Store, uint64, time.Time, error) {
	start := time.Now()
	c := memstore.New()
	var seq uint64
	err := c.Update(ctx, func(ctx context.Context, w store.Writer) error {
		var err error
		seq, err = s.loader.Load(ctx, copyWriter{w})
		return err
	})
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("replica: loading: %w", err)
	}
	return c, seq, start, nil
}
