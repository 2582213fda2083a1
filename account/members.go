package account

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// InviteRequest is an invitation by email with grants and team places in one call
// (D19). Grants may be on the tenant and, when it is an organization, on its
// sub-accounts and what they hold.
type InviteRequest struct {
	Email  string
	Grants []GrantSpec
	Teams  []string
}

// Invite invites an email address into the account or organization tenant (D19). The
// actor needs admin there; the plan must include user management (D21); the invited
// address must not be a member already (ErrExists) and must fit in the seats (D20,
// C3); every grant and team place obeys the rules on changing access (D11, D12).
func (tx *Tx) Invite(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, req InviteRequest) (store.Invitation, error) {
	if err := validTenant(tenant); err != nil {
		return store.Invitation{}, err
	}
	email, err := NormalizeEmail(req.Email)
	if err != nil {
		return store.Invitation{}, err
	}
	changes := specsAsChanges(req.Grants)
	if err := validSpecs("grants", changes); err != nil {
		return store.Invitation{}, err
	}
	if len(req.Teams) > MaxGrants {
		return store.Invitation{}, invalid("teams", "more than %d entries", MaxGrants)
	}
	for i, id := range req.Teams {
		if err := ValidID("teams["+strconv.Itoa(i)+"]", id); err != nil {
			return store.Invitation{}, err
		}
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, tenant); err != nil {
		return store.Invitation{}, err
	}
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return store.Invitation{}, err
	}
	if p := tx.s.plans[a.Plan]; !p.UserManagement {
		return store.Invitation{}, errorsJoinPlan("user management", a.Plan)
	}
	if u, err := tx.r.UserByEmail(ctx, email); err == nil {
		if _, err := tx.r.Member(ctx, tenant, u.ID); err == nil {
			return store.Invitation{}, errorsExists("%v is already a member of %v (D19)", rbac.User(u.ID), tenant)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Invitation{}, err
	}
	limit, err := tx.seatLimit(ctx, a)
	if err != nil {
		return store.Invitation{}, err
	}
	if limit > 0 { // without a limit, nothing to count
		pool, err := tx.seatPool(ctx, a)
		if err != nil {
			return store.Invitation{}, err
		}
		if _, counted := pool.emails[email]; !counted && len(pool.emails)+1 > pool.limit {
			return store.Invitation{}, seatError(len(pool.emails), pool.limit)
		}
	}
	inv := store.Invitation{ID: tx.s.newID("inv"), Tenant: tenant, Email: email, InvitedBy: actor, Teams: slices.Clone(req.Teams), Created: tx.s.now()}
	if err := tx.w.InsertInvitation(ctx, inv); err != nil {
		if errors.Is(err, store.ErrExists) {
			return store.Invitation{}, errorsExists("an invitation of this address is pending in %v", tenant)
		}
		return store.Invitation{}, err
	}
	t := target{holder: rbac.Invite(inv.ID)}
	var after []string
	for _, c := range changes {
		p, err := tx.r.Path(ctx, c.Scope, nil)
		if errors.Is(err, store.ErrNotFound) {
			return store.Invitation{}, notFound(c.Scope)
		} else if err != nil {
			return store.Invitation{}, err
		}
		if !p.Contains(tenant) {
			return store.Invitation{}, notFound(c.Scope)
		}
		g, _, err := tx.planChange(ctx, actor, p.Tenant(), t, c)
		if err != nil {
			return store.Invitation{}, err
		}
		if err := tx.w.PutGrant(ctx, g); err != nil {
			return store.Invitation{}, err
		}
		after = append(after, c.Scope.String()+"="+c.Level.String())
	}
	for _, team := range req.Teams {
		if err := tx.checkTeamPlace(ctx, actor, tenant, team, rbac.Invite(inv.ID), false); err != nil {
			return store.Invitation{}, err
		}
		after = append(after, "team:"+team)
	}
	return inv, tx.Audit(ctx, tenant, actor, "member.invite", rbac.Invite(inv.ID).String(), "", strings.Join(after, ","))
}

// AcceptInvitation turns the invitation into memberships of the user actor, whose
// email must be the invited one: the user joins every account the invitation has
// grants in, receives its grants and joins its teams (D19).
func (tx *Tx) AcceptInvitation(ctx context.Context, actor rbac.Holder, id string) error {
	if err := ValidID("invitation", id); err != nil {
		return err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return err
	}
	if actor.Kind != rbac.HolderUser {
		return notFound(rbac.Invite(id))
	}
	u, err := tx.r.User(ctx, actor.ID)
	if err != nil {
		return err
	}
	inv, err := tx.r.Invitation(ctx, id)
	if err != nil || !strings.EqualFold(inv.Email, u.Email) {
		return notFound(rbac.Invite(id))
	}
	var grants []store.Grant
	tenants := []rbac.Ref{inv.Tenant}
	for g, err := range tx.r.HolderGrants(ctx, rbac.Invite(id), inv.Tenant) {
		if err != nil {
			return err
		}
		grants = append(grants, g)
	}
	if inv.Tenant.Kind == rbac.KindOrganization {
		for sub, err := range collect(tx.r.SubAccounts(ctx, inv.Tenant.ID)) {
			if err != nil {
				return err
			}
			n := len(grants)
			for g, err := range tx.r.HolderGrants(ctx, rbac.Invite(id), sub.Ref) {
				if err != nil {
					return err
				}
				grants = append(grants, g)
			}
			if len(grants) > n {
				tenants = append(tenants, sub.Ref)
			}
		}
	}
	for _, t := range tenants {
		if _, err := tx.r.Member(ctx, t, u.ID); errors.Is(err, store.ErrNotFound) {
			if err := tx.w.InsertMember(ctx, store.Member{Tenant: t, User: u.ID, Created: tx.s.now()}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	for _, g := range grants {
		mine := g
		mine.Holder = rbac.User(u.ID)
		if cur, err := tx.r.Grant(ctx, mine.Holder, g.Scope); err == nil && cur.Level > g.Level {
			continue
		}
		if err := tx.w.PutGrant(ctx, mine); err != nil {
			return err
		}
	}
	for _, team := range inv.Teams {
		err := tx.w.InsertTeamMember(ctx, team, u.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	if err := tx.w.DeleteInvitation(ctx, id); err != nil {
		return err
	}
	return tx.Audit(ctx, inv.Tenant, actor, "member.accept", rbac.Invite(id).String(), "", actor.String())
}

// RevokeInvitation removes a pending invitation with its grants (admin, D19).
func (tx *Tx) RevokeInvitation(ctx context.Context, actor rbac.Holder, id string) error {
	if err := ValidID("invitation", id); err != nil {
		return err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return err
	}
	inv, err := tx.r.Invitation(ctx, id)
	if err != nil {
		return notFound(rbac.Invite(id))
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, inv.Tenant); err != nil {
		var de *rbac.DeniedError
		if errors.As(err, &de) {
			return notFound(rbac.Invite(id))
		}
		return err
	}
	if err := tx.w.DeleteInvitation(ctx, id); err != nil {
		return err
	}
	return tx.Audit(ctx, inv.Tenant, actor, "member.revoke_invitation", rbac.Invite(id).String(), "invited", "")
}

// DeclineInvitations removes every invitation of email without a policy check or an
// audit event: a step of deleting a profile (D30), audited by the caller.
func (tx *Tx) DeclineInvitations(ctx context.Context, email string) error {
	var ids []store.Invitation
	for inv, err := range tx.r.InvitationsByEmail(ctx, email) {
		if err != nil {
			return err
		}
		ids = append(ids, inv)
	}
	for _, inv := range ids {
		if err := tx.w.DeleteInvitation(ctx, inv.ID); err != nil {
			return err
		}
	}
	return nil
}

// seats is a seat pool: the account, or the organization an account is in, with the
// addresses that count to it (D20, C3) and its limit (0: none).
type seats struct {
	emails map[string]struct{}
	limit  int
}

// seatPool counts the users of a's pool: every member of the account (or of the
// organization and all its sub-accounts, once each) and every pending invitation.
func (tx *Tx) seatPool(ctx context.Context, a store.Account) (seats, error) {
	root, err := tx.seatRoot(ctx, a)
	if err != nil {
		return seats{}, err
	}
	pool := seats{emails: map[string]struct{}{}, limit: tx.s.plans[root.Plan].Seats}
	tenants := []rbac.Ref{root.Ref}
	if root.Ref.Kind == rbac.KindOrganization {
		for sub, err := range tx.r.SubAccounts(ctx, root.Ref.ID) {
			if err != nil {
				return seats{}, err
			}
			tenants = append(tenants, sub.Ref)
		}
	}
	for _, t := range tenants {
		after := ""
		for {
			page, err := tx.r.Members(ctx, t, after, 500)
			if err != nil {
				return seats{}, err
			}
			for _, m := range page {
				u, err := tx.r.User(ctx, m.User)
				if err != nil {
					return seats{}, err
				}
				pool.emails[strings.ToLower(u.Email)] = struct{}{}
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].User
		}
		for inv, err := range tx.r.Invitations(ctx, t) {
			if err != nil {
				return seats{}, err
			}
			pool.emails[strings.ToLower(inv.Email)] = struct{}{}
		}
	}
	return pool, nil
}

// seatLimit returns the seat limit of a's pool (0: none): its organization's plan's
// for a sub-account, else its own.
func (tx *Tx) seatLimit(ctx context.Context, a store.Account) (int, error) {
	root, err := tx.seatRoot(ctx, a)
	return tx.s.plans[root.Plan].Seats, err
}

// seatRoot returns the account whose plan and pool a's seats belong to: its
// organization for a sub-account, else a itself.
func (tx *Tx) seatRoot(ctx context.Context, a store.Account) (store.Account, error) {
	if a.Org == "" {
		return a, nil
	}
	return tx.r.Account(ctx, rbac.Org(a.Org))
}

// seatsUsed returns how many seats a's pool uses.
func (tx *Tx) seatsUsed(ctx context.Context, a store.Account) (int, error) {
	p, err := tx.seatPool(ctx, a)
	return len(p.emails), err
}

// Seats returns the seats used in the account's pool and its limit (0: none).
func (tx *Tx) Seats(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) (used, limit int, err error) {
	if err := validTenant(tenant); err != nil {
		return 0, 0, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.MembersList, tenant); err != nil {
		return 0, 0, err
	}
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return 0, 0, err
	}
	p, err := tx.seatPool(ctx, a)
	return len(p.emails), p.limit, err
}
