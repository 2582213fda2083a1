package replica_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/replica"
)

// grantsPerUser is the number of grants each user of a bench world holds: a viewer
// grant on its account, an admin grant on one of the account's four projects and a
// viewer grant on three of that project's inboxes.
const grantsPerUser = 5

// usersPerAccount is the number of users of each account of a bench world.
const usersPerAccount = 20

// buildWorld writes, with w, a world of about n grants (see grantsPerUser).
func buildWorld(ctx context.Context, w store.Writer, n int, from, to int) error {
	users := max(n/grantsPerUser, 1)
	accounts := (users + usersPerAccount - 1) / usersPerAccount
	for a := from; a < min(to, accounts); a++ {
		acct := rbac.Account("a" + strconv.Itoa(a))
		owner := "u" + strconv.Itoa(a*usersPerAccount)
		for u := a * usersPerAccount; u < min(users, (a+1)*usersPerAccount); u++ {
			id := "u" + strconv.Itoa(u)
			if err := w.InsertUser(ctx, store.User{ID: id, Email: id + "@bench.test"}); err != nil {
				return err
			}
		}
		if err := w.InsertAccount(ctx, store.Account{Ref: acct, Name: acct.ID, Owner: owner, Plan: "team"}); err != nil {
			return err
		}
		for p := range 4 {
			proj := rbac.Project("p" + strconv.Itoa(a) + "." + strconv.Itoa(p))
			if err := w.InsertResource(ctx, store.Resource{Ref: proj, Parent: acct, Account: acct.ID, Name: proj.ID}); err != nil {
				return err
			}
			for i := range 4 {
				inbox := rbac.Inbox(inboxID(a, p, i))
				if err := w.InsertResource(ctx, store.Resource{Ref: inbox, Parent: proj, Account: acct.ID, Name: inbox.ID}); err != nil {
					return err
				}
			}
		}
		for u := a * usersPerAccount; u < min(users, (a+1)*usersPerAccount); u++ {
			id, p := "u"+strconv.Itoa(u), u%4
			if err := w.InsertMember(ctx, store.Member{Tenant: acct, User: id}); err != nil {
				return err
			}
			gs := []store.Grant{
				{Grant: rbac.Grant{Holder: rbac.User(id), Scope: acct, Level: rbac.Viewer}, Tenant: acct},
				{Grant: rbac.Grant{Holder: rbac.User(id), Scope: rbac.Project("p" + strconv.Itoa(a) + "." + strconv.Itoa(p)), Level: rbac.Admin}, Tenant: acct},
			}
			for i := range 3 {
				gs = append(gs, store.Grant{Grant: rbac.Grant{Holder: rbac.User(id), Scope: rbac.Inbox(inboxID(a, p, i)), Level: rbac.Viewer}, Tenant: acct})
			}
			for _, g := range gs {
				if err := w.PutGrant(ctx, g); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func inboxID(a, p, i int) string {
	return "i" + strconv.Itoa(a) + "." + strconv.Itoa(p) + "." + strconv.Itoa(i)
}

// loadWorld fills st with a world of about n grants, in transactions of 100 accounts.
func loadWorld(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	accounts := (max(n/grantsPerUser, 1) + usersPerAccount - 1) / usersPerAccount
	for a := 0; a < accounts; a += 100 {
		if err := st.Update(context.Background(), func(ctx context.Context, w store.Writer) error {
			return buildWorld(ctx, w, n, a, a+100)
		}); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchUser returns a user of the middle account of a world of n grants, an inbox it
// reads by its grant there, and an inbox of another project it may not rename.
func benchUser(n int) (rbac.Holder, rbac.Ref, rbac.Ref) {
	users := max(n/grantsPerUser, 1)
	a := min(users/usersPerAccount/2, (users-1)/usersPerAccount)
	u := a*usersPerAccount + 1 // not the owner
	p := u % 4
	return rbac.User("u" + strconv.Itoa(u)), rbac.Inbox(inboxID(a, p, 0)), rbac.Inbox(inboxID(a, (p+1)%4, 2))
}

var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// BenchmarkCheck measures a check answered by a replica's copy beside the same check
// on the in-memory store it copies ("memstore"), at 1k, 100k and 1M grants, allowed
// and denied: what the replica adds to the copy's own check.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	for _, sz := range benchSizes {
		backing := memstore.New()
		loadWorld(b, backing, sz.n)
		r, err := replica.Open(ctx, backing, replica.Options{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		h, allow, deny := benchUser(sz.n)
		for _, c := range []struct {
			name   string
			action rbac.Action
			scope  rbac.Ref
			want   bool
		}{{"allow", rbac.InboxRead, allow, true}, {"deny", rbac.InboxRename, deny, false}} {
			for _, side := range []struct {
				name string
				c    store.Checker
			}{{"replica", r}, {"memstore", backing}} {
				b.Run("grants="+sz.name+"/"+c.name+"/"+side.name, func(b *testing.B) {
					var d rbac.Decision
					var err error
					b.ReportAllocs()
					for b.Loop() {
						d, err = side.c.Check(ctx, h, c.action, c.scope, now)
					}
					if err != nil || d.Allowed != c.want {
						b.Fatalf("Check = %+v, %v; want allowed=%v", d, err, c.want)
					}
				})
			}
		}
		if f := r.Status().Fallbacks; f != 0 {
			b.Fatalf("%d checks went to the backing store", f)
		}
		r.Close()
	}
}
