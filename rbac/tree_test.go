package rbac_test

import (
	"slices"

	"github.com/tenantry/tenantry/rbac"
)

// The fixture tree: organization o with sub-accounts a and c; account b outside any
// organization.
//
//	o ─ a ─ p1 ─ i1, i2
//	    │   p2 ─ i3
//	    ├ d1, ba (billing), ta (templates), ca (campaigns)
//	  ─ c ─ p3 ─ i4
//	b ─ q1 ─ j1
//	  ├ e1, bb
var parents = map[rbac.Ref]rbac.Ref{
	rbac.Account("a"):    rbac.Org("o"),
	rbac.Account("c"):    rbac.Org("o"),
	rbac.Project("p1"):   rbac.Account("a"),
	rbac.Project("p2"):   rbac.Account("a"),
	rbac.Inbox("i1"):     rbac.Project("p1"),
	rbac.Inbox("i2"):     rbac.Project("p1"),
	rbac.Inbox("i3"):     rbac.Project("p2"),
	rbac.Domain("d1"):    rbac.Account("a"),
	rbac.Billing("ba"):   rbac.Account("a"),
	rbac.Templates("ta"): rbac.Account("a"),
	rbac.Campaigns("ca"): rbac.Account("a"),
	rbac.Project("p3"):   rbac.Account("c"),
	rbac.Inbox("i4"):     rbac.Project("p3"),
	rbac.Project("q1"):   rbac.Account("b"),
	rbac.Inbox("j1"):     rbac.Project("q1"),
	rbac.Domain("e1"):    rbac.Account("b"),
	rbac.Billing("bb"):   rbac.Account("b"),
}

var allScopes = func() []rbac.Ref {
	out := []rbac.Ref{rbac.Org("o"), rbac.Account("b")}
	for r := range parents {
		out = append(out, r)
	}
	slices.SortFunc(out, rbac.Ref.Compare)
	return out
}()

func pathOf(r rbac.Ref) rbac.Path {
	var p rbac.Path
	for {
		p = append(p, r)
		par, ok := parents[r]
		if !ok {
			break
		}
		r = par
	}
	slices.Reverse(p)
	return p
}

// isAncestorOrSelf reports whether anc is on the path to r.
func isAncestorOrSelf(anc, r rbac.Ref) bool { return pathOf(r).Contains(anc) }
