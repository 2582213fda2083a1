// Package logstore is a small third-party store.Store: it wraps another store,
// delegates every read and write to it, and logs every transaction with log/slog
// (kind, outcome, attempts, duration) while counting them. It shows the shape of a
// store implementation, and how little is needed to pass Tenantry's conformance
// suite when the records live elsewhere.
//
// A Store implements store.Unwrapper: package account finds the wrapped store's
// store.Checker through it, so checks keep the wrapped store's fast path and are not
// logged; everything else (transactions) goes through the wrapper.
package logstore

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tenantry/tenantry/store"
)

// Store is a store.Store that logs and counts the transactions of the store it
// wraps.
type Store struct {
	next   store.Store
	log    *slog.Logger
	level  slog.Level
	counts counters
}

type counters struct {
	views, updates, commits, rollbacks, attempts atomic.Int64
}

// Stats are the transaction counts of a Store since it was created.
type Stats struct {
	Views     int64 // View calls
	Updates   int64 // Update calls
	Commits   int64 // Update calls that committed
	Rollbacks int64 // Update calls that returned an error or panicked
	Attempts  int64 // runs of Update closures: more than Updates when the store retried
}

// Options configure a Store. The zero value logs nothing.
type Options struct {
	// Logger receives one record per transaction; nil logs nothing.
	Logger *slog.Logger
	// Level is the level of the records of successful transactions; failed ones are
	// logged one level higher. The zero value is slog.LevelInfo.
	Level slog.Level
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Unwrapper = (*Store)(nil)
)

// New returns a Store that delegates to next.
func New(next store.Store, opts Options) *Store {
	l := opts.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Store{next: next, log: l, level: opts.Level}
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() store.Store { return s.next }

// Stats returns the counts so far.
func (s *Store) Stats() Stats {
	return Stats{
		Views:     s.counts.views.Load(),
		Updates:   s.counts.updates.Load(),
		Commits:   s.counts.commits.Load(),
		Rollbacks: s.counts.rollbacks.Load(),
		Attempts:  s.counts.attempts.Load(),
	}
}

// View runs fn in a read-only transaction of the wrapped store and logs it.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) (err error) {
	s.counts.views.Add(1)
	start := time.Now()
	defer s.logged(ctx, "view", start, &err, nil)()
	return s.next.View(ctx, fn)
}

// Update runs fn in a read-write transaction of the wrapped store and logs it, with
// the number of times the wrapped store ran fn.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) (err error) {
	s.counts.updates.Add(1)
	start := time.Now()
	var attempts int64
	committed := false
	defer func() {
		if committed {
			s.counts.commits.Add(1)
		} else {
			s.counts.rollbacks.Add(1)
		}
	}()
	defer s.logged(ctx, "update", start, &err, &attempts)()
	err = s.next.Update(ctx, func(ctx context.Context, w store.Writer) error {
		attempts++
		s.counts.attempts.Add(1)
		return fn(ctx, w)
	})
	committed = err == nil
	return err
}

// logged returns a function, to defer, that logs a transaction when it ends: its
// kind, outcome, duration and (for an update, when attempts is not nil) how many
// times its closure ran, and re-raises a panic after logging it.
func (s *Store) logged(ctx context.Context, kind string, start time.Time, errp *error, attempts *int64) func() {
	return func() {
		attrs := []slog.Attr{
			slog.String("tx", kind),
			slog.Duration("took", time.Since(start)),
		}
		if attempts != nil {
			attrs = append(attrs, slog.Int64("attempts", *attempts))
		}
		level := s.level
		p := recover()
		switch {
		case p != nil:
			level += 4
			attrs = append(attrs, slog.String("outcome", "panic"), slog.Any("panic", p))
		case *errp != nil:
			level += 4
			attrs = append(attrs, slog.String("outcome", "error"), slog.String("err", (*errp).Error()))
		case attempts != nil:
			attrs = append(attrs, slog.String("outcome", "commit"))
		default:
			attrs = append(attrs, slog.String("outcome", "ok"))
		}
		s.log.LogAttrs(ctx, level, "tenantry store transaction", attrs...)
		if p != nil {
			panic(p)
		}
	}
}
