package memstore

import (
	"math/bits"
	"slices"
	"sort"

	"github.com/tenantry/tenantry/store"
)

// eventChunk is the number of events in a full chunk of an eventLog: 256 events of
// about 150 bytes, about 36 KiB.
const eventChunk = 256

// smallChunks is the number of chunks before the first full one: chunks of 1, 1, 2, 4,
// ... 128 events, which hold the log's first eventChunk events.
const smallChunks = 9

// eventLog is a tenant's audit log, in Seq order: a list of chunks that are never
// moved, grown or copied. Event i lives in chunk c at offset o (see locate) from its
// append until its pop: the first chunks double in size (1, 1, 2, 4, ... 128 events),
// so that a tenant with few events takes little memory, and every later chunk holds
// eventChunk events. Appending an event writes it into its slot, after allocating a
// chunk when it is the first of one; the events already in the log are never copied,
// so that an append costs the same with a million events in the log as with a few.
// Only the list of chunks grows by copying, a slice header per eventChunk events.
type eventLog struct {
	chunks [][]store.Event // each at its full length; slots from n on are zero
	n      int             // events held
}

// locate returns the chunk and the offset in it of event i.
func locate(i int) (c, o int) {
	if i >= eventChunk {
		return smallChunks - 1 + i/eventChunk, i % eventChunk
	}
	if i == 0 {
		return 0, 0
	}
	b := bits.Len(uint(i)) // i is in [2^(b-1), 2^b): chunk b
	return b, i - 1<<(b-1)
}

// chunkSize returns the number of events chunk c holds.
func chunkSize(c int) int {
	switch {
	case c == 0:
		return 1
	case c < smallChunks:
		return 1 << (c - 1)
	}
	return eventChunk
}

// at returns event i, which stays at this address until it is popped.
func (l *eventLog) at(i int) *store.Event {
	c, o := locate(i)
	return &l.chunks[c][o]
}

// push appends e, whose Seq is greater than every Seq in the log.
func (l *eventLog) push(e store.Event) {
	c, o := locate(l.n)
	if c == len(l.chunks) {
		l.chunks = append(l.chunks, make([]store.Event, chunkSize(c)))
	}
	l.chunks[c][o] = e
	l.n++
}

// pop removes the last event. Its chunk is kept for the next push.
func (l *eventLog) pop() {
	l.n--
	*l.at(l.n) = store.Event{}
}

// after returns a copy of up to limit events with Seq greater than seq, in Seq order.
// It finds the first one by binary search.
func (l *eventLog) after(seq uint64, limit int) []store.Event {
	if l == nil || l.n == 0 || limit <= 0 {
		return nil
	}
	i := sort.Search(l.n, func(i int) bool { return l.at(i).Seq > seq })
	if i == l.n {
		return nil
	}
	out := make([]store.Event, 0, min(limit, l.n-i))
	for i < l.n && len(out) < limit {
		c, o := locate(i)
		chunk := l.chunks[c]
		hi := min(len(chunk), o+limit-len(out), o+l.n-i)
		for _, e := range chunk[o:hi] {
			out = append(out, copyEvent(e))
		}
		i += hi - o
	}
	return out
}

// copyEvent returns e with a Changes of its own, so that neither the caller of
// AppendEvent nor a reader shares the log's.
func copyEvent(e store.Event) store.Event {
	e.Changes = slices.Clone(e.Changes)
	return e
}
