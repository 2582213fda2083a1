package account

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// CreateTeam creates a team in the account or organization (admin). Give it grants
// with SetPermissions(…, rbac.Team(id), …).
func (tx *Tx) CreateTeam(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, name string) (store.Team, error) {
	if err := validTenant(tenant); err != nil {
		return store.Team{}, err
	}
	name, err := ValidName("name", name)
	if err != nil {
		return store.Team{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTeamsManage, tenant); err != nil {
		return store.Team{}, err
	}
	t := store.Team{ID: tx.s.newID("team"), Tenant: tenant, Name: name, Created: tx.s.now()}
	if err := tx.w.InsertTeam(ctx, t); err != nil {
		return store.Team{}, err
	}
	return t, tx.Audit(ctx, tenant, actor, "team.create", rbac.Team(t.ID).String(), "", "")
}

// team loads a team the actor may manage.
func (tx *Tx) team(ctx context.Context, actor rbac.Holder, id string) (store.Team, error) {
	if err := ValidID("team", id); err != nil {
		return store.Team{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Team{}, err
	}
	t, err := tx.r.Team(ctx, id)
	if err != nil {
		return store.Team{}, notFound(rbac.Team(id))
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTeamsManage, t.Tenant); err != nil {
		var de *rbac.DeniedError
		if errors.As(err, &de) {
			return store.Team{}, notFound(rbac.Team(id))
		}
		return store.Team{}, err
	}
	return t, nil
}

// RenameTeam renames a team (admin).
func (tx *Tx) RenameTeam(ctx context.Context, actor rbac.Holder, id, name string) error {
	name, err := ValidName("name", name)
	if err != nil {
		return err
	}
	t, err := tx.team(ctx, actor, id)
	if err != nil {
		return err
	}
	t.Name = name
	if err := tx.w.UpdateTeam(ctx, t); err != nil {
		return err
	}
	return tx.Audit(ctx, t.Tenant, actor, "team.rename", rbac.Team(id).String(), "", "")
}

// DeleteTeam deletes a team with its grants. Its members lose the team's access, so
// the rules on changing access apply to every grant of the team (D10, D11, D12). An
// owner who is in the team (having joined before becoming owner) loses the place but
// not any access: the owner holds owner throughout the account (D9).
func (tx *Tx) DeleteTeam(ctx context.Context, actor rbac.Holder, id string) error {
	t, err := tx.team(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := tx.checkTeamGrants(ctx, actor, t, rbac.Team(id), true); err != nil {
		return err
	}
	if err := tx.w.DeleteTeam(ctx, id); err != nil {
		return err
	}
	return tx.Audit(ctx, t.Tenant, actor, "team.delete", rbac.Team(id).String(), "", "")
}

// AddTeamMember adds a member of the team's account to the team, giving them the
// team's grants: the actor must be able to give each of them (D11, D12), and the user
// may be neither the owner (D9) nor the actor (D10).
func (tx *Tx) AddTeamMember(ctx context.Context, actor rbac.Holder, team, user string) error {
	return tx.teamMember(ctx, actor, team, user, false)
}

// RemoveTeamMember removes a user from the team, taking the team's grants from them,
// under the same rules as AddTeamMember.
func (tx *Tx) RemoveTeamMember(ctx context.Context, actor rbac.Holder, team, user string) error {
	return tx.teamMember(ctx, actor, team, user, true)
}

func (tx *Tx) teamMember(ctx context.Context, actor rbac.Holder, team, user string, remove bool) error {
	if err := ValidID("user", user); err != nil {
		return err
	}
	t, err := tx.team(ctx, actor, team)
	if err != nil {
		return err
	}
	if err := tx.checkTeamPlace(ctx, actor, t.Tenant, team, rbac.User(user), remove); err != nil {
		return err
	}
	action, before, after := "team.add_member", "", "member"
	if remove {
		action, before, after = "team.remove_member", "member", ""
	}
	return tx.Audit(ctx, t.Tenant, actor, action, rbac.Team(team).String()+"/"+rbac.User(user).String(), before, after)
}

// checkTeamPlace checks and makes (or with remove, takes) the place of holder (a user
// or an invitation) in team, within tenant.
func (tx *Tx) checkTeamPlace(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, team string, holder rbac.Holder, remove bool) error {
	t, err := tx.r.Team(ctx, team)
	if err != nil || t.Tenant != tenant {
		return notFound(rbac.Team(team))
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTeamsManage, tenant); err != nil {
		return err
	}
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return err
	}
	if holder.Kind == rbac.HolderUser {
		if _, err := tx.r.Member(ctx, tenant, holder.ID); err != nil {
			return notFound(holder)
		}
		d := rbac.Decision{Action: rbac.AccountTeamsManage, Scope: tenant, Need: rbac.Admin}
		switch {
		case a.Owner == holder.ID:
			d.Rule = rbac.RuleOwnerImmutable
			return d.Err()
		case holder == actor:
			d.Rule = rbac.RuleNoSelfChange
			return d.Err()
		}
	}
	if err := tx.checkTeamGrants(ctx, actor, t, holder, false); err != nil {
		return err
	}
	if holder.Kind != rbac.HolderUser {
		return nil // an invitation's places are kept on the invitation
	}
	if remove {
		return tx.w.DeleteTeamMember(ctx, team, holder.ID)
	}
	if err := tx.w.InsertTeamMember(ctx, team, holder.ID); err != nil {
		if errors.Is(err, store.ErrExists) {
			return errorsExists("%v is already in %v", holder, rbac.Team(team))
		}
		return err
	}
	return nil
}

// checkTeamGrants checks that actor may give or take every grant of team t (D11,
// D12), and with selfCheck that the actor is not in the team (D10).
func (tx *Tx) checkTeamGrants(ctx context.Context, actor rbac.Holder, t store.Team, target rbac.Holder, selfCheck bool) error {
	includes := false
	if selfCheck && actor.Kind == rbac.HolderUser {
		in, err := tx.inTeam(ctx, t.ID, actor.ID)
		if err != nil {
			return err
		}
		includes = in
	}
	var grants []store.Grant
	for g, err := range tx.r.HolderGrants(ctx, rbac.Team(t.ID), t.Tenant) {
		if err != nil {
			return err
		}
		grants = append(grants, g)
	}
	if includes && len(grants) == 0 {
		d := rbac.Decision{Action: rbac.AccountTeamsManage, Scope: t.Tenant, Need: rbac.Admin, Rule: rbac.RuleNoSelfChange}
		return d.Err()
	}
	for _, g := range grants {
		lvl, err := tx.level(ctx, actor, g.Scope)
		if err != nil {
			return err
		}
		d := rbac.DecideChange(rbac.Change{
			Actor: actor, ActorLevel: lvl, Target: target, Scope: g.Scope,
			From: g.Level, To: rbac.None, TargetIncludesActor: includes,
		})
		if !d.Allowed {
			return d.Err()
		}
	}
	return nil
}

// Teams lists the teams of the account or organization (admin).
func (tx *Tx) Teams(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) ([]store.Team, error) {
	if err := validTenant(tenant); err != nil {
		return nil, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTeamsManage, tenant); err != nil {
		return nil, err
	}
	var out []store.Team
	for t, err := range tx.r.Teams(ctx, tenant) {
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
