package rbac_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/rbac"
	"pgregory.net/rapid"
)

var (
	genScope  = rapid.SampledFrom(allScopes)
	genAction = rapid.SampledFrom(rbac.Actions())
	genHolder = rapid.SampledFrom([]rbac.Holder{rbac.User("u"), rbac.Team("t1"), rbac.Team("t2")})
)

// genGrant draws a grant of one of the holder's identities (the user or its teams) on
// any scope, at a level that can be held there.
var genGrant = rapid.Custom(func(t *rapid.T) rbac.Grant {
	s := genScope.Draw(t, "scope")
	levels := []rbac.Level{rbac.Viewer, rbac.Admin}
	if s.Kind.Ownable() {
		levels = append(levels, rbac.Owner)
	}
	return rbac.Grant{
		Holder:      genHolder.Draw(t, "holder"),
		Scope:       s,
		Level:       rapid.SampledFrom(levels).Draw(t, "level"),
		ViewContent: s.Kind == rbac.KindDomain && rapid.Bool().Draw(t, "content"),
	}
})

var genGrants = rapid.SliceOfN(genGrant, 0, 6)

// genApplicable draws an action and a scope it applies to.
func genApplicable(t *rapid.T) (rbac.Action, rbac.Ref) {
	a := genAction.Draw(t, "action")
	var ok []rbac.Ref
	for _, s := range allScopes {
		if a.Kinds().Has(s.Kind) {
			ok = append(ok, s)
		}
	}
	return a, rapid.SampledFrom(ok).Draw(t, "scope")
}

// Lattice law: a higher level allows a superset of the actions a lower level allows,
// at every scope, whichever ancestor the grant is on.
func TestHigherLevelAllowsSuperset(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, s := genApplicable(t)
		p := pathOf(s)
		on := rapid.SampledFrom(p).Draw(t, "grantScope")
		content := rapid.Bool().Draw(t, "content")
		var prev bool
		for i, l := range []rbac.Level{rbac.None, rbac.Viewer, rbac.Admin, rbac.Owner} {
			if l == rbac.Owner && !on.Kind.Ownable() {
				break
			}
			g := []rbac.Grant{{Holder: rbac.User("u"), Scope: on, Level: l, ViewContent: content}}
			d := rbac.Decide(a, p, g)
			if i > 0 && prev && !d.Allowed {
				t.Fatalf("%v on %v: allowed at a lower level but not at %v (grant on %v)", a, s, l, on)
			}
			prev = d.Allowed
		}
	})
}

// Monotonicity in grants: adding a grant never turns an allow into a deny.
func TestMoreGrantsNeverDeny(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, s := genApplicable(t)
		gs := genGrants.Draw(t, "grants")
		extra := genGrant.Draw(t, "extra")
		if rbac.Decide(a, pathOf(s), gs).Allowed && !rbac.Decide(a, pathOf(s), append(gs, extra)).Allowed {
			t.Fatalf("adding %v turned an allow of %v on %v into a deny", extra, a, s)
		}
	})
}

// Inheritance (D1): the effective level at a scope is at least that at its parent.
func TestAccessInheritedByDescendants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gs := genGrants.Draw(t, "grants")
		child := genScope.Draw(t, "scope")
		p := pathOf(child)
		for i := range len(p) - 1 {
			up, down := rbac.EffectiveLevel(p[:i+1], gs), rbac.EffectiveLevel(p, gs)
			if down < up {
				t.Fatalf("level %v on %v but only %v on its descendant %v", up, p[i], down, child)
			}
		}
	})
}

// A single grant reaches exactly its scope and the scopes below it: never an ancestor,
// a sibling, or another account (D2); organization grants reach sub-accounts (D3).
func TestGrantReachesExactlyItsSubtree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := genGrant.Draw(t, "grant")
		target := genScope.Draw(t, "target")
		got := rbac.EffectiveLevel(pathOf(target), []rbac.Grant{g})
		want := rbac.None
		if isAncestorOrSelf(g.Scope, target) {
			want = g.Level
		}
		if got != want {
			t.Fatalf("grant %v gives %v on %v, want %v", g, got, target, want)
		}
	})
}

func TestOrganizationGrantsReachSubAccounts(t *testing.T) {
	g := []rbac.Grant{{Holder: rbac.User("u"), Scope: rbac.Org("o"), Level: rbac.Viewer}}
	for _, s := range allScopes {
		d := rbac.Decide(rbac.AccountView, pathOf(s), g)
		if s.Kind != rbac.KindAccount {
			continue
		}
		inOrg := s != rbac.Account("b")
		if d.Allowed != inOrg {
			t.Errorf("org viewer: %v allowed=%v, want %v (%s)", s, d.Allowed, inOrg, d.Reason())
		}
		if inOrg && d.Rule != rbac.RuleOrgReach {
			t.Errorf("org viewer on %v: rule %v, want D3", s, d.Rule)
		}
	}
}

// Determinism: the decision does not depend on the order of the grants.
func TestDecisionIndependentOfGrantOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, s := genApplicable(t)
		gs := genGrants.Draw(t, "grants")
		perm := rapid.Permutation(gs).Draw(t, "perm")
		d1, d2 := rbac.Decide(a, pathOf(s), gs), rbac.Decide(a, pathOf(s), perm)
		if d1 != d2 {
			t.Fatalf("order changed the decision:\n%+v\n%+v", d1, d2)
		}
	})
}

// Explain soundness: an allow's grant is one of the inputs and suffices alone; a deny
// cites a rule with a text.
func TestExplanationIsSound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, s := genApplicable(t)
		gs := genGrants.Draw(t, "grants")
		d := rbac.Decide(a, pathOf(s), gs)
		if d.Rule.Text() == "" {
			t.Fatalf("decision cites rule %q with no text", d.Rule)
		}
		if d.Level != rbac.EffectiveLevel(pathOf(s), gs) {
			t.Fatalf("decision reports level %v, effective level is %v", d.Level, rbac.EffectiveLevel(pathOf(s), gs))
		}
		if !d.Allowed {
			return
		}
		found := false
		for _, g := range gs {
			found = found || g == d.Grant
		}
		if !found {
			t.Fatalf("allow cites %v, which was not given", d.Grant)
		}
		if alone := rbac.Decide(a, pathOf(s), []rbac.Grant{d.Grant}); !alone.Allowed {
			t.Fatalf("the cited grant %v does not allow %v on %v alone: %s", d.Grant, a, s, alone.Reason())
		}
	})
}

func TestUnknownActionIsRefused(t *testing.T) {
	owner := []rbac.Grant{{Holder: rbac.User("u"), Scope: rbac.Account("a"), Level: rbac.Owner}}
	for _, a := range []rbac.Action{0, rbac.Action(60000)} {
		d := rbac.Decide(a, pathOf(rbac.Account("a")), owner)
		if d.Allowed || d.Rule != rbac.RuleUnknownAction {
			t.Errorf("Decide(%v) = %+v, want refused by P1", a, d)
		}
	}
	if d := rbac.Decide(rbac.InboxRead, pathOf(rbac.Account("a")), owner); d.Allowed || d.Rule != rbac.RuleWrongKind {
		t.Errorf("inbox.read on an account = %+v, want refused by P2", d)
	}
	if d := rbac.Decide(rbac.AccountView, nil, owner); d.Allowed || d.Rule != rbac.RuleInvalidScope {
		t.Errorf("empty path = %+v, want refused by P3", d)
	}
}

func TestOwnerLevelOnlyCountsOnOwnableScopes(t *testing.T) {
	g := []rbac.Grant{{Holder: rbac.User("u"), Scope: rbac.Project("p1"), Level: rbac.Owner}}
	if d := rbac.Decide(rbac.ProjectView, pathOf(rbac.Project("p1")), g); d.Allowed {
		t.Fatalf("an owner grant on a project counted: %s", d.Reason())
	}
}

func TestDeniedErrorCarriesDecision(t *testing.T) {
	d := rbac.Decide(rbac.AccountDelete, pathOf(rbac.Account("a")),
		[]rbac.Grant{{Holder: rbac.User("u"), Scope: rbac.Account("a"), Level: rbac.Admin}})
	err := d.Err()
	var de *rbac.DeniedError
	if !errors.Is(err, rbac.ErrDenied) || !errors.As(err, &de) || de.Decision != d || d.Rule != rbac.RuleDeleteAccount {
		t.Fatalf("err = %v (%+v)", err, d)
	}
	if rbac.Decide(rbac.AccountView, pathOf(rbac.Account("a")), []rbac.Grant{{Holder: rbac.User("u"), Scope: rbac.Account("a"), Level: rbac.Admin}}).Err() != nil {
		t.Fatal("an allow returned an error")
	}
}

func ExampleDecide() {
	// An inbox admin may rename their inbox but not create another one (D7).
	path := rbac.Path{rbac.Account("acme"), rbac.Project("web"), rbac.Inbox("qa")}
	grants := []rbac.Grant{{Holder: rbac.User("alice"), Scope: rbac.Inbox("qa"), Level: rbac.Admin}}

	d := rbac.Decide(rbac.InboxRename, path, grants)
	fmt.Println(d.Allowed, d.Rule)

	d = rbac.Decide(rbac.InboxCreate, path[:2], grants)
	fmt.Println(d.Allowed, d.Rule)
	fmt.Println(d.Reason())
	// Output:
	// true D5
	// false D7
	// denied: inbox.create on project:web needs admin; no grant reaches it (D7: Creating a child scope needs admin on the parent: a project admin cannot create projects; an inbox admin cannot create inboxes or projects.)
}

func ExampleDecision_Reason() {
	path := rbac.Path{rbac.Account("acme"), rbac.Project("web"), rbac.Inbox("qa")}
	grants := []rbac.Grant{{Holder: rbac.Team("support"), Scope: rbac.Account("acme"), Level: rbac.Viewer}}
	fmt.Println(rbac.Decide(rbac.InboxRead, path, grants).Reason())
	// Output:
	// allowed: inbox.read on inbox:qa needs viewer; granted by team:support viewer on account:acme (D1: Access granted on a scope is inherited by every scope below it.)
}

func TestReasonWhenARuleRefusesDespiteTheLevel(t *testing.T) {
	d := rbac.DecideTransfer(rbac.User("o"), rbac.Owner, rbac.User("o"), rbac.User("x"), rbac.Account("a"), false, false)
	if d.Allowed || !strings.Contains(d.Reason(), "suffices, but a rule refuses") || !strings.Contains(d.Reason(), "D16") {
		t.Fatalf("reason = %q", d.Reason())
	}
}

func TestEveryRuleHasTextAndName(t *testing.T) {
	names := map[string]bool{}
	for _, r := range rbac.Rules() {
		if r.Text() == "" || r.GoName() == "" || !strings.HasPrefix(r.GoName(), "Rule") {
			t.Errorf("rule %s: text %q, Go name %q", r, r.Text(), r.GoName())
		}
		if names[r.GoName()] {
			t.Errorf("rule %s: Go name %s used twice", r, r.GoName())
		}
		names[r.GoName()] = true
	}
}

// A token never acts above its creator (D40): DecideToken allows only what both the
// token's grants and its creator's allow, at the lower of the two levels, and a dead
// token acts as nothing (D23).
func TestDecideTokenIsCappedByItsCreator(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, s := genApplicable(t)
		p := pathOf(s)
		tok, creator := genGrants.Draw(t, "token"), genGrants.Draw(t, "creator")
		live := rapid.Bool().Draw(t, "live")
		d := rbac.DecideToken(a, p, tok, creator, live)
		dt, dc := rbac.Decide(a, p, tok), rbac.Decide(a, p, creator)
		switch {
		case !live && (d.Allowed || d.Rule != rbac.RuleTokenSecret):
			t.Fatalf("a dead token: %+v", d)
		case live && d.Allowed != (dt.Allowed && dc.Allowed):
			t.Fatalf("%v on %v: token %v, creator %v, together %v", a, s, dt.Allowed, dc.Allowed, d.Allowed)
		case live && d.Level != min(dt.Level, dc.Level):
			t.Fatalf("%v on %v: level %v, want the lower of %v and %v", a, s, d.Level, dt.Level, dc.Level)
		case live && dt.Allowed && !dc.Allowed && d.Rule != rbac.RuleTokenCreator:
			t.Fatalf("refused by the creator's access but cites %v", d.Rule)
		}
	})
}
