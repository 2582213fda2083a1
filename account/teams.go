package account

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// CreateTeam creates a team in the account or organization Tenant (admin). Give it
// grants with SetPermissions{Holder: rbac.Team(id)}.
type CreateTeam struct {
	Tenant rbac.Ref
	Name   string
}

// Op returns "team.create", its log name and audit action.
func (CreateTeam) Op() string { return "team.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateTeam) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Team, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return store.Team{}, err
	}
	name, err := ValidName("name", o.Name)
	if err != nil {
		return store.Team{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTeamsManage, o.Tenant); err != nil {
		return store.Team{}, err
	}
	a, err := tx.r.Account(ctx, o.Tenant)
	if err != nil {
		return store.Team{}, err
	}
	if limit := tx.s.plans[a.Plan].Teams; limit > 0 {
		n := 0
		for _, err := range tx.r.Teams(ctx, o.Tenant) {
			if err != nil {
				return store.Team{}, err
			}
			n++
		}
		if err := withinLimit("teams", n, limit, o.Tenant, a.Plan); err != nil {
			return store.Team{}, err
		}
	}
	team := store.Team{ID: tx.Env.NewID("team"), Tenant: o.Tenant, Name: name, Created: tx.Env.Now()}
	if err := tx.w.InsertTeam(ctx, team); err != nil {
		return store.Team{}, err
	}
	return team, tx.audit(ctx, o, o.Tenant, actor, rbac.Team(team.ID).String(), "", "")
}

// team loads a team of tenant that the actor may manage: ErrNotFound naming the team
// when it is not a team of tenant or the actor may not manage teams there.
func (tx *work) team(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, team rbac.Holder) (store.Account, store.Team, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return store.Account{}, store.Team{}, err
	}
	if team.Kind != rbac.HolderTeam {
		return store.Account{}, store.Team{}, invalid("team", "not a team")
	}
	if err := ValidID("team", team.ID); err != nil {
		return store.Account{}, store.Team{}, err
	}
	a, err := tx.tenantOf(ctx, actor, tenant)
	if err != nil {
		return store.Account{}, store.Team{}, err
	}
	if _, err := tx.subject(ctx, actor, a, team); err != nil {
		return store.Account{}, store.Team{}, err
	}
	t, err := tx.r.Team(ctx, team.ID)
	return a, t, err
}

// RenameTeam renames a team (admin).
type RenameTeam struct {
	Tenant rbac.Ref
	Team   rbac.Holder
	Name   string
}

// Op returns "team.rename", its log name and audit action.
func (RenameTeam) Op() string { return "team.rename" }

// Apply runs the operation; call it through Do or Run.
func (o RenameTeam) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	name, err := ValidName("name", o.Name)
	if err != nil {
		return struct{}{}, err
	}
	_, team, err := tx.team(ctx, actor, o.Tenant, o.Team)
	if err != nil {
		return struct{}{}, err
	}
	team.Name = name
	if err := tx.w.UpdateTeam(ctx, team); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Tenant, actor, o.Team.String(), "", "")
}

// DeleteTeam deletes a team with its grants. Its members lose the team's access, so the
// rules on changing access apply to every grant of the team ([rbac.RuleNoSelfChange],
// [rbac.RuleAdminChanges], [rbac.RuleNoEscalation]). An owner who is in the team (having
// joined before becoming owner) loses the place but not any access: the owner holds owner
// throughout the account ([rbac.RuleOwnerImmutable]).
type DeleteTeam struct {
	Tenant rbac.Ref
	Team   rbac.Holder
}

// Op returns "team.delete", its log name and audit action.
func (DeleteTeam) Op() string { return "team.delete" }

// Apply runs the operation; call it through Do or Run.
func (o DeleteTeam) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	_, team, err := tx.team(ctx, actor, o.Tenant, o.Team)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.checkTeamGrants(ctx, actor, team, o.Team, true); err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteTeam(ctx, team.ID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Tenant, actor, o.Team.String(), "", "")
}

// AddTeamMember adds a member of the team's account to the team, giving them the team's
// grants: the actor must be able to give each of them ([rbac.RuleAdminChanges],
// [rbac.RuleNoEscalation]), and the user may be neither the owner
// ([rbac.RuleOwnerImmutable]) nor the actor ([rbac.RuleNoSelfChange]).
type AddTeamMember struct {
	Tenant rbac.Ref
	Team   rbac.Holder
	Member rbac.Holder
}

// Op returns "team.add_member", its log name and audit action.
func (AddTeamMember) Op() string { return "team.add_member" }

// Apply runs the operation; call it through Do or Run.
func (o AddTeamMember) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	return struct{}{}, open(t).teamMember(ctx, o, actor, o.Tenant, o.Team, o.Member, false)
}

// RemoveTeamMember removes a user from the team, taking the team's grants from them,
// under the same rules as AddTeamMember.
type RemoveTeamMember struct {
	Tenant rbac.Ref
	Team   rbac.Holder
	Member rbac.Holder
}

// Op returns "team.remove_member", its log name and audit action.
func (RemoveTeamMember) Op() string { return "team.remove_member" }

// Apply runs the operation; call it through Do or Run.
func (o RemoveTeamMember) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	return struct{}{}, open(t).teamMember(ctx, o, actor, o.Tenant, o.Team, o.Member, true)
}

func (tx *work) teamMember(ctx context.Context, op interface{ Op() string }, actor rbac.Holder, tenant rbac.Ref, team, member rbac.Holder, remove bool) error {
	if member.Kind != rbac.HolderUser {
		return invalid("member", "not a user")
	}
	if err := ValidID("member", member.ID); err != nil {
		return err
	}
	a, t, err := tx.team(ctx, actor, tenant, team)
	if err != nil {
		return err
	}
	if _, err := tx.subject(ctx, actor, a, member); err != nil {
		return err
	}
	if err := tx.teamPlace(ctx, actor, a, t.ID, member, remove); err != nil {
		return err
	}
	before, after := "", "member"
	if remove {
		before, after = "member", ""
	}
	return tx.audit(ctx, op, tenant, actor, team.String()+"/"+member.String(), before, after)
}

// teamPlace checks and makes (or with remove, takes) the place of holder (a user or
// an invitation) in team, within a.
func (tx *work) teamPlace(ctx context.Context, actor rbac.Holder, a store.Account, team string, holder rbac.Holder, remove bool) error {
	t, err := tx.r.Team(ctx, team)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Tenant != a.Ref {
		return notFound(rbac.Team(team))
	} else if err != nil {
		return err
	}
	lvl, err := tx.level(ctx, actor, a.Ref)
	if err != nil {
		return err
	}
	if d := rbac.DecideTeamPlace(actor, lvl, holder, rbac.User(a.Owner), a.Ref); !d.Allowed {
		return d.Err()
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

// checkTeamGrants checks that actor may give or take every grant of team t to or from
// target ([rbac.RuleAdminChanges], [rbac.RuleNoEscalation]), and with selfCheck that the
// actor is not in the team ([rbac.RuleNoSelfChange]).
func (tx *work) checkTeamGrants(ctx context.Context, actor rbac.Holder, t store.Team, target rbac.Holder, selfCheck bool) error {
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
		// Deleting a team one is in changes one's own places ([rbac.RuleNoSelfChange]).
		lvl, err := tx.level(ctx, actor, t.Tenant)
		if err != nil {
			return err
		}
		return rbac.DecideChange(rbac.Change{Actor: actor, ActorLevel: lvl, Target: target, Scope: t.Tenant, TargetIncludesActor: true}).Err()
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

// Teams lists the teams of the account or organization Tenant (admin), by ID.
type Teams struct {
	Tenant rbac.Ref
	Page   PageRequest
}

// Op returns "team.list", its log name.
func (Teams) Op() string { return "team.list" }

func (q Teams) from(after string) Lister[store.Team] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q Teams) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[store.Team], error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return Page[store.Team]{}, err
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[store.Team]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[store.Team]{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTeamsManage, q.Tenant); err != nil {
		return Page[store.Team]{}, err
	}
	var out []store.Team
	for team, err := range tx.r.Teams(ctx, q.Tenant) {
		if err != nil {
			return Page[store.Team]{}, err
		}
		if team.ID <= after {
			continue
		}
		out = append(out, team)
		if len(out) > limit {
			break
		}
	}
	return pageOf(out, limit, func(t store.Team) string { return t.ID }), nil
}

// TeamMembers lists the members of a team (admin), as user holders in ID order.
type TeamMembers struct {
	Tenant rbac.Ref
	Team   rbac.Holder
	Page   PageRequest
}

// Op returns "team.members", its log name.
func (TeamMembers) Op() string { return "team.members" }

func (q TeamMembers) from(after string) Lister[rbac.Holder] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q TeamMembers) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[rbac.Holder], error) {
	tx := open(t)
	limit, err := q.Page.limit()
	if err != nil {
		return Page[rbac.Holder]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[rbac.Holder]{}, err
	}
	if _, _, err := tx.team(ctx, actor, q.Tenant, q.Team); err != nil {
		return Page[rbac.Holder]{}, err
	}
	var out []rbac.Holder
	for u, err := range tx.r.TeamMembers(ctx, q.Team.ID) {
		if err != nil {
			return Page[rbac.Holder]{}, err
		}
		if u <= after {
			continue
		}
		out = append(out, rbac.User(u))
		if len(out) > limit {
			break
		}
	}
	return pageOf(out, limit, func(h rbac.Holder) string { return h.ID }), nil
}
