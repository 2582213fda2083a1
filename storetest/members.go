package storetest

import (
	"context"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// ---- Members ----

// membersClauses are the clauses of the Members group.
var membersClauses = []clause{
	{name: "InsertAndGet", fn: membersInsertAndGet},
	{name: "KeysetPages", fn: membersKeysetPages},
	{name: "CountMembers", fn: membersCount},
	{name: "MembershipsByTenant", fn: membersMemberships},
	{name: "DeleteMemberCascades", fn: membersDeleteCascades},
	{name: "TouchSetsLastActive", fn: membersTouch},
}

func membersInsertAndGet(e *env) {
	e.world()
	e.read("get", func(ctx context.Context, r store.Reader) error {
		want := store.Member{Tenant: a1, User: uCy, Created: t0}
		got, err := r.Member(ctx, a1, uCy)
		if err != nil || !eqMember(got, want) {
			e.Errorf("store.go: Reader.Member must return the membership as inserted: got %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
}

// memberIDs are the users of KeysetPages, inserted out of order.
var memberIDs = []string{"m-17", "m-03", "m-11", "m-01", "m-20", "m-08", "m-14", "m-05", "m-19", "m-02",
	"m-10", "m-13", "m-06", "m-16", "m-04", "m-18", "m-09", "m-12", "m-07", "m-15"}

func (e *env) manyMembers(tenant rbac.Ref) []string {
	e.do("many members", func(ctx context.Context, w store.Writer) error {
		for _, id := range memberIDs {
			if err := w.InsertUser(ctx, newUser(id, id+"@example.test")); err != nil {
				return err
			}
			if err := w.InsertMember(ctx, store.Member{Tenant: tenant, User: id, Created: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	return slices.Sorted(slices.Values(memberIDs))
}

func membersKeysetPages(e *env) {
	e.world()
	want := append(e.manyMembers(a2), uBob) // "u-bob" sorts after every "m-"
	for _, limit := range []int{1, 3, 7, 21, 50} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				e.Fatalf("store.go: Reader.Members pages never end (limit %d): got %v so far", limit, got)
			}
			var page []store.Member
			e.read("Members", func(ctx context.Context, r store.Reader) error {
				var err error
				page, err = r.Members(ctx, a2, after, limit)
				return err
			})
			if len(page) > limit {
				e.Errorf("store.go: Reader.Members must return at most limit members: got %d with limit %d", len(page), limit)
			}
			if len(page) == 0 {
				break
			}
			for _, m := range page {
				if m.Tenant != a2 {
					e.Errorf("store.go: Reader.Members must list members of the tenant only: got %+v", m)
				}
				got = append(got, m.User)
			}
			after = page[len(page)-1].User
		}
		if !slices.Equal(got, want) {
			e.Errorf("store.go: Reader.Members pages (limit %d, each after the previous page's last user ID) must list every member once, by user ID:\n got %v\nwant %v", limit, got, want)
		}
	}
	// A cursor that is no member's ID.
	var page []store.Member
	e.read("Members", func(ctx context.Context, r store.Reader) error {
		var err error
		page, err = r.Members(ctx, a2, "m-10x", 2)
		return err
	})
	if len(page) != 2 || page[0].User != "m-11" || page[1].User != "m-12" {
		e.Errorf("store.go: Reader.Members must return the members whose user ID is greater than after (%q): got %v", "m-10x", page)
	}
}

func membersCount(e *env) {
	e.world()
	e.manyMembers(a2)
	for _, c := range []struct {
		tenant rbac.Ref
		want   int
	}{{a2, len(memberIDs) + 1}, {a1, 2}, {o1, 2}, {rbac.Account("nope"), 0}} {
		var n int
		e.read("CountMembers", func(ctx context.Context, r store.Reader) error {
			var err error
			n, err = r.CountMembers(ctx, c.tenant)
			return err
		})
		if n != c.want {
			e.Errorf("store.go: Reader.CountMembers(%v) = %d, want %d", c.tenant, n, c.want)
		}
	}
}

func membersMemberships(e *env) {
	e.world()
	e.do("more memberships", func(ctx context.Context, w store.Writer) error {
		for _, t := range []rbac.Ref{a2, a3} {
			if err := w.InsertMember(ctx, store.Member{Tenant: t, User: uAnn, Created: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	var got []rbac.Ref
	for _, m := range list(e, "Memberships", func(ctx context.Context, r store.Reader) iter.Seq2[store.Member, error] {
		return r.Memberships(ctx, uAnn)
	}) {
		if m.User != uAnn {
			e.Errorf("store.go: Reader.Memberships must list the user's memberships only: got %+v", m)
		}
		got = append(got, m.Tenant)
	}
	if want := []rbac.Ref{o1, a1, a2, a3}; !slices.Equal(got, want) {
		e.Errorf("store.go: Reader.Memberships must list every tenant the user is a member of, by tenant kind and ID: got %v, want %v", got, want)
	}
}

func membersDeleteCascades(e *env) {
	e.world()
	cy := rbac.User(uCy)
	e.do("cy everywhere", func(ctx context.Context, w store.Writer) error {
		for _, t := range []rbac.Ref{o1, a2} {
			if err := w.InsertMember(ctx, store.Member{Tenant: t, User: uCy, Created: t0}); err != nil {
				return err
			}
		}
		for _, t := range []store.Team{{ID: "t1", Tenant: a1, Name: "A"}, {ID: "t2", Tenant: a2, Name: "B"}, {ID: "t3", Tenant: o1, Name: "C"}} {
			if err := w.InsertTeam(ctx, t); err != nil {
				return err
			}
			for _, u := range []string{uCy, uAnn} {
				if err := w.InsertTeamMember(ctx, t.ID, u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	e.put(grant(cy, a1, a1, rbac.Viewer), grant(cy, p1, a1, rbac.Admin), grant(cy, i1, a1, rbac.Admin),
		grant(cy, o1, o1, rbac.Viewer), grant(cy, p2, a2, rbac.Admin), grant(rbac.User(uAnn), p1, a1, rbac.Viewer))
	e.do("remove cy from a1", func(ctx context.Context, w store.Writer) error { return w.DeleteMember(ctx, a1, uCy) })
	const clause = "store.go: Writer.DeleteMember"
	if e.hasMember(a1, uCy) {
		e.Errorf("%s must delete the membership", clause)
	}
	for _, s := range []rbac.Ref{a1, p1, i1} {
		if e.hasGrant(cy, s) {
			e.Errorf("%s must delete the user's grants on the tenant's scopes: grant on %v still there", clause, s)
		}
	}
	if got := e.teamMembers("t1"); !slices.Equal(got, []string{uAnn}) {
		e.Errorf("%s must delete the user's places in the tenant's teams: t1 lists %v", clause, got)
	}
	if !e.hasGrant(cy, o1) || !e.hasGrant(cy, p2) || !e.hasMember(o1, uCy) || !e.hasMember(a2, uCy) || !e.hasUser(uCy) {
		e.Errorf("%s must not touch the user, its other memberships, or its grants in other tenants (the organization's included)", clause)
	}
	for _, team := range []string{"t2", "t3"} {
		if got := e.teamMembers(team); !slices.Equal(got, []string{uAnn, uCy}) {
			e.Errorf("%s must not touch the user's places in other tenants' teams: %s lists %v", clause, team, got)
		}
	}
	if !e.hasGrant(rbac.User(uAnn), p1) || !e.hasMember(a1, uAnn) {
		e.Errorf("%s must not touch other users", clause)
	}
	// Removing from the organization leaves the sub-account's grants (their tenant is the sub-account).
	e.put(grant(cy, d1, a1, rbac.Viewer))
	e.do("remove cy from o1", func(ctx context.Context, w store.Writer) error { return w.DeleteMember(ctx, o1, uCy) })
	if e.hasGrant(cy, o1) {
		e.Errorf("%s must delete the user's grants on the organization's scopes", clause)
	}
	if !e.hasGrant(cy, d1) {
		e.Errorf("%s of an organization must delete only grants whose tenant is the organization: the sub-account's grant on %v is gone", clause, d1)
	}
	if got := e.teamMembers("t3"); !slices.Equal(got, []string{uAnn}) {
		e.Errorf("%s must delete the user's places in the organization's teams: t3 lists %v", clause, got)
	}
}

// ---- Teams ----

// teamsClauses are the clauses of the Teams group.
var teamsClauses = []clause{
	{name: "InsertAndList", fn: teamsInsertAndList},
	{name: "NameUniqueIgnoringCase", fn: teamsNameUnique},
	{name: "UpdateRenames", fn: teamsUpdate},
	{name: "MembersInOrder", fn: teamsMembers},
	{name: "DeleteTeamCascades", fn: teamsDelete},
}

func (e *env) teams(tenant rbac.Ref) []store.Team {
	return list(e, "Teams", func(ctx context.Context, r store.Reader) iter.Seq2[store.Team, error] { return r.Teams(ctx, tenant) })
}

func teamsInsertAndList(e *env) {
	e.world()
	want := []store.Team{{ID: "t1", Tenant: a1, Name: "Ops", Created: t0}, {ID: "t2", Tenant: a1, Name: "Dev", Created: t0}, {ID: "t0", Tenant: a1, Name: "QA", Created: t0}}
	e.do("teams", func(ctx context.Context, w store.Writer) error {
		for _, t := range append(slices.Clone(want), store.Team{ID: "t9", Tenant: a2, Name: "Ops", Created: t0}) {
			if err := w.InsertTeam(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
	e.read("get", func(ctx context.Context, r store.Reader) error {
		for _, w := range want {
			if got, err := r.Team(ctx, w.ID); err != nil || !eqTeam(got, w) {
				e.Errorf("store.go: Reader.Team must return the team as inserted: got %+v, %v; want %+v", got, err, w)
			}
		}
		return nil
	})
	slices.SortFunc(want, func(a, b store.Team) int { return strings.Compare(a.ID, b.ID) })
	if got := e.teams(a1); !slices.EqualFunc(got, want, eqTeam) {
		e.Errorf("store.go: Reader.Teams must list the tenant's teams by ID: got %+v, want %+v", got, want)
	}
}

func teamsNameUnique(e *env) {
	e.world()
	e.do("team", func(ctx context.Context, w store.Writer) error {
		return w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "Ops Team", Created: t0})
	})
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertTeam(ctx, store.Team{ID: "t2", Tenant: a1, Name: "OPS team", Created: t0})
	})
	e.wantErr(err, store.ErrExists, "store.go: Writer.InsertTeam must refuse a name taken in the tenant, ignoring case")
	err = e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertTeam(ctx, store.Team{ID: "t3", Tenant: a2, Name: "Ops Team", Created: t0})
	})
	e.wantErr(err, nil, "store.go: team names are unique within a tenant only: Writer.InsertTeam in another tenant")
	if e.hasTeam("t2") {
		e.Errorf("store.go: a refused InsertTeam must write nothing")
	}
}

func teamsUpdate(e *env) {
	e.world()
	e.do("teams", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "Ops", Created: t0}); err != nil {
			return err
		}
		return w.InsertTeam(ctx, store.Team{ID: "t2", Tenant: a1, Name: "Dev", Created: t0})
	})
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.UpdateTeam(ctx, store.Team{ID: "t2", Tenant: a1, Name: "ops"})
	})
	e.wantErr(err, store.ErrExists, "store.go: Writer.UpdateTeam must keep team names unique in the tenant, ignoring case")
	e.do("rename", func(ctx context.Context, w store.Writer) error {
		return w.UpdateTeam(ctx, store.Team{ID: "t1", Tenant: a2, Name: "Platform", Created: t0.AddDate(1, 0, 0)})
	})
	e.read("get", func(ctx context.Context, r store.Reader) error {
		want := store.Team{ID: "t1", Tenant: a1, Name: "Platform", Created: t0}
		if got, err := r.Team(ctx, "t1"); err != nil || !eqTeam(got, want) {
			e.Errorf("store.go: Writer.UpdateTeam must replace the Name only: got %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	err = e.try(func(ctx context.Context, w store.Writer) error {
		return w.UpdateTeam(ctx, store.Team{ID: "t2", Tenant: a1, Name: "OPS"})
	})
	e.wantErr(err, nil, "store.go: Writer.UpdateTeam must free the old name of a renamed team")
	err = e.try(func(ctx context.Context, w store.Writer) error {
		return w.UpdateTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "PLATFORM"})
	})
	e.wantErr(err, nil, "store.go: Writer.UpdateTeam must let a team keep its own name in another case")
}

func teamsMembers(e *env) {
	e.world()
	e.do("teams", func(ctx context.Context, w store.Writer) error {
		for _, t := range []store.Team{{ID: "t2", Tenant: a1, Name: "B"}, {ID: "t1", Tenant: a1, Name: "A"}, {ID: "t3", Tenant: a2, Name: "C"}} {
			if err := w.InsertTeam(ctx, t); err != nil {
				return err
			}
		}
		for _, u := range []string{uDee, uAnn, uCy} {
			if err := w.InsertTeamMember(ctx, "t1", u); err != nil {
				return err
			}
		}
		if err := w.InsertTeamMember(ctx, "t2", uCy); err != nil {
			return err
		}
		return w.InsertTeamMember(ctx, "t3", uCy)
	})
	if got, want := e.teamMembers("t1"), []string{uAnn, uCy, uDee}; !slices.Equal(got, want) {
		e.Errorf("store.go: Reader.TeamMembers must list the team's members in order: got %v, want %v", got, want)
	}
	if got, want := e.userTeams(uCy, a1), []string{"t1", "t2"}; !slices.Equal(got, want) {
		e.Errorf("store.go: Reader.UserTeams must list the tenant's teams the user belongs to, by ID: got %v, want %v", got, want)
	}
	if got, want := e.userTeams(uCy, a2), []string{"t3"}; !slices.Equal(got, want) {
		e.Errorf("store.go: Reader.UserTeams must list the tenant's teams the user belongs to: got %v, want %v", got, want)
	}
	e.do("remove", func(ctx context.Context, w store.Writer) error { return w.DeleteTeamMember(ctx, "t1", uCy) })
	if got, want := e.teamMembers("t1"), []string{uAnn, uDee}; !slices.Equal(got, want) {
		e.Errorf("store.go: Writer.DeleteTeamMember must remove the user from the team only: got %v, want %v", got, want)
	}
	if got, want := e.userTeams(uCy, a1), []string{"t2"}; !slices.Equal(got, want) {
		e.Errorf("store.go: Writer.DeleteTeamMember must remove the team from UserTeams: got %v, want %v", got, want)
	}
}

func teamsDelete(e *env) {
	e.world()
	e.do("teams", func(ctx context.Context, w store.Writer) error {
		for _, t := range []store.Team{{ID: "t1", Tenant: a1, Name: "A"}, {ID: "t2", Tenant: a1, Name: "B"}} {
			if err := w.InsertTeam(ctx, t); err != nil {
				return err
			}
			if err := w.InsertTeamMember(ctx, t.ID, uCy); err != nil {
				return err
			}
		}
		return nil
	})
	e.put(grant(rbac.Team("t1"), p1, a1, rbac.Admin), grant(rbac.Team("t1"), a1, a1, rbac.Viewer), grant(rbac.Team("t2"), p1, a1, rbac.Viewer))
	e.do("delete t1", func(ctx context.Context, w store.Writer) error { return w.DeleteTeam(ctx, "t1") })
	const clause = "store.go: Writer.DeleteTeam"
	if e.hasTeam("t1") {
		e.Errorf("%s must delete the team", clause)
	}
	if got := e.teamMembers("t1"); len(got) != 0 {
		e.Errorf("%s must delete its memberships: TeamMembers lists %v", clause, got)
	}
	if got := e.userTeams(uCy, a1); !slices.Equal(got, []string{"t2"}) {
		e.Errorf("%s must delete its memberships: UserTeams lists %v", clause, got)
	}
	for _, s := range []rbac.Ref{p1, a1} {
		if e.hasGrant(rbac.Team("t1"), s) {
			e.Errorf("%s must delete its grants: grant on %v still there", clause, s)
		}
	}
	if !e.hasGrant(rbac.Team("t2"), p1) || !e.hasTeam("t2") || !e.hasUser(uCy) || !e.hasMember(a1, uCy) {
		e.Errorf("%s must not touch other teams, users or memberships", clause)
	}
	if got := e.teams(a1); len(got) != 1 || got[0].ID != "t2" {
		e.Errorf("%s: Reader.Teams must not list a deleted team: got %+v", clause, got)
	}
}

// ---- Invitations ----

// invitationsClauses are the clauses of the Invitations group.
var invitationsClauses = []clause{
	{name: "InsertAndList", fn: invitesInsertAndList},
	{name: "OnePerEmailPerTenantIgnoringCase", fn: invitesUnique},
	{name: "CopiesInAndOut", fn: invitesCopies},
	{name: "DeleteInvitationCascades", fn: invitesDelete},
	{name: "ExpiresAndUpdateInvitation", fn: invitesExpiresAndUpdate},
}

func newInvite(id string, tenant rbac.Ref, email string) store.Invitation {
	return store.Invitation{ID: id, Tenant: tenant, Email: email, InvitedBy: rbac.User(uAnn), Teams: []string{"t1", "t2"}, Hash: []byte("hash of " + id), Created: t0}
}

func invitesInsertAndList(e *env) {
	e.world()
	invs := []store.Invitation{newInvite("v2", a1, "zed@example.test"), newInvite("v1", a1, "Yan@Example.test"),
		newInvite("v3", a2, "yan@example.test"), newInvite("v0", o1, "YAN@example.test")}
	invs[2].InvitedBy = rbac.Token("k1")
	e.do("invite", func(ctx context.Context, w store.Writer) error {
		for _, inv := range invs {
			if err := w.InsertInvitation(ctx, inv); err != nil {
				return err
			}
		}
		return nil
	})
	e.read("get", func(ctx context.Context, r store.Reader) error {
		for _, w := range invs {
			if got, err := r.Invitation(ctx, w.ID); err != nil || !eqInvitation(got, w) {
				e.Errorf("store.go: Reader.Invitation must return the invitation as inserted: got %+v, %v; want %+v", got, err, w)
			}
		}
		return nil
	})
	ids := func(l []store.Invitation) []string {
		var out []string
		for _, inv := range l {
			out = append(out, inv.ID)
		}
		return out
	}
	if got := ids(list(e, "Invitations", func(ctx context.Context, r store.Reader) iter.Seq2[store.Invitation, error] {
		return r.Invitations(ctx, a1)
	})); !slices.Equal(got, []string{"v1", "v2"}) {
		e.Errorf("store.go: Reader.Invitations must list the invitations made in the tenant, by ID: got %v, want [v1 v2]", got)
	}
	if got := ids(list(e, "InvitationsByEmail", func(ctx context.Context, r store.Reader) iter.Seq2[store.Invitation, error] {
		return r.InvitationsByEmail(ctx, "yAN@EXAMPLE.TEST")
	})); !slices.Equal(got, []string{"v0", "v1", "v3"}) {
		e.Errorf("store.go: Reader.InvitationsByEmail must list the email's invitations ignoring case, by ID: got %v, want [v0 v1 v3]", got)
	}
}

func invitesUnique(e *env) {
	e.world()
	e.do("invite", func(ctx context.Context, w store.Writer) error {
		return w.InsertInvitation(ctx, newInvite("v1", a1, "yan@example.test"))
	})
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertInvitation(ctx, newInvite("v2", a1, "YAN@Example.Test"))
	})
	e.wantErr(err, store.ErrExists, "store.go: Writer.InsertInvitation must refuse a second invitation of an email in a tenant, ignoring case")
	err = e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertInvitation(ctx, newInvite("v3", a2, "yan@example.test"))
	})
	e.wantErr(err, nil, "store.go: Writer.InsertInvitation must accept the same email in another tenant")
	e.do("revoke", func(ctx context.Context, w store.Writer) error { return w.DeleteInvitation(ctx, "v1") })
	err = e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertInvitation(ctx, newInvite("v4", a1, "Yan@example.test"))
	})
	e.wantErr(err, nil, "store.go: Writer.DeleteInvitation must free the email in its tenant")
}

func invitesCopies(e *env) {
	e.world()
	inv := newInvite("v1", a1, "yan@example.test")
	e.do("invite", func(ctx context.Context, w store.Writer) error { return w.InsertInvitation(ctx, inv) })
	inv.Teams[0] = "changed by the caller"
	e.read("copies", func(ctx context.Context, r store.Reader) error {
		got, err := r.Invitation(ctx, "v1")
		if err != nil {
			return err
		}
		if got.Teams[0] != "t1" {
			e.Errorf("store.go: stores copy records in: changing the caller's Invitation.Teams after InsertInvitation changed the stored one (%q)", got.Teams[0])
		}
		got.Teams[1] = "changed by the reader"
		again, err := r.Invitation(ctx, "v1")
		if err != nil {
			return err
		}
		if again.Teams[1] != "t2" {
			e.Errorf("store.go: stores copy records out: changing a returned Invitation.Teams changed the stored one (%q)", again.Teams[1])
		}
		return nil
	})
}

func invitesDelete(e *env) {
	e.world()
	e.do("invite", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertInvitation(ctx, newInvite("v1", o1, "yan@example.test")); err != nil {
			return err
		}
		return w.InsertInvitation(ctx, newInvite("v2", o1, "zed@example.test"))
	})
	v1, v2 := rbac.Invite("v1"), rbac.Invite("v2")
	e.put(grant(v1, o1, o1, rbac.Viewer), grant(v1, a1, a1, rbac.Admin), grant(v1, p3, a3, rbac.Viewer), grant(v2, a1, a1, rbac.Viewer))
	e.do("revoke", func(ctx context.Context, w store.Writer) error { return w.DeleteInvitation(ctx, "v1") })
	if e.hasInvitation("v1") {
		e.Errorf("store.go: Writer.DeleteInvitation must delete the invitation")
	}
	for _, s := range []rbac.Ref{o1, a1, p3} {
		if e.hasGrant(v1, s) {
			e.Errorf("store.go: Writer.DeleteInvitation must delete all its grants, in every tenant: grant on %v still there", s)
		}
	}
	if !e.hasInvitation("v2") || !e.hasGrant(v2, a1) {
		e.Errorf("store.go: Writer.DeleteInvitation must not touch other invitations")
	}
}

// ---- Tokens ----

// tokensClauses are the clauses of the Tokens group.
var tokensClauses = []clause{
	{name: "InsertAndList", fn: tokensInsertAndList},
	{name: "UpdateReplacesFields", fn: tokensUpdate},
	{name: "CopiesInAndOut", fn: tokensCopies},
	{name: "DeleteTokenCascades", fn: tokensDelete},
	{name: "ExpiringByTimeThenID", fn: tokensExpiring},
	{name: "IPAllowlistRoundTrip", fn: tokensIPAllowlist},
}

func newToken(id string, tenant rbac.Ref) store.Token {
	return store.Token{ID: id, Tenant: tenant, Name: "token " + id, Hash: []byte("hash of " + id), Last4: "abcd", CreatedBy: uAnn, Created: t0}
}

func tokensInsertAndList(e *env) {
	e.world()
	toks := []store.Token{newToken("k2", a1), newToken("k1", a1), newToken("k3", a2)}
	toks[0].Expires = t0.AddDate(1, 0, 0)
	toks[1].LastUsed = t0.Add(time.Hour)
	e.do("tokens", func(ctx context.Context, w store.Writer) error {
		for _, t := range toks {
			if err := w.InsertToken(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
	e.read("get", func(ctx context.Context, r store.Reader) error {
		for _, w := range toks {
			if got, err := r.Token(ctx, w.ID); err != nil || !eqToken(got, w) {
				e.Errorf("store.go: Reader.Token must return the token as inserted: got %+v, %v; want %+v", got, err, w)
			}
		}
		return nil
	})
	got := list(e, "Tokens", func(ctx context.Context, r store.Reader) iter.Seq2[store.Token, error] { return r.Tokens(ctx, a1) })
	if want := []store.Token{toks[1], toks[0]}; !slices.EqualFunc(got, want, eqToken) {
		e.Errorf("store.go: Reader.Tokens must list the tenant's tokens by ID: got %+v, want %+v", got, want)
	}
}

func tokensUpdate(e *env) {
	e.world()
	e.do("token", func(ctx context.Context, w store.Writer) error { return w.InsertToken(ctx, newToken("k1", a1)) })
	u := store.Token{ID: "k1", Tenant: a2, Name: "renamed", Hash: []byte("new hash"), Last4: "wxyz", CreatedBy: uBob,
		Created: t0.AddDate(1, 0, 0), Expires: t0.AddDate(2, 0, 0), ResetTo: "k2", LastUsed: t0.Add(time.Minute)}
	e.do("update", func(ctx context.Context, w store.Writer) error { return w.UpdateToken(ctx, u) })
	want := newToken("k1", a1)
	want.Name, want.Hash, want.Last4, want.CreatedBy, want.Expires, want.ResetTo, want.LastUsed = u.Name, u.Hash, u.Last4, u.CreatedBy, u.Expires, u.ResetTo, u.LastUsed
	e.read("get", func(ctx context.Context, r store.Reader) error {
		if got, err := r.Token(ctx, "k1"); err != nil || !eqToken(got, want) {
			e.Errorf("store.go: Writer.UpdateToken must replace Name, Hash, Last4, CreatedBy, Expires, ResetTo and LastUsed only: got %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	// A zero LastUsed and Expires clear them.
	want.LastUsed, want.Expires = time.Time{}, time.Time{}
	e.do("clear", func(ctx context.Context, w store.Writer) error { return w.UpdateToken(ctx, want) })
	e.read("get again", func(ctx context.Context, r store.Reader) error {
		if got, err := r.Token(ctx, "k1"); err != nil || !eqToken(got, want) {
			e.Errorf("store.go: Writer.UpdateToken with a zero LastUsed and Expires must clear them: got %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
}

func tokensCopies(e *env) {
	e.world()
	tok := newToken("k1", a1)
	e.do("token", func(ctx context.Context, w store.Writer) error { return w.InsertToken(ctx, tok) })
	tok.Hash[0] = 'X'
	e.read("copies", func(ctx context.Context, r store.Reader) error {
		got, err := r.Token(ctx, "k1")
		if err != nil {
			return err
		}
		if got.Hash[0] != 'h' {
			e.Errorf("store.go: stores copy records in: changing the caller's Token.Hash after InsertToken changed the stored token")
		}
		got.Hash[1] = 'Y'
		again, err := r.Token(ctx, "k1")
		if err != nil {
			return err
		}
		if again.Hash[1] != 'a' {
			e.Errorf("store.go: stores copy records out: changing a returned Token.Hash changed the stored token")
		}
		return nil
	})
}

func tokensDelete(e *env) {
	e.world()
	e.do("tokens", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertToken(ctx, newToken("k1", a1)); err != nil {
			return err
		}
		return w.InsertToken(ctx, newToken("k2", a1))
	})
	k1, k2 := rbac.Token("k1"), rbac.Token("k2")
	e.put(grant(k1, a1, a1, rbac.Admin), grant(k1, i1, a1, rbac.Viewer), grant(k2, a1, a1, rbac.Viewer))
	e.do("delete", func(ctx context.Context, w store.Writer) error { return w.DeleteToken(ctx, "k1") })
	if e.hasToken("k1") {
		e.Errorf("store.go: Writer.DeleteToken must delete the token")
	}
	for _, s := range []rbac.Ref{a1, i1} {
		if e.hasGrant(k1, s) {
			e.Errorf("store.go: Writer.DeleteToken must delete its grants: grant on %v still there", s)
		}
	}
	if !e.hasToken("k2") || !e.hasGrant(k2, a1) {
		e.Errorf("store.go: Writer.DeleteToken must not touch other tokens")
	}
}

// ---- Audit ----

// auditClauses are the clauses of the Audit group.
var auditClauses = []clause{
	{name: "AppendAssignsSeq", fn: auditAppend},
	{name: "TypedFieldsKept", fn: auditTypedFields},
	{name: "OrderedCursor", fn: auditCursor},
	{name: "RolledBackEventsInvisible", fn: auditRolledBack},
}

// newEvent returns the i-th test event of tenant: with an Auth, a client address
// (IPv4, IPv6 or none) and Changes of every kind, or none, depending on i.
func newEvent(tenant rbac.Ref, i int) store.Event {
	e := store.Event{Seq: 999, Time: t0.Add(time.Duration(i) * time.Second), Tenant: tenant, Actor: rbac.User(uAnn), Action: "test.action",
		Target: fmt.Sprintf("target-%d", i), Before: "viewer", After: "admin"}
	switch i % 3 {
	case 0:
		e.Auth, e.ClientIP = rbac.AuthSSO, netip.MustParseAddr("192.0.2.7")
		e.Changes = eventChanges
	case 1:
		e.Auth, e.ClientIP = rbac.AuthToken, netip.MustParseAddr("2001:db8::1")
		e.Changes = eventChanges[:1]
	}
	return e
}

// eventChanges are changes of every kind, with every field set somewhere.
var eventChanges = []store.Change{
	{Kind: store.ChangeGrant, Holder: rbac.User(uBob), Scope: p1, Before: rbac.Viewer, After: rbac.Admin, ViewContent: true},
	{Kind: store.ChangeGrant, Holder: rbac.Team("t1"), Scope: i1, Before: rbac.Admin},
	{Kind: store.ChangeScope, Holder: rbac.User(uAnn), Scope: a2, Parent: o1},
	{Kind: store.ChangeScope, Scope: p1, Removed: true},
	{Kind: store.ChangeOwner, Holder: rbac.User(uBob), Scope: a1},
	{Kind: store.ChangeMember, Holder: rbac.User(uBob), Scope: o1, Removed: true},
	{Kind: store.ChangeTeam, Team: "t1", Scope: a1},
	{Kind: store.ChangeTeamMember, Holder: rbac.User(uBob), Team: "t1"},
	{Kind: store.ChangeToken, Holder: rbac.Token("k1"), Scope: a1, Creator: uAnn, Expires: t0.Add(time.Hour).In(time.FixedZone("UTC+3", 3*60*60))},
	{Kind: store.ChangeUser, Holder: rbac.User(uBob), Removed: true},
}

// auditTypedFields: an event's Auth, ClientIP and Changes are kept as appended, read
// back by Events and by the feed, and neither the appender's slice nor a reader's
// is the store's.
func auditTypedFields(e *env) {
	e.world()
	ev := newEvent(a1, 0)
	ev.Changes = slices.Clone(eventChanges)
	var got store.Event
	e.do("append", func(ctx context.Context, w store.Writer) error {
		var err error
		got, err = w.AppendEvent(ctx, ev)
		return err
	})
	ev.Changes[0].Holder = rbac.User("mallory") // the appender's slice, after the append
	want := newEvent(a1, 0)
	want.Seq = got.Seq
	stored := e.events(a1)
	if len(stored) != 1 || !eqEvent(stored[0], want) {
		e.Fatalf("store.go: Reader.Events must return an event's Auth, ClientIP and Changes as appended, whatever the appender does with its slice after: got %+v, want %+v", stored, want)
	}
	stored[0].Changes[0].Holder = rbac.User("mallory") // a reader's slice
	if again := e.events(a1); len(again) != 1 || !eqEvent(again[0], want) {
		e.Errorf("store.go: Reader.Events must return Changes of the caller's own: after a reader changed its copy, got %+v, want %+v", again, want)
	}
	if f, ok := store.FeedOf(e.s); ok {
		if all := e.changes(f, 0, 10); len(all) != 1 || !eqEvent(all[0], want) {
			e.Errorf("store.go: Feed.Changes must return an event's Auth, ClientIP and Changes as appended: got %+v, want %+v", all, want)
		}
	}
}

func auditAppend(e *env) {
	e.world()
	// Each closure sets what it saw, so that a store that runs it again (after a
	// conflict) leaves the result of the run that committed.
	var first []store.Event
	var again store.Event
	e.do("append", func(ctx context.Context, w store.Writer) error {
		first = nil
		for i, t := range []rbac.Ref{a1, a2, a1, {}, o1} {
			ev, err := w.AppendEvent(ctx, newEvent(t, i))
			if err != nil {
				return err
			}
			first = append(first, ev)
		}
		return nil
	})
	e.do("append again", func(ctx context.Context, w store.Writer) error {
		var err error
		again, err = w.AppendEvent(ctx, newEvent(a2, 9))
		return err
	})
	got := append(first, again)
	for i, ev := range got {
		want := newEvent(ev.Tenant, []int{0, 1, 2, 3, 4, 9}[i])
		want.Seq = ev.Seq
		if !eqEvent(ev, want) {
			e.Errorf("store.go: Writer.AppendEvent must return the event as stored, with every field but Seq as given: got %+v, want %+v", ev, want)
		}
		if i > 0 && ev.Seq <= got[i-1].Seq {
			e.Errorf("store.go: Writer.AppendEvent must assign Seq increasing across the whole store: %d after %d", ev.Seq, got[i-1].Seq)
		}
	}
	stored := e.events(a1)
	if len(stored) != 2 || !eqEvent(stored[0], got[0]) || !eqEvent(stored[1], got[2]) {
		e.Errorf("store.go: Reader.Events must return the tenant's events as appended: got %+v, want %+v", stored, []store.Event{got[0], got[2]})
	}
}

func auditCursor(e *env) {
	e.world()
	var want []store.Event
	for round := range 3 {
		var inA1 []store.Event
		e.do("append", func(ctx context.Context, w store.Writer) error {
			inA1 = nil // this run's events only, should the store run the closure again
			for i := range 5 {
				for _, t := range []rbac.Ref{a1, a2} {
					ev, err := w.AppendEvent(ctx, newEvent(t, round*10+i))
					if err != nil {
						return err
					}
					if t == a1 {
						inA1 = append(inA1, ev)
					}
				}
			}
			return nil
		})
		want = append(want, inA1...)
	}
	for _, limit := range []int{1, 4, 15, 100} {
		var got []store.Event
		var after uint64
		for pages := 0; ; pages++ {
			if pages > len(want)+1 {
				e.Fatalf("store.go: Reader.Events pages never end (limit %d)", limit)
			}
			var page []store.Event
			e.read("Events", func(ctx context.Context, r store.Reader) error {
				var err error
				page, err = r.Events(ctx, a1, after, limit)
				return err
			})
			if len(page) > limit {
				e.Errorf("store.go: Reader.Events must return at most limit events: got %d with limit %d", len(page), limit)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if !slices.EqualFunc(got, want, eqEvent) {
			e.Errorf("store.go: Reader.Events pages (limit %d, each after the previous page's last Seq) must list the tenant's events in Seq order, each once:\n got %+v\nwant %+v", limit, got, want)
		}
	}
	mid := want[6].Seq
	var page []store.Event
	e.read("Events", func(ctx context.Context, r store.Reader) error {
		var err error
		page, err = r.Events(ctx, a1, mid, 2)
		return err
	})
	if !slices.EqualFunc(page, want[7:9], eqEvent) {
		e.Errorf("store.go: Reader.Events must return the events with Seq greater than after: got %+v, want %+v", page, want[7:9])
	}
}

func auditRolledBack(e *env) {
	e.world()
	var first store.Event
	e.do("append", func(ctx context.Context, w store.Writer) error {
		var err error
		first, err = w.AppendEvent(ctx, newEvent(a1, 1))
		return err
	})
	err := e.try(func(ctx context.Context, w store.Writer) error {
		if _, err := w.AppendEvent(ctx, newEvent(a1, 2)); err != nil {
			return err
		}
		return errBoom
	})
	e.wantErr(err, errBoom, "store.go: Store.Update must return the closure's error")
	var last store.Event
	e.do("append", func(ctx context.Context, w store.Writer) error {
		var err error
		last, err = w.AppendEvent(ctx, newEvent(a1, 3))
		return err
	})
	got := e.events(a1)
	if want := []store.Event{first, last}; !slices.EqualFunc(got, want, eqEvent) {
		e.Errorf("store.go: the events of a rolled-back Update must never be visible: Events got %+v, want %+v", got, want)
	}
	if last.Seq <= first.Seq {
		e.Errorf("store.go: Seq must increase in commit order: %d after %d", last.Seq, first.Seq)
	}
}
