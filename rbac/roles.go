package rbac

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Role is one of the roles of seed 001 ("owner", "admin", "member", "viewer"). Roles
// are not a second model: RoleAccess maps a role and its feature permissions onto
// grants on the scope tree (POLICY.md, "Roles and feature permissions", choice C5).
type Role string

// The roles of seed 001.
const (
	RoleOwner  Role = "owner"  // the account's owner: held, never given (D4, D16)
	RoleAdmin  Role = "admin"  // admin of the account
	RoleMember Role = "member" // no account-wide grant; the features and projects given
	RoleViewer Role = "viewer" // viewer of the account
)

// Feature is a feature of seed 001's per-feature permissions.
type Feature string

// The features, each reaching the scopes of Features.
const (
	FeatureEmailAPI  Feature = "email_api"
	FeatureSandbox   Feature = "sandbox"
	FeatureMarketing Feature = "marketing"
	FeatureAnalytics Feature = "analytics"
	FeatureSettings  Feature = "settings"
)

// Features lists every feature, in the order POLICY.md shows them.
func Features() []Feature {
	return []Feature{FeatureEmailAPI, FeatureSandbox, FeatureMarketing, FeatureAnalytics, FeatureSettings}
}

// FeatureLevel is how much of a feature a permission gives: "full", "read" or
// "none".
type FeatureLevel string

// The feature levels.
const (
	FeatureNone FeatureLevel = "none"
	FeatureRead FeatureLevel = "read"
	FeatureFull FeatureLevel = "full"
)

// ParseRole parses a role name, ignoring case and surrounding space.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	switch r {
	case RoleOwner, RoleAdmin, RoleMember, RoleViewer:
		return r, nil
	}
	return "", fmt.Errorf("rbac: unknown role %q (want owner, admin, member or viewer)", s)
}

// ParseFeature parses a feature name, ignoring case and surrounding space.
func ParseFeature(s string) (Feature, error) {
	f := Feature(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Features(), f) {
		return f, nil
	}
	return "", fmt.Errorf("rbac: unknown feature %q (want email_api, sandbox, marketing, analytics or settings)", s)
}

// ParseFeatureLevel parses a feature level: "full", "read", or "none" (also "" and
// "no"), ignoring case and surrounding space.
func ParseFeatureLevel(s string) (FeatureLevel, error) {
	switch t := strings.ToLower(strings.TrimSpace(s)); t {
	case "full", "read":
		return FeatureLevel(t), nil
	case "none", "", "no":
		return FeatureNone, nil
	}
	return "", fmt.Errorf("rbac: unknown feature level %q (want full, read or none)", s)
}

// Level returns the access level a feature level gives on the feature's scopes:
// full is admin, read is viewer, none is None (for analytics, see FeatureScopes).
func (l FeatureLevel) Level() Level {
	switch l {
	case FeatureFull:
		return Admin
	case FeatureRead:
		return Viewer
	}
	return None
}

// AccountScopes are the scopes of one account that features reach: the account, and
// its projects and sending domains as they are now.
type AccountScopes struct {
	Account  Ref
	Projects []Ref
	Domains  []Ref
}

// RoleRequest is a role and feature permissions for one member of an account, as
// seed 001's invite and update calls give them.
type RoleRequest struct {
	// Role is the account-wide role; "" leaves the account-level grant as it is.
	Role Role
	// Features are the per-feature permissions; a feature absent is left as it is.
	Features map[Feature]FeatureLevel
	// Projects are the member's assigned projects: each gets viewer access unless the
	// sandbox feature gives more, and the sandbox feature reaches these projects only.
	// Empty: none assigned, and sandbox reaches every project of the account.
	Projects []Ref
}

// ScopeLevel is one entry of a role's mapping: the level to hold on a scope, None
// meaning no grant there.
type ScopeLevel struct {
	Scope Ref
	Level Level
}

// FeatureScopes returns the scopes of acct that feature f reaches, and the most a
// permission on f gives there (analytics is read-only: full gives viewer too).
//
//   - email_api: every sending domain of the account, as it is now (a domain
//     created later is not covered: the tree has no collection scope for "all
//     domains").
//   - sandbox: the assigned projects, or every project of the account as it is now,
//     with their inboxes (D1).
//   - marketing: the account's campaigns and templates scopes.
//   - analytics: where reports live, read-only: every sending domain (its reports and
//     stats) and the campaigns scope (campaign reports).
//   - settings: the account itself, whose own actions are its settings: full is
//     account admin and read account viewer, as the admin and viewer roles.
func FeatureScopes(f Feature, acct AccountScopes, assigned []Ref) (scopes []Ref, most Level) {
	switch f {
	case FeatureEmailAPI:
		return slices.Clone(acct.Domains), Admin
	case FeatureSandbox:
		if len(assigned) > 0 {
			return slices.Clone(assigned), Admin
		}
		return slices.Clone(acct.Projects), Admin
	case FeatureMarketing:
		return []Ref{Campaigns(acct.Account.ID), Templates(acct.Account.ID)}, Admin
	case FeatureAnalytics:
		return append(slices.Clone(acct.Domains), Campaigns(acct.Account.ID)), Viewer
	case FeatureSettings:
		return []Ref{acct.Account}, Admin
	}
	return nil, None
}

// RoleAccess maps seed 001's role, feature permissions and assigned projects onto
// the scope tree of one account (choice C5): the level to hold on each scope the
// request touches, None meaning no grant there, one entry per scope, sorted. It is a
// pure function; the caller turns the entries into one all-or-nothing change of the
// member's grants, which the rules on changing access then decide (D9–D12).
//
//   - owner is refused with a *DeniedError citing D4: ownership is held, never given;
//     it moves only by a transfer (D16).
//   - admin is admin on the account, viewer is viewer on the account, member is no
//     grant on the account; "" leaves the account-level grant alone.
//   - each assigned project is viewer at least; each feature gives its level (full:
//     admin, read: viewer, none: None) on the scopes of FeatureScopes.
//   - where several entries touch one scope, the highest level wins; and a grant at
//     or below the role's account-wide level is dropped, since the account grant
//     already reaches that scope (D1) and access cannot be narrowed below where it is
//     given. Entries of level None (take the grant away) are kept.
//
// The mapping never yields owner, only scopes of the account, and is monotonic:
// full reaches every scope read does, at a level at least as high, and read likewise
// over none.
func RoleAccess(req RoleRequest, acct AccountScopes) ([]ScopeLevel, error) {
	levels := map[Ref]Level{}
	set := func(s Ref, l Level) {
		if cur, ok := levels[s]; !ok || l > cur {
			levels[s] = l
		}
	}
	var roleLevel Level
	switch req.Role {
	case "":
	case RoleOwner:
		return nil, Decision{Action: AccessManage, Scope: acct.Account, Need: Owner, Rule: RuleOwnerNotGrant}.Err()
	case RoleAdmin:
		roleLevel = Admin
	case RoleViewer:
		roleLevel = Viewer
	case RoleMember:
		roleLevel = None
	default:
		return nil, fmt.Errorf("rbac: unknown role %q", req.Role)
	}
	if req.Role != "" {
		set(acct.Account, roleLevel)
	}
	for _, p := range req.Projects {
		set(p, Viewer)
	}
	for _, f := range slices.Sorted(maps.Keys(req.Features)) {
		fl := req.Features[f]
		switch fl {
		case FeatureFull, FeatureRead, FeatureNone:
		default:
			return nil, fmt.Errorf("rbac: unknown level %q for feature %s", fl, f)
		}
		scopes, most := FeatureScopes(f, acct, req.Projects)
		if most == None {
			return nil, fmt.Errorf("rbac: unknown feature %q", f)
		}
		l := min(fl.Level(), most)
		for _, s := range scopes {
			set(s, l)
		}
	}
	out := make([]ScopeLevel, 0, len(levels))
	for s, l := range levels {
		if s != acct.Account && req.Role != "" && l > None && l <= roleLevel {
			continue // reached by the account-wide grant (D1)
		}
		out = append(out, ScopeLevel{Scope: s, Level: l})
	}
	slices.SortFunc(out, func(a, b ScopeLevel) int { return a.Scope.Compare(b.Scope) })
	return out, nil
}

// RoleOf returns the seed 001 role of a member from its place in the account: owner
// for the account's owner, admin or viewer for an account-wide grant at that level,
// and member otherwise.
func RoleOf(owner bool, accountLevel Level) Role {
	switch {
	case owner:
		return RoleOwner
	case accountLevel >= Admin:
		return RoleAdmin
	case accountLevel >= Viewer:
		return RoleViewer
	}
	return RoleMember
}
