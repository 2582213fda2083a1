package rbac

import (
	"errors"
	"strings"
	"time"
)

// Decision is the outcome of a policy question, with its reason.
type Decision struct {
	// Allowed reports whether the action may proceed.
	Allowed bool
	// Action is the action decided on (AccessManage for a change of grants).
	Action Action
	// Scope is the scope decided on.
	Scope Ref
	// Need is the least level the action needs on Scope.
	Need Level
	// Level is the holder's effective level on Scope (D5).
	Level Level
	// Grant is, when allowed, the grant that satisfied the decision, and when denied
	// the strongest grant that reached Scope (zero when none did). Its Scope says on
	// which ancestor it was given.
	Grant Grant
	// Rule is the rule that allowed or refused.
	Rule Rule
	// Notice, on an allowed decision, is a rule the holder must act on by NoticeAt
	// (RuleRequire2FA: two-factor authentication becomes required then); the host
	// shows it. Empty when there is none.
	Notice   Rule
	NoticeAt time.Time
}

// Reason explains the decision in one sentence.
func (d Decision) Reason() string {
	var b strings.Builder
	if d.Allowed {
		b.WriteString("allowed: ")
	} else {
		b.WriteString("denied: ")
	}
	b.WriteString(d.Action.String())
	if !d.Scope.IsZero() {
		b.WriteString(" on ")
		b.WriteString(d.Scope.String())
	}
	if d.Need.Valid() && d.Need != None {
		b.WriteString(" needs ")
		b.WriteString(d.Need.String())
	}
	switch {
	case d.Allowed && !d.Grant.Holder.IsZero():
		b.WriteString("; granted by ")
		b.WriteString(d.Grant.String())
	case !d.Allowed && d.Level == None && d.Grant.Holder.IsZero():
		b.WriteString("; no grant reaches it")
	case !d.Allowed && d.Level >= d.Need:
		b.WriteString("; the holder's ")
		b.WriteString(d.Level.String())
		b.WriteString(" level suffices, but a rule refuses")
	case !d.Allowed:
		b.WriteString("; holder has ")
		b.WriteString(d.Level.String())
	}
	if d.Notice != "" {
		b.WriteString("; from ")
		b.WriteString(d.NoticeAt.UTC().Format(time.DateOnly))
		b.WriteString(" ")
		b.WriteString(d.Notice.Text())
	}
	if d.Rule == RuleRequire2FA && !d.Allowed {
		b.WriteString("; sign in with a second factor (turn two-factor authentication on in your profile) to continue")
	}
	if d.Rule == RuleIPAllowlist && !d.Allowed {
		b.WriteString("; the request comes from an address outside the allowlist")
	}
	if t := d.Rule.Text(); t != "" {
		b.WriteString(" (")
		b.WriteString(string(d.Rule))
		b.WriteString(": ")
		b.WriteString(t)
		b.WriteString(")")
	}
	return b.String()
}

// Err returns nil when the decision allows, and a *DeniedError carrying it otherwise.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &DeniedError{Decision: d}
}

// ErrDenied is matched (with errors.Is) by every *DeniedError.
var ErrDenied = errors.New("rbac: denied")

// DeniedError is the error of a refused decision. Use errors.As to get the Decision.
type DeniedError struct {
	Decision Decision
}

// Error returns the decision's reason.
func (e *DeniedError) Error() string { return "rbac: " + e.Decision.Reason() }

// Is reports whether target is ErrDenied.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Decide decides whether the holder of grants may do action on path.Leaf(). grants are
// the grants of one holder — a user with its teams' grants, or a token — in any order;
// those whose scope is not on path are ignored, so access never crosses from one tree
// into another (D2), and reaches down the path from wherever it was given (D1, D3).
// The owner of an account holds an Owner grant on it. Without a grant that suffices,
// the answer is no (D6).
//
// Decide does not allocate.
func Decide(action Action, path Path, grants []Grant) Decision {
	d := Decision{Action: action, Scope: path.Leaf()}
	if !action.Valid() {
		d.Need = Owner + 1
		d.Rule = RuleUnknownAction
		return d
	}
	row := &policy[action]
	d.Need = row.need
	if !row.kinds.Has(d.Scope.Kind) || d.Scope.ID == "" {
		d.Rule = RuleWrongKind
		if d.Scope.ID == "" || !d.Scope.Kind.Valid() {
			d.Rule = RuleInvalidScope
		}
		return d
	}
	best, bestPos := -1, -1
	content := -1 // a viewer grant on the leaf domain carrying ViewContent (D8)
	wantContent := row.special == specialViewContent
	leaf := len(path) - 1
	for i := range grants {
		g := &grants[i]
		if g.Level <= None || !g.Level.Valid() || (g.Level == Owner && !g.Scope.Kind.Ownable()) {
			continue
		}
		// A path holds at most one scope of each kind: find the one of the grant's
		// kind, then compare IDs once.
		pos := -1
		for j := range path {
			if path[j].Kind == g.Scope.Kind {
				if path[j].ID == g.Scope.ID {
					pos = j
				}
				break
			}
		}
		if pos < 0 {
			continue
		}
		if best < 0 || stronger(g, pos, &grants[best], bestPos) {
			best, bestPos = i, pos
		}
		if wantContent && pos == leaf && g.ViewContent && (content < 0 || g.Holder.Compare(grants[content].Holder) < 0) {
			content = i
		}
	}
	if best >= 0 {
		d.Level = grants[best].Level
		d.Grant = grants[best]
	}
	if row.special == specialViewContent && d.Level < Admin {
		if content >= 0 {
			d.Allowed, d.Grant, d.Rule = true, grants[content], RuleViewContent
			return d
		}
		d.Rule = RuleViewContent
		return d
	}
	if d.Level >= d.Need {
		d.Allowed = true
		switch {
		case bestPos == leaf:
			d.Rule = RuleEffective
		case path[bestPos].Kind == KindOrganization && d.Scope.Kind != KindOrganization:
			d.Rule = RuleOrgReach
		default:
			d.Rule = RuleInherit
		}
		return d
	}
	// Refused: cite the row's own rule (D7, D17, D18...), or for a plain level row,
	// D6 when nothing reached the scope and D5 when what reached it is too low.
	d.Rule = row.rules[0]
	if d.Rule == RuleEffective && d.Level == None {
		d.Rule = RuleDenyDefault
	}
	return d
}

// stronger orders the grants that reach a scope: a higher level first, then the grant
// nearer the scope, then by holder, then with ViewContent. The order is total, so the
// grant a decision reports does not depend on the order grants were given in.
func stronger(g *Grant, pos int, h *Grant, hpos int) bool {
	if g.Level != h.Level {
		return g.Level > h.Level
	}
	if pos != hpos {
		return pos > hpos
	}
	if c := g.Holder.Compare(h.Holder); c != 0 {
		return c < 0
	}
	return g.ViewContent && !h.ViewContent
}

// EffectiveLevel returns the effective level of the holder of grants on path.Leaf() (D5): the
// highest level among the grants on the path.
func EffectiveLevel(path Path, grants []Grant) Level {
	l := None
	for i := range grants {
		g := &grants[i]
		if g.Level > l && g.Level.Valid() && (g.Level != Owner || g.Scope.Kind.Ownable()) && path.Contains(g.Scope) {
			l = g.Level
		}
	}
	return l
}

// DecideToken decides for an API token (D24, D40): the token's own grants decide, and
// its effective level is capped by its creator's current effective level on the same
// scope, so a token never acts above its creator. tokenGrants are the grants that
// reach path.Leaf() for the token; creatorGrants those that reach it for the user who
// created it (its own, its teams', its owner grant). A creator who left the account
// holds nothing there, and the token then acts as nothing. live is false for a token
// that does not exist, has expired or was reset: it acts as nothing (D23).
//
// DecideToken does not allocate.
func DecideToken(action Action, path Path, tokenGrants, creatorGrants []Grant, live bool) Decision {
	if !live {
		d := Decision{Action: action, Scope: path.Leaf(), Rule: RuleTokenSecret}
		if action.Valid() {
			d.Need = policy[action].need
		}
		return d
	}
	d := Decide(action, path, tokenGrants)
	c := Decide(action, path, creatorGrants)
	if c.Level < d.Level {
		d.Level = c.Level
	}
	if d.Allowed && !c.Allowed {
		d.Allowed = false
		d.Rule = RuleTokenCreator
	}
	return d
}
