package rbac

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the kind of a scope in the scope tree (POLICY.md, "The scope tree").
type Kind uint8

// The scope kinds. The zero Kind is invalid.
const (
	KindOrganization Kind = iota + 1
	KindAccount
	KindProject
	KindInbox
	KindDomain
	KindBilling
	KindTemplates
	KindCampaigns
	numKinds = iota + 1
)

// kindInfo is one row of the scope tree: a kind, its API name and its parent kind.
type kindInfo struct {
	name   string
	parent Kind // 0 for a root
	// optionalParent: the parent may be absent (an account outside any organization).
	optionalParent bool
	// canOwn: the kind has an owner (D4): the owner level exists only here.
	canOwn bool
}

// kinds is the scope tree, declared once. Adding a kind is one row.
var kinds = [numKinds]kindInfo{
	KindOrganization: {name: "organization", canOwn: true},
	KindAccount:      {name: "account", parent: KindOrganization, optionalParent: true, canOwn: true},
	KindProject:      {name: "project", parent: KindAccount},
	KindInbox:        {name: "inbox", parent: KindProject},
	KindDomain:       {name: "domain", parent: KindAccount},
	KindBilling:      {name: "billing", parent: KindAccount},
	KindTemplates:    {name: "templates", parent: KindAccount},
	KindCampaigns:    {name: "campaigns", parent: KindAccount},
}

// Kinds returns every valid kind, roots first, in declaration order.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := Kind(1); k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// Valid reports whether k is a declared kind.
func (k Kind) Valid() bool { return k > 0 && k < numKinds }

// String returns the kind's API name ("account", "inbox", ...).
func (k Kind) String() string {
	if !k.Valid() {
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
	return kinds[k].name
}

// Parent returns the kind of the scope directly above k, or 0 for a root.
func (k Kind) Parent() Kind {
	if !k.Valid() {
		return 0
	}
	return kinds[k].parent
}

// ParentOptional reports whether a scope of kind k may have no parent even though its
// kind has one (an account that belongs to no organization).
func (k Kind) ParentOptional() bool { return k.Valid() && kinds[k].optionalParent }

// Ownable reports whether scopes of kind k have an owner (accounts and organizations).
// The Owner level exists only on such scopes (D4).
func (k Kind) Ownable() bool { return k.Valid() && kinds[k].canOwn }

// Depth returns the number of kinds above k in the tree (0 for organization).
func (k Kind) Depth() int {
	d := 0
	for p := k.Parent(); p != 0; p = p.Parent() {
		d++
	}
	return d
}

// Below reports whether kind k lies strictly below kind anc in the scope tree.
func (k Kind) Below(anc Kind) bool {
	for p := k.Parent(); p != 0; p = p.Parent() {
		if p == anc {
			return true
		}
	}
	return false
}

// ErrInvalidKind is matched by the errors ParseKind returns.
var ErrInvalidKind = errors.New("rbac: invalid scope kind")

// ParseKind parses a kind from its API name, ignoring case. The platform's alias
// "mailsend_domain" is accepted for domain, and "sandbox" for inbox.
func ParseKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "mailsend_domain", "sending_domain":
		return KindDomain, nil
	case "sandbox":
		return KindInbox, nil
	}
	for k := Kind(1); k < numKinds; k++ {
		if kinds[k].name == t {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w %q", ErrInvalidKind, s)
}

// Ref names one scope: its kind and its ID. IDs are unique within a kind.
type Ref struct {
	Kind Kind
	ID   string
}

// String returns "kind:id".
func (r Ref) String() string { return r.Kind.String() + ":" + r.ID }

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool { return r.Kind == 0 && r.ID == "" }

// Org returns the Ref of an organization.
func Org(id string) Ref { return Ref{KindOrganization, id} }

// Account returns the Ref of an account.
func Account(id string) Ref { return Ref{KindAccount, id} }

// Project returns the Ref of a project.
func Project(id string) Ref { return Ref{KindProject, id} }

// Inbox returns the Ref of an inbox.
func Inbox(id string) Ref { return Ref{KindInbox, id} }

// Domain returns the Ref of a sending domain.
func Domain(id string) Ref { return Ref{KindDomain, id} }

// Billing returns the Ref of an account's billing scope; its ID is the account's.
func Billing(id string) Ref { return Ref{KindBilling, id} }

// Templates returns the Ref of an account's templates scope; its ID is the account's.
func Templates(id string) Ref { return Ref{KindTemplates, id} }

// Campaigns returns the Ref of an account's campaigns scope; its ID is the account's.
func Campaigns(id string) Ref { return Ref{KindCampaigns, id} }

// Path is a scope with its ancestors, root first: for an inbox in an account of an
// organization, [organization, account, project, inbox]. Access granted on any element
// of a path reaches its last element (D1, D3).
type Path []Ref

// Leaf returns the last scope of the path, the one the path leads to.
func (p Path) Leaf() Ref {
	if len(p) == 0 {
		return Ref{}
	}
	return p[len(p)-1]
}

// Contains reports whether r is on the path.
func (p Path) Contains(r Ref) bool {
	for _, q := range p {
		if q == r {
			return true
		}
	}
	return false
}

// Tenant returns the account on the path, or the organization when the path leads to
// an organization; the zero Ref when neither is on it.
func (p Path) Tenant() Ref {
	var t Ref
	for _, q := range p {
		if q.Kind == KindAccount {
			return q
		}
		if q.Kind == KindOrganization {
			t = q
		}
	}
	return t
}

// Validate reports whether p is a well-formed path: non-empty, each element a valid
// kind with a non-empty ID, each element's kind the parent kind of the next, and the
// root either a root kind or a kind whose parent is optional.
func (p Path) Validate() error {
	if len(p) == 0 {
		return errors.New("rbac: empty path")
	}
	for i, r := range p {
		if !r.Kind.Valid() || r.ID == "" {
			return fmt.Errorf("rbac: path element %d (%v) is not a valid scope", i, r)
		}
		if i == 0 {
			if r.Kind.Parent() != 0 && !r.Kind.ParentOptional() {
				return fmt.Errorf("rbac: path starts at %v, which needs a parent", r)
			}
			continue
		}
		if r.Kind.Parent() != p[i-1].Kind {
			return fmt.Errorf("rbac: %v cannot be below %v", r, p[i-1])
		}
	}
	return nil
}

// Compare orders refs by kind and then ID; it returns -1, 0 or +1.
func (r Ref) Compare(o Ref) int {
	switch {
	case r.Kind < o.Kind:
		return -1
	case r.Kind > o.Kind:
		return 1
	}
	return strings.Compare(r.ID, o.ID)
}
