package account

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// singletons are the scopes every account has one of, created with it. Their ID is
// the account's.
var singletons = []rbac.Kind{rbac.KindBilling, rbac.KindTemplates, rbac.KindCampaigns}

// CreateAccount creates an account owned by the user owner, on the first plan (D28).
// The owner becomes its first member.
func (tx *Tx) CreateAccount(ctx context.Context, owner rbac.Holder, name string) (store.Account, error) {
	return tx.createTenant(ctx, owner, rbac.KindAccount, name, tx.s.first, "")
}

// CreateOrganization creates an organization owned by the user owner, on plan (which
// must include organizations, D21).
func (tx *Tx) CreateOrganization(ctx context.Context, owner rbac.Holder, name, plan string) (store.Account, error) {
	p, ok := tx.s.plans[plan]
	if !ok {
		return store.Account{}, invalid("plan", "no plan %q", plan)
	}
	if !p.Organizations {
		return store.Account{}, errorsJoinPlan("organizations", plan)
	}
	return tx.createTenant(ctx, owner, rbac.KindOrganization, name, plan, "")
}

// CreateSubAccount creates a sub-account of organization org (D3). The actor needs
// admin on the organization and the organization's plan must include organizations.
// The sub-account is owned by the organization's owner (C4).
func (tx *Tx) CreateSubAccount(ctx context.Context, actor rbac.Holder, org string, name string) (store.Account, error) {
	if err := ValidID("org", org); err != nil {
		return store.Account{}, err
	}
	name, err := ValidName("name", name)
	if err != nil {
		return store.Account{}, err
	}
	ref := rbac.Org(org)
	if _, _, err := tx.authorize(ctx, actor, rbac.OrgSubAccountCreate, ref); err != nil {
		return store.Account{}, err
	}
	o, err := tx.r.Account(ctx, ref)
	if err != nil {
		return store.Account{}, err
	}
	if p := tx.s.plans[o.Plan]; !p.Organizations {
		return store.Account{}, errorsJoinPlan("organizations", o.Plan)
	}
	a, err := tx.insertTenant(ctx, rbac.User(o.Owner), rbac.KindAccount, name, o.Plan, org)
	if err != nil {
		return store.Account{}, err
	}
	return a, tx.Audit(ctx, a.Ref, actor, "subaccount.create", a.Ref.String(), "", org)
}

func (tx *Tx) createTenant(ctx context.Context, owner rbac.Holder, kind rbac.Kind, name, plan, org string) (store.Account, error) {
	if owner.Kind != rbac.HolderUser {
		return store.Account{}, &rbac.DeniedError{Decision: rbac.Decision{Action: rbac.AccountView, Need: rbac.Owner, Rule: rbac.RuleCreateAccount}}
	}
	name, err := ValidName("name", name)
	if err != nil {
		return store.Account{}, err
	}
	if err := tx.checkActor(ctx, owner); err != nil {
		return store.Account{}, err
	}
	a, err := tx.insertTenant(ctx, owner, kind, name, plan, org)
	if err != nil {
		return store.Account{}, err
	}
	return a, tx.Audit(ctx, a.Ref, owner, kind.String()+".create", a.Ref.String(), "", "owner="+owner.ID)
}

// insertTenant adds an account or organization with its owner's membership and, for
// an account, its billing, templates and campaigns scopes. name is already valid.
func (tx *Tx) insertTenant(ctx context.Context, owner rbac.Holder, kind rbac.Kind, name, plan, org string) (store.Account, error) {
	now := tx.s.now()
	prefix := "acct"
	if kind == rbac.KindOrganization {
		prefix = "org"
	}
	a := store.Account{Ref: rbac.Ref{Kind: kind, ID: tx.s.newID(prefix)}, Org: org, Name: name, Owner: owner.ID, Plan: plan, Created: now}
	if err := tx.w.InsertAccount(ctx, a); err != nil {
		return store.Account{}, err
	}
	if err := tx.w.InsertMember(ctx, store.Member{Tenant: a.Ref, User: owner.ID, Created: now}); err != nil {
		return store.Account{}, err
	}
	if kind == rbac.KindAccount {
		for _, k := range singletons {
			r := store.Resource{Ref: rbac.Ref{Kind: k, ID: a.Ref.ID}, Parent: a.Ref, Account: a.Ref.ID, Name: k.String(), Created: now}
			if err := tx.w.InsertResource(ctx, r); err != nil {
				return store.Account{}, err
			}
		}
	}
	return a, nil
}

// Get returns the account or organization ref, which the actor must be able to see.
func (tx *Tx) Get(ctx context.Context, actor rbac.Holder, ref rbac.Ref) (store.Account, error) {
	if err := validTenant(ref); err != nil {
		return store.Account{}, err
	}
	action := rbac.AccountView
	if ref.Kind == rbac.KindOrganization {
		action = rbac.OrgView
	}
	if _, _, err := tx.authorize(ctx, actor, action, ref); err != nil {
		var de *rbac.DeniedError
		if !errors.As(err, &de) {
			return store.Account{}, err
		}
		// A member with access only below the account still sees the account.
	}
	return tx.r.Account(ctx, ref)
}

func validTenant(ref rbac.Ref) error {
	if ref.Kind != rbac.KindAccount && ref.Kind != rbac.KindOrganization {
		return invalid("account", "not an account or organization")
	}
	return ValidID("account", ref.ID)
}

// Rename renames an account or organization (admin).
func (tx *Tx) Rename(ctx context.Context, actor rbac.Holder, ref rbac.Ref, name string) error {
	if err := validTenant(ref); err != nil {
		return err
	}
	name, err := ValidName("name", name)
	if err != nil {
		return err
	}
	action := rbac.AccountRename
	if ref.Kind == rbac.KindOrganization {
		action = rbac.OrgSettingsManage
	}
	if _, _, err := tx.authorize(ctx, actor, action, ref); err != nil {
		return err
	}
	a, err := tx.r.Account(ctx, ref)
	if err != nil {
		return err
	}
	a.Name = name
	if err := tx.w.UpdateAccount(ctx, a); err != nil {
		return err
	}
	return tx.Audit(ctx, ref, actor, ref.Kind.String()+".rename", ref.String(), "", "")
}

// Delete deletes an account or organization with everything in it (D17): only its
// owner may. Users stay; so does the audit log.
func (tx *Tx) Delete(ctx context.Context, actor rbac.Holder, ref rbac.Ref) error {
	if err := validTenant(ref); err != nil {
		return err
	}
	action := rbac.AccountDelete
	if ref.Kind == rbac.KindOrganization {
		action = rbac.OrgDelete
	}
	if _, _, err := tx.authorize(ctx, actor, action, ref); err != nil {
		return err
	}
	if err := tx.w.DeleteAccount(ctx, ref); err != nil {
		return err
	}
	return tx.Audit(ctx, ref, actor, ref.Kind.String()+".delete", ref.String(), "", "")
}

// DeleteOwnedBy deletes every account and organization the user owns, without a
// policy check or an audit event: a step of deleting a profile (D30), which package
// profile runs after checking that the actor is the user, and audits as one change.
func (tx *Tx) DeleteOwnedBy(ctx context.Context, user string) error {
	var owned []rbac.Ref
	for m, err := range tx.r.Memberships(ctx, user) {
		if err != nil {
			return err
		}
		a, err := tx.r.Account(ctx, m.Tenant)
		if err != nil {
			return err
		}
		if a.Owner == user && (a.Org == "" || a.Ref.Kind == rbac.KindOrganization) {
			owned = append(owned, a.Ref)
		}
	}
	for _, ref := range owned {
		if _, err := tx.r.Account(ctx, ref); errors.Is(err, store.ErrNotFound) {
			continue // a sub-account already gone with its organization
		}
		if err := tx.w.DeleteAccount(ctx, ref); err != nil {
			return err
		}
	}
	return nil
}

// TransferOwnership makes the member to the owner of the account or organization
// (D16). Only the owner may; the previous owner stays as admin (C2). Transferring an
// organization moves its sub-accounts' ownership with it (C4); a sub-account's
// ownership cannot move alone.
func (tx *Tx) TransferOwnership(ctx context.Context, actor rbac.Holder, ref rbac.Ref, to string) error {
	if err := ValidID("to", to); err != nil {
		return err
	}
	a, err := tx.tenant(ctx, actor, ref)
	if err != nil {
		return err
	}
	lvl, err := tx.level(ctx, actor, ref)
	if err != nil {
		return err
	} else if lvl == rbac.None {
		if m, _ := tx.isMember(ctx, actor, ref); !m {
			return notFound(ref)
		}
	}
	_, merr := tx.r.Member(ctx, ref, to)
	if merr != nil && !errors.Is(merr, store.ErrNotFound) {
		return merr
	}
	d := rbac.DecideTransfer(actor, rbac.User(a.Owner), rbac.User(to), ref, merr == nil, a.Org != "")
	if !d.Allowed {
		d.Level = lvl // the refusal reports what the actor holds
		return d.Err()
	}
	prev := a.Owner
	if err := tx.setOwner(ctx, a, to); err != nil {
		return err
	}
	if ref.Kind == rbac.KindOrganization {
		for sub, err := range collect(tx.r.SubAccounts(ctx, ref.ID)) {
			if err != nil {
				return err
			}
			if _, err := tx.r.Member(ctx, sub.Ref, to); errors.Is(err, store.ErrNotFound) {
				if err := tx.w.InsertMember(ctx, store.Member{Tenant: sub.Ref, User: to, Created: tx.s.now()}); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			if err := tx.setOwner(ctx, sub, to); err != nil {
				return err
			}
		}
	}
	return tx.Audit(ctx, ref, actor, ref.Kind.String()+".transfer", ref.String(), "owner="+prev, "owner="+to)
}

// setOwner makes to the owner of a and the previous owner an admin there (C2).
func (tx *Tx) setOwner(ctx context.Context, a store.Account, to string) error {
	prev := a.Owner
	a.Owner = to
	if err := tx.w.UpdateAccount(ctx, a); err != nil {
		return err
	}
	return tx.w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User(prev), Scope: a.Ref, Level: rbac.Admin}, Tenant: a.Ref})
}

// Leave removes the user actor from the account or organization (D15): anyone but
// the owner may leave; the owner must transfer ownership first. All the user's grants
// and team places there go.
func (tx *Tx) Leave(ctx context.Context, actor rbac.Holder, ref rbac.Ref) error {
	a, err := tx.tenant(ctx, actor, ref)
	if err != nil {
		return err
	}
	if m, err := tx.isMember(ctx, actor, ref); err != nil {
		return err
	} else if !m {
		return notFound(ref)
	}
	if d := rbac.DecideLeave(actor, rbac.User(a.Owner), ref); !d.Allowed {
		return d.Err()
	}
	if err := tx.w.DeleteMember(ctx, ref, actor.ID); err != nil {
		return err
	}
	return tx.Audit(ctx, ref, actor, "member.leave", actor.String(), "member", "")
}

// tenant checks ref and the actor and loads the account or organization.
func (tx *Tx) tenant(ctx context.Context, actor rbac.Holder, ref rbac.Ref) (store.Account, error) {
	if err := validTenant(ref); err != nil {
		return store.Account{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Account{}, err
	}
	a, err := tx.r.Account(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, notFound(ref)
	}
	return a, err
}

func (tx *Tx) isMember(ctx context.Context, h rbac.Holder, tenant rbac.Ref) (bool, error) {
	if h.Kind != rbac.HolderUser {
		return false, nil
	}
	_, err := tx.r.Member(ctx, tenant, h.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// SetPlan moves the account or organization to another plan (billing admin, C1). A
// plan with fewer seats than are in use is refused (ErrSeatLimit); an organization
// with sub-accounts cannot leave a plan with organizations (ErrPlan). A sub-account
// is on its organization's plan.
func (tx *Tx) SetPlan(ctx context.Context, actor rbac.Holder, ref rbac.Ref, plan string) error {
	if err := validTenant(ref); err != nil {
		return err
	}
	p, ok := tx.s.plans[plan]
	if !ok {
		return invalid("plan", "no plan %q", plan)
	}
	action, scope := rbac.BillingManage, rbac.Billing(ref.ID)
	if ref.Kind == rbac.KindOrganization {
		action, scope = rbac.OrgBillingManage, ref
	}
	if _, _, err := tx.authorize(ctx, actor, action, scope); err != nil {
		return err
	}
	a, err := tx.r.Account(ctx, ref)
	if err != nil {
		return err
	}
	if a.Org != "" {
		return errorsJoinPlan("a plan of its own (a sub-account is on its organization's)", a.Plan)
	}
	if ref.Kind == rbac.KindOrganization && !p.Organizations {
		return errorsJoinPlan("organizations", plan)
	}
	used, err := tx.seatsUsed(ctx, a)
	if err != nil {
		return err
	}
	if p.Seats > 0 && used > p.Seats {
		return seatError(used, p.Seats)
	}
	before := a.Plan
	a.Plan = plan
	if err := tx.w.UpdateAccount(ctx, a); err != nil {
		return err
	}
	if ref.Kind == rbac.KindOrganization {
		for sub, err := range collect(tx.r.SubAccounts(ctx, ref.ID)) {
			if err != nil {
				return err
			}
			sub.Plan = plan
			if err := tx.w.UpdateAccount(ctx, sub); err != nil {
				return err
			}
		}
	}
	return tx.Audit(ctx, ref, actor, "plan.set", ref.String(), before, plan)
}

// SubAccounts lists an organization's sub-accounts (organization viewer).
func (tx *Tx) SubAccounts(ctx context.Context, actor rbac.Holder, org string) ([]store.Account, error) {
	if err := ValidID("org", org); err != nil {
		return nil, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.OrgSubAccountsList, rbac.Org(org)); err != nil {
		return nil, err
	}
	var out []store.Account
	for a, err := range tx.r.SubAccounts(ctx, org) {
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
