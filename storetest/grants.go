package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// ---- Grants ----

// grantsClauses are the clauses of the Grants group.
var grantsClauses = []clause{
	{name: "PutAndGet", fn: grantsPutAndGet},
	{name: "PutReplaces", fn: grantsPutReplaces},
	{name: "DeleteGrant", fn: grantsDelete},
	{name: "HolderGrantsWithinTenant", fn: grantsHolderWithinTenant},
	{name: "SubtreeQuery", fn: grantsSubtree},
	{name: "SubtreeOfOrganizationIncludesSubAccounts", fn: grantsOrgSubtree},
}

func fmtGrants(gs []store.Grant) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v [tenant %v]", g.Grant, g.Tenant)
	}
	return "[" + b.String() + "]"
}

func eqGrants(a, b []store.Grant) bool { return slices.Equal(a, b) }

func grantsPutAndGet(e *env) {
	e.world()
	want := []store.Grant{
		grant(rbac.User(uCy), o1, o1, rbac.Viewer),
		grant(rbac.User(uCy), a1, a1, rbac.Admin),
		grant(rbac.Team("t1"), i1, a1, rbac.Viewer),
		grant(rbac.Token("k1"), p2, a2, rbac.Admin),
		grant(rbac.Invite("v1"), p3, a3, rbac.Viewer),
		{Grant: rbac.Grant{Holder: rbac.User(uDee), Scope: d1, Level: rbac.Viewer, ViewContent: true}, Tenant: a1},
	}
	e.put(want...)
	e.read("get", func(ctx context.Context, r store.Reader) error {
		for _, w := range want {
			got, err := r.Grant(ctx, w.Holder, w.Scope)
			if err != nil || got != w {
				e.Errorf("store.go: Reader.Grant must return the grant as put, with its scope's tenant: got %+v, %v; want %+v", got, err, w)
			}
		}
		return nil
	})
}

func grantsPutReplaces(e *env) {
	e.world()
	e.put(grant(rbac.User(uCy), p1, a1, rbac.Viewer))
	repl := store.Grant{Grant: rbac.Grant{Holder: rbac.User(uCy), Scope: p1, Level: rbac.Admin, ViewContent: true}, Tenant: a1}
	e.put(repl)
	e.read("get", func(ctx context.Context, r store.Reader) error {
		got, err := r.Grant(ctx, rbac.User(uCy), p1)
		if err != nil || got != repl {
			e.Errorf("store.go: Writer.PutGrant must replace the holder's grant on that scope: got %+v, %v; want %+v", got, err, repl)
		}
		for name, seq := range map[string]iter.Seq2[store.Grant, error]{
			"HolderGrants": r.HolderGrants(ctx, rbac.User(uCy), a1),
			"ScopeGrants":  r.ScopeGrants(ctx, p1, false),
		} {
			gs, err := collect(seq)
			if err != nil || !eqGrants(gs, []store.Grant{repl}) {
				e.Errorf("store.go: a holder has at most one grant per scope: %s lists %s, %v", name, fmtGrants(gs), err)
			}
		}
		return nil
	})
}

func grantsDelete(e *env) {
	e.world()
	e.put(grant(rbac.User(uCy), p1, a1, rbac.Viewer), grant(rbac.User(uCy), i1, a1, rbac.Viewer), grant(rbac.User(uDee), p1, a1, rbac.Viewer))
	e.do("delete", func(ctx context.Context, w store.Writer) error { return w.DeleteGrant(ctx, rbac.User(uCy), p1) })
	if e.hasGrant(rbac.User(uCy), p1) {
		e.Errorf("store.go: Writer.DeleteGrant must remove the holder's grant on the scope")
	}
	if !e.hasGrant(rbac.User(uCy), i1) || !e.hasGrant(rbac.User(uDee), p1) {
		e.Errorf("store.go: Writer.DeleteGrant must remove that grant only")
	}
}

func grantsHolderWithinTenant(e *env) {
	e.world()
	h := rbac.User(uCy)
	inA1 := []store.Grant{
		grant(h, a1, a1, rbac.Viewer), grant(h, p1, a1, rbac.Admin), grant(h, rbac.Project("p0"), a1, rbac.Viewer),
		grant(h, i1, a1, rbac.Admin), grant(h, d1, a1, rbac.Viewer),
	}
	e.do("p0", func(ctx context.Context, w store.Writer) error {
		return w.InsertResource(ctx, newResource(rbac.Project("p0"), a1, "a1"))
	})
	e.put(inA1...)
	e.put(grant(h, o1, o1, rbac.Viewer), grant(h, p3, a3, rbac.Admin), grant(h, a2, a2, rbac.Viewer),
		grant(rbac.User(uDee), p1, a1, rbac.Viewer), grant(rbac.Team(uCy), p1, a1, rbac.Viewer))
	slices.SortFunc(inA1, func(a, b store.Grant) int { return a.Scope.Compare(b.Scope) })
	for _, c := range []struct {
		tenant rbac.Ref
		want   []store.Grant
	}{
		{a1, inA1},
		{o1, []store.Grant{grant(h, o1, o1, rbac.Viewer)}},
		{a3, []store.Grant{grant(h, p3, a3, rbac.Admin)}},
		{rbac.Account("nope"), nil},
	} {
		got := list(e, "HolderGrants", func(ctx context.Context, r store.Reader) iter.Seq2[store.Grant, error] {
			return r.HolderGrants(ctx, h, c.tenant)
		})
		if !eqGrants(got, c.want) {
			e.Errorf("store.go: Reader.HolderGrants(%v, %v) must list the holder's grants in that tenant only, by scope kind and ID:\n got %s\nwant %s",
				h, c.tenant, fmtGrants(got), fmtGrants(c.want))
		}
	}
}

func grantsSubtree(e *env) {
	e.world()
	all := []store.Grant{
		grant(rbac.User(uDee), p1, a1, rbac.Admin), grant(rbac.User(uCy), p1, a1, rbac.Viewer),
		grant(rbac.Team("t1"), p1, a1, rbac.Viewer), grant(rbac.User(uCy), i1, a1, rbac.Admin),
		grant(rbac.Token("k1"), i1, a1, rbac.Viewer), grant(rbac.User(uCy), d1, a1, rbac.Viewer),
		grant(rbac.User(uAnn), a1, a1, rbac.Viewer), grant(rbac.User(uCy), p2, a2, rbac.Viewer),
		grant(rbac.User(uCy), o1, o1, rbac.Viewer),
	}
	e.put(all...)
	sel := func(scopes ...rbac.Ref) []store.Grant {
		var out []store.Grant
		for _, g := range all {
			if slices.Contains(scopes, g.Scope) {
				out = append(out, g)
			}
		}
		slices.SortFunc(out, func(a, b store.Grant) int { return cmp.Or(a.Scope.Compare(b.Scope), a.Holder.Compare(b.Holder)) })
		return out
	}
	for _, c := range []struct {
		scope   rbac.Ref
		subtree bool
		want    []store.Grant
	}{
		{p1, false, sel(p1)},
		{p1, true, sel(p1, i1)},
		{i1, true, sel(i1)},
		{a1, false, sel(a1)},
		{a1, true, sel(a1, p1, i1, d1)},
		{a2, true, sel(p2)},
		{i2, true, nil},
	} {
		got := list(e, "ScopeGrants", func(ctx context.Context, r store.Reader) iter.Seq2[store.Grant, error] {
			return r.ScopeGrants(ctx, c.scope, c.subtree)
		})
		if !eqGrants(got, c.want) {
			e.Errorf("store.go: Reader.ScopeGrants(%v, subtree %v) must list the grants on the scope (and below it with subtree), by scope and then holder:\n got %s\nwant %s",
				c.scope, c.subtree, fmtGrants(got), fmtGrants(c.want))
		}
	}
}

func grantsOrgSubtree(e *env) {
	e.world()
	gs := []store.Grant{grant(rbac.User(uDee), o1, o1, rbac.Viewer), grant(rbac.User(uCy), a1, a1, rbac.Viewer),
		grant(rbac.User(uCy), i1, a1, rbac.Viewer), grant(rbac.User(uBob), p3, a3, rbac.Admin)}
	e.put(gs...)
	got := list(e, "ScopeGrants", func(ctx context.Context, r store.Reader) iter.Seq2[store.Grant, error] {
		return r.ScopeGrants(ctx, o1, true)
	})
	want := slices.Clone(gs)
	slices.SortFunc(want, func(a, b store.Grant) int { return cmp.Or(a.Scope.Compare(b.Scope), a.Holder.Compare(b.Holder)) })
	if !eqGrants(got, want) {
		e.Errorf("store.go: Reader.ScopeGrants(organization, subtree) must list the grants on every scope below it, its sub-accounts' included (D3):\n got %s\nwant %s",
			fmtGrants(got), fmtGrants(want))
	}
}

// ---- Reach ----

// reachClauses are the clauses of the Reach group.
var reachClauses = []clause{
	{name: "OwnGrantsOnPath", fn: reachOwnGrants},
	{name: "TeamGrants", fn: reachTeamGrants},
	{name: "OwnerSynthesized", fn: reachOwner},
	{name: "OrgGrantsReachSubAccounts", fn: reachOrgGrants},
	{name: "AppendsToBuffers", fn: reachBuffers},
	{name: "SeesMembershipsAndGrantsBelow", fn: reachSees},
	{name: "CheckerReachAgreesWithReader", fn: reachReacher},
	{name: "CheckerAgreesWithCheck", fn: reachChecker},
	{name: "CheckerSeesAgreesWithSees", fn: reachCheckerSees},
}

// reach returns Reader.Reach's path and grants, the grants sorted.
func (e *env) reach(h rbac.Holder, scope rbac.Ref) (rbac.Path, []rbac.Grant) {
	var p rbac.Path
	var gs []rbac.Grant
	e.read("Reach", func(ctx context.Context, r store.Reader) error {
		var err error
		p, gs, err = r.Reach(ctx, h, scope, nil, nil)
		return err
	})
	sortGrants(gs)
	return p, gs
}

func sortGrants(gs []rbac.Grant) {
	slices.SortFunc(gs, func(a, b rbac.Grant) int {
		return cmp.Or(a.Scope.Compare(b.Scope), a.Holder.Compare(b.Holder), cmp.Compare(a.Level, b.Level))
	})
}

func rg(h rbac.Holder, s rbac.Ref, l rbac.Level) rbac.Grant {
	return rbac.Grant{Holder: h, Scope: s, Level: l}
}

// checkReach compares Reach with want (in any order).
func (e *env) checkReach(clause string, h rbac.Holder, scope rbac.Ref, want []rbac.Grant) {
	_, got := e.reach(h, scope)
	want = slices.Clone(want)
	sortGrants(want)
	if !slices.Equal(got, want) {
		e.Errorf("%s: Reach(%v, %v):\n got %v\nwant %v", clause, h, scope, got, want)
	}
}

func reachOwnGrants(e *env) {
	e.world()
	h := rbac.User(uCy)
	e.put(grant(h, a1, a1, rbac.Viewer), grant(h, p1, a1, rbac.Admin), grant(h, i1, a1, rbac.Viewer),
		grant(h, d1, a1, rbac.Admin), grant(h, p2, a2, rbac.Admin), grant(rbac.User(uDee), p1, a1, rbac.Admin),
		grant(rbac.Token("k1"), p1, a1, rbac.Viewer))
	p, _ := e.reach(h, i1)
	if want := (rbac.Path{o1, a1, p1, i1}); !slices.Equal(p, want) {
		e.Errorf("store.go: Reader.Reach must return the path root first: got %v, want %v", p, want)
	}
	const clause = "store.go: Reader.Reach must return the holder's grants on every scope of the path, and no other"
	e.checkReach(clause, h, i1, []rbac.Grant{rg(h, a1, rbac.Viewer), rg(h, p1, rbac.Admin), rg(h, i1, rbac.Viewer)})
	e.checkReach(clause, h, d1, []rbac.Grant{rg(h, a1, rbac.Viewer), rg(h, d1, rbac.Admin)})
	e.checkReach(clause, h, i2, []rbac.Grant{rg(h, p2, rbac.Admin)})
	e.checkReach(clause, h, p3, nil)
	e.checkReach(clause, rbac.Token("k1"), i1, []rbac.Grant{rg(rbac.Token("k1"), p1, rbac.Viewer)})
	e.checkReach(clause, rbac.User("nobody"), i1, nil)
}

func reachTeamGrants(e *env) {
	e.world()
	e.do("teams", func(ctx context.Context, w store.Writer) error {
		for _, t := range []store.Team{
			{ID: "t1", Tenant: a1, Name: "Ops"}, {ID: "t2", Tenant: a1, Name: "Dev"},
			{ID: "t3", Tenant: o1, Name: "Org"}, {ID: "t4", Tenant: a2, Name: "Other"},
		} {
			if err := w.InsertTeam(ctx, t); err != nil {
				return err
			}
			if err := w.InsertTeamMember(ctx, t.ID, uCy); err != nil {
				return err
			}
		}
		return nil
	})
	e.put(grant(rbac.Team("t1"), p1, a1, rbac.Admin), grant(rbac.Team("t2"), i1, a1, rbac.Viewer),
		grant(rbac.Team("t2"), d1, a1, rbac.Admin), grant(rbac.Team("t3"), o1, o1, rbac.Viewer),
		grant(rbac.Team("t4"), p2, a2, rbac.Admin), grant(rbac.User(uCy), a1, a1, rbac.Viewer))
	const clause = "store.go: Reader.Reach must add, for a user, the grants of every team the user belongs to on the path's scopes"
	h := rbac.User(uCy)
	e.checkReach(clause, h, i1, []rbac.Grant{
		rg(rbac.Team("t3"), o1, rbac.Viewer), rg(h, a1, rbac.Viewer), rg(rbac.Team("t1"), p1, rbac.Admin), rg(rbac.Team("t2"), i1, rbac.Viewer),
	})
	e.checkReach(clause, h, i2, []rbac.Grant{rg(rbac.Team("t4"), p2, rbac.Admin)})
	e.checkReach("store.go: Reader.Reach must not give team grants to users outside the team", rbac.User(uDee), i1, nil)
	e.checkReach("store.go: Reader.Reach gives team grants to users only, not to a token with the same ID", rbac.Token(uCy), i1, nil)
	e.do("leave t1", func(ctx context.Context, w store.Writer) error { return w.DeleteTeamMember(ctx, "t1", uCy) })
	e.checkReach("store.go: Reader.Reach must not give a team's grants to a user removed from it", h, p1,
		[]rbac.Grant{rg(rbac.Team("t3"), o1, rbac.Viewer), rg(h, a1, rbac.Viewer)})
}

func reachOwner(e *env) {
	e.world()
	const clause = "store.go: Reader.Reach must add an Owner grant on each account or organization of the path that the holder owns"
	ann, bob := rbac.User(uAnn), rbac.User(uBob)
	e.checkReach(clause, ann, i1, []rbac.Grant{rg(ann, o1, rbac.Owner), rg(ann, a1, rbac.Owner)})
	e.checkReach(clause, ann, o1, []rbac.Grant{rg(ann, o1, rbac.Owner)})
	e.checkReach(clause, bob, i2, []rbac.Grant{rg(bob, a2, rbac.Owner)})
	e.checkReach(clause, bob, p3, []rbac.Grant{rg(bob, a3, rbac.Owner)})
	e.checkReach(clause+" (and only those)", bob, i1, nil)
	e.checkReach(clause+" (to a user, not to a token with the owner's ID)", rbac.Token(uAnn), a1, nil)
	e.do("transfer a2", func(ctx context.Context, w store.Writer) error {
		a := newAccount(a2, "", uCy)
		return w.UpdateAccount(ctx, a)
	})
	e.checkReach(clause+" (the owner after UpdateAccount)", rbac.User(uCy), i2, []rbac.Grant{rg(rbac.User(uCy), a2, rbac.Owner)})
	e.checkReach(clause+" (not the previous owner)", bob, i2, nil)
}

func reachOrgGrants(e *env) {
	e.world()
	dee := rbac.User(uDee)
	e.put(grant(dee, o1, o1, rbac.Admin))
	const clause = "store.go: Reader.Reach must include grants on the organization for every scope of its sub-accounts (D3)"
	e.checkReach(clause, dee, i1, []rbac.Grant{rg(dee, o1, rbac.Admin)})
	e.checkReach(clause, dee, p3, []rbac.Grant{rg(dee, o1, rbac.Admin)})
	e.checkReach(clause+", and not for accounts outside it", dee, i2, nil)
	e.do("new sub-account", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertAccount(ctx, newAccount(rbac.Account("a4"), "o1", uAnn)); err != nil {
			return err
		}
		return w.InsertResource(ctx, newResource(rbac.Project("p4"), rbac.Account("a4"), "a4"))
	})
	e.checkReach(clause+", future ones too", dee, rbac.Project("p4"), []rbac.Grant{rg(dee, o1, rbac.Admin)})
}

func reachBuffers(e *env) {
	e.world()
	h := rbac.User(uCy)
	e.put(grant(h, p1, a1, rbac.Admin))
	path := make(rbac.Path, 2, 8)
	path[0] = rbac.Project("junk")
	grants := make([]rbac.Grant, 3, 8)
	grants[0] = rg(rbac.User("junk"), a2, rbac.Owner)
	e.read("Reach", func(ctx context.Context, r store.Reader) error {
		p, gs, err := r.Reach(ctx, h, i1, path, grants)
		if err != nil {
			return err
		}
		if !slices.Equal(p, rbac.Path{o1, a1, p1, i1}) || !slices.Equal(gs, []rbac.Grant{rg(h, p1, rbac.Admin)}) {
			e.Errorf("store.go: Reader.Reach must append to path[:0] and grants[:0]: got %v, %v", p, gs)
		}
		if &p[0] != &path[0] || &gs[0] != &grants[0] {
			e.Errorf("store.go: Reader.Reach must append to the buffers it is given when they have room")
		}
		return nil
	})
}

// reachWorld adds a team and grants to the world and returns the holders to ask about.
func (e *env) reachWorld() []rbac.Holder {
	e.do("teams", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "Ops"}); err != nil {
			return err
		}
		return w.InsertTeamMember(ctx, "t1", uAnn)
	})
	e.put(grant(rbac.Team("t1"), p1, a1, rbac.Admin), grant(rbac.User(uAnn), i1, a1, rbac.Viewer), grant(rbac.User(uDee), o1, o1, rbac.Viewer))
	return []rbac.Holder{rbac.User(uAnn), rbac.User(uDee), rbac.User(uBob), rbac.Team("t1")}
}

func reachReacher(e *env) {
	rc := e.needChecker()
	e.world()
	for _, h := range e.reachWorld() {
		for _, s := range []rbac.Ref{o1, a1, p1, i1, d1, a2, i2} {
			wantP, wantG := e.reach(h, s)
			p, gs, err := rc.Reach(e.ctx, h, s, nil, nil)
			sortGrants(gs)
			if err != nil || !slices.Equal(p, wantP) || !slices.Equal(gs, wantG) {
				e.Errorf("store.go: Checker.Reach must answer as Reader.Reach: Reach(%v, %v) got %v %v %v, want %v %v", h, s, p, gs, err, wantP, wantG)
			}
		}
	}
}

// The tokens of the check clauses, in a1: one made by ann (the owner), one made by cy
// (a member with no access), one expired, and one that was never stored.
var (
	kAnn, kCy, kExpired, kMissing = rbac.Token("k-ann"), rbac.Token("k-cy"), rbac.Token("k-expired"), rbac.Token("k-missing")
	checkNow                      = t0.Add(time.Hour) // the time of the clauses' checks
)

// tokenWorld adds the check clauses' tokens, each an admin of p1.
func (e *env) tokenWorld() []rbac.Holder {
	e.do("tokens", func(ctx context.Context, w store.Writer) error {
		for _, t := range []store.Token{
			{ID: kAnn.ID, Tenant: a1, Name: "ann's", Hash: []byte{1}, Last4: "aaaa", CreatedBy: uAnn, Created: t0},
			{ID: kCy.ID, Tenant: a1, Name: "cy's", Hash: []byte{2}, Last4: "cccc", CreatedBy: uCy, Created: t0},
			{ID: kExpired.ID, Tenant: a1, Name: "old", Hash: []byte{3}, Last4: "eeee", CreatedBy: uAnn, Created: t0, Expires: checkNow.Add(-time.Minute)},
		} {
			if err := w.InsertToken(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
	e.put(grant(kAnn, p1, a1, rbac.Admin), grant(kCy, p1, a1, rbac.Admin), grant(kExpired, p1, a1, rbac.Admin))
	return []rbac.Holder{kAnn, kCy, kExpired, kMissing}
}

// reachChecker: a store.Checker decides as store.Check does, for users, teams and
// tokens — live, capped by their creator, expired, missing — then again under
// security policies, for requests of every Auth of checkAuths, and under policies
// that enforce single sign-on, for requests of every Auth of ssoAuths.
func reachChecker(e *env) {
	ck := e.needChecker()
	e.world()
	holders := append(e.reachWorld(), e.tokenWorld()...)
	for _, h := range holders {
		for _, s := range []rbac.Ref{o1, a1, p1, i1, d1, a2, i2} {
			for _, a := range rbac.Actions() {
				var want rbac.Decision
				e.read("store.Check", func(ctx context.Context, r store.Reader) error {
					var err error
					want, err = store.Check(ctx, r, h, a, s, checkNow)
					return err
				})
				got, err := ck.Check(e.ctx, h, a, s, checkNow)
				if err != nil || !sameDecision(got, want) {
					e.Errorf("store.go: Checker.Check must decide as store.Check: Check(%v, %v, %v) = %+v, %v; want %+v", h, a, s, got, err, want)
				}
			}
		}
	}
	for _, c := range []struct {
		h     rbac.Holder
		allow bool
		rule  rbac.Rule
	}{
		{kAnn, true, rbac.RuleInherit},
		{kCy, false, rbac.RuleTokenCreator},
		{kExpired, false, rbac.RuleTokenSecret},
		{kMissing, false, rbac.RuleTokenSecret},
	} {
		d, err := ck.Check(e.ctx, c.h, rbac.InboxRead, i1, checkNow)
		if err != nil || d.Allowed != c.allow || d.Rule != c.rule {
			e.Errorf("store.go: Checker.Check(%v, inbox.read, %v) = %+v, %v; want allowed=%v by %s", c.h, i1, d, err, c.allow, c.rule)
		}
	}
	if _, err := ck.Check(e.ctx, rbac.User(uAnn), rbac.InboxRead, rbac.Inbox("missing"), checkNow); !errors.Is(err, store.ErrNotFound) {
		e.Errorf("store.go: Checker.Check on a missing scope must return ErrNotFound, got %v", err)
	}
	e.checkerAgreesUnderPolicies(ck, holders, []rbac.Ref{o1, a1, i1, a2, i2, p3})
	e.checkerAgreesUnderSSO(ck, holders, []rbac.Ref{o1, a1, p1, i1, a2, i2, p3})
}

// sees returns store.Sees's answer over the store's Reader.
func (e *env) sees(h rbac.Holder, s rbac.Ref) bool {
	var seen bool
	e.read("store.Sees", func(ctx context.Context, r store.Reader) error {
		var err error
		seen, err = store.Sees(ctx, r, h, s)
		return err
	})
	return seen
}

// reachSees: what store.Sees reads from a store: memberships of an account, and the
// grants of a holder and of its teams below a scope.
func reachSees(e *env) {
	e.world()
	e.reachWorld()
	for _, c := range []struct {
		h    rbac.Holder
		s    rbac.Ref
		want bool
	}{
		{rbac.User(uCy), a1, true},   // a member without access
		{rbac.User(uCy), p1, false},  // … sees nothing inside
		{rbac.User(uBob), a1, false}, // a stranger to a1
		{rbac.User(uAnn), p1, true},  // through team t1's grant on p1
		{rbac.User(uAnn), d1, false}, // nothing below d1
		{rbac.User(uDee), o1, true},  // a member of the organization
		{rbac.Team("t1"), a1, true},  // the team's grant on p1 is below a1
		{rbac.Team("t1"), i1, false}, // … and not below i1
		{rbac.User(uAnn), rbac.Inbox("missing"), false},
	} {
		if got := e.sees(c.h, c.s); got != c.want {
			e.Errorf("store.go: store.Sees(%v, %v) = %v, want %v (memberships, and grants below, of the holder and its teams)", c.h, c.s, got, c.want)
		}
	}
}

// reachCheckerSees: a store.Checker sees as store.Sees does.
func reachCheckerSees(e *env) {
	ck := e.needChecker()
	e.world()
	holders := append(e.reachWorld(), e.tokenWorld()...)
	holders = append(holders, rbac.User(uCy), rbac.User("u-nobody"))
	for _, h := range holders {
		for _, s := range []rbac.Ref{o1, a1, a3, p1, i1, d1, a2, i2, p3, rbac.Project("missing")} {
			want := e.sees(h, s)
			got, err := ck.Sees(e.ctx, h, s)
			if err != nil || got != want {
				e.Errorf("store.go: Checker.Sees must answer as store.Sees: Sees(%v, %v) = %v, %v; want %v", h, s, got, err, want)
			}
		}
	}
}
