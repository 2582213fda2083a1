package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fixture fills a store with:
//
//	organization o1 (owner alice)
//	└── account a1 (owner bob)
//	    ├── project p1
//	    │   └── inbox i1
//	    └── domain d1
//	account a2 (owner carol)
//	└── project p2
//
// and users alice, bob, carol, dave, erin.
func fixture(tb testing.TB, s store.Store) {
	tb.Helper()
	update(tb, s, func(ctx context.Context, w store.Writer) error {
		for _, u := range []string{"alice", "bob", "carol", "dave", "erin"} {
			if err := w.InsertUser(ctx, store.User{ID: u, Email: u + "@example.com", Name: u, Created: t0}); err != nil {
				return err
			}
		}
		accounts := []store.Account{
			{Ref: rbac.Org("o1"), Name: "Org", Owner: "alice", Plan: "enterprise", Created: t0},
			{Ref: rbac.Account("a1"), Org: "o1", Name: "A1", Owner: "bob", Plan: "business", Created: t0},
			{Ref: rbac.Account("a2"), Name: "A2", Owner: "carol", Plan: "free", Created: t0},
		}
		for _, a := range accounts {
			if err := w.InsertAccount(ctx, a); err != nil {
				return err
			}
		}
		resources := []store.Resource{
			{Ref: rbac.Project("p1"), Parent: rbac.Account("a1"), Account: "a1", Name: "P1", Created: t0},
			{Ref: rbac.Inbox("i1"), Parent: rbac.Project("p1"), Account: "a1", Name: "I1", Created: t0},
			{Ref: rbac.Domain("d1"), Parent: rbac.Account("a1"), Account: "a1", Name: "D1", Created: t0},
			{Ref: rbac.Project("p2"), Parent: rbac.Account("a2"), Account: "a2", Name: "P2", Created: t0},
		}
		for _, r := range resources {
			if err := w.InsertResource(ctx, r); err != nil {
				return err
			}
		}
		for _, m := range []store.Member{
			{Tenant: rbac.Org("o1"), User: "alice"},
			{Tenant: rbac.Account("a1"), User: "bob"},
			{Tenant: rbac.Account("a1"), User: "dave"},
			{Tenant: rbac.Account("a2"), User: "carol"},
			{Tenant: rbac.Account("a2"), User: "dave"},
		} {
			m.Created = t0
			if err := w.InsertMember(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestScopes(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)

	// Duplicates and missing parents, and the transaction stays usable after them.
	update(t, s, func(ctx context.Context, w store.Writer) error {
		wantErr(t, w.InsertAccount(ctx, store.Account{Ref: rbac.Account("a1"), Owner: "x"}), store.ErrExists)
		wantErr(t, w.InsertAccount(ctx, store.Account{Ref: rbac.Account("a9"), Org: "nope"}), store.ErrNotFound)
		wantErr(t, w.InsertResource(ctx, store.Resource{Ref: rbac.Project("p1"), Parent: rbac.Account("a1")}), store.ErrExists)
		wantErr(t, w.InsertResource(ctx, store.Resource{Ref: rbac.Project("p9"), Parent: rbac.Account("nope")}), store.ErrNotFound)
		wantErr(t, w.UpdateAccount(ctx, store.Account{Ref: rbac.Account("nope")}), store.ErrNotFound)
		wantErr(t, w.UpdateResource(ctx, store.Resource{Ref: rbac.Account("a1")}), store.ErrNotFound)
		wantErr(t, w.DeleteResource(ctx, rbac.Account("a1")), store.ErrNotFound)
		wantErr(t, w.DeleteAccount(ctx, rbac.Project("p1")), store.ErrNotFound)
		if err := w.InsertAccount(ctx, store.Account{Ref: rbac.Project("x")}); err == nil {
			t.Error("InsertAccount accepted a project")
		}
		if err := w.InsertResource(ctx, store.Resource{Ref: rbac.Account("x"), Parent: rbac.Org("o1")}); err == nil {
			t.Error("InsertResource accepted an account")
		}
		must(t, w.InsertResource(ctx, store.Resource{Ref: rbac.Templates("tpl1"), Parent: rbac.Account("a1"), Account: "a1", Name: "T", Created: t0}))
		return w.UpdateAccount(ctx, store.Account{Ref: rbac.Account("a1"), Org: "ignored", Name: "A1 renamed", Owner: "dave", Plan: "enterprise"})
	})

	view(t, s, func(ctx context.Context, r store.Reader) error {
		a, err := r.Account(ctx, rbac.Account("a1"))
		must(t, err)
		want := store.Account{Ref: rbac.Account("a1"), Org: "o1", Name: "A1 renamed", Owner: "dave", Plan: "enterprise", Created: t0}
		if a != want {
			t.Errorf("Account = %+v, want %+v", a, want)
		}
		_, err = r.Account(ctx, rbac.Project("p1"))
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Resource(ctx, rbac.Account("a1"))
		wantErr(t, err, store.ErrNotFound)
		res, err := r.Resource(ctx, rbac.Inbox("i1"))
		must(t, err)
		if wantRes := (store.Resource{Ref: rbac.Inbox("i1"), Parent: rbac.Project("p1"), Account: "a1", Name: "I1", Created: t0}); res != wantRes {
			t.Errorf("Resource = %+v, want %+v", res, wantRes)
		}

		path, err := r.Path(ctx, rbac.Inbox("i1"), make(rbac.Path, 3, 8))
		must(t, err)
		if want := (rbac.Path{rbac.Org("o1"), rbac.Account("a1"), rbac.Project("p1"), rbac.Inbox("i1")}); !slices.Equal(path, want) {
			t.Errorf("Path = %v, want %v", path, want)
		}
		_, err = r.Path(ctx, rbac.Inbox("nope"), nil)
		wantErr(t, err, store.ErrNotFound)

		children, err := all(r.Children(ctx, rbac.Account("a1")))
		must(t, err)
		var refs []rbac.Ref
		for _, c := range children {
			refs = append(refs, c.Ref)
		}
		if want := []rbac.Ref{rbac.Project("p1"), rbac.Domain("d1"), rbac.Templates("tpl1")}; !slices.Equal(refs, want) {
			t.Errorf("Children = %v, want %v (by kind, then ID)", refs, want)
		}
		subs, err := all(r.SubAccounts(ctx, "o1"))
		must(t, err)
		if len(subs) != 1 || subs[0].Ref != rbac.Account("a1") {
			t.Errorf("SubAccounts = %v", subs)
		}
		return nil
	})
}

func TestUsers(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	gh := store.OAuthLink{Provider: "github", Subject: "42"}
	gl := store.OAuthLink{Provider: "google", Subject: "7"}
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertUser(ctx, store.User{ID: "u1", Email: "Mixed.Case@Example.com", Name: "U", TimeZone: "Europe/Paris", TwoFactor: true, OAuth: []store.OAuthLink{gl, gh}, Created: t0}))
		wantErr(t, w.InsertUser(ctx, store.User{ID: "u1", Email: "other@example.com"}), store.ErrExists)
		wantErr(t, w.InsertUser(ctx, store.User{ID: "u2", Email: "mixed.case@EXAMPLE.COM"}), store.ErrExists)
		wantErr(t, w.InsertUser(ctx, store.User{ID: "u2", Email: "u2@example.com", OAuth: []store.OAuthLink{gh}}), store.ErrExists)
		// Nothing of the refused inserts is left: u2 can be inserted now.
		must(t, w.InsertUser(ctx, store.User{ID: "u2", Email: "u2@example.com", Created: t0}))
		wantErr(t, w.UpdateUser(ctx, store.User{ID: "u2", Email: "MIXED.case@example.com"}), store.ErrExists)
		wantErr(t, w.UpdateUser(ctx, store.User{ID: "u2", Email: "u2@example.com", OAuth: []store.OAuthLink{gl}}), store.ErrExists)
		wantErr(t, w.UpdateUser(ctx, store.User{ID: "nope", Email: "nope@example.com"}), store.ErrNotFound)
		// The Kelvin sign folds to K, as strings.EqualFold says.
		must(t, w.InsertUser(ctx, store.User{ID: "k", Email: "k@example.com", Created: t0}))
		wantErr(t, w.InsertUser(ctx, store.User{ID: "k2", Email: "\u212a@example.com"}), store.ErrExists)
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		want := store.User{ID: "u1", Email: "Mixed.Case@Example.com", Name: "U", TimeZone: "Europe/Paris", TwoFactor: true, OAuth: []store.OAuthLink{gl, gh}, Created: t0}
		for _, get := range []func() (store.User, error){
			func() (store.User, error) { return r.User(ctx, "u1") },
			func() (store.User, error) { return r.UserByEmail(ctx, "MIXED.CASE@example.COM") },
			func() (store.User, error) { return r.UserByOAuth(ctx, "github", "42") },
		} {
			u, err := get()
			must(t, err)
			if !userEqual(u, want) {
				t.Errorf("got %+v, want %+v", u, want)
			}
		}
		_, err := r.UserByOAuth(ctx, "github", "43")
		wantErr(t, err, store.ErrNotFound)
		_, err = r.UserByEmail(ctx, "nobody@example.com")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})

	// UpdateUser replaces the links and keeps Created.
	gh2 := store.OAuthLink{Provider: "github", Subject: "43"}
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.UpdateUser(ctx, store.User{ID: "u1", Email: "new@example.com", Name: "V", OAuth: []store.OAuthLink{gh2, gl}, Created: t0.Add(time.Hour)})
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		u, err := r.User(ctx, "u1")
		must(t, err)
		want := store.User{ID: "u1", Email: "new@example.com", Name: "V", OAuth: []store.OAuthLink{gh2, gl}, Created: t0}
		if !userEqual(u, want) {
			t.Errorf("got %+v, want %+v", u, want)
		}
		_, err = r.UserByOAuth(ctx, "github", "42")
		wantErr(t, err, store.ErrNotFound)
		_, err = r.UserByEmail(ctx, "mixed.case@example.com")
		wantErr(t, err, store.ErrNotFound)
		return nil
	})
	// The freed email and link can be taken by another user.
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.UpdateUser(ctx, store.User{ID: "u2", Email: "mixed.case@example.com", OAuth: []store.OAuthLink{gh}})
	})
}

func userEqual(a, b store.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.Name == b.Name && a.TimeZone == b.TimeZone &&
		a.TwoFactor == b.TwoFactor && slices.Equal(a.OAuth, b.OAuth) && a.Created.Equal(b.Created)
}

func TestReach(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "Support", Created: t0}))
		must(t, w.InsertTeam(ctx, store.Team{ID: "t2", Tenant: rbac.Account("a2"), Name: "Other", Created: t0}))
		must(t, w.InsertTeamMember(ctx, "t1", "dave"))
		must(t, w.InsertTeamMember(ctx, "t2", "dave"))
		for _, g := range []rbac.Grant{
			{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Viewer},
			{Holder: rbac.User("dave"), Scope: rbac.Domain("d1"), Level: rbac.Viewer, ViewContent: true},
			{Holder: rbac.User("dave"), Scope: rbac.Project("p2"), Level: rbac.Admin}, // another account
			{Holder: rbac.Team("t1"), Scope: rbac.Account("a1"), Level: rbac.Admin},
			{Holder: rbac.Team("t2"), Scope: rbac.Account("a2"), Level: rbac.Admin}, // not on the path
			{Holder: rbac.User("erin"), Scope: rbac.Org("o1"), Level: rbac.Viewer},
			{Holder: rbac.Token("tok"), Scope: rbac.Inbox("i1"), Level: rbac.Admin},
		} {
			must(t, w.PutGrant(ctx, store.Grant{Grant: g}))
		}
		return nil
	})
	inbox := rbac.Path{rbac.Org("o1"), rbac.Account("a1"), rbac.Project("p1"), rbac.Inbox("i1")}
	cases := []struct {
		holder rbac.Holder
		scope  rbac.Ref
		path   rbac.Path
		want   []rbac.Grant
	}{
		{rbac.User("dave"), rbac.Inbox("i1"), inbox, []rbac.Grant{
			{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Viewer},
			{Holder: rbac.Team("t1"), Scope: rbac.Account("a1"), Level: rbac.Admin},
		}},
		{rbac.User("dave"), rbac.Domain("d1"), rbac.Path{rbac.Org("o1"), rbac.Account("a1"), rbac.Domain("d1")}, []rbac.Grant{
			{Holder: rbac.User("dave"), Scope: rbac.Domain("d1"), Level: rbac.Viewer, ViewContent: true},
			{Holder: rbac.Team("t1"), Scope: rbac.Account("a1"), Level: rbac.Admin},
		}},
		{rbac.User("bob"), rbac.Inbox("i1"), inbox, []rbac.Grant{
			{Holder: rbac.User("bob"), Scope: rbac.Account("a1"), Level: rbac.Owner},
		}},
		{rbac.User("alice"), rbac.Inbox("i1"), inbox, []rbac.Grant{
			{Holder: rbac.User("alice"), Scope: rbac.Org("o1"), Level: rbac.Owner},
		}},
		{rbac.User("alice"), rbac.Org("o1"), rbac.Path{rbac.Org("o1")}, []rbac.Grant{
			{Holder: rbac.User("alice"), Scope: rbac.Org("o1"), Level: rbac.Owner},
		}},
		{rbac.User("erin"), rbac.Project("p1"), inbox[:3], []rbac.Grant{
			{Holder: rbac.User("erin"), Scope: rbac.Org("o1"), Level: rbac.Viewer},
		}},
		{rbac.User("carol"), rbac.Inbox("i1"), inbox, nil},
		{rbac.Token("tok"), rbac.Inbox("i1"), inbox, []rbac.Grant{
			{Holder: rbac.Token("tok"), Scope: rbac.Inbox("i1"), Level: rbac.Admin},
		}},
		// A team's own grants; team members' grants do not count for the team.
		{rbac.Team("t1"), rbac.Project("p1"), inbox[:3], []rbac.Grant{
			{Holder: rbac.Team("t1"), Scope: rbac.Account("a1"), Level: rbac.Admin},
		}},
		// A token whose ID is a user's: no owner grant, no team grants.
		{rbac.Token("bob"), rbac.Inbox("i1"), inbox, nil},
	}
	check := func(name string, reach func(ctx context.Context, h rbac.Holder, sc rbac.Ref, p rbac.Path, g []rbac.Grant) (rbac.Path, []rbac.Grant, error)) {
		for _, c := range cases {
			path, grants, err := reach(t.Context(), c.holder, c.scope, rbac.Path{rbac.Account("junk")}, []rbac.Grant{{Level: rbac.Owner}})
			if err != nil {
				t.Errorf("%s(%v, %v): %v", name, c.holder, c.scope, err)
				continue
			}
			if !slices.Equal(path, c.path) {
				t.Errorf("%s(%v, %v) path = %v, want %v", name, c.holder, c.scope, path, c.path)
			}
			sortGrants(grants)
			sortGrants(c.want)
			if !slices.Equal(grants, c.want) {
				t.Errorf("%s(%v, %v) grants = %v, want %v", name, c.holder, c.scope, grants, c.want)
			}
		}
		_, _, err := reach(t.Context(), rbac.User("dave"), rbac.Inbox("nope"), nil, nil)
		wantErr(t, err, store.ErrNotFound)
	}
	check("Checker.Reach", s.Reach)
	view(t, s, func(ctx context.Context, r store.Reader) error {
		check("Reader.Reach", r.Reach)
		return nil
	})
	// The decision on top of Reach.
	path, grants, err := s.Reach(t.Context(), rbac.User("dave"), rbac.Inbox("i1"), nil, nil)
	must(t, err)
	if lvl := rbac.EffectiveLevel(path, grants); lvl != rbac.Admin {
		t.Errorf("dave's level on i1 = %v, want admin (through team t1)", lvl)
	}
}

func sortGrants(gs []rbac.Grant) {
	slices.SortFunc(gs, func(a, b rbac.Grant) int {
		if c := a.Holder.Compare(b.Holder); c != 0 {
			return c
		}
		return a.Scope.Compare(b.Scope)
	})
}

func TestGrants(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		wantErr(t, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Project("nope"), Level: rbac.Viewer}}), store.ErrNotFound)
		must(t, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Viewer}}))
		must(t, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Admin}})) // replaces
		must(t, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("erin"), Scope: rbac.Inbox("i1"), Level: rbac.Viewer}}))
		must(t, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.Team("t9"), Scope: rbac.Inbox("i1"), Level: rbac.Viewer}}))
		must(t, w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Org("o1"), Level: rbac.Viewer}}))
		wantErr(t, w.DeleteGrant(ctx, rbac.User("dave"), rbac.Inbox("i1")), store.ErrNotFound)
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		g, err := r.Grant(ctx, rbac.User("dave"), rbac.Project("p1"))
		must(t, err)
		if want := (store.Grant{Grant: rbac.Grant{Holder: rbac.User("dave"), Scope: rbac.Project("p1"), Level: rbac.Admin}, Tenant: rbac.Account("a1")}); g != want {
			t.Errorf("Grant = %+v, want %+v", g, want)
		}
		g, err = r.Grant(ctx, rbac.User("dave"), rbac.Org("o1"))
		must(t, err)
		if g.Tenant != rbac.Org("o1") {
			t.Errorf("org grant's tenant = %v", g.Tenant)
		}
		hg, err := all(r.HolderGrants(ctx, rbac.User("dave"), rbac.Account("a1")))
		must(t, err)
		if len(hg) != 1 || hg[0].Scope != rbac.Project("p1") {
			t.Errorf("HolderGrants = %v", hg)
		}
		sg, err := all(r.ScopeGrants(ctx, rbac.Account("a1"), true))
		must(t, err)
		var got []string
		for _, g := range sg {
			got = append(got, g.Holder.String()+"@"+g.Scope.String())
		}
		want := []string{"user:dave@project:p1", "user:erin@inbox:i1", "team:t9@inbox:i1"}
		if !slices.Equal(got, want) {
			t.Errorf("ScopeGrants(a1, subtree) = %v, want %v (by scope, then holder)", got, want)
		}
		sg, err = all(r.ScopeGrants(ctx, rbac.Account("a1"), false))
		must(t, err)
		if len(sg) != 0 {
			t.Errorf("ScopeGrants(a1) = %v, want none", sg)
		}
		return nil
	})
}

func TestCascades(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	grant := func(h rbac.Holder, sc rbac.Ref) store.Grant {
		return store.Grant{Grant: rbac.Grant{Holder: h, Scope: sc, Level: rbac.Viewer}}
	}
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "T1", Created: t0}))
		must(t, w.InsertTeam(ctx, store.Team{ID: "t2", Tenant: rbac.Account("a2"), Name: "T2", Created: t0}))
		must(t, w.InsertTeamMember(ctx, "t1", "dave"))
		must(t, w.InsertTeamMember(ctx, "t2", "dave"))
		must(t, w.InsertInvitation(ctx, store.Invitation{ID: "inv1", Tenant: rbac.Org("o1"), Email: "x@example.com", InvitedBy: rbac.User("alice"), Teams: []string{"t1"}, Created: t0}))
		must(t, w.InsertToken(ctx, store.Token{ID: "tok1", Tenant: rbac.Account("a1"), Name: "ci", Hash: []byte{1, 2}, Last4: "abcd", CreatedBy: "bob", Created: t0}))
		must(t, w.InsertToken(ctx, store.Token{ID: "tok2", Tenant: rbac.Account("a2"), Name: "ci", Last4: "wxyz", CreatedBy: "carol", Created: t0, Expires: t0.AddDate(1, 0, 0)}))
		for _, g := range []store.Grant{
			grant(rbac.User("dave"), rbac.Project("p1")),
			grant(rbac.User("dave"), rbac.Account("a2")),
			grant(rbac.Team("t1"), rbac.Inbox("i1")),
			grant(rbac.Team("t2"), rbac.Project("p2")),
			grant(rbac.Invite("inv1"), rbac.Org("o1")),
			grant(rbac.Invite("inv1"), rbac.Account("a2")), // an invitation's grant in another tenant
			grant(rbac.Token("tok1"), rbac.Domain("d1")),
			grant(rbac.Token("tok2"), rbac.Project("p2")),
		} {
			must(t, w.PutGrant(ctx, g))
		}
		_, err := w.AppendEvent(ctx, store.Event{Tenant: rbac.Account("a1"), Actor: rbac.User("bob"), Action: "test"})
		return err
	})

	// DeleteMember: dave leaves a1; his grants and team places in a1 go, those in a2 stay.
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.DeleteMember(ctx, rbac.Account("a1"), "dave"))
		wantErr(t, w.DeleteMember(ctx, rbac.Account("a1"), "dave"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.Grant(ctx, rbac.User("dave"), rbac.Project("p1"))
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Grant(ctx, rbac.User("dave"), rbac.Account("a2"))
		must(t, err)
		teams, err := all(r.UserTeams(ctx, "dave", rbac.Account("a1")))
		must(t, err)
		if len(teams) != 0 {
			t.Errorf("dave still in a1's teams %v", teams)
		}
		teams, err = all(r.UserTeams(ctx, "dave", rbac.Account("a2")))
		must(t, err)
		if len(teams) != 1 {
			t.Errorf("dave's a2 teams = %v", teams)
		}
		return nil
	})

	// DeleteResource takes the subtree and its grants.
	update(t, s, func(ctx context.Context, w store.Writer) error { return w.DeleteResource(ctx, rbac.Project("p1")) })
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.Resource(ctx, rbac.Inbox("i1"))
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Grant(ctx, rbac.Team("t1"), rbac.Inbox("i1"))
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Resource(ctx, rbac.Domain("d1"))
		must(t, err)
		return nil
	})

	// DeleteAccount of the organization takes its sub-account and all in them.
	update(t, s, func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, rbac.Org("o1")) })
	view(t, s, func(ctx context.Context, r store.Reader) error {
		for _, ref := range []rbac.Ref{rbac.Org("o1"), rbac.Account("a1")} {
			_, err := r.Account(ctx, ref)
			wantErr(t, err, store.ErrNotFound)
			n, err := r.CountMembers(ctx, ref)
			must(t, err)
			if n != 0 {
				t.Errorf("%v has %d members left", ref, n)
			}
		}
		_, err := r.Resource(ctx, rbac.Domain("d1"))
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Team(ctx, "t1")
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Invitation(ctx, "inv1")
		wantErr(t, err, store.ErrNotFound)
		_, err = r.Token(ctx, "tok1")
		wantErr(t, err, store.ErrNotFound)
		// The invitation's grant in a2 went with the invitation.
		_, err = r.Grant(ctx, rbac.Invite("inv1"), rbac.Account("a2"))
		wantErr(t, err, store.ErrNotFound)
		// Users, the other account, its team, token and grants, and events stay.
		for _, u := range []string{"alice", "bob", "dave"} {
			_, err := r.User(ctx, u)
			must(t, err)
		}
		_, err = r.Account(ctx, rbac.Account("a2"))
		must(t, err)
		_, err = r.Grant(ctx, rbac.Team("t2"), rbac.Project("p2"))
		must(t, err)
		tok, err := r.Token(ctx, "tok2")
		must(t, err)
		if !tok.Expires.Equal(t0.AddDate(1, 0, 0)) || tok.Hash != nil {
			t.Errorf("token = %+v", tok)
		}
		evs, err := r.Events(ctx, rbac.Account("a1"), 0, 10)
		must(t, err)
		if len(evs) != 1 {
			t.Errorf("events of a1 = %v, want 1", evs)
		}
		return nil
	})

	// DeleteUser takes memberships, team places and grants; owned accounts stay.
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.DeleteUser(ctx, "dave"))
		must(t, w.DeleteUser(ctx, "carol"))
		wantErr(t, w.DeleteUser(ctx, "dave"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		_, err := r.Grant(ctx, rbac.User("dave"), rbac.Account("a2"))
		wantErr(t, err, store.ErrNotFound)
		ms, err := all(r.Memberships(ctx, "dave"))
		must(t, err)
		tm, err := all(r.TeamMembers(ctx, "t2"))
		must(t, err)
		if len(ms) != 0 || len(tm) != 0 {
			t.Errorf("dave left memberships %v, team places %v", ms, tm)
		}
		a, err := r.Account(ctx, rbac.Account("a2"))
		must(t, err)
		if a.Owner != "carol" {
			t.Errorf("a2's owner = %q", a.Owner)
		}
		return nil
	})

	// DeleteTeam, DeleteToken and DeleteInvitation take their grants.
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertInvitation(ctx, store.Invitation{ID: "inv2", Tenant: rbac.Account("a2"), Email: "y@example.com", InvitedBy: rbac.User("carol"), Created: t0}))
		must(t, w.PutGrant(ctx, grant(rbac.Invite("inv2"), rbac.Project("p2"))))
		must(t, w.DeleteTeam(ctx, "t2"))
		must(t, w.DeleteToken(ctx, "tok2"))
		must(t, w.DeleteInvitation(ctx, "inv2"))
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		gs, err := all(r.ScopeGrants(ctx, rbac.Account("a2"), true))
		must(t, err)
		if len(gs) != 0 {
			t.Errorf("grants left in a2: %v", gs)
		}
		return nil
	})
}

func TestTeamsInvitationsTokens(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		must(t, w.InsertTeam(ctx, store.Team{ID: "t2", Tenant: rbac.Account("a1"), Name: "Support", Created: t0}))
		must(t, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "Sales", Created: t0}))
		must(t, w.InsertTeam(ctx, store.Team{ID: "t3", Tenant: rbac.Account("a2"), Name: "support", Created: t0}))
		wantErr(t, w.InsertTeam(ctx, store.Team{ID: "t4", Tenant: rbac.Account("a1"), Name: "SUPPORT"}), store.ErrExists)
		wantErr(t, w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: rbac.Account("a2"), Name: "x"}), store.ErrExists)
		wantErr(t, w.InsertTeam(ctx, store.Team{ID: "t5", Tenant: rbac.Account("nope"), Name: "x"}), store.ErrNotFound)
		wantErr(t, w.UpdateTeam(ctx, store.Team{ID: "t1", Name: "support"}), store.ErrExists)
		wantErr(t, w.UpdateTeam(ctx, store.Team{ID: "nope", Name: "x"}), store.ErrNotFound)
		must(t, w.UpdateTeam(ctx, store.Team{ID: "t1", Name: "SALES"}))
		must(t, w.InsertTeamMember(ctx, "t1", "dave"))
		must(t, w.InsertTeamMember(ctx, "t1", "bob"))
		wantErr(t, w.InsertTeamMember(ctx, "t1", "bob"), store.ErrExists)
		wantErr(t, w.InsertTeamMember(ctx, "t1", "nobody"), store.ErrNotFound)
		wantErr(t, w.InsertTeamMember(ctx, "nope", "bob"), store.ErrNotFound)
		wantErr(t, w.DeleteTeamMember(ctx, "t1", "erin"), store.ErrNotFound)

		must(t, w.InsertInvitation(ctx, store.Invitation{ID: "i2", Tenant: rbac.Account("a1"), Email: "New@Example.com", InvitedBy: rbac.User("bob"), Teams: []string{"t1", "t2"}, Created: t0}))
		must(t, w.InsertInvitation(ctx, store.Invitation{ID: "i1", Tenant: rbac.Account("a2"), Email: "new@example.com", InvitedBy: rbac.Token("tok"), Created: t0}))
		wantErr(t, w.InsertInvitation(ctx, store.Invitation{ID: "i3", Tenant: rbac.Account("a1"), Email: "NEW@example.com"}), store.ErrExists)
		wantErr(t, w.InsertInvitation(ctx, store.Invitation{ID: "i4", Tenant: rbac.Account("nope"), Email: "z@example.com"}), store.ErrNotFound)

		must(t, w.InsertToken(ctx, store.Token{ID: "k1", Tenant: rbac.Account("a1"), Name: "n", Hash: []byte("h"), Last4: "1234", CreatedBy: "bob", Created: t0}))
		wantErr(t, w.InsertToken(ctx, store.Token{ID: "k1", Tenant: rbac.Account("a1")}), store.ErrExists)
		wantErr(t, w.InsertToken(ctx, store.Token{ID: "k2", Tenant: rbac.Account("nope")}), store.ErrNotFound)
		must(t, w.UpdateToken(ctx, store.Token{ID: "k1", Tenant: rbac.Account("a2"), Name: "m", Hash: []byte("g"), Last4: "5678", CreatedBy: "carol", Expires: t0.Add(time.Hour), ResetTo: "k9"}))
		wantErr(t, w.UpdateToken(ctx, store.Token{ID: "nope"}), store.ErrNotFound)
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		teams, err := all(r.Teams(ctx, rbac.Account("a1")))
		must(t, err)
		if len(teams) != 2 || teams[0] != (store.Team{ID: "t1", Tenant: rbac.Account("a1"), Name: "SALES", Created: t0}) || teams[1].ID != "t2" {
			t.Errorf("Teams = %+v", teams)
		}
		members, err := all(r.TeamMembers(ctx, "t1"))
		must(t, err)
		if !slices.Equal(members, []string{"bob", "dave"}) {
			t.Errorf("TeamMembers = %v", members)
		}
		invs, err := all(r.InvitationsByEmail(ctx, "NEW@EXAMPLE.COM"))
		must(t, err)
		if len(invs) != 2 || invs[0].ID != "i1" || invs[1].ID != "i2" || invs[0].Teams != nil {
			t.Errorf("InvitationsByEmail = %+v", invs)
		}
		inv, err := r.Invitation(ctx, "i2")
		must(t, err)
		if inv.Email != "New@Example.com" || inv.InvitedBy != rbac.User("bob") || !slices.Equal(inv.Teams, []string{"t1", "t2"}) || !inv.Created.Equal(t0) {
			t.Errorf("Invitation = %+v", inv)
		}
		tok, err := r.Token(ctx, "k1")
		must(t, err)
		want := store.Token{ID: "k1", Tenant: rbac.Account("a1"), Name: "m", Hash: []byte("g"), Last4: "5678", CreatedBy: "carol", Created: t0, Expires: t0.Add(time.Hour), ResetTo: "k9"}
		if fmt.Sprint(tok) != fmt.Sprint(want) {
			t.Errorf("Token = %+v, want %+v", tok, want)
		}
		toks, err := all(r.Tokens(ctx, rbac.Account("a1")))
		must(t, err)
		if len(toks) != 1 {
			t.Errorf("Tokens = %v", toks)
		}
		return nil
	})
}

func TestMembersPagination(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	var want []string
	update(t, s, func(ctx context.Context, w store.Writer) error {
		for i := range 25 {
			id := fmt.Sprintf("m%02d", 24-i)
			want = append(want, id)
			must(t, w.InsertUser(ctx, store.User{ID: id, Email: id + "@example.com", Created: t0}))
			must(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Account("a2"), User: id, Created: t0}))
		}
		wantErr(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Account("a2"), User: "m00"}), store.ErrExists)
		wantErr(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Account("a2"), User: "nobody"}), store.ErrNotFound)
		wantErr(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Account("nope"), User: "m00"}), store.ErrNotFound)
		wantErr(t, w.InsertMember(ctx, store.Member{Tenant: rbac.Project("p2"), User: "m00"}), store.ErrNotFound)
		return nil
	})
	want = append(want, "carol", "dave")
	slices.Sort(want)
	view(t, s, func(ctx context.Context, r store.Reader) error {
		var got []string
		after := ""
		for {
			page, err := r.Members(ctx, rbac.Account("a2"), after, 10)
			must(t, err)
			if len(page) > 10 {
				t.Fatalf("page of %d > limit", len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				got = append(got, m.User)
			}
			after = page[len(page)-1].User
		}
		if !slices.Equal(got, want) {
			t.Errorf("members = %v, want %v", got, want)
		}
		n, err := r.CountMembers(ctx, rbac.Account("a2"))
		must(t, err)
		if n != len(want) {
			t.Errorf("CountMembers = %d, want %d", n, len(want))
		}
		ms, err := all(r.Memberships(ctx, "dave"))
		must(t, err)
		if len(ms) != 2 || ms[0].Tenant != rbac.Account("a1") || ms[1].Tenant != rbac.Account("a2") {
			t.Errorf("Memberships = %v", ms)
		}
		m, err := r.Member(ctx, rbac.Account("a2"), "m07")
		must(t, err)
		if want := (store.Member{Tenant: rbac.Account("a2"), User: "m07", Created: t0}); !reflect.DeepEqual(m, want) {
			t.Errorf("Member = %+v", m)
		}
		page, err := r.Members(ctx, rbac.Account("a2"), "", 0)
		must(t, err)
		if len(page) != 0 {
			t.Errorf("Members with limit 0 = %v", page)
		}
		return nil
	})
}

func TestEvents(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	var appended []store.Event
	update(t, s, func(ctx context.Context, w store.Writer) error {
		for i := range 7 {
			tenant := rbac.Account("a1")
			if i%2 == 1 {
				tenant = rbac.Account("a2")
			}
			e, err := w.AppendEvent(ctx, store.Event{Seq: 999, Time: t0.Add(time.Duration(i) * time.Second), Tenant: tenant, Actor: rbac.User("bob"), Action: "act", Target: fmt.Sprint(i), Before: "b", After: "a"})
			if err != nil {
				return err
			}
			if len(appended) > 0 && e.Seq <= appended[len(appended)-1].Seq {
				t.Errorf("Seq %d after %d", e.Seq, appended[len(appended)-1].Seq)
			}
			appended = append(appended, e)
		}
		e, err := w.AppendEvent(ctx, store.Event{Actor: rbac.User("bob"), Action: "profile"})
		if err != nil {
			return err
		}
		if e.Time.IsZero() || e.Tenant != (rbac.Ref{}) {
			t.Errorf("profile event = %+v", e)
		}
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		var got []store.Event
		var after uint64
		for {
			page, err := r.Events(ctx, rbac.Account("a1"), after, 3)
			must(t, err)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		var want []store.Event
		for _, e := range appended {
			if e.Tenant == rbac.Account("a1") {
				want = append(want, e)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events = %v\nwant %v", got, want)
		}
		prof, err := r.Events(ctx, rbac.Ref{}, 0, 10)
		must(t, err)
		if len(prof) != 1 || prof[0].Action != "profile" {
			t.Errorf("profile events = %v", prof)
		}
		return nil
	})
	// A rolled-back append leaves a gap, never a reused number.
	last := appended[len(appended)-1].Seq
	errRollback := errors.New("rollback")
	err := s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
		_, err := w.AppendEvent(ctx, store.Event{Tenant: rbac.Account("a1"), Action: "lost"})
		must(t, err)
		return errRollback
	})
	wantErr(t, err, errRollback)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		e, err := w.AppendEvent(ctx, store.Event{Tenant: rbac.Account("a1"), Action: "kept"})
		if err == nil && e.Seq <= last+1 {
			t.Errorf("Seq %d after a rolled-back append following %d", e.Seq, last)
		}
		return err
	})
}

func TestIterators(t *testing.T) {
	s := openStore(t, pgstore.Options{})
	fixture(t, s)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		for i := range 5 {
			must(t, w.InsertTeam(ctx, store.Team{ID: fmt.Sprint("t", i), Tenant: rbac.Account("a1"), Name: fmt.Sprint("team ", i), Created: t0}))
		}
		return nil
	})
	view(t, s, func(ctx context.Context, r store.Reader) error {
		// Reads while ranging, and an early break, leave the transaction usable.
		n := 0
		for team, err := range r.Teams(ctx, rbac.Account("a1")) {
			must(t, err)
			got, err := r.Team(ctx, team.ID)
			must(t, err)
			if got != team {
				t.Errorf("Team(%s) = %+v, want %+v", team.ID, got, team)
			}
			if n++; n == 2 {
				break
			}
		}
		if n != 2 {
			t.Errorf("ranged over %d teams, want 2", n)
		}
		_, err := r.Account(ctx, rbac.Account("a1"))
		return err
	})
}
