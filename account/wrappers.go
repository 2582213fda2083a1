package account

import (
	"context"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Each Service method below runs the Tx method of the same name in a transaction of
// its own; see the Tx method for what it does.

type none struct{}

func run0(s *Service, ctx context.Context, op string, fn func(context.Context, *Tx) error) error {
	_, err := run(s, ctx, op, func(ctx context.Context, tx *Tx) (none, error) { return none{}, fn(ctx, tx) })
	return err
}

// CreateAccount runs Tx.CreateAccount.
func (s *Service) CreateAccount(ctx context.Context, owner rbac.Holder, name string) (store.Account, error) {
	return run(s, ctx, "account.create", func(ctx context.Context, tx *Tx) (store.Account, error) { return tx.CreateAccount(ctx, owner, name) })
}

// CreateOrganization runs Tx.CreateOrganization.
func (s *Service) CreateOrganization(ctx context.Context, owner rbac.Holder, name, plan string) (store.Account, error) {
	return run(s, ctx, "organization.create", func(ctx context.Context, tx *Tx) (store.Account, error) {
		return tx.CreateOrganization(ctx, owner, name, plan)
	})
}

// CreateSubAccount runs Tx.CreateSubAccount.
func (s *Service) CreateSubAccount(ctx context.Context, actor rbac.Holder, org, name string) (store.Account, error) {
	return run(s, ctx, "subaccount.create", func(ctx context.Context, tx *Tx) (store.Account, error) {
		return tx.CreateSubAccount(ctx, actor, org, name)
	})
}

// SubAccounts runs Tx.SubAccounts.
func (s *Service) SubAccounts(ctx context.Context, actor rbac.Holder, org string) ([]store.Account, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]store.Account, error) { return tx.SubAccounts(ctx, actor, org) })
}

// Get runs Tx.Get.
func (s *Service) Get(ctx context.Context, actor rbac.Holder, ref rbac.Ref) (store.Account, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) (store.Account, error) { return tx.Get(ctx, actor, ref) })
}

// Rename runs Tx.Rename.
func (s *Service) Rename(ctx context.Context, actor rbac.Holder, ref rbac.Ref, name string) error {
	return run0(s, ctx, "account.rename", func(ctx context.Context, tx *Tx) error { return tx.Rename(ctx, actor, ref, name) })
}

// Delete runs Tx.Delete.
func (s *Service) Delete(ctx context.Context, actor rbac.Holder, ref rbac.Ref) error {
	return run0(s, ctx, "account.delete", func(ctx context.Context, tx *Tx) error { return tx.Delete(ctx, actor, ref) })
}

// TransferOwnership runs Tx.TransferOwnership.
func (s *Service) TransferOwnership(ctx context.Context, actor rbac.Holder, ref rbac.Ref, to string) error {
	return run0(s, ctx, "account.transfer", func(ctx context.Context, tx *Tx) error { return tx.TransferOwnership(ctx, actor, ref, to) })
}

// Leave runs Tx.Leave.
func (s *Service) Leave(ctx context.Context, actor rbac.Holder, ref rbac.Ref) error {
	return run0(s, ctx, "member.leave", func(ctx context.Context, tx *Tx) error { return tx.Leave(ctx, actor, ref) })
}

// SetPlan runs Tx.SetPlan.
func (s *Service) SetPlan(ctx context.Context, actor rbac.Holder, ref rbac.Ref, plan string) error {
	return run0(s, ctx, "plan.set", func(ctx context.Context, tx *Tx) error { return tx.SetPlan(ctx, actor, ref, plan) })
}

// CreateProject runs Tx.CreateProject.
func (s *Service) CreateProject(ctx context.Context, actor rbac.Holder, acct, name string) (store.Resource, error) {
	return run(s, ctx, "project.create", func(ctx context.Context, tx *Tx) (store.Resource, error) {
		return tx.CreateProject(ctx, actor, acct, name)
	})
}

// CreateInbox runs Tx.CreateInbox.
func (s *Service) CreateInbox(ctx context.Context, actor rbac.Holder, project, name string) (store.Resource, error) {
	return run(s, ctx, "inbox.create", func(ctx context.Context, tx *Tx) (store.Resource, error) {
		return tx.CreateInbox(ctx, actor, project, name)
	})
}

// CreateDomain runs Tx.CreateDomain.
func (s *Service) CreateDomain(ctx context.Context, actor rbac.Holder, acct, name string) (store.Resource, error) {
	return run(s, ctx, "domain.create", func(ctx context.Context, tx *Tx) (store.Resource, error) {
		return tx.CreateDomain(ctx, actor, acct, name)
	})
}

// RenameResource runs Tx.RenameResource.
func (s *Service) RenameResource(ctx context.Context, actor rbac.Holder, ref rbac.Ref, name string) error {
	return run0(s, ctx, "resource.rename", func(ctx context.Context, tx *Tx) error { return tx.RenameResource(ctx, actor, ref, name) })
}

// DeleteResource runs Tx.DeleteResource.
func (s *Service) DeleteResource(ctx context.Context, actor rbac.Holder, ref rbac.Ref) error {
	return run0(s, ctx, "resource.delete", func(ctx context.Context, tx *Tx) error { return tx.DeleteResource(ctx, actor, ref) })
}

// Resources runs Tx.Resources.
func (s *Service) Resources(ctx context.Context, actor rbac.Holder, acct string) ([]Node, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]Node, error) { return tx.Resources(ctx, actor, acct) })
}

// Invite runs Tx.Invite.
func (s *Service) Invite(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, req InviteRequest) (store.Invitation, error) {
	return run(s, ctx, "member.invite", func(ctx context.Context, tx *Tx) (store.Invitation, error) { return tx.Invite(ctx, actor, tenant, req) })
}

// AcceptInvitation runs Tx.AcceptInvitation.
func (s *Service) AcceptInvitation(ctx context.Context, actor rbac.Holder, id string) error {
	return run0(s, ctx, "member.accept", func(ctx context.Context, tx *Tx) error { return tx.AcceptInvitation(ctx, actor, id) })
}

// RevokeInvitation runs Tx.RevokeInvitation.
func (s *Service) RevokeInvitation(ctx context.Context, actor rbac.Holder, id string) error {
	return run0(s, ctx, "member.revoke_invitation", func(ctx context.Context, tx *Tx) error { return tx.RevokeInvitation(ctx, actor, id) })
}

// SetPermissions runs Tx.SetPermissions.
func (s *Service) SetPermissions(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, target rbac.Holder, changes []PermissionChange) error {
	return run0(s, ctx, "permissions.set", func(ctx context.Context, tx *Tx) error {
		return tx.SetPermissions(ctx, actor, tenant, target, changes)
	})
}

// RemoveFromResource runs Tx.RemoveFromResource.
func (s *Service) RemoveFromResource(ctx context.Context, actor, target rbac.Holder, scope rbac.Ref) error {
	return run0(s, ctx, "member.remove_from_resource", func(ctx context.Context, tx *Tx) error {
		return tx.RemoveFromResource(ctx, actor, target, scope)
	})
}

// RemoveMember runs Tx.RemoveMember.
func (s *Service) RemoveMember(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, user string) error {
	return run0(s, ctx, "member.remove", func(ctx context.Context, tx *Tx) error { return tx.RemoveMember(ctx, actor, tenant, user) })
}

// Members runs Tx.Members.
func (s *Service) Members(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, f MemberFilter) ([]Access, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]Access, error) { return tx.Members(ctx, actor, tenant, f) })
}

// Seats runs Tx.Seats.
func (s *Service) Seats(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) (used, limit int, err error) {
	_, err = view(s, ctx, func(ctx context.Context, tx *Tx) (none, error) {
		var err error
		used, limit, err = tx.Seats(ctx, actor, tenant)
		return none{}, err
	})
	return used, limit, err
}

// MyAccounts runs Tx.MyAccounts.
func (s *Service) MyAccounts(ctx context.Context, actor rbac.Holder) ([]AccountAccess, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]AccountAccess, error) { return tx.MyAccounts(ctx, actor) })
}

// CreateTeam runs Tx.CreateTeam.
func (s *Service) CreateTeam(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, name string) (store.Team, error) {
	return run(s, ctx, "team.create", func(ctx context.Context, tx *Tx) (store.Team, error) { return tx.CreateTeam(ctx, actor, tenant, name) })
}

// RenameTeam runs Tx.RenameTeam.
func (s *Service) RenameTeam(ctx context.Context, actor rbac.Holder, id, name string) error {
	return run0(s, ctx, "team.rename", func(ctx context.Context, tx *Tx) error { return tx.RenameTeam(ctx, actor, id, name) })
}

// DeleteTeam runs Tx.DeleteTeam.
func (s *Service) DeleteTeam(ctx context.Context, actor rbac.Holder, id string) error {
	return run0(s, ctx, "team.delete", func(ctx context.Context, tx *Tx) error { return tx.DeleteTeam(ctx, actor, id) })
}

// AddTeamMember runs Tx.AddTeamMember.
func (s *Service) AddTeamMember(ctx context.Context, actor rbac.Holder, team, user string) error {
	return run0(s, ctx, "team.add_member", func(ctx context.Context, tx *Tx) error { return tx.AddTeamMember(ctx, actor, team, user) })
}

// RemoveTeamMember runs Tx.RemoveTeamMember.
func (s *Service) RemoveTeamMember(ctx context.Context, actor rbac.Holder, team, user string) error {
	return run0(s, ctx, "team.remove_member", func(ctx context.Context, tx *Tx) error { return tx.RemoveTeamMember(ctx, actor, team, user) })
}

// Teams runs Tx.Teams.
func (s *Service) Teams(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) ([]store.Team, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]store.Team, error) { return tx.Teams(ctx, actor, tenant) })
}

// CreateToken runs Tx.CreateToken.
func (s *Service) CreateToken(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, req TokenRequest) (TokenInfo, string, error) {
	var secret string
	info, err := run(s, ctx, "token.create", func(ctx context.Context, tx *Tx) (TokenInfo, error) {
		var info TokenInfo
		var err error
		info, secret, err = tx.CreateToken(ctx, actor, tenant, req)
		return info, err
	})
	if err != nil {
		return TokenInfo{}, "", err
	}
	return info, secret, nil
}

// Token runs Tx.Token.
func (s *Service) Token(ctx context.Context, actor rbac.Holder, id string) (TokenInfo, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) (TokenInfo, error) { return tx.Token(ctx, actor, id) })
}

// Tokens runs Tx.Tokens.
func (s *Service) Tokens(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) ([]TokenInfo, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]TokenInfo, error) { return tx.Tokens(ctx, actor, tenant) })
}

// ResetToken runs Tx.ResetToken.
func (s *Service) ResetToken(ctx context.Context, actor rbac.Holder, id string) (TokenInfo, string, error) {
	var secret string
	info, err := run(s, ctx, "token.reset", func(ctx context.Context, tx *Tx) (TokenInfo, error) {
		var info TokenInfo
		var err error
		info, secret, err = tx.ResetToken(ctx, actor, id)
		return info, err
	})
	if err != nil {
		return TokenInfo{}, "", err
	}
	return info, secret, nil
}

// DeleteToken runs Tx.DeleteToken.
func (s *Service) DeleteToken(ctx context.Context, actor rbac.Holder, id string) error {
	return run0(s, ctx, "token.delete", func(ctx context.Context, tx *Tx) error { return tx.DeleteToken(ctx, actor, id) })
}

// Events runs Tx.Events.
func (s *Service) Events(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	return view(s, ctx, func(ctx context.Context, tx *Tx) ([]store.Event, error) {
		return tx.Events(ctx, actor, tenant, after, limit)
	})
}
