package sqlitestore_test

import (
	"context"
	"errors"
	"math/rand/v2"
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
