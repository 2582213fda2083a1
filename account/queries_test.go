package account_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

func TestResourceQuery(t *testing.T) {
	f := newFixture(t)
	iv := f.join("iv@acme.test", grant(f.inboxA, rbac.Viewer))
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	stranger, _ := f.register("x@else.test")
	for _, c := range []struct {
		actor rbac.Holder
		scope rbac.Ref
		level rbac.Level
	}{
		{f.owner, f.inboxA, rbac.Owner},
		{f.owner, rbac.Billing(f.acct.ID), rbac.Owner},
		{pa, f.proj, rbac.Admin},
		{pa, f.inboxB, rbac.Admin},
		{iv, f.inboxA, rbac.Viewer},
		// An inbox viewer knows the project holding its inbox exists, with no access to
		// the project itself.
		{iv, f.proj, rbac.None},
	} {
		r := get(f.env, c.actor, account.Resource{Resource: c.scope})
		if r.Ref != c.scope || r.Level != c.level || r.Account != f.acct.ID || r.Name == "" {
			t.Errorf("Resource(%v) as %v = %+v, want level %v", c.scope, c.actor, r, c.level)
		}
	}
	if r := get(f.env, f.owner, account.Resource{Resource: f.inboxA}); r.Name != "Inbox A" || r.Parent != f.proj {
		t.Errorf("Resource(inbox A) = %+v", r)
	}
	// What one cannot see answers as what does not exist, with the same error.
	for _, c := range []struct {
		actor rbac.Holder
		scope rbac.Ref
	}{
		{iv, f.inboxB}, {iv, f.domain}, {pa, f.domain}, {stranger, f.inboxA}, {f.owner, rbac.Inbox("nope")},
	} {
		notFound(t, ask(f.env, c.actor, account.Resource{Resource: c.scope}))
	}
	invalid(t, ask(f.env, f.owner, account.Resource{Resource: f.acct}), "resource.kind")
	invalid(t, ask(f.env, f.owner, account.Resource{Resource: rbac.Inbox("a b")}), "resource.id")
	if err := ask(f.env, rbac.User("nobody"), account.Resource{Resource: f.inboxA}); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("an unknown user read a resource: %v", err)
	}
}

func TestLevelQuery(t *testing.T) {
	f := newFixture(t)
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	ia := f.join("ia@acme.test", grant(f.inboxA, rbac.Admin))
	v := f.join("v@acme.test", grant(f.proj, rbac.Viewer))
	zero := f.join("zero@acme.test")
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: rbac.Team(team.ID), Changes: change(f.domain, rbac.Admin)})
	tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.inboxB, rbac.Admin)}})
	inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "p@acme.test", Grants: []account.GrantSpec{grant(f.inboxA, rbac.Viewer)}})
	stranger, _ := f.register("x@else.test")
	for _, c := range []struct {
		actor, holder rbac.Holder
		scope         rbac.Ref
		want          rbac.Level
	}{
		// Oneself, on any scope one can see.
		{v, v, f.inboxA, rbac.Viewer},
		{zero, zero, f.acct, rbac.None},
		{f.owner, f.owner, f.inboxB, rbac.Owner},
		{rbac.Token(tok.ID), rbac.Token(tok.ID), f.inboxB, rbac.Admin},
		// Another holder, on a scope one administers.
		{f.owner, v, f.inboxB, rbac.Viewer},
		{admin, f.owner, f.proj, rbac.Owner},
		{admin, rbac.Team(team.ID), f.domain, rbac.Admin},
		{admin, rbac.Token(tok.ID), f.inboxB, rbac.Admin},
		{admin, rbac.Invite(inv.ID), f.inboxA, rbac.Viewer},
		{admin, zero, f.inboxA, rbac.None},
		{ia, v, f.inboxA, rbac.Viewer},
		{ia, rbac.Invite(inv.ID), f.inboxA, rbac.Viewer},
	} {
		if got := get(f.env, c.actor, account.Level{Holder: c.holder, Scope: c.scope}); got != c.want {
			t.Errorf("Level(%v on %v) as %v = %v, want %v", c.holder, c.scope, c.actor, got, c.want)
		}
	}
	for _, c := range []struct {
		actor, holder rbac.Holder
		scope         rbac.Ref
	}{
		{v, f.owner, f.inboxA},             // a viewer asks only about itself
		{ia, zero, f.inboxA},               // D18: zero has no access to Inbox A
		{ia, rbac.Team(team.ID), f.inboxA}, // teams only to who manages them
		{ia, v, f.inboxB},                  // Inbox B is not the inbox admin's
		{stranger, f.owner, f.acct},        // the account is not the stranger's
		{stranger, stranger, f.acct},
		{v, v, f.domain}, // oneself, on a scope one cannot see
		{f.owner, v, rbac.Inbox("nope")},
		{f.owner, stranger, f.acct}, // not a member
	} {
		notFound(t, ask(f.env, c.actor, account.Level{Holder: c.holder, Scope: c.scope}))
	}
	invalid(t, ask(f.env, f.owner, account.Level{Holder: rbac.Holder{Kind: 9, ID: "x"}, Scope: f.acct}), "holder.kind")
	invalid(t, ask(f.env, f.owner, account.Level{Holder: v, Scope: rbac.Ref{}}), "scope.kind")
}

func TestTeamMembersQuery(t *testing.T) {
	f := newFixture(t)
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	th := rbac.Team(team.ID)
	var want []rbac.Holder
	for i := range 7 {
		u := f.join("m" + strconv.Itoa(i) + "@acme.test")
		do(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: th, Member: u})
		want = append(want, u)
	}
	f.join("outside@acme.test")
	slices.SortFunc(want, rbac.Holder.Compare)
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	for _, limit := range []int{1, 3, 7, 8} {
		got := pageThrough(t, limit, func(after string) (account.Page[rbac.Holder], error) {
			return account.Get(f.ctx, f.svc, admin, account.TeamMembers{Tenant: f.acct, Team: th, Page: account.PageRequest{After: after, Limit: limit}})
		})
		sameItems(t, "team members", got, want)
	}
	viaAll, err := all(f.env, f.owner, account.TeamMembers{Tenant: f.acct, Team: th})
	f.must(err)
	sameItems(t, "team members through All", viaAll, want)
	// Who may not manage teams does not see them, members of the team included.
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	stranger, _ := f.register("x@else.test")
	// The listing of teams is refused on the account, which they can see, and to a
	// stranger as if the account did not exist.
	for _, who := range []rbac.Holder{pa, want[0], stranger} {
		notFound(t, ask(f.env, who, account.TeamMembers{Tenant: f.acct, Team: th}))
	}
	for _, who := range []rbac.Holder{pa, want[0]} {
		denied(t, ask(f.env, who, account.Teams{Tenant: f.acct}), rbac.RuleAdminChanges)
	}
	notFound(t, ask(f.env, stranger, account.Teams{Tenant: f.acct}))
	// A team of another account is not found in this one.
	o2, a2 := f.register("o2@else.test")
	other := do(f.env, o2, account.CreateTeam{Tenant: a2.Ref, Name: "QA"})
	notFound(t, ask(f.env, f.owner, account.TeamMembers{Tenant: f.acct, Team: rbac.Team(other.ID)}))
	invalid(t, ask(f.env, f.owner, account.TeamMembers{Tenant: f.acct, Team: rbac.User("x")}), "team")
}

func TestMyInvitationsQuery(t *testing.T) {
	e := newEnv(t)
	me, _ := e.register("me@acme.test")
	var want []string
	secrets := map[string]string{}
	var tenants []rbac.Ref
	for i := range 4 {
		o, a := e.register("o" + strconv.Itoa(i) + "@acme.test")
		do(e, o, account.SetPlan{Account: a.Ref, Plan: "team"})
		inv := do(e, o, account.Invite{Tenant: a.Ref, Email: "ME@acme.test", Grants: []account.GrantSpec{grant(a.Ref, rbac.Viewer)}})
		want = append(want, inv.ID)
		secrets[inv.ID] = inv.Secret
		tenants = append(tenants, a.Ref)
		do(e, o, account.Invite{Tenant: a.Ref, Email: "someone.else@acme.test"})
	}
	slices.Sort(want)
	for _, limit := range []int{1, 3, 4, 5} {
		got := pageThrough(t, limit, func(after string) (account.Page[store.Invitation], error) {
			return account.Get(e.ctx, e.svc, me, account.MyInvitations{Page: account.PageRequest{After: after, Limit: limit}})
		})
		sameItems(t, "my invitations", keys(got, func(i store.Invitation) string { return i.ID }), want)
		for _, inv := range got {
			if inv.Email != "me@acme.test" || !slices.Contains(tenants, inv.Tenant) {
				t.Fatalf("my invitation %+v", inv)
			}
		}
	}
	// Accepting one takes it off the list.
	do(e, me, account.AcceptInvitation{Invitation: rbac.Invite(want[0]), Secret: secrets[want[0]]})
	got, err := all(e, me, account.MyInvitations{})
	e.must(err)
	sameItems(t, "my invitations after accepting one", keys(got, func(i store.Invitation) string { return i.ID }), want[1:])
	// Another user's invitation is not theirs to accept, and answers as missing.
	you, _ := e.register("you@acme.test")
	if p := get(e, you, account.MyInvitations{}); len(p.Items) != 0 {
		t.Fatalf("someone else sees my invitations: %+v", p.Items)
	}
	notFound(t, try(e, you, account.AcceptInvitation{Invitation: rbac.Invite(want[1]), Secret: secrets[want[1]]}))
	// A token has no invitations.
	o, a := e.register("tokens@acme.test")
	tok := do(e, o, account.CreateToken{Tenant: a.Ref, Name: "ci"})
	if p := get(e, rbac.Token(tok.ID), account.MyInvitations{}); len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("a token's invitations: %+v", p)
	}
	if err := ask(e, rbac.User("nobody"), account.MyInvitations{}); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("an unknown user's invitations: %v", err)
	}
}

func TestMyEventsQuery(t *testing.T) {
	e := newEnv(t)
	me, _ := e.register("me@acme.test")
	you, _ := e.register("you@acme.test")
	var want []string
	for i := range 5 {
		do(e, me, profile.Rename{Name: "Me " + strconv.Itoa(i)})
		want = append(want, "profile.rename")
		do(e, you, profile.Rename{Name: "You " + strconv.Itoa(i)})
	}
	do(e, me, profile.SetTwoFactor{On: true})
	want = append(want, "profile.set_two_factor")
	for _, limit := range []int{1, 2, 6, 7} {
		got := pageThrough(t, limit, func(after string) (account.Page[store.Event], error) {
			return account.Get(e.ctx, e.svc, me, account.MyEvents{Page: account.PageRequest{After: after, Limit: limit}})
		})
		if !slices.Equal(keys(got, func(ev store.Event) string { return ev.Action }), want) {
			t.Fatalf("limit %d: my events %+v, want %v", limit, got, want)
		}
		for i, ev := range got {
			if ev.Actor != me || ev.Target != me.String() || !ev.Tenant.IsZero() || i > 0 && ev.Seq <= got[i-1].Seq {
				t.Fatalf("my event %+v", ev)
			}
		}
	}
	// Registering is not a profile event: it opens the new account's log.
	if p := get(e, you, account.MyEvents{}); len(p.Items) != 5 || p.Items[0].Action != "profile.rename" {
		t.Fatalf("your events: %+v", p.Items)
	}
	// A token has no profile and so no events.
	_, a := e.register("tokens@acme.test")
	owner := rbac.User(get(e, rbac.Holder{}, profile.ByEmail{Email: "tokens@acme.test"}).ID)
	tok := do(e, owner, account.CreateToken{Tenant: a.Ref, Name: "ci"})
	if p := get(e, rbac.Token(tok.ID), account.MyEvents{}); len(p.Items) != 0 {
		t.Fatalf("a token's events: %+v", p)
	}
}

// MyEvents reads the profile log in batches: it finds a user's events among many
// others', across batch boundaries.
func TestMyEventsAcrossBatches(t *testing.T) {
	e := newEnv(t)
	me, _ := e.register("me@acme.test")
	you, _ := e.register("you@acme.test")
	do(e, me, profile.Rename{Name: "first"})
	for i := range account.MaxPageSize + 10 {
		do(e, you, profile.Rename{Name: "You " + strconv.Itoa(i)})
	}
	do(e, me, profile.Rename{Name: "second"})
	got, err := all(e, me, account.MyEvents{Page: account.PageRequest{Limit: 1}})
	e.must(err)
	if len(got) != 2 || got[0].Seq >= got[1].Seq {
		t.Fatalf("my events among many: %+v", got)
	}
}

func TestSeatsQuery(t *testing.T) {
	f := newFixture(t)
	if s := get(f.env, f.owner, account.Seats{Tenant: f.acct}); s != (account.SeatCount{Used: 1, Limit: 20}) {
		t.Fatalf("seats of a new team account: %+v", s)
	}
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	v := f.join("v@acme.test", grant(f.acct, rbac.Viewer))
	ia := f.join("ia@acme.test", grant(f.inboxA, rbac.Admin))
	do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "pending@acme.test"})
	// Four members and a pending invitation (C3).
	if s := get(f.env, admin, account.Seats{Tenant: f.acct}); s != (account.SeatCount{Used: 5, Limit: 20}) {
		t.Fatalf("seats: %+v, want 5 of 20", s)
	}
	// Seats are for who may list every member: account admins.
	for _, who := range []rbac.Holder{v, ia} {
		if err := ask(f.env, who, account.Seats{Tenant: f.acct}); !errors.Is(err, rbac.ErrDenied) {
			t.Fatalf("seats as %v: %v, want denied", who, err)
		}
	}
	stranger, _ := f.register("x@else.test")
	notFound(t, ask(f.env, stranger, account.Seats{Tenant: f.acct}))
	do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "enterprise"})
	if s := get(f.env, f.owner, account.Seats{Tenant: f.acct}); s != (account.SeatCount{Used: 5, Limit: 0}) {
		t.Fatalf("seats without a limit: %+v", s)
	}
	// A plan with fewer seats than are used is refused.
	small := newEnvWith(t, account.Options{Plans: []account.Plan{{Name: "big", Seats: 3, UserManagement: true}, {Name: "tiny", Seats: 1, UserManagement: true}}})
	o, a := small.register("o@acme.test")
	do(small, o, account.Invite{Tenant: a.Ref, Email: "x@acme.test"})
	if err := try(small, o, account.SetPlan{Account: a.Ref, Plan: "tiny"}); !errors.Is(err, account.ErrSeatLimit) {
		t.Fatalf("a plan below the seats in use: %v", err)
	}
	invalid(t, ask(f.env, f.owner, account.Seats{Tenant: f.proj}), "tenant")
}
