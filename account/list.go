package account

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// MemberFilter narrows a member listing to the holders with access to any of Scopes
// (projects, inboxes or domains); empty means no filter.
type MemberFilter struct {
	Scopes []rbac.Ref
}

// Access is one entry of a member listing: a user or a pending invitation, with its
// grants in the account and what the actor may do with it.
type Access struct {
	Holder     rbac.Holder      // rbac.User or rbac.Invite
	User       store.User       // for a user
	Invitation store.Invitation // for an invitation
	Owner      bool             // the account's owner
	Grants     []store.Grant    // the holder's own grants that the actor may see
	Teams      []string         // the holder's teams in the account
	CanUpdate  bool             // the actor may change these grants
	CanDestroy bool             // the actor may remove the holder from the account
	CanLeave   bool             // this is the actor, who may leave
}

// Email returns the user's or the invitation's email address.
func (a Access) Email() string {
	if a.Holder.Kind == rbac.HolderInvite {
		return a.Invitation.Email
	}
	return a.User.Email
}

// Members lists the members and pending invitations of the account or organization
// that the actor may see (D18): owners and admins of the account (and users of its
// organization) see everyone; a project, inbox or domain admin sees only the holders
// with access to a resource they administer; anyone else is refused. Filters keep the
// holders with access to one of the given resources.
func (tx *Tx) Members(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, f MemberFilter) ([]Access, error) {
	if err := validTenant(tenant); err != nil {
		return nil, err
	}
	if len(f.Scopes) > MaxGrants {
		return nil, invalid("filter", "more than %d scopes", MaxGrants)
	}
	for i, r := range f.Scopes {
		if err := validRef("filter["+strconv.Itoa(i)+"]", r); err != nil {
			return nil, err
		}
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return nil, err
	}
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return nil, notFound(tenant)
	}
	p, g, err := tx.reach(ctx, actor, tenant)
	if err != nil {
		return nil, err
	}
	lvl := rbac.EffectiveLevel(p, g)
	all := lvl >= rbac.Admin || tenant.Kind == rbac.KindOrganization && lvl >= rbac.Viewer
	if a.Org != "" && !all {
		orgLvl, err := tx.level(ctx, actor, rbac.Org(a.Org))
		if err != nil {
			return nil, err
		}
		all = orgLvl >= rbac.Viewer
	}

	// The holders the actor may see, and the scopes whose grants it may see.
	var visible map[rbac.Holder]bool
	var within []rbac.Ref // administered scopes; nil when all is true
	if !all {
		within, err = tx.administered(ctx, actor, tenant)
		if err != nil {
			return nil, err
		}
		if len(within) == 0 {
			if lvl == rbac.None {
				if m, _ := tx.isMember(ctx, actor, tenant); !m {
					return nil, notFound(tenant)
				}
			}
			d := rbac.Decide(rbac.MembersList, p, g)
			return nil, d.Err()
		}
		visible = map[rbac.Holder]bool{}
		for _, s := range within {
			if err := tx.holdersWithAccess(ctx, a, s, visible); err != nil {
				return nil, err
			}
		}
	}
	if len(f.Scopes) > 0 {
		keep := map[rbac.Holder]bool{}
		for _, s := range f.Scopes {
			sp, err := tx.r.Path(ctx, s, nil)
			if err != nil || sp.Tenant() != tenant {
				return nil, notFound(s)
			}
			if err := tx.holdersWithAccess(ctx, a, s, keep); err != nil {
				return nil, err
			}
		}
		if visible == nil {
			visible = keep
		} else {
			for h := range visible {
				if !keep[h] {
					delete(visible, h)
				}
			}
		}
	}

	var holders []rbac.Holder
	if visible == nil {
		after := ""
		for {
			page, err := tx.r.Members(ctx, tenant, after, 500)
			if err != nil {
				return nil, err
			}
			for _, m := range page {
				holders = append(holders, rbac.User(m.User))
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].User
		}
		for inv, err := range tx.r.Invitations(ctx, tenant) {
			if err != nil {
				return nil, err
			}
			holders = append(holders, rbac.Invite(inv.ID))
		}
	} else {
		for h := range visible {
			holders = append(holders, h)
		}
	}
	slices.SortFunc(holders, rbac.Holder.Compare)

	out := make([]Access, 0, len(holders))
	for _, h := range holders {
		acc := Access{Holder: h}
		switch h.Kind {
		case rbac.HolderUser:
			if _, err := tx.r.Member(ctx, tenant, h.ID); err != nil {
				continue // access through the organization only
			}
			if acc.User, err = tx.r.User(ctx, h.ID); err != nil {
				return nil, err
			}
			acc.Owner = a.Owner == h.ID
			for t, err := range tx.r.UserTeams(ctx, h.ID, tenant) {
				if err != nil {
					return nil, err
				}
				acc.Teams = append(acc.Teams, t.ID)
			}
		case rbac.HolderInvite:
			if acc.Invitation, err = tx.r.Invitation(ctx, h.ID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				return nil, err
			}
			if acc.Invitation.Tenant != tenant {
				continue // made in the organization: listed there
			}
		default:
			continue
		}
		for gr, err := range tx.r.HolderGrants(ctx, h, tenant) {
			if err != nil {
				return nil, err
			}
			if within != nil && !tx.related(ctx, gr.Scope, within) {
				continue
			}
			acc.Grants = append(acc.Grants, gr)
		}
		self := h == actor
		acc.CanUpdate = !acc.Owner && !self
		acc.CanDestroy = !acc.Owner && !self && lvl >= rbac.Admin
		acc.CanLeave = self && !acc.Owner
		out = append(out, acc)
	}
	return out, nil
}

// administered returns the project, inbox and domain scopes of tenant on which actor
// (or one of its teams) holds admin.
func (tx *Tx) administered(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) ([]rbac.Ref, error) {
	holders := []rbac.Holder{actor}
	if actor.Kind == rbac.HolderUser {
		for t, err := range tx.r.UserTeams(ctx, actor.ID, tenant) {
			if err != nil {
				return nil, err
			}
			holders = append(holders, rbac.Team(t.ID))
		}
	}
	var out []rbac.Ref
	for _, h := range holders {
		for g, err := range tx.r.HolderGrants(ctx, h, tenant) {
			if err != nil {
				return nil, err
			}
			switch g.Scope.Kind {
			case rbac.KindProject, rbac.KindInbox, rbac.KindDomain:
				if g.Level >= rbac.Admin && !slices.Contains(out, g.Scope) {
					out = append(out, g.Scope)
				}
			}
		}
	}
	return out, nil
}

// holdersWithAccess adds to set every user and invitation with access to scope: the
// holders of grants on scope, below it and on its ancestors, the members of teams
// among them, and the account's owner.
func (tx *Tx) holdersWithAccess(ctx context.Context, a store.Account, scope rbac.Ref, set map[rbac.Holder]bool) error {
	p, err := tx.r.Path(ctx, scope, nil)
	if err != nil {
		return err
	}
	add := func(h rbac.Holder) error {
		switch h.Kind {
		case rbac.HolderUser, rbac.HolderInvite:
			set[h] = true
		case rbac.HolderTeam:
			for u, err := range tx.r.TeamMembers(ctx, h.ID) {
				if err != nil {
					return err
				}
				set[rbac.User(u)] = true
			}
		}
		return nil
	}
	for i, s := range p {
		for g, err := range tx.r.ScopeGrants(ctx, s, i == len(p)-1) {
			if err != nil {
				return err
			}
			if err := add(g.Holder); err != nil {
				return err
			}
		}
	}
	set[rbac.User(a.Owner)] = true
	return nil
}

// related reports whether scope is on the path to, or below, one of within.
func (tx *Tx) related(ctx context.Context, scope rbac.Ref, within []rbac.Ref) bool {
	p, err := tx.r.Path(ctx, scope, nil)
	if err != nil {
		return false
	}
	for _, w := range within {
		if p.Contains(w) {
			return true
		}
		wp, err := tx.r.Path(ctx, w, nil)
		if err == nil && wp.Contains(scope) {
			return true
		}
	}
	return false
}

// AccountAccess is an account a user belongs to, with the user's levels there (D29).
type AccountAccess struct {
	Account store.Account
	// Level is the user's effective level on the account itself.
	Level rbac.Level
	// Levels are the distinct levels the user holds anywhere in the account, highest
	// first, as the platform's access_levels.
	Levels []rbac.Level
}

// MyAccounts lists every account and organization the actor belongs to, with its
// levels there (D29). For a token, the token's own account.
func (tx *Tx) MyAccounts(ctx context.Context, actor rbac.Holder) ([]AccountAccess, error) {
	if err := tx.checkActor(ctx, actor); err != nil {
		return nil, err
	}
	var tenants []rbac.Ref
	if actor.Kind == rbac.HolderToken {
		t, err := tx.r.Token(ctx, actor.ID)
		if err != nil {
			return nil, err
		}
		tenants = append(tenants, t.Tenant)
	} else {
		for m, err := range tx.r.Memberships(ctx, actor.ID) {
			if err != nil {
				return nil, err
			}
			tenants = append(tenants, m.Tenant)
		}
	}
	out := make([]AccountAccess, 0, len(tenants))
	for _, t := range tenants {
		a, err := tx.r.Account(ctx, t)
		if err != nil {
			return nil, err
		}
		lvl, err := tx.level(ctx, actor, t)
		if err != nil {
			return nil, err
		}
		acc := AccountAccess{Account: a, Level: lvl}
		if lvl > rbac.None {
			acc.Levels = append(acc.Levels, lvl)
		}
		holders := []rbac.Holder{actor}
		if actor.Kind == rbac.HolderUser {
			for tm, err := range tx.r.UserTeams(ctx, actor.ID, t) {
				if err != nil {
					return nil, err
				}
				holders = append(holders, rbac.Team(tm.ID))
			}
		}
		for _, h := range holders {
			for g, err := range tx.r.HolderGrants(ctx, h, t) {
				if err != nil {
					return nil, err
				}
				if !slices.Contains(acc.Levels, g.Level) {
					acc.Levels = append(acc.Levels, g.Level)
				}
			}
		}
		slices.SortFunc(acc.Levels, func(x, y rbac.Level) int { return int(y) - int(x) })
		out = append(out, acc)
	}
	return out, nil
}
