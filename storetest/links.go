package storetest

import (
	"context"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// This file holds the clauses about time in records (Member.LastActive,
// Invitation.Expires, Token.LastUsed, Reader.TokensExpiring) and the InviteLinks
// group.

// ---- Members: LastActive ----

func membersTouch(e *env) {
	e.world()
	at, later := t0.Add(90*time.Minute), t0.Add(3*time.Hour)
	e.do("touch", func(ctx context.Context, w store.Writer) error { return w.TouchMember(ctx, a1, uCy, at) })
	member := func(tenant rbac.Ref, user string) store.Member {
		var m store.Member
		e.read("Member", func(ctx context.Context, r store.Reader) error {
			var err error
			m, err = r.Member(ctx, tenant, user)
			return err
		})
		return m
	}
	if got, want := member(a1, uCy), (store.Member{Tenant: a1, User: uCy, Created: t0, LastActive: at}); !eqMember(got, want) {
		e.Errorf("store.go: Writer.TouchMember must set the membership's LastActive, and nothing else: got %+v, want %+v", got, want)
	}
	for _, m := range []struct {
		tenant rbac.Ref
		user   string
	}{{a1, uAnn}, {o1, uAnn}, {o1, uDee}} {
		if got := member(m.tenant, m.user); !got.LastActive.IsZero() {
			e.Errorf("store.go: Writer.TouchMember must touch only the user's membership of the tenant: %s in %v has LastActive %v", m.user, m.tenant, got.LastActive)
		}
	}
	ms := list(e, "Memberships", func(ctx context.Context, r store.Reader) iter.Seq2[store.Member, error] {
		return r.Memberships(ctx, uCy)
	})
	if len(ms) != 1 || !ms[0].LastActive.Equal(at) {
		e.Errorf("store.go: Reader.Memberships must return LastActive as TouchMember set it: got %+v", ms)
	}
	var page []store.Member
	e.read("Members", func(ctx context.Context, r store.Reader) error {
		var err error
		page, err = r.Members(ctx, a1, "", 10)
		return err
	})
	if i := slices.IndexFunc(page, func(m store.Member) bool { return m.User == uCy }); i < 0 || !page[i].LastActive.Equal(at) {
		e.Errorf("store.go: Reader.Members must return LastActive as TouchMember set it: got %+v", page)
	}
	e.do("touch again", func(ctx context.Context, w store.Writer) error { return w.TouchMember(ctx, a1, uCy, later) })
	if got := member(a1, uCy); !got.LastActive.Equal(later) {
		e.Errorf("store.go: Writer.TouchMember must replace LastActive: got %v, want %v", got.LastActive, later)
	}

	for _, c := range []struct {
		what   string
		tenant rbac.Ref
		user   string
	}{
		{"a user who is not a member of the tenant", a1, uBob},
		{"a missing tenant", rbac.Account("nope"), uAnn},
		{"a missing user", a1, "nope"},
	} {
		err := e.try(func(ctx context.Context, w store.Writer) error { return w.TouchMember(ctx, c.tenant, c.user, at) })
		e.wantErr(err, store.ErrNotFound, "store.go: Writer.TouchMember of %s", c.what)
	}
	if e.hasMember(a1, uBob) {
		e.Errorf("store.go: Writer.TouchMember must not make a membership: %s is now a member of %v", uBob, a1)
	}

	want := store.Member{Tenant: a2, User: uDee, Created: t0, LastActive: t0.Add(time.Hour)}
	e.do("insert with LastActive", func(ctx context.Context, w store.Writer) error { return w.InsertMember(ctx, want) })
	if got := member(a2, uDee); !eqMember(got, want) {
		e.Errorf("store.go: Writer.InsertMember must keep the member's LastActive: got %+v, want %+v", got, want)
	}
}

// ---- Invitations: Expires ----

func invitesExpiresAndUpdate(e *env) {
	e.world()
	v1, v2 := newInvite("v1", a1, "yan@example.test"), newInvite("v2", a1, "zed@example.test")
	v1.Expires = t0.Add(72 * time.Hour)
	e.do("invite", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertInvitation(ctx, v1); err != nil {
			return err
		}
		return w.InsertInvitation(ctx, v2)
	})
	get := func(id string) store.Invitation {
		var inv store.Invitation
		e.read("Invitation", func(ctx context.Context, r store.Reader) error {
			var err error
			inv, err = r.Invitation(ctx, id)
			return err
		})
		return inv
	}
	if got := get("v1"); !eqInvitation(got, v1) {
		e.Errorf("store.go: Reader.Invitation must return the invitation's Expires as inserted: got %+v, want %+v", got, v1)
	}
	if got := get("v2"); !got.Expires.IsZero() {
		e.Errorf("store.go: an invitation inserted without Expires must read back with a zero Expires (never): got %v", got.Expires)
	}

	// Everything but Hash and Expires stays.
	u := store.Invitation{ID: "v1", Tenant: a2, Email: "other@example.test", InvitedBy: rbac.Token("k1"), Teams: []string{"t9"},
		Hash: []byte("new hash"), Created: t0.AddDate(1, 0, 0), Expires: t0.Add(96 * time.Hour)}
	e.do("update v1", func(ctx context.Context, w store.Writer) error { return w.UpdateInvitation(ctx, u) })
	want := v1
	want.Hash, want.Expires = u.Hash, u.Expires
	if got := get("v1"); !eqInvitation(got, want) {
		e.Errorf("store.go: Writer.UpdateInvitation must replace Hash and Expires only: got %+v, want %+v", got, want)
	}
	got := list(e, "Invitations", func(ctx context.Context, r store.Reader) iter.Seq2[store.Invitation, error] {
		return r.Invitations(ctx, a1)
	})
	if len(got) != 2 || !eqInvitation(got[0], want) {
		e.Errorf("store.go: Reader.Invitations must list the invitation as updated: got %+v", got)
	}
	byEmail := list(e, "InvitationsByEmail", func(ctx context.Context, r store.Reader) iter.Seq2[store.Invitation, error] {
		return r.InvitationsByEmail(ctx, "yan@example.test")
	})
	if len(byEmail) != 1 || !eqInvitation(byEmail[0], want) {
		e.Errorf("store.go: Writer.UpdateInvitation must not change the invitation's email: InvitationsByEmail got %+v", byEmail)
	}

	// Expires set, then cleared.
	e.do("update v2", func(ctx context.Context, w store.Writer) error {
		return w.UpdateInvitation(ctx, store.Invitation{ID: "v2", Hash: v2.Hash, Expires: t0.Add(time.Hour)})
	})
	if got := get("v2"); !got.Expires.Equal(t0.Add(time.Hour)) {
		e.Errorf("store.go: Writer.UpdateInvitation must set Expires: got %v", got.Expires)
	}
	e.do("clear v1's expiry", func(ctx context.Context, w store.Writer) error {
		return w.UpdateInvitation(ctx, store.Invitation{ID: "v1", Hash: u.Hash})
	})
	if got := get("v1"); !got.Expires.IsZero() {
		e.Errorf("store.go: Writer.UpdateInvitation with a zero Expires must make the invitation never expire: got %v", got.Expires)
	}
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.UpdateInvitation(ctx, store.Invitation{ID: "nope", Hash: []byte("x")})
	})
	e.wantErr(err, store.ErrNotFound, "store.go: Writer.UpdateInvitation of a missing invitation")
	if e.hasInvitation("nope") {
		e.Errorf("store.go: Writer.UpdateInvitation of a missing invitation must not make one")
	}
}

// ---- Tokens: LastUsed and TokensExpiring ----

func (e *env) tokensExpiring(from, to time.Time) []store.Token {
	return list(e, "TokensExpiring", func(ctx context.Context, r store.Reader) iter.Seq2[store.Token, error] {
		return r.TokensExpiring(ctx, from, to)
	})
}

func tokenIDs(ts []store.Token) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func tokensExpiring(e *env) {
	e.world()
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	toks := map[string]store.Token{}
	for _, tk := range []struct {
		id      string
		tenant  rbac.Ref
		expires time.Time
	}{
		{"kA", a1, h(2)},
		{"kB", a2, h(1)},
		{"kC", a1, h(1).In(plus2)}, // the same instant as kB's, in another zone
		{"kD", o1, h(3)},
		{"kE", a1, time.Time{}}, // never expires
		{"kF", a3, h(-1)},
		{"kG", a2, time.Time{}},
	} {
		t := newToken(tk.id, tk.tenant)
		t.Expires = tk.expires
		toks[tk.id] = t
	}
	e.do("tokens", func(ctx context.Context, w store.Writer) error {
		for _, id := range slices.Sorted(maps.Keys(toks)) {
			if err := w.InsertToken(ctx, toks[id]); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(what string, from, to time.Time, want ...string) {
		got := e.tokensExpiring(from, to)
		if !slices.Equal(tokenIDs(got), want) {
			e.Errorf("store.go: Reader.TokensExpiring(%v, %v) must list the tokens of every tenant whose Expires is at or after from and before to, by Expires and then ID, never those that never expire (%s): got %v, want %v",
				from, to, what, tokenIDs(got), want)
			return
		}
		for _, t := range got {
			w := toks[t.ID]
			if !eqToken(t, w) {
				e.Errorf("store.go: Reader.TokensExpiring must return the tokens as stored: got %+v, want %+v", t, w)
			}
		}
	}
	check("a window", h(1), h(3), "kB", "kC", "kA")
	check("every time", time.Time{}, t0.AddDate(100, 0, 0), "kF", "kB", "kC", "kA", "kD")
	check("from is included, to is not", h(3), h(4), "kD")
	check("an empty window", h(2), h(2))
	check("a window before every expiry", h(-5), h(-1))
	check("bounds in another zone", h(1).In(plus2), h(2).In(plus2), "kB", "kC")

	// UpdateToken moves a token in and out of the listing; DeleteAccount takes its
	// tokens out.
	e.do("update", func(ctx context.Context, w store.Writer) error {
		a, ek := toks["kA"], toks["kE"]
		a.Expires, ek.Expires = time.Time{}, h(1)
		toks["kA"], toks["kE"] = a, ek
		if err := w.UpdateToken(ctx, a); err != nil {
			return err
		}
		return w.UpdateToken(ctx, ek)
	})
	check("after UpdateToken", h(1), h(3), "kB", "kC", "kE")
	e.do("delete a2", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, a2) })
	check("after DeleteAccount", time.Time{}, t0.AddDate(100, 0, 0), "kF", "kC", "kE", "kD")
}

// ---- InviteLinks ----

// inviteLinksClauses are the clauses of the InviteLinks group.
var inviteLinksClauses = []clause{
	{name: "InsertAndList", fn: linksInsertAndList},
	{name: "EmptyScopesReadBackNil", fn: linksEmptyScopes},
	{name: "InsertRefusesMissingTenantAndTakenID", fn: linksInsertErrors},
	{name: "UpdateReplacesHashDisabledJoined", fn: linksUpdate},
	{name: "CopiesInAndOut", fn: linksCopies},
	{name: "DeleteInviteLink", fn: linksDelete},
	{name: "DeleteUserDeletesCreatedLinks", fn: linksDeleteUser},
}

func newLink(id string, tenant rbac.Ref, by string, scopes ...rbac.Ref) store.InviteLink {
	return store.InviteLink{ID: id, Tenant: tenant, Level: rbac.Viewer, Scopes: scopes, CreatedBy: by,
		Hash: []byte("hash of " + id), Created: t0}
}

func (e *env) insertLinks(ls ...store.InviteLink) {
	e.do("insert invite links", func(ctx context.Context, w store.Writer) error {
		for _, l := range ls {
			if err := w.InsertInviteLink(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *env) link(id string) store.InviteLink {
	var l store.InviteLink
	e.read("InviteLink "+id, func(ctx context.Context, r store.Reader) error {
		var err error
		l, err = r.InviteLink(ctx, id)
		return err
	})
	return l
}

func (e *env) links(tenant rbac.Ref) []store.InviteLink {
	return list(e, "InviteLinks", func(ctx context.Context, r store.Reader) iter.Seq2[store.InviteLink, error] {
		return r.InviteLinks(ctx, tenant)
	})
}

func linkIDs(ls []store.InviteLink) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func linksInsertAndList(e *env) {
	e.world()
	ls := []store.InviteLink{
		newLink("l2", a1, uAnn, i1, p1, d1), // scopes out of order: they stay as given
		newLink("l1", a1, uCy, a1),
		newLink("l3", a2, uBob, p2),
		newLink("l0", o1, uAnn, o1, a3),
	}
	ls[0].Level, ls[0].Disabled, ls[0].Joined = rbac.Admin, true, 7
	ls[2].Created = t0.Add(time.Hour)
	e.insertLinks(ls...)
	for _, want := range ls {
		if got := e.link(want.ID); !eqInviteLink(got, want) {
			e.Errorf("store.go: Reader.InviteLink must return the link as inserted, Scopes in their order: got %+v, want %+v", got, want)
		}
	}
	if got := e.links(a1); !slices.EqualFunc(got, []store.InviteLink{ls[1], ls[0]}, eqInviteLink) {
		e.Errorf("store.go: Reader.InviteLinks must list the tenant's links by ID: got %+v, want [l1 l2]", got)
	}
	for tenant, want := range map[rbac.Ref][]string{o1: {"l0"}, a2: {"l3"}, a3: nil} {
		if got := linkIDs(e.links(tenant)); !slices.Equal(got, want) {
			e.Errorf("store.go: Reader.InviteLinks(%v) must list the tenant's links only (an organization's not its sub-accounts'): got %v, want %v", tenant, got, want)
		}
	}
}

func linksEmptyScopes(e *env) {
	e.world()
	empty, none := newLink("l1", a1, uAnn), newLink("l2", a1, uAnn)
	empty.Scopes = []rbac.Ref{}
	e.insertLinks(empty, none)
	for _, id := range []string{"l1", "l2"} {
		if got := e.link(id); got.Scopes != nil {
			e.Errorf("store.go: an InviteLink inserted with no Scopes must read back with nil Scopes: %s got %#v", id, got.Scopes)
		}
	}
	for _, l := range e.links(a1) {
		if l.Scopes != nil {
			e.Errorf("store.go: Reader.InviteLinks must return nil Scopes for a link inserted with none: %s got %#v", l.ID, l.Scopes)
		}
	}
}

func linksInsertErrors(e *env) {
	e.world()
	l1 := newLink("l1", a1, uAnn, p1)
	e.insertLinks(l1)
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertInviteLink(ctx, newLink("l9", rbac.Account("nope"), uAnn))
	})
	e.wantErr(err, store.ErrNotFound, "store.go: Writer.InsertInviteLink into a missing tenant")
	err = e.try(func(ctx context.Context, w store.Writer) error {
		return w.InsertInviteLink(ctx, newLink("l9", p1, uAnn))
	})
	e.wantErr(err, store.ErrNotFound, "store.go: Writer.InsertInviteLink into a resource, which is not a tenant")
	if e.hasInviteLink("l9") {
		e.Errorf("store.go: a refused InsertInviteLink must write nothing: l9 is there")
	}
	dup := newLink("l1", a2, uBob, p2)
	err = e.try(func(ctx context.Context, w store.Writer) error { return w.InsertInviteLink(ctx, dup) })
	e.wantErr(err, store.ErrExists, "store.go: Writer.InsertInviteLink with a taken ID, in another tenant")
	if got := e.link("l1"); !eqInviteLink(got, l1) {
		e.Errorf("store.go: a refused InsertInviteLink must leave the link with that ID as it was: got %+v, want %+v", got, l1)
	}
	if got := e.links(a2); len(got) != 0 {
		e.Errorf("store.go: a refused InsertInviteLink must write nothing: InviteLinks(a2) lists %+v", got)
	}
}

func linksUpdate(e *env) {
	e.world()
	l1, l2 := newLink("l1", a1, uAnn, p1, i1), newLink("l2", a1, uAnn, a1)
	e.insertLinks(l1, l2)
	u := store.InviteLink{ID: "l1", Tenant: a2, Level: rbac.Admin, Scopes: []rbac.Ref{p2}, CreatedBy: uBob,
		Hash: []byte("new hash"), Created: t0.AddDate(1, 0, 0), Disabled: true, Joined: 3}
	e.do("update", func(ctx context.Context, w store.Writer) error { return w.UpdateInviteLink(ctx, u) })
	want := l1
	want.Hash, want.Disabled, want.Joined = u.Hash, u.Disabled, u.Joined
	if got := e.link("l1"); !eqInviteLink(got, want) {
		e.Errorf("store.go: Writer.UpdateInviteLink must replace Hash, Disabled and Joined only: got %+v, want %+v", got, want)
	}
	if got := e.links(a1); !slices.EqualFunc(got, []store.InviteLink{want, l2}, eqInviteLink) {
		e.Errorf("store.go: Reader.InviteLinks must list the link as updated, in its tenant, and leave the others: got %+v", got)
	}
	if got := e.links(a2); len(got) != 0 {
		e.Errorf("store.go: Writer.UpdateInviteLink must not move the link to another tenant: InviteLinks(a2) lists %+v", got)
	}
	want.Disabled, want.Joined = false, 4
	e.do("enable again", func(ctx context.Context, w store.Writer) error { return w.UpdateInviteLink(ctx, want) })
	if got := e.link("l1"); !eqInviteLink(got, want) {
		e.Errorf("store.go: Writer.UpdateInviteLink must replace Disabled and Joined each time: got %+v, want %+v", got, want)
	}
	err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.UpdateInviteLink(ctx, newLink("nope", a1, uAnn))
	})
	e.wantErr(err, store.ErrNotFound, "store.go: Writer.UpdateInviteLink of a missing link")
	if e.hasInviteLink("nope") {
		e.Errorf("store.go: Writer.UpdateInviteLink of a missing link must not make one")
	}
}

func linksCopies(e *env) {
	e.world()
	l := newLink("l1", a1, uAnn, p1, i1)
	e.insertLinks(l)
	l.Scopes[0], l.Hash[0] = d1, 'X'
	e.read("copies", func(ctx context.Context, r store.Reader) error {
		got, err := r.InviteLink(ctx, "l1")
		if err != nil {
			return err
		}
		if got.Scopes[0] != p1 || got.Hash[0] != 'h' {
			e.Errorf("store.go: stores copy records in: changing the caller's InviteLink.Scopes or Hash after InsertInviteLink changed the stored link (%v, %q)", got.Scopes, got.Hash)
		}
		got.Scopes[1], got.Hash[1] = d1, 'Y'
		again, err := r.InviteLink(ctx, "l1")
		if err != nil {
			return err
		}
		if again.Scopes[1] != i1 || again.Hash[1] != 'a' {
			e.Errorf("store.go: stores copy records out: changing a returned InviteLink.Scopes or Hash changed the stored link (%v, %q)", again.Scopes, again.Hash)
		}
		return nil
	})
}

func linksDelete(e *env) {
	e.world()
	e.insertLinks(newLink("l1", a1, uAnn, p1), newLink("l2", a1, uAnn, a1))
	e.do("delete", func(ctx context.Context, w store.Writer) error { return w.DeleteInviteLink(ctx, "l1") })
	if e.hasInviteLink("l1") {
		e.Errorf("store.go: Writer.DeleteInviteLink must delete the link")
	}
	if got := linkIDs(e.links(a1)); !slices.Equal(got, []string{"l2"}) {
		e.Errorf("store.go: Writer.DeleteInviteLink must delete that link only: InviteLinks lists %v, want [l2]", got)
	}
	err := e.try(func(ctx context.Context, w store.Writer) error { return w.DeleteInviteLink(ctx, "l1") })
	e.wantErr(err, store.ErrNotFound, "store.go: Writer.DeleteInviteLink of a deleted link")
}

func linksDeleteUser(e *env) {
	e.world()
	e.insertLinks(newLink("l1", a1, uCy, p1), newLink("l2", a2, uCy, a2), newLink("l3", a1, uAnn, a1), newLink("l4", o1, uDee, o1))
	e.do("delete cy", func(ctx context.Context, w store.Writer) error { return w.DeleteUser(ctx, uCy) })
	for _, id := range []string{"l1", "l2"} {
		if e.hasInviteLink(id) {
			e.Errorf("store.go: Writer.DeleteUser must delete the invite links the user created, in every tenant: %s is still there", id)
		}
	}
	if got := linkIDs(e.links(a1)); !slices.Equal(got, []string{"l3"}) {
		e.Errorf("store.go: Writer.DeleteUser must delete the user's links and no other: InviteLinks(a1) lists %v, want [l3]", got)
	}
	if !e.hasInviteLink("l4") {
		e.Errorf("store.go: Writer.DeleteUser must not delete other users' links: l4 is gone")
	}
	// A user who made no link, deleted, takes none with it.
	e.do("delete bob", func(ctx context.Context, w store.Writer) error { return w.DeleteUser(ctx, uBob) })
	if !e.hasInviteLink("l3") || !e.hasInviteLink("l4") {
		e.Errorf("store.go: Writer.DeleteUser must delete only the links the user created")
	}
}
