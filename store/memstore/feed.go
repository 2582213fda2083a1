package memstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantry/tenantry/store"
)

var (
	_ store.Feed      = (*Store)(nil)
	_ store.ChangeLog = (*Store)(nil)
)

// feedRef locates one event: its tenant's log and its place in that log.
type feedRef struct {
	log *eventLog
	i   int
}

// feedIndex is the store-wide index of the audit log, in Seq order: entry i locates
// the event whose Seq is i+1 (Seq numbers are dense in this store: a rolled-back
// transaction's numbers are used again). Like eventLog it is a list of chunks that are
// never grown or copied, each of eventChunk entries (there is one index in a store),
// so that an append copies no entry; an entry is 16 bytes, against about 150 for the
// event itself.
type feedIndex struct {
	chunks [][]feedRef
	n      int
}

func (x *feedIndex) push(r feedRef) {
	c := x.n / eventChunk
	if c == len(x.chunks) {
		x.chunks = append(x.chunks, make([]feedRef, 0, eventChunk))
	}
	x.chunks[c] = append(x.chunks[c], r)
	x.n++
}

func (x *feedIndex) pop() {
	x.n--
	c := x.n / eventChunk
	chunk := x.chunks[c]
	chunk[len(chunk)-1] = feedRef{}
	x.chunks[c] = chunk[:len(chunk)-1]
}

// after returns a copy of up to limit events with Seq greater than seq, in Seq order.
func (x *feedIndex) after(seq uint64, limit int) []store.Event {
	if limit <= 0 || seq >= uint64(x.n) {
		return nil
	}
	i := int(seq)
	out := make([]store.Event, 0, min(limit, x.n-i))
	for ; i < x.n && len(out) < limit; i++ {
		r := x.chunks[i/eventChunk][i%eventChunk]
		out = append(out, copyEvent(*r.log.at(r.i)))
	}
	return out
}

// feedSignal wakes the waiters of Wait when a transaction that appended events
// commits: a channel, made when the first waiter asks for it, that the commit closes.
// A commit that no one waits for costs an atomic load and store and a mutex.
type feedSignal struct {
	committed atomic.Uint64 // the greatest Seq committed
	mu        sync.Mutex
	ch        chan struct{} // closed on the next commit; nil when no one waits
}

// commit records that every event up to seq has been committed and wakes the waiters.
// It runs under the store's write lock, so commits call it one at a time.
func (f *feedSignal) commit(seq uint64) {
	if f.committed.Load() == seq {
		return
	}
	f.committed.Store(seq)
	f.mu.Lock()
	if f.ch != nil {
		close(f.ch)
		f.ch = nil
	}
	f.mu.Unlock()
}

// wait returns a channel that the next commit closes, or nil when an event with Seq
// greater than after has been committed already.
func (f *feedSignal) wait(after uint64) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.committed.Load() > after {
		return nil
	}
	if f.ch == nil {
		f.ch = make(chan struct{})
	}
	return f.ch
}

// Changes implements store.Feed: up to limit events of the whole store with Seq
// greater than after, in Seq order, read under the read lock, which no Update holds
// while it is running (so an event of a transaction that may yet roll back is never
// seen). It finds the cursor in constant time.
func (s *Store) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lk := s.mu.RLock()
	evs := s.st.feed.after(after, limit)
	s.mu.RUnlock(lk)
	return evs, nil
}

// Wait implements store.Feed: it returns as soon as a transaction that appended an
// event with Seq greater than after has committed, woken by the commit itself.
func (s *Store) Wait(ctx context.Context, after uint64) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ch := s.signal.wait(after)
		if ch == nil {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ReadChanges implements store.ChangeLog: it walks the feed's index under the read
// lock, calling fn with the log's own Changes of each event that has some and is not
// after at.
func (s *Store) ReadChanges(ctx context.Context, at time.Time, fn func(seq uint64, t time.Time, cs []store.Change)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lk := s.mu.RLock()
	defer s.mu.RUnlock(lk)
	x := &s.st.feed
	for i := range x.n {
		if i%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r := x.chunks[i/eventChunk][i%eventChunk]
		e := r.log.at(r.i)
		if len(e.Changes) > 0 && !e.Time.After(at) {
			fn(e.Seq, e.Time, e.Changes)
		}
	}
	return nil
}
