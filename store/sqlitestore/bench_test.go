package sqlitestore_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// The benchmark world, as memstore's: organizations of 10 sub-accounts; each account
// has 4 projects of 4 inboxes; users hold 5 grants each in one account (the account, a
// project, three inboxes of that project), 20 users per account.
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

// loadWorld builds the world of n grants (rounded to whole users) in one Update,
// through store.Writer.
func loadWorld(tb testing.TB, s store.Store, n int) {
	tb.Helper()
	accounts := accountsFor(n)
	update(tb, s, func(ctx context.Context, w store.Writer) error {
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
			for u := a * usersPerAccount; u < (a+1)*usersPerAccount; u++ {
				h := rbac.User("u" + strconv.Itoa(u))
				p := u % 4
				gs := []rbac.Grant{
					{Holder: h, Scope: acct, Level: rbac.Viewer},
					{Holder: h, Scope: rbac.Project("p" + strconv.Itoa(a) + "." + strconv.Itoa(p)), Level: rbac.Admin},
				}
				for i := range 3 {
					gs = append(gs, rbac.Grant{Holder: h, Scope: rbac.Inbox(inboxID(a, p, i)), Level: rbac.Viewer})
				}
				for _, g := range gs {
					if err := w.PutGrant(ctx, store.Grant{Grant: g, Tenant: acct}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// BenchmarkCheck measures the check path, Store.Check (store.Checker), for a user
// with five grants, three of which reach an inbox four levels deep, among 1k and 100k
// grants: answered from the check cache (the same check again, the database
// unchanged), and with the cache off (one SQL statement on a reader connection, then
// rbac.Decide).
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run("grants="+strconv.Itoa(n/1000)+"k", func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.db")
			loadWorld(b, openStoreAt(b, path, testOptions, true), n)
			for _, cache := range []bool{true, false} {
				name, opts := "cached", testOptions
				if !cache {
					name, opts.CheckCacheSize = "uncached", -1
				}
				b.Run(name, func(b *testing.B) {
					s := openStoreAt(b, path, opts, false)
					h, inbox := benchHolder(n)
					ctx, now := context.Background(), time.Now()
					var d rbac.Decision
					var err error
					b.ReportAllocs()
					for b.Loop() {
						d, err = s.Check(ctx, h, rbac.InboxRead, inbox, now)
					}
					if err != nil || !d.Allowed || d.Level != rbac.Admin {
						b.Fatalf("Check = %+v, %v; want allowed at admin level", d, err)
					}
				})
			}
		})
	}
}

// BenchmarkWrite measures a small write transaction, PutGrant and AppendEvent in one
// Update, with the default synchronous=FULL (an fsync of the WAL per commit) and with
// synchronous=NORMAL.
func BenchmarkWrite(b *testing.B) {
	for _, normal := range []bool{false, true} {
		name := "sync=full"
		if normal {
			name = "sync=normal"
		}
		b.Run(name, func(b *testing.B) {
			s := openStoreAt(b, filepath.Join(b.TempDir(), "bench.db"), sqlitestore.Options{SynchronousNormal: normal}, true)
			loadWorld(b, s, 1_000)
			ctx := context.Background()
			acct, proj := rbac.Account("a0"), rbac.Project("p0.0")
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				holder := rbac.User("w" + strconv.Itoa(i%64))
				i++
				err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
					if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: holder, Scope: proj, Level: rbac.Viewer}, Tenant: acct}); err != nil {
						return err
					}
					_, err := w.AppendEvent(ctx, store.Event{Tenant: acct, Actor: rbac.User("u0"), Action: "access.grant", Target: holder.String()})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
