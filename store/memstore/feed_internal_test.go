package memstore

import (
	"reflect"
	"testing"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// BenchmarkFeedAppend measures what the change feed adds to appending an event, in a
// steady state (each event is appended, then popped as a rollback would, so that the
// heap does not grow): an append to the tenant's log alone, as the store did without a
// feed, then an append with the store-wide index and the commit's signal to the feed's
// waiters (none waiting). The difference is the feed's cost in every write; compare
// it with a whole write (BenchmarkFeedWrite).
func BenchmarkFeedAppend(b *testing.B) {
	e := store.Event{Tenant: rbac.Account("a"), Actor: rbac.User("u"), Action: "bench.event"}
	b.Run("tenant-log", func(b *testing.B) {
		st := newState()
		b.ReportAllocs()
		for b.Loop() {
			st.seq++
			e.Seq = st.seq
			l := st.events[e.Tenant]
			if l == nil {
				l = &eventLog{}
				st.events[e.Tenant] = l
			}
			l.push(e)
			l.pop()
			st.seq--
		}
	})
	b.Run("with-feed", func(b *testing.B) {
		st := newState()
		st.appendEvent(e) // keep the tenant's log, as tenant-log does
		var sig feedSignal
		b.ReportAllocs()
		for b.Loop() {
			st.appendEvent(e)
			sig.commit(st.seq)
			st.popEvent(e.Tenant)
		}
	})
}

// TestFeedIndexAcrossChunks: the store-wide index finds every event from every cursor
// through pushes and pops across chunk boundaries, for events spread over tenants.
func TestFeedIndexAcrossChunks(t *testing.T) {
	st := newState()
	tenants := []rbac.Ref{{}, rbac.Account("a"), rbac.Account("b")}
	var want []store.Event
	for i := range 3*eventChunk + 7 {
		e := st.appendEvent(store.Event{Tenant: tenants[i%3], Action: "x"})
		want = append(want, e)
		if i%5 == 4 { // a rolled-back append
			st.appendEvent(store.Event{Tenant: tenants[(i+1)%3], Action: "rolled back"})
			st.popEvent(tenants[(i+1)%3])
		}
	}
	for _, after := range []uint64{0, 1, eventChunk - 1, eventChunk, eventChunk + 1, uint64(len(want)) - 1, uint64(len(want))} {
		for _, limit := range []int{1, eventChunk, 1 << 20} {
			got := st.feed.after(after, limit)
			exp := want[min(int(after), len(want)):min(len(want), int(after)+limit)]
			if len(got) != len(exp) {
				t.Fatalf("after(%d, %d): %d events, want %d", after, limit, len(got), len(exp))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], exp[i]) {
					t.Fatalf("after(%d, %d)[%d] = %+v, want %+v", after, limit, i, got[i], exp[i])
				}
			}
		}
	}
}
