package sqlitestore_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// cacheWorld makes account a1 with project p1 and inbox i1, user u-bob, member of a1
// with a viewer grant on it, and team t1 of a1.
func cacheWorld(t *testing.T, s store.Store) {
	t.Helper()
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertUser(ctx, store.User{ID: "u-bob", Email: "bob@example.test"}))
		must(t, w.InsertAccount(ctx, store.Account{Ref: rbac.Account("a1"), Owner: "u-ann", Plan: "p"}))
		must(t, w.InsertResource(ctx, store.Resource{Ref: rbac.Project("p1"), Parent: rbac.Account("a1")}))
		must(t, w.InsertResource(ctx, store.Resource{Ref: rbac.Inbox("i1"), Parent: rbac.Project("p1")}))
		must(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Account("a1"), User: "u-bob"}))
		must(t, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "T"}))
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("u-bob"), Scope: rbac.Account("a1"), Level: rbac.Viewer}})
	})
}

// fresh decides the check in a View: Reach inside a transaction, never cached.
func fresh(t *testing.T, s store.Store, h rbac.Holder, a rbac.Action, scope rbac.Ref) (rbac.Decision, error) {
	t.Helper()
	var d rbac.Decision
	err := s.View(context.Background(), func(ctx context.Context, r store.Reader) error {
		path, grants, err := r.Reach(ctx, h, scope, nil, nil)
		if err != nil {
			return err
		}
		d = rbac.Decide(a, path, grants)
		return nil
	})
	return d, err
}

// sameCheck fails the test unless Check through s agrees with a fresh decision.
func sameCheck(t *testing.T, s *sqlitestore.Store, h rbac.Holder, a rbac.Action, scope rbac.Ref, what string) {
	t.Helper()
	want, werr := fresh(t, s, h, a, scope)
	got, err := s.Check(context.Background(), h, a, scope, time.Now())
	if !errors.Is(err, werr) && (err == nil || werr == nil || !errors.Is(err, store.ErrNotFound) || !errors.Is(werr, store.ErrNotFound)) {
		t.Fatalf("%s: Check error %v, a fresh read's %v", what, err, werr)
	}
	if err == nil && (got.Allowed != want.Allowed || got.Level != want.Level || got.Grant != want.Grant) {
		t.Fatalf("%s: Check = %+v, a fresh read decides %+v", what, got, want)
	}
}

// TestCheckCacheFollowsCommits changes grants, teams, scopes and owners at random,
// through the store itself and through a second store on the same file (other
// connections), and after each change compares the checks of both stores, made twice
// so that the second may come from the cache, with a fresh read.
func TestCheckCacheFollowsCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	a := openStoreAt(t, path, testOptions, true)
	b := openStoreAt(t, path, testOptions, false)
	cacheWorld(t, a)
	bob := rbac.User("u-bob")
	scopes := []rbac.Ref{rbac.Account("a1"), rbac.Project("p1"), rbac.Inbox("i1"), rbac.Inbox("i2")}
	levels := []rbac.Level{rbac.Viewer, rbac.Admin}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		s := []*sqlitestore.Store{a, b}[r.IntN(2)]
		scope := scopes[r.IntN(len(scopes))]
		var change func(ctx context.Context, w store.Writer) error
		switch r.IntN(7) {
		case 0, 1:
			change = func(ctx context.Context, w store.Writer) error {
				return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: bob, Scope: scope, Level: levels[r.IntN(2)]}})
			}
		case 2:
			change = func(ctx context.Context, w store.Writer) error { return w.DeleteGrant(ctx, bob, scope) }
		case 3:
			change = func(ctx context.Context, w store.Writer) error {
				if err := w.InsertTeamMember(ctx, "t1", "u-bob"); errors.Is(err, store.ErrExists) {
					return w.DeleteTeamMember(ctx, "t1", "u-bob")
				} else if err != nil {
					return err
				}
				return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.Team("t1"), Scope: scope, Level: rbac.Admin}})
			}
		case 4:
			change = func(ctx context.Context, w store.Writer) error {
				err := w.InsertResource(ctx, store.Resource{Ref: rbac.Inbox("i2"), Parent: rbac.Project("p1")})
				if errors.Is(err, store.ErrExists) {
					return w.DeleteResource(ctx, rbac.Inbox("i2"))
				}
				return err
			}
		case 5:
			change = func(ctx context.Context, w store.Writer) error {
				acct, err := w.Account(ctx, rbac.Account("a1"))
				if err != nil {
					return err
				}
				acct.Owner = map[bool]string{true: "u-ann", false: "u-bob"}[acct.Owner == "u-bob"]
				return w.UpdateAccount(ctx, acct)
			}
		default: // a commit that changes nothing the check reads
			change = func(ctx context.Context, w store.Writer) error {
				_, err := w.AppendEvent(ctx, store.Event{Tenant: rbac.Account("a1"), Action: "test"})
				return err
			}
		}
		if err := s.Update(context.Background(), change); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		for _, c := range []*sqlitestore.Store{a, b, a, b} {
			for _, sc := range scopes {
				sameCheck(t, c, bob, rbac.InboxRead, sc, "step "+strconv.Itoa(i))
				sameCheck(t, c, bob, rbac.AccountTransfer, sc, "step "+strconv.Itoa(i))
			}
		}
	}
}

// TestCheckCacheOtherProcess checks, caches a check, lets another process revoke the
// grant it relied on, and checks again.
func TestCheckCacheOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	s := openStoreAt(t, path, testOptions, true)
	cacheWorld(t, s)
	bob, a1 := rbac.User("u-bob"), rbac.Account("a1")
	for range 3 {
		if d, err := s.Check(t.Context(), bob, rbac.AccountView, a1, time.Now()); err != nil || !d.Allowed {
			t.Fatalf("before: Check = %+v, %v; want allowed", d, err)
		}
	}
	cmd := helperCommand("revoke", path, 0)
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("the other process: %v", err)
	}
	if d, err := s.Check(t.Context(), bob, rbac.AccountView, a1, time.Now()); err != nil || d.Allowed {
		t.Fatalf("after another process revoked the grant: Check = %+v, %v; want refused", d, err)
	}
}

// TestCheckCacheAfterOwnCommit checks, from several goroutines, right after each
// commit of the store itself, that every check sees it.
func TestCheckCacheAfterOwnCommit(t *testing.T) {
	s := openStore(t)
	cacheWorld(t, s)
	bob, p1 := rbac.User("u-bob"), rbac.Project("p1")
	for i := range 100 {
		level := []rbac.Level{rbac.Viewer, rbac.Admin}[i%2]
		update(t, s, func(ctx context.Context, w store.Writer) error {
			return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: bob, Scope: p1, Level: level}})
		})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				d, err := s.Check(t.Context(), bob, rbac.InboxRead, rbac.Inbox("i1"), time.Now())
				if err != nil || d.Level != level {
					t.Errorf("commit %d: Check = %+v, %v; want level %v", i, d, err, level)
				}
			})
		}
		wg.Wait()
	}
}

// TestCheckCacheCopiesOut changes what Reach returned and reads again.
func TestCheckCacheCopiesOut(t *testing.T) {
	s := openStore(t)
	cacheWorld(t, s)
	bob, i1 := rbac.User("u-bob"), rbac.Inbox("i1")
	p0, g0, err := s.Reach(t.Context(), bob, i1, nil, nil)
	must(t, err)
	for range 2 {
		p, g, err := s.Reach(t.Context(), bob, i1, nil, nil)
		must(t, err)
		if !slices.Equal(p, p0) || !slices.Equal(g, g0) {
			t.Fatalf("Reach = %v, %v; want %v, %v", p, g, p0, g0)
		}
		p[0], g[0].Level = rbac.Ref{}, rbac.Owner
	}
	if _, _, err := s.Reach(t.Context(), bob, rbac.Inbox("nope"), nil, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Reach of a missing scope: %v, want ErrNotFound", err)
	}
}

// cacheClient is the address of the cache tests' requests, and cacheAuth their Auth.
var (
	cacheClient = netip.MustParseAddr("10.1.2.3")
	cacheAuth   = rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: cacheClient}
)

// checkAllowedThenRefused checks three times (the later answers from the cache), runs
// change, and checks again at once, then from the cache: each check must refuse by the
// IP allowlist.
func checkAllowedThenRefused(t *testing.T, s *sqlitestore.Store, change func()) {
	t.Helper()
	ctx := store.WithAuth(t.Context(), cacheAuth)
	bob, a1 := rbac.User("u-bob"), rbac.Account("a1")
	for range 3 {
		if d, err := s.Check(ctx, bob, rbac.AccountView, a1, time.Now()); err != nil || !d.Allowed {
			t.Fatalf("before the policy: Check = %+v, %v; want allowed", d, err)
		}
	}
	change()
	for i := range 3 { // the first at once, the others from the cache
		d, err := s.Check(ctx, bob, rbac.AccountView, a1, time.Now())
		if err != nil || d.Allowed || d.Rule != rbac.RuleIPAllowlist {
			t.Fatalf("check %d after a policy that refuses the request: Check = %+v, %v; want refused by %s", i+1, d, err, rbac.RuleIPAllowlist)
		}
	}
	if d, err := s.Check(store.WithAuth(t.Context(), rbac.Auth{ClientIP: netip.MustParseAddr("192.0.2.1")}), bob, rbac.AccountView, a1, time.Now()); err != nil || !d.Allowed {
		t.Fatalf("a request from inside the allowlist: Check = %+v, %v; want allowed", d, err)
	}
}

// TestCheckCachePolicy caches a check, puts a security policy that refuses it, and
// checks again: through the store itself, through another Store on the same file,
// and from another process. A policy is part of a cached answer, which a commit
// invalidates as it does a grant's change.
func TestCheckCachePolicy(t *testing.T) {
	put := func(s store.Store) func() {
		return func() {
			update(t, s, func(ctx context.Context, w store.Writer) error { return w.PutSecurityPolicy(ctx, refusingPolicy) })
		}
	}
	t.Run("same store", func(t *testing.T) {
		s := openStore(t)
		cacheWorld(t, s)
		checkAllowedThenRefused(t, s, put(s))
	})
	t.Run("other store", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cache.db")
		a := openStoreAt(t, path, testOptions, true)
		b := openStoreAt(t, path, testOptions, false)
		cacheWorld(t, a)
		checkAllowedThenRefused(t, a, put(b))
	})
	t.Run("other process", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cache.db")
		s := openStoreAt(t, path, testOptions, true)
		cacheWorld(t, s)
		checkAllowedThenRefused(t, s, func() {
			cmd := helperCommand("policy", path, 0)
			cmd.Stdout = os.Stdout
			if err := cmd.Run(); err != nil {
				t.Fatalf("the other process: %v", err)
			}
		})
	})
	t.Run("organization", func(t *testing.T) {
		// The policy of a sub-account's organization, cached with the check's answer.
		s := openStore(t)
		update(t, s, func(ctx context.Context, w store.Writer) error {
			must(t, w.InsertAccount(ctx, store.Account{Ref: rbac.Org("o1"), Owner: "u-ann", Plan: "p"}))
			must(t, w.InsertAccount(ctx, store.Account{Ref: rbac.Account("a1"), Org: "o1", Owner: "u-ann", Plan: "p"}))
			return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("u-bob"), Scope: rbac.Account("a1"), Level: rbac.Viewer}})
		})
		checkAllowedThenRefused(t, s, func() {
			update(t, s, func(ctx context.Context, w store.Writer) error {
				p := refusingPolicy
				p.Tenant = rbac.Org("o1")
				return w.PutSecurityPolicy(ctx, p)
			})
		})
	})
}

// TestCheckCacheFollowsPolicies changes the security policies of an organization and
// its sub-account at random, and after each change compares the checks of two stores
// on the file, made twice so that the second may come from the cache, with
// store.Check in a View, for requests from several addresses.
func TestCheckCacheFollowsPolicies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	a := openStoreAt(t, path, testOptions, true)
	b := openStoreAt(t, path, testOptions, false)
	bob, o1, a1, i1 := rbac.User("u-bob"), rbac.Org("o1"), rbac.Account("a1"), rbac.Inbox("i1")
	update(t, a, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertAccount(ctx, store.Account{Ref: o1, Owner: "u-ann", Plan: "p"}))
		must(t, w.InsertAccount(ctx, store.Account{Ref: a1, Org: "o1", Owner: "u-ann", Plan: "p"}))
		must(t, w.InsertResource(ctx, store.Resource{Ref: rbac.Project("p1"), Parent: a1}))
		must(t, w.InsertResource(ctx, store.Resource{Ref: i1, Parent: rbac.Project("p1")}))
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: bob, Scope: a1, Level: rbac.Viewer}})
	})
	lists := [][]netip.Prefix{nil, {netip.MustParsePrefix("10.0.0.0/8")}, {netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	twoFA := []time.Time{{}, now.Add(-time.Hour), now.Add(time.Hour)}
	auths := []rbac.Auth{
		{ClientIP: netip.MustParseAddr("10.1.2.3")},
		{SecondFactor: true, ClientIP: netip.MustParseAddr("2001:db8::1")},
		{SecondFactor: true, ClientIP: netip.MustParseAddr("192.0.2.7")},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 150 {
		s := []*sqlitestore.Store{a, b}[r.IntN(2)]
		tenant := []rbac.Ref{o1, a1}[r.IntN(2)]
		p := store.SecurityPolicy{Tenant: tenant, Require2FA: twoFA[r.IntN(len(twoFA))], IPAllowlist: lists[r.IntN(len(lists))], UpdatedBy: "u-ann", Updated: now}
		update(t, s, func(ctx context.Context, w store.Writer) error { return w.PutSecurityPolicy(ctx, p) })
		for _, c := range []*sqlitestore.Store{a, b, a, b} {
			for _, auth := range auths {
				ctx := store.WithAuth(t.Context(), auth)
				var want rbac.Decision
				must(t, c.View(ctx, func(ctx context.Context, r store.Reader) error {
					var err error
					want, err = store.Check(ctx, r, bob, rbac.InboxRead, i1, now)
					return err
				}))
				got, err := c.Check(ctx, bob, rbac.InboxRead, i1, now)
				if err != nil || got.Allowed != want.Allowed || got.Rule != want.Rule || got.Notice != want.Notice || !got.NoticeAt.Equal(want.NoticeAt) {
					t.Fatalf("step %d, Auth %+v: Check = %+v, %v; store.Check in a View decides %+v", i, auth, got, err, want)
				}
			}
		}
	}
}
