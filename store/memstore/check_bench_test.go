package memstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

// benchStores holds the loaded worlds of BenchmarkCheck and BenchmarkCheckFloor, by
// number of grants, so that both run on the same stores in one run.
var benchStores = map[int]*memstore.Store{}

func benchStore(b *testing.B, n int) *memstore.Store {
	if s, ok := benchStores[n]; ok {
		return s
	}
	s := memstore.New()
	loadGrants(b, s, n)
	benchStores[n] = s
	return s
}

// BenchmarkCheck measures the store's own Checker.Check for BenchmarkReach's user on
// an inbox four levels deep, among 1k, 100k and 1M grants: allowed (inbox.read on its
// inbox, by the user's grant there) and denied (inbox.rename on an inbox of another
// project of its account, where it holds only its viewer grant on the account). Read
// it beside BenchmarkCheckFloor.
func BenchmarkCheck(b *testing.B) {
	cases := []struct {
		name   string
		action rbac.Action
		allow  bool
	}{{"allow", rbac.InboxRead, true}, {"deny", rbac.InboxRename, false}}
	ctx := context.Background()
	now := time.Now()
	for _, sz := range sizes {
		for _, c := range cases {
			b.Run("grants="+sz.name+"/"+c.name, func(b *testing.B) {
				s := benchStore(b, sz.n)
				h, inbox := benchHolder(sz.n)
				if !c.allow {
					inbox = denyInbox(sz.n)
				}
				var d rbac.Decision
				var err error
				b.ReportAllocs()
				for b.Loop() {
					d, err = s.Check(ctx, h, c.action, inbox, now)
				}
				if err != nil || d.Allowed != c.allow {
					b.Fatalf("Check = %+v, %v; want allowed=%v", d, err, c.allow)
				}
			})
		}
	}
}

// denyInbox returns an inbox, four levels deep, of the account of benchHolder's user,
// in a project where the user holds no grant.
func denyInbox(n int) rbac.Ref {
	a := accountsFor(n) / 2
	u := a * usersPerAccount
	return rbac.Inbox(inboxID(a, (u%4+1)%4, 2))
}

// BenchmarkCheckFloor measures the bare minimum of a check in this design (see
// memstore.CheckFloor: one read lock, three map look-ups and the walk of the 4-level
// path) on BenchmarkCheck's stores and arguments, so that the ratio Check / floor is
// read from one run.
func BenchmarkCheckFloor(b *testing.B) {
	for _, sz := range sizes {
		for _, allow := range []bool{true, false} {
			name, want := "allow", rbac.Viewer
			h, inbox := benchHolder(sz.n)
			if !allow {
				name, want, inbox = "deny", rbac.None, denyInbox(sz.n)
			}
			b.Run("grants="+sz.name+"/"+name, func(b *testing.B) {
				s := benchStore(b, sz.n)
				var level rbac.Level
				var depth int
				b.ReportAllocs()
				for b.Loop() {
					level, depth = memstore.CheckFloor(s, h, inbox)
				}
				if level != want || depth != 4 {
					b.Fatalf("CheckFloor = %v, %d; want %v, 4", level, depth, want)
				}
			})
		}
	}
}

// BenchmarkCheckRatio measures BenchmarkCheck's checks and BenchmarkCheckFloor's floor
// on the same stores and arguments, alternating batches of 1000 of each, and reports
// the medians of the batches' times per operation (check-ns, floor-ns) and their ratio
// (check/floor): on a machine that other work shares, the two see the same load. Its
// B/op is its record of the batches; BenchmarkCheck reports the check's allocations.
func BenchmarkCheckRatio(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	now := time.Now()
	for _, sz := range sizes {
		for _, allow := range []bool{true, false} {
			name, action := "allow", rbac.InboxRead
			h, inbox := benchHolder(sz.n)
			if !allow {
				name, action, inbox = "deny", rbac.InboxRename, denyInbox(sz.n)
			}
			b.Run("grants="+sz.name+"/"+name, func(b *testing.B) {
				s := benchStore(b, sz.n)
				var checks, floors []float64
				var d rbac.Decision
				b.ReportAllocs()
				for b.Loop() {
					t0 := time.Now()
					for range batch {
						d, _ = s.Check(ctx, h, action, inbox, now)
					}
					t1 := time.Now()
					for range batch {
						memstore.CheckFloor(s, h, inbox)
					}
					checks = append(checks, float64(t1.Sub(t0).Nanoseconds())/batch)
					floors = append(floors, float64(time.Since(t1).Nanoseconds())/batch)
				}
				if d.Allowed != allow {
					b.Fatalf("Check = %+v; want allowed=%v", d, allow)
				}
				c, f := median(checks), median(floors)
				b.ReportMetric(c, "check-ns")
				b.ReportMetric(f, "floor-ns")
				b.ReportMetric(c/f, "check/floor")
			})
		}
	}
}

// median returns the median of l, which it sorts.
func median(l []float64) float64 {
	slices.Sort(l)
	return l[len(l)/2]
}
