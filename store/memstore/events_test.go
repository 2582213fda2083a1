package memstore

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/store"
)

// TestEventLog checks the chunked log against a plain slice through pushes and pops
// across chunk boundaries, with many cursors and limits, and that what it returns
// does not alias the log.
func TestEventLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var l eventLog
	var want []store.Event
	seq := uint64(0)
	check := func() {
		t.Helper()
		if l.n != len(want) {
			t.Fatalf("n = %d, want %d", l.n, len(want))
		}
		cursors := []uint64{0, seq, seq + 1}
		for range 10 {
			cursors = append(cursors, uint64(rng.IntN(int(seq)+2)))
		}
		for _, after := range cursors {
			for _, limit := range []int{-1, 0, 1, 7, eventChunk - 1, eventChunk, eventChunk + 1, 3 * eventChunk, 1 << 20} {
				i, _ := slices.BinarySearchFunc(want, after, func(e store.Event, s uint64) int {
					if e.Seq <= s {
						return -1
					}
					return 1
				})
				var exp []store.Event
				if limit > 0 && i < len(want) {
					exp = want[i:min(len(want), i+limit)]
				}
				got := l.after(after, limit)
				if !slices.EqualFunc(got, exp, func(a, b store.Event) bool { return reflect.DeepEqual(a, b) }) {
					t.Fatalf("after(%d, %d): got %d events, want %d (n=%d)", after, limit, len(got), len(exp), l.n)
				}
				if len(got) > 0 {
					got[0].Action = "changed"
					if l.at(i).Action == "changed" {
						t.Fatalf("after(%d, %d) aliases the log", after, limit)
					}
				}
			}
		}
	}
	check()
	for step := range 3000 {
		// Seqs have gaps, as another tenant's events take numbers in between.
		if len(want) > 0 && rng.IntN(4) == 0 {
			l.pop()
			want = want[:len(want)-1]
			seq--
		} else {
			seq += uint64(1 + rng.IntN(3))
			e := store.Event{Seq: seq, Action: "a"}
			l.push(e)
			want = append(want, e)
		}
		if step%37 == 0 || l.n%eventChunk <= 1 || l.n&(l.n-1) == 0 {
			check()
		}
	}
	check()
	for len(want) > 0 {
		l.pop()
		want = want[:len(want)-1]
	}
	check()
}

// TestEventLogNeverMoves: an event stays at the address it was appended to, with its
// contents, through appends that fill many chunks and through pops and appends at the
// end of the log, so that appending never copies the events already in it.
func TestEventLogNeverMoves(t *testing.T) {
	const n = 100_000
	var l eventLog
	addrs := make([]*store.Event, 0, n)
	for i := range n {
		l.push(store.Event{Seq: uint64(i + 1), Action: "a"})
		addrs = append(addrs, l.at(i))
		if i%1000 == 999 { // a rolled-back append at the end
			l.push(store.Event{Seq: uint64(i + 2), Action: "rolled back"})
			l.pop()
		}
	}
	for i, p := range addrs {
		if l.at(i) != p {
			t.Fatalf("event %d moved", i)
		}
		if p.Seq != uint64(i+1) || p.Action != "a" {
			t.Fatalf("event %d at its address is %+v", i, *p)
		}
	}
	// The chunks' sizes add up to no more than twice the events.
	total := 0
	for _, c := range l.chunks {
		total += len(c)
	}
	if total > 2*l.n || total < l.n {
		t.Fatalf("chunks of %d events for %d events", total, l.n)
	}
}

// TestLocate: locate numbers the events of consecutive chunks consecutively, each
// chunk filled from its first offset to its size.
func TestLocate(t *testing.T) {
	c, o := 0, 0
	for i := range 4 * eventChunk {
		gotC, gotO := locate(i)
		if gotC != c || gotO != o {
			t.Fatalf("locate(%d) = %d, %d; want %d, %d", i, gotC, gotO, c, o)
		}
		if o++; o == chunkSize(c) {
			c, o = c+1, 0
		}
	}
	if c != smallChunks+3 {
		t.Fatalf("the first %d events fill %d chunks, want %d", 4*eventChunk, c, smallChunks+3)
	}
}
