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
					if l.chunks[i/eventChunk][i%eventChunk].Action == "changed" {
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
		if step%37 == 0 || l.n%eventChunk <= 1 {
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
