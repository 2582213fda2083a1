package sqlitestore

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/tenantry/tenantry/store"
)

var _ store.Feed = (*Store)(nil)

// FeedPollInterval is how often Wait reads the database while it waits, to see the
// events that other processes (or other Stores on the same file) commit. The commits of
// this Store wake its waiters at once. Between two reads, a wait reads only when the
// wal-index shows a commit since the last one, so an idle wait costs next to nothing.
const FeedPollInterval = 250 * time.Millisecond

// errClosed is returned by Wait once the Store is closed.
var errClosed = errors.New("sqlitestore: store closed")

const (
	feedChanges = `SELECT ` + eventCols + ` FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2`
	feedAfter   = `SELECT EXISTS (SELECT 1 FROM events WHERE seq > ?1)`
)

// feedSignal wakes the Store's waiters when one of its Updates that appended events
// commits: a channel, made when the first waiter asks for it, that the commit closes.
type feedSignal struct {
	mu        sync.Mutex
	committed uint64        // the greatest Seq this Store committed
	ch        chan struct{} // closed on the next such commit, or by Close; nil when no one waits
	closed    bool
}

// commit records that the Store committed events up to seq and wakes its waiters.
func (f *feedSignal) commit(seq uint64) {
	f.mu.Lock()
	if seq > f.committed {
		f.committed = seq
	}
	if f.ch != nil {
		close(f.ch)
		f.ch = nil
	}
	f.mu.Unlock()
}

// close wakes every waiter for good.
func (f *feedSignal) close() {
	f.mu.Lock()
	f.closed = true
	if f.ch != nil {
		close(f.ch)
		f.ch = nil
	}
	f.mu.Unlock()
}

// wait returns the channel the next commit closes and the greatest Seq committed.
func (f *feedSignal) wait() (<-chan struct{}, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, 0, errClosed
	}
	if f.ch == nil {
		f.ch = make(chan struct{})
	}
	return f.ch, f.committed, nil
}

// Changes implements store.Feed with one statement on a reader connection, by the
// events' primary key. Write transactions run one at a time (the database's write
// lock, across processes), so Seq increases in commit order and a read sees every
// committed event up to the last one it returns.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	rows, err := s.readers.QueryContext(ctx, feedChanges, int64(after), int64(limit))
	if err != nil {
		return nil, wrapErr(ctx, "changes", err)
	}
	defer rows.Close()
	var evs []store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, wrapErr(ctx, "changes", err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(ctx, "changes", err)
	}
	return evs, nil
}

// Wait implements store.Feed. The Store's own commits wake it at once; the commits of
// other processes it sees by reading the database every FeedPollInterval (when the
// wal-index shows a commit since its last read, or always when the check cache does
// not run). Close wakes it, and it returns an error then.
func (s *Store) Wait(ctx context.Context, after uint64) error {
	var poll *time.Timer
	defer func() {
		if poll != nil {
			poll.Stop()
		}
	}()
	var lastHeader walHeader
	read := false // whether the database was read since the last commit seen in the wal-index
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ch, committed, err := s.signal.wait()
		if err != nil {
			return err
		}
		if committed > after {
			return nil
		}
		if x := s.wal.Load(); x != nil {
			if h, ok := x.header(); ok && (!read || h != lastHeader) {
				lastHeader, read = h, false
			}
		} else {
			read = false
		}
		if !read {
			found := false
			if after < math.MaxInt64 {
				if err := s.readers.QueryRowContext(ctx, feedAfter, int64(after)).Scan(&found); err != nil {
					return wrapErr(ctx, "wait", err)
				}
			}
			if found {
				return nil
			}
			read = true
		}
		if poll == nil {
			poll = time.NewTimer(FeedPollInterval)
		} else {
			poll.Reset(FeedPollInterval)
		}
		select {
		case <-ch:
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var _ store.ChangeLog = (*Store)(nil)

const feedAccess = `SELECT seq, time, changes FROM events WHERE changes <> '' ORDER BY seq`

// ReadChanges implements store.ChangeLog with one statement on a reader connection,
// by the events' primary key: the events with Changes, each decoded as it comes and
// passed on when it is not after at.
func (s *Store) ReadChanges(ctx context.Context, at time.Time, fn func(seq uint64, t time.Time, cs []store.Change)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, err := s.readers.QueryContext(ctx, feedAccess)
	if err != nil {
		return wrapErr(ctx, "read changes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var t time.Time
		var text string
		if err := rows.Scan(&seq, tm(&t), &text); err != nil {
			return wrapErr(ctx, "read changes", err)
		}
		if t.After(at) {
			continue
		}
		cs, err := store.UnmarshalChanges(text)
		if err != nil {
			return err
		}
		fn(uint64(seq), t, cs)
	}
	return wrapErr(ctx, "read changes", rows.Err())
}
