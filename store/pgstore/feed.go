package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
)

var _ store.Feed = (*Store)(nil)

// errClosed is returned by Wait once the Store is closed.
var errClosed = errors.New("pgstore: store closed")

// feedChannel returns the NOTIFY channel of the store's schema: every transaction that
// appends an event notifies it, with the event's Seq as the payload, in the same
// statement (see qAppendEvent), so that the notification is sent when, and only when,
// the transaction commits.
func feedChannel(schema string) string {
	h := fnv.New64a()
	h.Write([]byte(schema))
	return fmt.Sprintf("tenantry_feed_%016x", h.Sum64())
}

const (
	feedChanges = `SELECT ` + eventCols + ` FROM $schema.events WHERE seq > $1 ORDER BY seq LIMIT $2`
	feedAfter   = `SELECT EXISTS (SELECT 1 FROM $schema.events WHERE seq > $1)`
)

// Changes implements store.Feed with one statement on the pool, by the events'
// primary key. Seq is drawn while the appending transaction holds a lock that it keeps
// until it ends (see AppendEvent), so the committed events a statement sees are every
// event up to the last one it sees, but for the numbers of rolled-back transactions: a
// transaction that commits after the read has a greater Seq than the read returned.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, s.prefixed(feedChanges), int64(after), limit)
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

// Wait implements store.Feed with LISTEN/NOTIFY, without polling. The Store keeps one
// connection of its own (outside the pool, opened by the first Wait, closed by Close)
// that listens on the schema's channel; every waiter of the Store shares it. Wait
// first makes sure the connection listens, then reads whether an event after the
// cursor is committed already, then waits for a notification: a transaction that
// commits after that read notifies after it, so no commit is missed. When the
// listening connection fails, the waiters read again once a new one listens; when no
// new one can be made, Wait returns the error.
func (s *Store) Wait(ctx context.Context, after uint64) error {
	l := s.listener()
	var read uint64 // the connection (its epoch) that listened before the last read
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ch, notified, epoch, err := l.ready(ctx)
		if err != nil {
			return err
		}
		if notified > after {
			return nil
		}
		if epoch != read {
			found := false
			if after < math.MaxInt64 {
				if err := s.pool.QueryRow(ctx, s.prefixed(feedAfter), int64(after)).Scan(&found); err != nil {
					return wrapErr(ctx, "wait", err)
				}
			}
			if found {
				return nil
			}
			read = epoch
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// prefixed returns q with the store's schema.
func (s *Store) prefixed(q string) string { return strings.ReplaceAll(q, "$schema.", s.prefix) }

// listener returns the Store's listener, making it on first use.
func (s *Store) listener() *listener {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	if s.feed == nil {
		ctx, cancel := context.WithCancel(context.Background())
		s.feed = &listener{s: s, channel: feedChannel(s.schema), ctx: ctx, cancel: cancel, gen: make(chan struct{})}
	}
	return s.feed
}

// closeFeed stops the listener and closes its connection; a Wait after it returns
// errClosed.
func (s *Store) closeFeed() {
	s.listener().close()
}

// listener is the connection that LISTENs on the store's channel, and the waiters'
// rendezvous: gen is closed (and replaced) on every notification and whenever the
// connection ends, waking every waiter.
type listener struct {
	s       *Store
	channel string
	ctx     context.Context // the listener's life: cancelled by close
	cancel  context.CancelFunc

	mu        sync.Mutex
	gen       chan struct{}
	notified  uint64        // the greatest Seq notified
	listening bool          // a connection listens now
	epoch     uint64        // counts the connections that listened
	starting  chan struct{} // closed when the connection being made listens or fails
	failed    chan struct{} // the starting channel of the last connection that failed to listen
	err       error         // why it failed
	closed    bool
	done      chan struct{} // closed when the last connection's goroutine ends
}

// ready returns, once a connection listens (making one when none does), the channel
// that the next notification closes, the greatest Seq notified, and the connection's
// epoch: a caller that last read the events before this epoch's connection listened
// reads them again, as it may have missed a notification in between.
func (l *listener) ready(ctx context.Context) (ch <-chan struct{}, notified, epoch uint64, err error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, 0, 0, errClosed
		}
		if l.listening {
			ch, notified, epoch = l.gen, l.notified, l.epoch
			l.mu.Unlock()
			return ch, notified, epoch, nil
		}
		if l.starting == nil {
			l.starting, l.done = make(chan struct{}), make(chan struct{})
			go l.run(l.starting, l.done)
		}
		starting := l.starting
		l.mu.Unlock()
		select {
		case <-starting:
		case <-ctx.Done():
			return nil, 0, 0, ctx.Err()
		}
		l.mu.Lock()
		if !l.listening && l.failed == starting {
			err := l.err
			l.mu.Unlock()
			return nil, 0, 0, err
		}
		l.mu.Unlock()
	}
}

// run connects, listens, and wakes the waiters on every notification until the
// connection fails or the listener is closed.
func (l *listener) run(starting, done chan struct{}) {
	defer close(done)
	conn, err := pgx.ConnectConfig(l.ctx, l.s.pool.Config().ConnConfig.Copy())
	if err == nil {
		if _, err = conn.Exec(l.ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
			_ = conn.Close(context.Background())
		}
	}
	l.mu.Lock()
	l.starting = nil
	if err != nil {
		if l.ctx.Err() != nil {
			err = errClosed
		}
		l.failed, l.err = starting, fmt.Errorf("pgstore: listen for the change feed: %w", err)
		l.mu.Unlock()
		close(starting)
		return
	}
	l.listening = true
	l.epoch++
	l.mu.Unlock()
	close(starting)
	defer func() { _ = conn.Close(context.Background()) }()
	for {
		n, err := conn.WaitForNotification(l.ctx)
		l.mu.Lock()
		if err != nil {
			l.listening = false
			l.wake()
			l.mu.Unlock()
			return
		}
		if seq, perr := strconv.ParseUint(n.Payload, 10, 64); perr == nil && seq > l.notified {
			l.notified = seq
		}
		l.wake()
		l.mu.Unlock()
	}
}

// wake closes gen and makes the next one. l.mu is held.
func (l *listener) wake() {
	close(l.gen)
	l.gen = make(chan struct{})
}

// close stops the listener and waits for its connection to close.
func (l *listener) close() {
	l.mu.Lock()
	l.closed = true
	done := l.done
	l.mu.Unlock()
	l.cancel()
	if done != nil {
		<-done
	}
}

var _ store.ChangeLog = (*Store)(nil)

const feedAccess = `SELECT seq, time, changes FROM $schema.events WHERE changes <> '' AND time <= $1 ORDER BY seq`

// ReadChanges implements store.ChangeLog with one statement on the pool, by the
// events' primary key: the events with Changes up to at, each decoded as it comes.
func (s *Store) ReadChanges(ctx context.Context, at time.Time, fn func(seq uint64, t time.Time, cs []store.Change)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, s.prefixed(feedAccess), at)
	if err != nil {
		return wrapErr(ctx, "read changes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var t time.Time
		var text string
		if err := rows.Scan(&seq, &t, &text); err != nil {
			return wrapErr(ctx, "read changes", err)
		}
		cs, err := store.UnmarshalChanges(text)
		if err != nil {
			return err
		}
		fn(uint64(seq), dbTime(t), cs)
	}
	return wrapErr(ctx, "read changes", rows.Err())
}
