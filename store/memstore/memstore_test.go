package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// TestViewsRunConcurrently checks that a View does not wait for another View: each of
// two Views waits for the other to have started.
func TestViewsRunConcurrently(t *testing.T) {
	s := memstore.New()
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			errs <- s.View(t.Context(), func(context.Context, store.Reader) error {
				close(started[i])
				select {
				case <-started[1-i]:
					return nil
				case <-time.After(5 * time.Second):
					return fmt.Errorf("view %d: the other View did not start while this one ran", i)
				}
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestReachAllocatesNothing checks the check path's promise: no allocation when the
// buffers have room.
func TestReachAllocatesNothing(t *testing.T) {
	s := memstore.New()
	loadGrants(t, s, 1000)
	h, inbox := benchHolder(1000)
	ctx := t.Context()
	path, grants := make(rbac.Path, 0, 4), make([]rbac.Grant, 0, 8)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		path, grants, err = s.Reach(ctx, h, inbox, path, grants)
	})
	if err != nil || len(grants) == 0 {
		t.Fatalf("Reach(%v, %v) = %v, %v, %v; want some grants", h, inbox, path, grants, err)
	}
	if allocs != 0 {
		t.Errorf("Store.Reach allocates %v times per call, want 0", allocs)
	}
	err = s.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		allocs = testing.AllocsPerRun(100, func() {
			path, grants, err = r.Reach(ctx, h, inbox, path, grants)
		})
		return err
	})
	if err != nil || allocs != 0 {
		t.Errorf("Reader.Reach allocates %v times per call (%v), want 0", allocs, err)
	}
}

// The benchmark world: organizations of 10 sub-accounts; each account has 4 projects
// of 4 inboxes; users hold 5 grants each in one account (the account, a project, three
// inboxes of that project), 20 users per account.
const (
	grantsPerUser   = 5
	usersPerAccount = 20
	accountsPerOrg  = 10
)

func accountsFor(grants int) int {
	return max(1, grants/(grantsPerUser*usersPerAccount))
}

// benchHolder returns a user in the middle of the world of n grants and an inbox its
// grants reach, four levels deep.
func benchHolder(n int) (rbac.Holder, rbac.Ref) {
	a := accountsFor(n) / 2
	u := a * usersPerAccount
	return rbac.User("u" + strconv.Itoa(u)), rbac.Inbox(inboxID(a, u%4, 2))
}

func inboxID(a, p, i int) string {
	return "i" + strconv.Itoa(a) + "." + strconv.Itoa(p) + "." + strconv.Itoa(i)
}

// loadScopes inserts the organizations, accounts, projects and inboxes of the world of
// n grants.
func loadScopes(tb testing.TB, s *memstore.Store, n int) {
	ctx := context.Background()
	accounts := accountsFor(n)
	err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		for a := range accounts {
			org := "o" + strconv.Itoa(a/accountsPerOrg)
			if a%accountsPerOrg == 0 {
				if err := w.InsertAccount(ctx, store.Account{Ref: rbac.Org(org), Owner: "owner"}); err != nil {
					return err
				}
			}
			acct := rbac.Account("a" + strconv.Itoa(a))
			if err := w.InsertAccount(ctx, store.Account{Ref: acct, Org: org, Owner: "owner"}); err != nil {
				return err
			}
			for p := range 4 {
				proj := rbac.Project("p" + strconv.Itoa(a) + "." + strconv.Itoa(p))
				if err := w.InsertResource(ctx, store.Resource{Ref: proj, Parent: acct, Account: acct.ID}); err != nil {
					return err
				}
				for i := range 4 {
					if err := w.InsertResource(ctx, store.Resource{Ref: rbac.Inbox(inboxID(a, p, i)), Parent: proj, Account: acct.ID}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// loadGrants builds the world of n grants (rounded to whole users).
func loadGrants(tb testing.TB, s *memstore.Store, n int) {
	loadScopes(tb, s, n)
	putGrants(tb, s, n)
}

func putGrants(tb testing.TB, s *memstore.Store, n int) {
	ctx := context.Background()
	users := accountsFor(n) * usersPerAccount
	const batch = 2000
	for start := 0; start < users; start += batch {
		err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			for u := start; u < min(users, start+batch); u++ {
				a, p := u/usersPerAccount, u%4
				h := rbac.User("u" + strconv.Itoa(u))
				acct := rbac.Account("a" + strconv.Itoa(a))
				gs := []store.Grant{
					{Grant: rbac.Grant{Holder: h, Scope: acct, Level: rbac.Viewer}, Tenant: acct},
					{Grant: rbac.Grant{Holder: h, Scope: rbac.Project("p" + strconv.Itoa(a) + "." + strconv.Itoa(p)), Level: rbac.Admin}, Tenant: acct},
				}
				for i := range 3 {
					gs = append(gs, store.Grant{Grant: rbac.Grant{Holder: h, Scope: rbac.Inbox(inboxID(a, p, i)), Level: rbac.Viewer}, Tenant: acct})
				}
				for _, g := range gs {
					if err := w.PutGrant(ctx, g); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

var sizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// BenchmarkReach measures the check path: Store.Reach for a user with five grants,
// on an inbox four levels deep, among 1k, 100k and 1M grants.
func BenchmarkReach(b *testing.B) {
	for _, sz := range sizes {
		b.Run("grants="+sz.name, func(b *testing.B) {
			s := memstore.New()
			loadGrants(b, s, sz.n)
			h, inbox := benchHolder(sz.n)
			ctx := context.Background()
			path, grants := make(rbac.Path, 0, 4), make([]rbac.Grant, 0, 8)
			var err error
			b.ReportAllocs()
			for b.Loop() {
				path, grants, err = s.Reach(ctx, h, inbox, path, grants)
			}
			if err != nil || len(grants) != 3 {
				b.Fatalf("Reach = %v, %v; want 3 grants", grants, err)
			}
		})
	}
}

// BenchmarkLoad1M measures loading 1M grants and the heap they take, in bytes per
// grant: B/grant counts the grants alone, B/grant-total the scopes too.
func BenchmarkLoad1M(b *testing.B) {
	const n = 1_000_000
	var perGrant, total float64
	for b.Loop() {
		b.StopTimer()
		var m0, m1, m2 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		s := memstore.New()
		loadScopes(b, s, n)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.StartTimer()
		putGrants(b, s, n)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m2)
		perGrant = float64(m2.HeapAlloc-m1.HeapAlloc) / n
		total = float64(m2.HeapAlloc-m0.HeapAlloc) / n
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(perGrant, "B/grant")
	b.ReportMetric(total, "B/grant-total")
}
