package memstore

import (
	"slices"
	"sort"

	"github.com/tenantry/tenantry/store"
)

// eventChunk is the number of events in a full chunk of an eventLog: 256 events of
// about 150 bytes, about 36 KiB.
const eventChunk = 256

// eventLog is a tenant's audit log, in Seq order: a list of chunks, every chunk but the
// last one holding exactly eventChunk events. It grows by appending to the last chunk
// or by adding a chunk, and never copies the events of the chunks before the last, so
// that appending an event costs the same with a million events in the log as with a
// few: the most an append copies is one chunk (while the first one grows, as a slice
// does, so that a tenant with few events takes little memory), plus the list of chunks,
// a slice header per eventChunk events.
type eventLog struct {
	chunks [][]store.Event
	n      int // events held
}

// push appends e, whose Seq is greater than every Seq in the log.
func (l *eventLog) push(e store.Event) {
	c := l.n / eventChunk
	if c == len(l.chunks) {
		var chunk []store.Event
		if c > 0 {
			chunk = make([]store.Event, 0, eventChunk)
		}
		l.chunks = append(l.chunks, chunk)
	}
	l.chunks[c] = append(l.chunks[c], e)
	l.n++
}

// pop removes the last event. A chunk that pop empties is kept for the next push.
func (l *eventLog) pop() {
	l.n--
	c := l.n / eventChunk
	chunk := l.chunks[c]
	chunk[len(chunk)-1] = store.Event{}
	l.chunks[c] = chunk[:len(chunk)-1]
}

// seq returns the Seq of event i.
func (l *eventLog) seq(i int) uint64 { return l.chunks[i/eventChunk][i%eventChunk].Seq }

// after returns a copy of up to limit events with Seq greater than seq, in Seq order.
// It finds the first one by a binary search over the chunks' last events, then one
// within that chunk.
func (l *eventLog) after(seq uint64, limit int) []store.Event {
	if l == nil || l.n == 0 || limit <= 0 {
		return nil
	}
	used := (l.n + eventChunk - 1) / eventChunk // chunks holding events
	// The first chunk whose last event comes after seq.
	c := sort.Search(used, func(c int) bool { return l.seq(min(l.n, (c+1)*eventChunk)-1) > seq })
	if c == used {
		return nil
	}
	chunk := l.chunks[c]
	i := c*eventChunk + sort.Search(len(chunk), func(i int) bool { return chunk[i].Seq > seq })
	out := make([]store.Event, 0, min(limit, l.n-i))
	for i < l.n && len(out) < limit {
		chunk := l.chunks[i/eventChunk]
		lo := i % eventChunk
		hi := min(len(chunk), lo+limit-len(out))
		for _, e := range chunk[lo:hi] {
			out = append(out, copyEvent(e))
		}
		i += hi - lo
	}
	return out
}

// copyEvent returns e with a Changes of its own, so that neither the caller of
// AppendEvent nor a reader shares the log's.
func copyEvent(e store.Event) store.Event {
	e.Changes = slices.Clone(e.Changes)
	return e
}
