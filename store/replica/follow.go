package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// errGap is the follower's error when the feed no longer holds the revision the copy
// applied last: its history was replaced, and only a new copy can be trusted.
var errGap = errors.New("replica: the change feed no longer holds the last applied revision")

// run follows the feed until ctx ends, and keeps the stale flag current.
func (s *Store) run(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(max(s.opts.MaxStaleness/8, time.Millisecond))
	defer tick.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.markStale()
			}
		}
	}()
	backoff := 10 * time.Millisecond
	recovering := false
	for ctx.Err() == nil {
		err := s.step(ctx, recovering)
		if err == nil {
			if recovering {
				s.opts.Logger.Info("tenantry replica: following the change feed again", slog.Uint64("revision", s.applied.Load()))
			}
			recovering, backoff = false, 10*time.Millisecond
			s.lastErr.Store(nil)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.fail(err)
		recovering = true
		var apply *applyError
		if errors.Is(err, errGap) || errors.As(err, &apply) {
			if err := s.reload(ctx); err != nil {
				s.fail(err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.opts.Heartbeat)
	}
}

// markStale sets the stale flag when the copy was last proved fresh too long ago.
func (s *Store) markStale() {
	if time.Since(time.Unix(0, s.freshAt.Load())) > s.opts.MaxStaleness {
		s.stale.Store(true)
	}
}

// proved records that every change committed before at is in the copy.
func (s *Store) proved(at time.Time) {
	if n := at.UnixNano(); n > s.freshAt.Load() {
		s.freshAt.Store(n)
	}
	if time.Since(at) <= s.opts.MaxStaleness {
		s.stale.Store(false)
	}
}

// step reads the feed once after the last applied revision and applies what it
// read; when it read to the end, it records the proof of freshness and waits for the
// next commit, up to a heartbeat. After an error (check), it first makes sure the
// feed still holds the revision the copy applied last.
func (s *Store) step(ctx context.Context, check bool) error {
	after := s.applied.Load()
	if check && after > 0 {
		evs, err := s.feed.Changes(ctx, after-1, 1)
		if err != nil {
			return err
		}
		if len(evs) == 0 || evs[0].Seq != after {
			return errGap
		}
	}
	start := time.Now()
	evs, err := s.feed.Changes(ctx, after, s.opts.Batch)
	if err != nil {
		return err
	}
	if len(evs) > 0 {
		if evs[0].Seq <= after {
			return errGap
		}
		if err := s.apply(ctx, evs); err != nil {
			return err
		}
		s.advance(evs[len(evs)-1].Seq)
	}
	if len(evs) == s.opts.Batch {
		return nil
	}
	s.proved(start)
	wctx, cancel := context.WithTimeout(ctx, s.opts.Heartbeat)
	defer cancel()
	if err := s.feed.Wait(wctx, s.applied.Load()); err != nil && wctx.Err() == nil {
		return err
	}
	return nil
}

// reload loads a new copy and swaps it in.
func (s *Store) reload(ctx context.Context) error {
	c, seq, at, err := s.load(ctx)
	if err != nil {
		return err
	}
	s.copy.Store(c)
	s.advMu.Lock()
	s.applied.Store(seq)
	close(s.adv)
	s.adv = make(chan struct{})
	s.advMu.Unlock()
	s.reloads.Add(1)
	s.proved(at)
	s.opts.Logger.Info("tenantry replica: loaded a new copy", slog.Uint64("revision", seq))
	return nil
}

// applyError is an event the copy could not apply: the copy no longer matches the
// feed, and a new one is loaded.
type applyError struct {
	seq uint64
	err error
}

func (e *applyError) Error() string {
	return fmt.Sprintf("replica: applying the event of revision %d: %v", e.seq, e.err)
}

func (e *applyError) Unwrap() error { return e.err }
