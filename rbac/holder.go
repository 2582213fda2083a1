package rbac

import (
	"fmt"
	"strings"
)

// HolderKind is the kind of a grant holder.
type HolderKind uint8

// The holder kinds: who holds grants (POLICY.md, "Holders").
const (
	HolderUser   HolderKind = iota + 1 // a user (a profile)
	HolderTeam                         // a team: its grants apply to its members
	HolderToken                        // an API token: authenticates as itself (D24)
	HolderInvite                       // a pending invitation (D19)
)

var holderNames = [...]string{HolderUser: "user", HolderTeam: "team", HolderToken: "token", HolderInvite: "invite"}

// String returns the holder kind's name.
func (k HolderKind) String() string {
	if k == 0 || int(k) >= len(holderNames) {
		return fmt.Sprintf("HolderKind(%d)", uint8(k))
	}
	return holderNames[k]
}

// Valid reports whether k is a declared holder kind.
func (k HolderKind) Valid() bool { return k > 0 && int(k) < len(holderNames) }

// Holder is anything that holds grants: a user, a team, an API token, an invitation.
type Holder struct {
	Kind HolderKind
	ID   string
}

// User returns the Holder of a user.
func User(id string) Holder { return Holder{HolderUser, id} }

// Team returns the Holder of a team.
func Team(id string) Holder { return Holder{HolderTeam, id} }

// Token returns the Holder of an API token.
func Token(id string) Holder { return Holder{HolderToken, id} }

// Invite returns the Holder of a pending invitation.
func Invite(id string) Holder { return Holder{HolderInvite, id} }

// String returns "kind:id".
func (h Holder) String() string { return h.Kind.String() + ":" + h.ID }

// IsZero reports whether h is the zero Holder.
func (h Holder) IsZero() bool { return h.Kind == 0 && h.ID == "" }

// Grant is access given to a holder on one scope. It reaches every scope below
// (D1). ViewContent is the per-domain "view email content" flag a domain admin may give
// a viewer (D8); it means something only on a domain scope.
type Grant struct {
	Holder      Holder
	Scope       Ref
	Level       Level
	ViewContent bool
}

// String returns a short description: "user:u1 admin on project:p1".
func (g Grant) String() string {
	s := g.Holder.String() + " " + g.Level.String() + " on " + g.Scope.String()
	if g.ViewContent {
		s += " (+content)"
	}
	return s
}

// Compare orders holders by kind and then ID; it returns -1, 0 or +1.
func (h Holder) Compare(o Holder) int {
	switch {
	case h.Kind < o.Kind:
		return -1
	case h.Kind > o.Kind:
		return 1
	}
	return strings.Compare(h.ID, o.ID)
}
