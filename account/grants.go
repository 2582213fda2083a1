package account

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// GrantSpec is a grant requested for a holder: a level on a scope, and on a domain
// the view-email-content flag (D8).
type GrantSpec struct {
	Scope       rbac.Ref
	Level       rbac.Level
	ViewContent bool
}

// PermissionChange is one entry of a bulk permissions update, as the platform's
// permissions/bulk: an existing grant on Scope is updated, a missing one created, and
// with Destroy the grant is removed.
type PermissionChange struct {
	Scope       rbac.Ref
	Level       rbac.Level
	ViewContent bool
	Destroy     bool
}

// validSpecs checks a list of grant requests: each scope and level well formed, no
// scope twice, the flag only on a domain.
func validSpecs(field string, specs []PermissionChange) error {
	if len(specs) > MaxGrants {
		return invalid(field, "more than %d entries", MaxGrants)
	}
	seen := make(map[rbac.Ref]bool, len(specs))
	for i, c := range specs {
		f := field + "[" + strconv.Itoa(i) + "]"
		if err := validRef(f+".scope", c.Scope); err != nil {
			return err
		}
		if seen[c.Scope] {
			return invalid(f+".scope", "%v appears twice", c.Scope)
		}
		seen[c.Scope] = true
		if c.Destroy {
			continue
		}
		if c.Level != rbac.Viewer && c.Level != rbac.Admin {
			if c.Level == rbac.Owner {
				return &rbac.DeniedError{Decision: rbac.Decision{Action: rbac.AccessManage, Scope: c.Scope, Need: rbac.Owner, Rule: rbac.RuleOwnerNotGrant}}
			}
			return invalid(f+".level", "must be viewer or admin")
		}
		if c.ViewContent && c.Scope.Kind != rbac.KindDomain {
			return invalid(f+".view_content", "only a domain grant carries the flag")
		}
	}
	return nil
}

func specsAsChanges(specs []GrantSpec) []PermissionChange {
	out := make([]PermissionChange, len(specs))
	for i, s := range specs {
		out[i] = PermissionChange{Scope: s.Scope, Level: s.Level, ViewContent: s.ViewContent}
	}
	return out
}

// target is the holder whose grants a change touches, with the facts the rules need.
type target struct {
	holder        rbac.Holder
	isOwner       bool // the owner of the tenant (D9)
	includesActor bool // the actor itself, or a team the actor is in (D10)
}

// planChange checks one grant change of t on c.Scope within tenant (whose scopes must
// contain c.Scope) and returns the grant to put (zero Level to delete).
func (tx *Tx) planChange(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, t target, c PermissionChange) (store.Grant, rbac.Level, error) {
	p, g, err := tx.reach(ctx, actor, c.Scope)
	if err != nil {
		return store.Grant{}, 0, err
	}
	if p.Tenant() != tenant {
		return store.Grant{}, 0, notFound(c.Scope)
	}
	actorLevel := rbac.EffectiveLevel(p, g)
	if actorLevel == rbac.None {
		if seen, err := tx.seesBelow(ctx, actor, p); err != nil {
			return store.Grant{}, 0, err
		} else if !seen {
			return store.Grant{}, 0, notFound(c.Scope)
		}
	}
	from := rbac.None
	cur, err := tx.r.Grant(ctx, t.holder, c.Scope)
	switch {
	case err == nil:
		from = cur.Level
	case !errors.Is(err, store.ErrNotFound):
		return store.Grant{}, 0, err
	case c.Destroy:
		return store.Grant{}, 0, notFound(c.Scope)
	}
	to := c.Level
	if c.Destroy {
		to = rbac.None
	}
	d := rbac.DecideChange(rbac.Change{
		Actor: actor, ActorLevel: actorLevel, Target: t.holder, Scope: c.Scope,
		From: from, To: to, TargetIsOwner: t.isOwner, TargetIncludesActor: t.includesActor,
	})
	if !d.Allowed {
		return store.Grant{}, 0, d.Err()
	}
	return store.Grant{Grant: rbac.Grant{Holder: t.holder, Scope: c.Scope, Level: to, ViewContent: c.ViewContent && !c.Destroy}, Tenant: tenant}, from, nil
}

// applyChanges checks every change first and then applies them all: all or nothing.
// It returns before/after summaries for the audit event.
func (tx *Tx) applyChanges(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, t target, changes []PermissionChange) (before, after string, err error) {
	planned := make([]store.Grant, 0, len(changes))
	var b, a []string
	for _, c := range changes {
		g, from, err := tx.planChange(ctx, actor, tenant, t, c)
		if err != nil {
			return "", "", err
		}
		planned = append(planned, g)
		b = append(b, c.Scope.String()+"="+from.String())
		a = append(a, c.Scope.String()+"="+g.Level.String())
	}
	for _, g := range planned {
		if g.Level == rbac.None {
			err = tx.w.DeleteGrant(ctx, g.Holder, g.Scope)
		} else {
			err = tx.w.PutGrant(ctx, g)
		}
		if err != nil {
			return "", "", err
		}
	}
	return strings.Join(b, ","), strings.Join(a, ","), nil
}

// targetOf resolves holder h as a target within tenant: it must exist there (a member,
// an invitation made there, a token or team of the tenant).
func (tx *Tx) targetOf(ctx context.Context, actor rbac.Holder, tenant store.Account, h rbac.Holder) (target, error) {
	t := target{holder: h, includesActor: h == actor}
	switch h.Kind {
	case rbac.HolderUser:
		if _, err := tx.r.Member(ctx, tenant.Ref, h.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return t, notFound(h)
			}
			return t, err
		}
		t.isOwner = tenant.Owner == h.ID
	case rbac.HolderInvite:
		inv, err := tx.r.Invitation(ctx, h.ID)
		if err != nil || inv.Tenant != tenant.Ref {
			return t, notFound(h)
		}
	case rbac.HolderToken:
		tok, err := tx.r.Token(ctx, h.ID)
		if err != nil || tok.Tenant != tenant.Ref {
			return t, notFound(h)
		}
	case rbac.HolderTeam:
		team, err := tx.r.Team(ctx, h.ID)
		if err != nil || team.Tenant != tenant.Ref {
			return t, notFound(h)
		}
		if actor.Kind == rbac.HolderUser {
			in, err := tx.inTeam(ctx, h.ID, actor.ID)
			if err != nil {
				return t, err
			}
			t.includesActor = in
		}
	default:
		return t, invalid("holder.kind", "not a holder kind")
	}
	return t, nil
}

func (tx *Tx) inTeam(ctx context.Context, team, user string) (bool, error) {
	for u, err := range tx.r.TeamMembers(ctx, team) {
		if err != nil {
			return false, err
		}
		if u == user {
			return true, nil
		}
	}
	return false, nil
}

// SetPermissions applies a bulk permissions update to the grants of target in the
// account or organization tenant (D11, D12, D9, D10, D24), all or nothing: one
// refused entry refuses them all. target is a member, an invitation, a token or a
// team of the tenant.
func (tx *Tx) SetPermissions(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, target rbac.Holder, changes []PermissionChange) error {
	if err := validTenant(tenant); err != nil {
		return err
	}
	if err := validHolder("target", target); err != nil {
		return err
	}
	if len(changes) == 0 {
		return invalid("permissions", "empty")
	}
	if err := validSpecs("permissions", changes); err != nil {
		return err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return err
	}
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return notFound(tenant)
	}
	t, err := tx.targetOf(ctx, actor, a, target)
	if err != nil {
		return err
	}
	if target.Kind == rbac.HolderToken || target.Kind == rbac.HolderInvite {
		for i, c := range changes {
			if !tokenKinds.Has(c.Scope.Kind) && target.Kind == rbac.HolderToken {
				return invalid("permissions["+strconv.Itoa(i)+"].scope", "a token holds grants on organizations, accounts, projects, inboxes and domains only (D22)")
			}
		}
	}
	before, after, err := tx.applyChanges(ctx, actor, tenant, t, changes)
	if err != nil {
		return err
	}
	return tx.Audit(ctx, tenant, actor, "permissions.set", target.String(), before, after)
}

// RemoveFromResource removes target's grants on scope (a project, inbox or domain)
// and below (D14). A removed user stays in the account, possibly with no access, and
// still counts to seats.
func (tx *Tx) RemoveFromResource(ctx context.Context, actor rbac.Holder, target rbac.Holder, scope rbac.Ref) error {
	if err := validRef("scope", scope); err != nil {
		return err
	}
	if scope.Kind == rbac.KindAccount || scope.Kind == rbac.KindOrganization {
		return invalid("scope", "use RemoveMember to remove a member from the account (D13)")
	}
	if err := validHolder("target", target); err != nil {
		return err
	}
	p, _, err := tx.authorize(ctx, actor, rbac.AccessManage, scope)
	if err != nil {
		return err
	}
	a, err := tx.r.Account(ctx, p.Tenant())
	if err != nil {
		return err
	}
	t, err := tx.targetOf(ctx, actor, a, target)
	if err != nil {
		return err
	}
	// The owner (D9) and the actor itself (D10) are refused before anything else.
	if d := rbac.DecideChange(rbac.Change{
		Actor: actor, ActorLevel: rbac.Admin, Target: target, Scope: scope,
		TargetIsOwner: t.isOwner, TargetIncludesActor: t.includesActor,
	}); !d.Allowed {
		return d.Err()
	}
	var changes []PermissionChange
	for g, err := range tx.r.ScopeGrants(ctx, scope, true) {
		if err != nil {
			return err
		}
		if g.Holder == target {
			changes = append(changes, PermissionChange{Scope: g.Scope, Destroy: true})
		}
	}
	if len(changes) == 0 {
		return notFound(target)
	}
	before, after, err := tx.applyChanges(ctx, actor, a.Ref, t, changes)
	if err != nil {
		return err
	}
	return tx.Audit(ctx, a.Ref, actor, "member.remove_from_resource", target.String(), before, after)
}

// RemoveMember removes user from the account or organization (D13): the user loses
// every grant and team place there (in an organization, in its sub-accounts too),
// stays a user, and no longer counts to seats. Nobody removes the owner (D9) or
// themselves (D10; use Leave).
func (tx *Tx) RemoveMember(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, user string) error {
	if err := validTenant(tenant); err != nil {
		return err
	}
	if err := ValidID("user", user); err != nil {
		return err
	}
	_, d, err := tx.authorize(ctx, actor, rbac.AccountMembersRemove, tenant)
	if err != nil {
		return err
	}
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return err
	}
	if _, err := tx.r.Member(ctx, tenant, user); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(rbac.User(user))
		}
		return err
	}
	switch {
	case a.Owner == user:
		d.Allowed, d.Rule = false, rbac.RuleOwnerImmutable
		return d.Err()
	case actor == rbac.User(user):
		d.Allowed, d.Rule = false, rbac.RuleNoSelfChange
		return d.Err()
	}
	tenants := []rbac.Ref{tenant}
	if tenant.Kind == rbac.KindOrganization {
		for sub, err := range collect(tx.r.SubAccounts(ctx, tenant.ID)) {
			if err != nil {
				return err
			}
			tenants = append(tenants, sub.Ref)
		}
	}
	for _, t := range tenants {
		err := tx.w.DeleteMember(ctx, t, user)
		if err != nil && !(t != tenant && errors.Is(err, store.ErrNotFound)) {
			return err
		}
	}
	return tx.Audit(ctx, tenant, actor, "member.remove", rbac.User(user).String(), "member", "")
}

var tokenKinds = rbac.KindsOf(rbac.KindOrganization, rbac.KindAccount, rbac.KindProject, rbac.KindInbox, rbac.KindDomain)
