package storetest

import (
	"context"
	"errors"
	"iter"
	"slices"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// ---- Users ----

// usersClauses are the clauses of the Users group.
var usersClauses = []clause{
	{name: "InsertAndGet", fn: usersInsertAndGet},
	{name: "EmailUniqueIgnoringCase", fn: usersEmailUnique},
	{name: "OAuthLinkUnique", fn: usersOAuthUnique},
	{name: "UpdateReplacesFields", fn: usersUpdate},
	{name: "UpdateKeepsUniqueness", fn: usersUpdateUnique},
	{name: "CopiesInAndOut", fn: usersCopies},
	{name: "DeleteUserCascades", fn: usersDelete},
}

func fullUser() store.User {
	u := newUser(uAnn, "Ann.Lee@Example.test")
	u.TwoFactor = true
	u.OAuth = []store.OAuthLink{{Provider: "github", Subject: "1234"}, {Provider: "google", Subject: "ann"}}
	return u
}

func usersInsertAndGet(e *env) {
	want := fullUser()
	e.do("insert", func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, want) })
	e.read("get", func(ctx context.Context, r store.Reader) error {
		gets := map[string]func() (store.User, error){
			"Reader.User":        func() (store.User, error) { return r.User(ctx, uAnn) },
			"Reader.UserByEmail": func() (store.User, error) { return r.UserByEmail(ctx, "Ann.Lee@Example.test") },
			"Reader.UserByEmail ignoring case": func() (store.User, error) {
				return r.UserByEmail(ctx, "ann.lee@EXAMPLE.TEST")
			},
			"Reader.UserByOAuth (first link)":  func() (store.User, error) { return r.UserByOAuth(ctx, "github", "1234") },
			"Reader.UserByOAuth (second link)": func() (store.User, error) { return r.UserByOAuth(ctx, "google", "ann") },
		}
		for name, get := range gets {
			got, err := get()
			if err != nil || !eqUser(got, want) {
				e.Errorf("store.go: %s must return the user as stored (email as given): got %+v, %v; want %+v", name, got, err, want)
			}
		}
		if _, err := r.UserByOAuth(ctx, "github", "ann"); !errors.Is(err, store.ErrNotFound) {
			e.Errorf("store.go: Reader.UserByOAuth must match provider and subject together: got %v", err)
		}
		return nil
	})
}

func usersEmailUnique(e *env) {
	e.do("insert", func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, newUser(uAnn, "ann@example.test"))
	})
	for _, email := range []string{"ann@example.test", "ANN@Example.Test", "Ann@EXAMPLE.test"} {
		err := e.try(func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, newUser(uBob, email)) })
		e.wantErr(err, store.ErrExists, "store.go: Writer.InsertUser must refuse an email taken ignoring case: %q after %q", email, "ann@example.test")
	}
	if e.hasUser(uBob) {
		e.Errorf("store.go: a refused InsertUser must write nothing: user %s is there", uBob)
	}
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, newUser(uBob, "ann@example.tes"))
	})
	e.wantErr(err, nil, "store.go: Writer.InsertUser must accept a different email")
}

func usersOAuthUnique(e *env) {
	u := newUser(uAnn, "ann@example.test")
	u.OAuth = []store.OAuthLink{{Provider: "github", Subject: "1"}}
	e.do("insert", func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, u) })
	b := newUser(uBob, "bob@example.test")
	b.OAuth = []store.OAuthLink{{Provider: "google", Subject: "9"}, {Provider: "github", Subject: "1"}}
	err := e.try(func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, b) })
	e.wantErr(err, store.ErrExists, "store.go: Writer.InsertUser must refuse an OAuth link of another user")
	e.read("the refused user's other link", func(ctx context.Context, r store.Reader) error {
		if _, err := r.UserByOAuth(ctx, "google", "9"); !errors.Is(err, store.ErrNotFound) {
			e.Errorf("store.go: a refused InsertUser must write nothing: its OAuth link google/9 is indexed (%v)", err)
		}
		return nil
	})
	b.OAuth = []store.OAuthLink{{Provider: "github", Subject: "2"}, {Provider: "gitlab", Subject: "1"}}
	err = e.try(func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, b) })
	e.wantErr(err, nil, "store.go: Writer.InsertUser must accept links that differ in provider or subject")
}

func usersUpdate(e *env) {
	e.do("insert", func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, fullUser()) })
	u := store.User{ID: uAnn, Email: "ann@new.test", Name: "Ann", TimeZone: "Asia/Tokyo", OAuth: []store.OAuthLink{{Provider: "gitlab", Subject: "7"}}, Created: t0.AddDate(1, 0, 0)}
	e.do("update", func(ctx context.Context, w store.Writer) error { return w.UpdateUser(ctx, u) })
	want := u
	want.Created = t0
	e.read("after update", func(ctx context.Context, r store.Reader) error {
		got, err := r.User(ctx, uAnn)
		if err != nil || !eqUser(got, want) {
			e.Errorf("store.go: Writer.UpdateUser must replace every field but ID and Created: got %+v, %v; want %+v", got, err, want)
		}
		if _, err := r.UserByEmail(ctx, "Ann.Lee@Example.test"); !errors.Is(err, store.ErrNotFound) {
			e.Errorf("store.go: Writer.UpdateUser must free the old email: UserByEmail(old) got %v", err)
		}
		if _, err := r.UserByOAuth(ctx, "github", "1234"); !errors.Is(err, store.ErrNotFound) {
			e.Errorf("store.go: Writer.UpdateUser must free the removed OAuth links: UserByOAuth(old) got %v", err)
		}
		if got, err := r.UserByEmail(ctx, "ANN@new.test"); err != nil || got.ID != uAnn {
			e.Errorf("store.go: Writer.UpdateUser must index the new email: got %+v, %v", got, err)
		}
		if got, err := r.UserByOAuth(ctx, "gitlab", "7"); err != nil || got.ID != uAnn {
			e.Errorf("store.go: Writer.UpdateUser must index the new OAuth links: got %+v, %v", got, err)
		}
		return nil
	})
	// The freed email and link can be taken again.
	b := newUser(uBob, "ann.lee@example.test")
	b.OAuth = []store.OAuthLink{{Provider: "github", Subject: "1234"}}
	err := e.try(func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, b) })
	e.wantErr(err, nil, "store.go: the email and OAuth link a user gave up must be free for another user")
}

func usersUpdateUnique(e *env) {
	a := newUser(uAnn, "ann@example.test")
	a.OAuth = []store.OAuthLink{{Provider: "github", Subject: "1"}}
	b := newUser(uBob, "bob@example.test")
	e.do("insert", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, a); err != nil {
			return err
		}
		return w.InsertUser(ctx, b)
	})
	b2 := b
	b2.Email = "ANN@example.TEST"
	err := e.try(func(ctx context.Context, w store.Writer) error { return w.UpdateUser(ctx, b2) })
	e.wantErr(err, store.ErrExists, "store.go: Writer.UpdateUser must refuse an email of another user, ignoring case")
	b3 := b
	b3.OAuth = []store.OAuthLink{{Provider: "github", Subject: "1"}}
	err = e.try(func(ctx context.Context, w store.Writer) error { return w.UpdateUser(ctx, b3) })
	e.wantErr(err, store.ErrExists, "store.go: Writer.UpdateUser must refuse an OAuth link of another user")
	a2 := a
	a2.Email = "ANN@EXAMPLE.TEST"
	err = e.try(func(ctx context.Context, w store.Writer) error { return w.UpdateUser(ctx, a2) })
	e.wantErr(err, nil, "store.go: Writer.UpdateUser must let a user keep its own email in another case and its own links")
	e.read("after", func(ctx context.Context, r store.Reader) error {
		if got, err := r.User(ctx, uBob); err != nil || !eqUser(got, b) {
			e.Errorf("store.go: a refused UpdateUser must change nothing: got %+v, %v", got, err)
		}
		return nil
	})
}

func usersCopies(e *env) {
	u := fullUser()
	e.do("insert", func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, u) })
	u.OAuth[0].Subject = "changed by the caller"
	e.read("copies", func(ctx context.Context, r store.Reader) error {
		got, err := r.User(ctx, uAnn)
		if err != nil {
			return err
		}
		if got.OAuth[0].Subject != "1234" {
			e.Errorf("store.go: stores copy records in: changing the caller's User.OAuth after InsertUser changed the stored user (%q)", got.OAuth[0].Subject)
		}
		got.OAuth[1].Subject = "changed by the reader"
		again, err := r.User(ctx, uAnn)
		if err != nil {
			return err
		}
		if again.OAuth[1].Subject != "ann" {
			e.Errorf("store.go: stores copy records out: changing a returned User.OAuth changed the stored user (%q)", again.OAuth[1].Subject)
		}
		return nil
	})
}

func usersDelete(e *env) {
	e.world()
	e.put(grant(rbac.User(uCy), p1, a1, rbac.Admin), grant(rbac.User(uCy), a2, a2, rbac.Viewer),
		grant(rbac.User(uCy), o1, o1, rbac.Viewer), grant(rbac.User(uDee), p1, a1, rbac.Viewer))
	e.do("teams and memberships", func(ctx context.Context, w store.Writer) error {
		for _, t := range []store.Team{{ID: "t1", Tenant: a1, Name: "A"}, {ID: "t2", Tenant: a2, Name: "B"}} {
			if err := w.InsertTeam(ctx, t); err != nil {
				return err
			}
			if err := w.InsertTeamMember(ctx, t.ID, uCy); err != nil {
				return err
			}
			if err := w.InsertTeamMember(ctx, t.ID, uDee); err != nil {
				return err
			}
		}
		return w.InsertMember(ctx, store.Member{Tenant: a2, User: uCy, Created: t0})
	})
	e.do("delete cy and bob", func(ctx context.Context, w store.Writer) error {
		if err := w.DeleteUser(ctx, uCy); err != nil {
			return err
		}
		return w.DeleteUser(ctx, uBob)
	})
	if e.hasUser(uCy) {
		e.Errorf("store.go: Writer.DeleteUser must delete the user")
	}
	for _, t := range []rbac.Ref{a1, a2} {
		if e.hasMember(t, uCy) {
			e.Errorf("store.go: Writer.DeleteUser must delete the user's memberships: still a member of %v", t)
		}
	}
	if ms := list(e, "Memberships", func(ctx context.Context, r store.Reader) iter.Seq2[store.Member, error] {
		return r.Memberships(ctx, uCy)
	}); len(ms) != 0 {
		e.Errorf("store.go: Writer.DeleteUser must delete the user's memberships: Memberships lists %v", ms)
	}
	for _, s := range []rbac.Ref{p1, a2, o1} {
		if e.hasGrant(rbac.User(uCy), s) {
			e.Errorf("store.go: Writer.DeleteUser must delete the user's grants: grant on %v still there", s)
		}
	}
	for _, team := range []string{"t1", "t2"} {
		if got := e.teamMembers(team); !slices.Equal(got, []string{uDee}) {
			e.Errorf("store.go: Writer.DeleteUser must delete the user's team places and only them: team %s has %v, want [%s]", team, got, uDee)
		}
	}
	if got := e.userTeams(uCy, a1); len(got) != 0 {
		e.Errorf("store.go: Writer.DeleteUser must delete the user's team places: UserTeams lists %v", got)
	}
	e.read("owned accounts stay", func(ctx context.Context, r store.Reader) error {
		for _, ref := range []rbac.Ref{a2, a3} {
			a, err := r.Account(ctx, ref)
			if err != nil || a.Owner != uBob {
				e.Errorf("store.go: Writer.DeleteUser must not touch the accounts the user owns: %v got %+v, %v", ref, a, err)
			}
		}
		return nil
	})
	if !e.hasGrant(rbac.User(uDee), p1) || !e.hasMember(a1, uAnn) {
		e.Errorf("store.go: Writer.DeleteUser must not touch other users' grants and memberships")
	}
}

// ---- Accounts ----

// accountsClauses are the clauses of the Accounts group.
var accountsClauses = []clause{
	{name: "InsertAndGet", fn: accountsInsertAndGet},
	{name: "SubAccounts", fn: accountsSubAccounts},
	{name: "UpdateReplacesNameOwnerPlan", fn: accountsUpdate},
	{name: "DeleteCascades", fn: accountsDeleteCascades},
	{name: "DeleteOrganizationCascadesToSubAccounts", fn: accountsDeleteOrg},
	{name: "DeleteSubAccountKeepsOrganization", fn: accountsDeleteSub},
}

func accountsInsertAndGet(e *env) {
	e.world()
	e.read("get", func(ctx context.Context, r store.Reader) error {
		for _, want := range []store.Account{newAccount(o1, "", uAnn), newAccount(a1, "o1", uAnn), newAccount(a2, "", uBob)} {
			got, err := r.Account(ctx, want.Ref)
			if err != nil || !eqAccount(got, want) {
				e.Errorf("store.go: Reader.Account must return the account as inserted: got %+v, %v; want %+v", got, err, want)
			}
		}
		return nil
	})
}

func accountsSubAccounts(e *env) {
	e.world()
	e.do("more sub-accounts", func(ctx context.Context, w store.Writer) error {
		for _, id := range []string{"a0", "a9"} {
			if err := w.InsertAccount(ctx, newAccount(rbac.Account(id), "o1", uAnn)); err != nil {
				return err
			}
		}
		return w.InsertAccount(ctx, newAccount(rbac.Org("o2"), "", uBob))
	})
	got := list(e, "SubAccounts", func(ctx context.Context, r store.Reader) iter.Seq2[store.Account, error] {
		return r.SubAccounts(ctx, "o1")
	})
	var ids []string
	for _, a := range got {
		ids = append(ids, a.Ref.ID)
		if a.Org != "o1" {
			e.Errorf("store.go: Reader.SubAccounts must list accounts whose Org is the organization: got %+v", a)
		}
	}
	if want := []string{"a0", "a1", "a3", "a9"}; !slices.Equal(ids, want) {
		e.Errorf("store.go: Reader.SubAccounts must list the organization's sub-accounts by ID: got %v, want %v", ids, want)
	}
	if got := list(e, "SubAccounts", func(ctx context.Context, r store.Reader) iter.Seq2[store.Account, error] {
		return r.SubAccounts(ctx, "o2")
	}); len(got) != 0 {
		e.Errorf("store.go: Reader.SubAccounts of an organization without sub-accounts must be empty: got %v", got)
	}
	// Early break.
	e.read("break", func(ctx context.Context, r store.Reader) error {
		n := 0
		for _, err := range r.SubAccounts(ctx, "o1") {
			if err != nil {
				return err
			}
			n++
			break
		}
		if n != 1 {
			e.Errorf("store.go: a listing must stop when the range loop breaks")
		}
		return nil
	})
}

func accountsUpdate(e *env) {
	e.world()
	u := store.Account{Ref: a1, Org: "", Name: "New name", Owner: uCy, Plan: "enterprise", Created: t0.AddDate(1, 0, 0)}
	e.do("update", func(ctx context.Context, w store.Writer) error { return w.UpdateAccount(ctx, u) })
	want := newAccount(a1, "o1", uCy)
	want.Name, want.Plan = "New name", "enterprise"
	e.read("get", func(ctx context.Context, r store.Reader) error {
		got, err := r.Account(ctx, a1)
		if err != nil || !eqAccount(got, want) {
			e.Errorf("store.go: Writer.UpdateAccount must replace Name, Owner and Plan only: got %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
}

// richTenant fills tenant with one of everything the cascade of DeleteAccount takes:
// grants on its scopes by several holders, a team with a member and grants, an
// invitation with grants (also in other), an invite link, a token with grants.
func (e *env) richTenant(tenant rbac.Ref, scope rbac.Ref, other rbac.Ref, suffix string) {
	e.do("fill "+tenant.String(), func(ctx context.Context, w store.Writer) error {
		team, inv, tok := "t-"+suffix, "v-"+suffix, "k-"+suffix
		if err := w.InsertTeam(ctx, store.Team{ID: team, Tenant: tenant, Name: "Team " + suffix, Created: t0}); err != nil {
			return err
		}
		if err := w.InsertTeamMember(ctx, team, uCy); err != nil {
			return err
		}
		if err := w.InsertInvitation(ctx, store.Invitation{ID: inv, Tenant: tenant, Email: suffix + "@example.test", InvitedBy: rbac.User(uAnn), Teams: []string{team}, Created: t0}); err != nil {
			return err
		}
		if err := w.InsertToken(ctx, store.Token{ID: tok, Tenant: tenant, Name: "ci", CreatedBy: uAnn, Created: t0}); err != nil {
			return err
		}
		if err := w.InsertInviteLink(ctx, newLink("l-"+suffix, tenant, uAnn, scope)); err != nil {
			return err
		}
		for _, g := range []store.Grant{
			grant(rbac.User(uCy), scope, tenant, rbac.Admin),
			grant(rbac.User(uDee), tenant, tenant, rbac.Viewer),
			grant(rbac.Team(team), scope, tenant, rbac.Viewer),
			grant(rbac.Invite(inv), scope, tenant, rbac.Viewer),
			grant(rbac.Token(tok), tenant, tenant, rbac.Admin),
		} {
			if err := w.PutGrant(ctx, g); err != nil {
				return err
			}
		}
		if !other.IsZero() {
			if err := w.PutGrant(ctx, grant(rbac.Invite(inv), other, other, rbac.Viewer)); err != nil {
				return err
			}
		}
		_, err := w.AppendEvent(ctx, store.Event{Time: t0, Tenant: tenant, Actor: rbac.User(uAnn), Action: "fill"})
		return err
	})
}

// checkTenantGone checks that everything richTenant put in tenant is gone.
func (e *env) checkTenantGone(clause string, tenant rbac.Ref, scopes []rbac.Ref, other rbac.Ref, suffix string) {
	team, inv, tok := "t-"+suffix, "v-"+suffix, "k-"+suffix
	if e.hasAccount(tenant) {
		e.Errorf("%s must delete the account: %v still there", clause, tenant)
	}
	for _, s := range scopes {
		if e.hasResource(s) {
			e.Errorf("%s must delete the account's resources: %v still there", clause, s)
		}
	}
	for _, h := range []rbac.Holder{rbac.User(uCy), rbac.User(uDee), rbac.Team(team), rbac.Invite(inv), rbac.Token(tok)} {
		for _, s := range append([]rbac.Ref{tenant}, scopes...) {
			if e.hasGrant(h, s) {
				e.Errorf("%s must delete the grants on its scopes: %v's grant on %v still there", clause, h, s)
			}
		}
	}
	if !other.IsZero() && e.hasGrant(rbac.Invite(inv), other) {
		e.Errorf("%s must delete the invitations made in it with all their grants: invitation %s's grant on %v still there", clause, inv, other)
	}
	if e.hasTeam(team) {
		e.Errorf("%s must delete the account's teams: team %s still there", clause, team)
	}
	if got := e.teamMembers(team); len(got) != 0 {
		e.Errorf("%s must delete the members of the account's teams: team %s lists %v", clause, team, got)
	}
	if got := e.userTeams(uCy, tenant); len(got) != 0 {
		e.Errorf("%s must delete the account's team places: UserTeams lists %v", clause, got)
	}
	if e.hasInvitation(inv) {
		e.Errorf("%s must delete the invitations made in it: invitation %s still there", clause, inv)
	}
	if e.hasToken(tok) {
		e.Errorf("%s must delete the account's tokens: token %s still there", clause, tok)
	}
	if e.hasInviteLink("l-" + suffix) {
		e.Errorf("%s must delete the account's invite links: link l-%s still there", clause, suffix)
	}
	for _, u := range []string{uAnn, uCy} {
		if e.hasMember(tenant, u) {
			e.Errorf("%s must delete the account's memberships: %s is still a member of %v", clause, u, tenant)
		}
	}
	e.read("counts and listings", func(ctx context.Context, r store.Reader) error {
		if n, err := r.CountMembers(ctx, tenant); err != nil || n != 0 {
			e.Errorf("%s must delete the account's memberships: CountMembers got %d, %v", clause, n, err)
		}
		for _, check := range []struct {
			name string
			n    func() (int, error)
		}{
			{"Teams", func() (int, error) { l, err := collect(r.Teams(ctx, tenant)); return len(l), err }},
			{"Invitations", func() (int, error) { l, err := collect(r.Invitations(ctx, tenant)); return len(l), err }},
			{"Tokens", func() (int, error) { l, err := collect(r.Tokens(ctx, tenant)); return len(l), err }},
			{"InviteLinks", func() (int, error) { l, err := collect(r.InviteLinks(ctx, tenant)); return len(l), err }},
			{"InvitationsByEmail", func() (int, error) {
				l, err := collect(r.InvitationsByEmail(ctx, suffix+"@example.test"))
				return len(l), err
			}},
		} {
			if n, err := check.n(); err != nil || n != 0 {
				e.Errorf("%s must delete everything in the account: %s lists %d record(s), %v", clause, check.name, n, err)
			}
		}
		return nil
	})
	if !e.hasUser(uCy) || !e.hasUser(uAnn) {
		e.Errorf("%s must keep the users", clause)
	}
	if evs := e.events(tenant); len(evs) != 1 {
		e.Errorf("%s must keep the events: %d left, want 1", clause, len(evs))
	}
}

func accountsDeleteCascades(e *env) {
	e.world()
	e.richTenant(a1, p1, a2, "a1")
	e.richTenant(a2, p2, rbac.Ref{}, "a2")
	e.do("delete a1", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, a1) })
	e.checkTenantGone("store.go: Writer.DeleteAccount", a1, []rbac.Ref{p1, i1, d1}, a2, "a1")
	// Nothing else is touched.
	for _, ok := range []bool{
		e.hasAccount(a2), e.hasAccount(o1), e.hasAccount(a3), e.hasResource(p2), e.hasResource(i2), e.hasResource(p3),
		e.hasTeam("t-a2"), e.hasInvitation("v-a2"), e.hasToken("k-a2"), e.hasInviteLink("l-a2"), e.hasGrant(rbac.User(uCy), p2),
		e.hasGrant(rbac.Token("k-a2"), a2), e.hasMember(a2, uBob), e.hasMember(o1, uAnn),
	} {
		if !ok {
			e.Errorf("store.go: Writer.DeleteAccount must delete nothing outside the account")
			break
		}
	}
	if got := e.teamMembers("t-a2"); !slices.Equal(got, []string{uCy}) {
		e.Errorf("store.go: Writer.DeleteAccount must not touch other accounts' teams: t-a2 lists %v", got)
	}
}

func accountsDeleteOrg(e *env) {
	e.world()
	e.richTenant(a1, p1, rbac.Ref{}, "a1")
	e.richTenant(o1, o1, a3, "o1")
	e.do("delete o1", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, o1) })
	e.checkTenantGone("store.go: Writer.DeleteAccount of an organization", o1, nil, a3, "o1")
	e.checkTenantGone("store.go: Writer.DeleteAccount of an organization (its sub-accounts first)", a1, []rbac.Ref{p1, i1, d1}, rbac.Ref{}, "a1")
	if e.hasAccount(a3) || e.hasResource(p3) || e.hasMember(a3, uBob) {
		e.Errorf("store.go: Writer.DeleteAccount of an organization must delete every sub-account with its contents: a3 is left")
	}
	if !e.hasAccount(a2) || !e.hasResource(i2) {
		e.Errorf("store.go: Writer.DeleteAccount of an organization must not touch other accounts")
	}
}

func accountsDeleteSub(e *env) {
	e.world()
	e.put(grant(rbac.User(uDee), o1, o1, rbac.Admin))
	e.do("delete a1", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, a1) })
	if !e.hasAccount(o1) || !e.hasAccount(a3) || !e.hasGrant(rbac.User(uDee), o1) || !e.hasMember(o1, uDee) {
		e.Errorf("store.go: Writer.DeleteAccount of a sub-account must keep its organization, the organization's grants and members, and the other sub-accounts")
	}
	subs := list(e, "SubAccounts", func(ctx context.Context, r store.Reader) iter.Seq2[store.Account, error] {
		return r.SubAccounts(ctx, "o1")
	})
	if len(subs) != 1 || subs[0].Ref != a3 {
		e.Errorf("store.go: Reader.SubAccounts must not list a deleted sub-account: got %v", subs)
	}
}

// ---- Resources ----

// resourcesClauses are the clauses of the Resources group.
var resourcesClauses = []clause{
	{name: "InsertAndGet", fn: resourcesInsertAndGet},
	{name: "UpdateReplacesName", fn: resourcesUpdate},
	{name: "ChildrenByKindAndID", fn: resourcesChildren},
	{name: "PathRootFirst", fn: resourcesPath},
	{name: "DeleteSubtree", fn: resourcesDeleteSubtree},
}

func resourcesInsertAndGet(e *env) {
	e.world()
	e.read("get", func(ctx context.Context, r store.Reader) error {
		for _, want := range []store.Resource{newResource(p1, a1, "a1"), newResource(i1, p1, "a1"), newResource(d1, a1, "a1")} {
			got, err := r.Resource(ctx, want.Ref)
			if err != nil || !eqResource(got, want) {
				e.Errorf("store.go: Reader.Resource must return the resource as inserted: got %+v, %v; want %+v", got, err, want)
			}
		}
		return nil
	})
}

func resourcesUpdate(e *env) {
	e.world()
	e.do("rename", func(ctx context.Context, w store.Writer) error {
		return w.UpdateResource(ctx, store.Resource{Ref: i1, Parent: a2, Account: "a2", Name: "Renamed", Created: t0.AddDate(1, 0, 0)})
	})
	want := newResource(i1, p1, "a1")
	want.Name = "Renamed"
	e.read("get", func(ctx context.Context, r store.Reader) error {
		got, err := r.Resource(ctx, i1)
		if err != nil || !eqResource(got, want) {
			e.Errorf("store.go: Writer.UpdateResource must replace the Name only: got %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
}

func resourcesChildren(e *env) {
	e.world()
	e.do("more resources", func(ctx context.Context, w store.Writer) error {
		for _, r := range []store.Resource{
			newResource(rbac.Project("p0"), a1, "a1"), newResource(rbac.Billing("b1"), a1, "a1"),
			newResource(rbac.Domain("d0"), a1, "a1"), newResource(rbac.Inbox("i0"), p1, "a1"),
		} {
			if err := w.InsertResource(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	refs := func(parent rbac.Ref) []rbac.Ref {
		var out []rbac.Ref
		for _, r := range list(e, "Children", func(ctx context.Context, r store.Reader) iter.Seq2[store.Resource, error] {
			return r.Children(ctx, parent)
		}) {
			out = append(out, r.Ref)
		}
		return out
	}
	for _, c := range []struct {
		parent rbac.Ref
		want   []rbac.Ref
	}{
		{a1, []rbac.Ref{rbac.Project("p0"), p1, rbac.Domain("d0"), d1, rbac.Billing("b1")}},
		{p1, []rbac.Ref{rbac.Inbox("i0"), i1}},
		{i1, nil},
		{o1, nil},
	} {
		if got := refs(c.parent); !slices.Equal(got, c.want) {
			e.Errorf("store.go: Reader.Children(%v) must list the resources directly below, by kind and then ID (no accounts): got %v, want %v", c.parent, got, c.want)
		}
	}
}

func resourcesPath(e *env) {
	e.world()
	for _, c := range []struct {
		scope rbac.Ref
		want  rbac.Path
	}{
		{i1, rbac.Path{o1, a1, p1, i1}},
		{d1, rbac.Path{o1, a1, d1}},
		{a1, rbac.Path{o1, a1}},
		{o1, rbac.Path{o1}},
		{i2, rbac.Path{a2, p2, i2}},
		{a2, rbac.Path{a2}},
	} {
		buf := make(rbac.Path, 3, 8)
		buf[0] = rbac.Project("junk")
		var got rbac.Path
		e.read("Path", func(ctx context.Context, r store.Reader) error {
			var err error
			got, err = r.Path(ctx, c.scope, buf)
			return err
		})
		if !slices.Equal(got, c.want) {
			e.Errorf("store.go: Reader.Path(%v) must return the path root first (from the organization for a sub-account): got %v, want %v", c.scope, got, c.want)
		}
		if len(got) > 0 && &got[0] != &buf[:1][0] {
			e.Errorf("store.go: Reader.Path must append to buf[:0] when it has room")
		}
	}
}

func resourcesDeleteSubtree(e *env) {
	e.world()
	e.do("a deeper tree", func(ctx context.Context, w store.Writer) error {
		return w.InsertResource(ctx, newResource(rbac.Inbox("i1b"), p1, "a1"))
	})
	e.put(grant(rbac.User(uCy), p1, a1, rbac.Admin), grant(rbac.User(uCy), i1, a1, rbac.Viewer),
		grant(rbac.Team("t"), rbac.Inbox("i1b"), a1, rbac.Viewer), grant(rbac.User(uCy), d1, a1, rbac.Viewer),
		grant(rbac.User(uCy), a1, a1, rbac.Viewer))
	e.do("delete p1", func(ctx context.Context, w store.Writer) error { return w.DeleteResource(ctx, p1) })
	for _, s := range []rbac.Ref{p1, i1, rbac.Inbox("i1b")} {
		if e.hasResource(s) {
			e.Errorf("store.go: Writer.DeleteResource must delete the resource and every resource below it: %v still there", s)
		}
	}
	for _, g := range []struct {
		h rbac.Holder
		s rbac.Ref
	}{{rbac.User(uCy), p1}, {rbac.User(uCy), i1}, {rbac.Team("t"), rbac.Inbox("i1b")}} {
		if e.hasGrant(g.h, g.s) {
			e.Errorf("store.go: Writer.DeleteResource must delete every grant on the deleted scopes: %v on %v still there", g.h, g.s)
		}
	}
	if !e.hasResource(d1) || !e.hasAccount(a1) || !e.hasGrant(rbac.User(uCy), d1) || !e.hasGrant(rbac.User(uCy), a1) {
		e.Errorf("store.go: Writer.DeleteResource must not touch the parent, siblings or their grants")
	}
	if got := list(e, "Children", func(ctx context.Context, r store.Reader) iter.Seq2[store.Resource, error] { return r.Children(ctx, a1) }); len(got) != 1 || got[0].Ref != d1 {
		e.Errorf("store.go: Reader.Children must not list a deleted resource: got %v", got)
	}
	e.read("grants listings", func(ctx context.Context, r store.Reader) error {
		gs, err := collect(r.HolderGrants(ctx, rbac.User(uCy), a1))
		if err != nil {
			return err
		}
		if len(gs) != 2 {
			e.Errorf("store.go: Writer.DeleteResource must delete the grants on the deleted scopes: HolderGrants lists %v", gs)
		}
		return nil
	})
	err := e.try(func(ctx context.Context, w store.Writer) error { return w.DeleteResource(ctx, a1) })
	e.wantErr(err, store.ErrNotFound, "store.go: Writer.DeleteResource must not delete accounts (Resource does not return accounts)")
}
