package account

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// CreateAccount creates an account owned by the acting user, on the first plan
// ([rbac.RuleCreateAccount]). The owner becomes its first member.
type CreateAccount struct {
	Name string
}

// Op returns "account.create", its log name and audit action.
func (CreateAccount) Op() string { return "account.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateAccount) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Account, error) {
	tx := open(t)
	return tx.createTenant(ctx, o, actor, rbac.KindAccount, o.Name, tx.Env.FirstPlan)
}

// CreateOrganization creates an organization owned by the acting user, on Plan, which must
// include organizations ([rbac.RulePlan]).
type CreateOrganization struct {
	Name string
	Plan string
}

// Op returns "organization.create", its log name and audit action.
func (CreateOrganization) Op() string { return "organization.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateOrganization) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Account, error) {
	tx := open(t)
	p, ok := tx.s.plans[o.Plan]
	if !ok {
		return store.Account{}, invalid("plan", "no plan %q", o.Plan)
	}
	if !p.Organizations {
		return store.Account{}, errorsJoinPlan("organizations", o.Plan)
	}
	return tx.createTenant(ctx, o, actor, rbac.KindOrganization, o.Name, o.Plan)
}

func (tx *work) createTenant(ctx context.Context, op interface{ Op() string }, owner rbac.Holder, kind rbac.Kind, name, plan string) (store.Account, error) {
	if d := rbac.DecideCreateAccount(owner); !d.Allowed {
		return store.Account{}, d.Err()
	}
	name, err := ValidName("name", name)
	if err != nil {
		return store.Account{}, err
	}
	if err := tx.checkActor(ctx, owner); err != nil {
		return store.Account{}, err
	}
	a, err := tx.InsertTenant(ctx, owner.ID, kind, name, plan, "")
	if err != nil {
		return store.Account{}, err
	}
	return a, tx.audit(ctx, op, a.Ref, owner, a.Ref.String(), "", "owner="+owner.ID)
}

// CreateSubAccount creates a sub-account of the organization Org ([rbac.RuleOrgReach]).
// The actor needs admin on the organization, whose plan must include organizations. The
// sub-account is owned by the organization's owner ([rbac.RuleSubOwnership]).
type CreateSubAccount struct {
	Org  rbac.Ref
	Name string
}

// Op returns "subaccount.create", its log name and audit action.
func (CreateSubAccount) Op() string { return "subaccount.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateSubAccount) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Account, error) {
	tx := open(t)
	if o.Org.Kind != rbac.KindOrganization {
		return store.Account{}, invalid("org", "not an organization")
	}
	if err := ValidID("org", o.Org.ID); err != nil {
		return store.Account{}, err
	}
	name, err := ValidName("name", o.Name)
	if err != nil {
		return store.Account{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.OrgSubAccountCreate, o.Org); err != nil {
		return store.Account{}, err
	}
	org, err := tx.r.Account(ctx, o.Org)
	if err != nil {
		return store.Account{}, err
	}
	if p := tx.s.plans[org.Plan]; !p.Organizations {
		return store.Account{}, errorsJoinPlan("organizations", org.Plan)
	}
	a, err := tx.InsertTenant(ctx, org.Owner, rbac.KindAccount, name, org.Plan, org.Ref.ID)
	if err != nil {
		return store.Account{}, err
	}
	return a, tx.audit(ctx, o, a.Ref, actor, a.Ref.String(), "", org.Ref.String())
}

func validTenant(field string, ref rbac.Ref) error {
	if ref.Kind != rbac.KindAccount && ref.Kind != rbac.KindOrganization {
		return invalid(field, "not an account or organization")
	}
	return ValidID(field, ref.ID)
}

// RenameAccount renames an account or organization (admin).
type RenameAccount struct {
	Account rbac.Ref
	Name    string
}

// Op returns "account.rename", its log name and audit action.
func (RenameAccount) Op() string { return "account.rename" }

// Apply runs the operation; call it through Do or Run.
func (o RenameAccount) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("account", o.Account); err != nil {
		return struct{}{}, err
	}
	name, err := ValidName("name", o.Name)
	if err != nil {
		return struct{}{}, err
	}
	action := rbac.AccountRename
	if o.Account.Kind == rbac.KindOrganization {
		action = rbac.OrgSettingsManage
	}
	if _, _, err := tx.authorize(ctx, actor, action, o.Account); err != nil {
		return struct{}{}, err
	}
	a, err := tx.r.Account(ctx, o.Account)
	if err != nil {
		return struct{}{}, err
	}
	a.Name = name
	if err := tx.w.UpdateAccount(ctx, a); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Account, actor, o.Account.String(), "", "")
}

// DeleteAccount deletes an account or organization with everything in it
// ([rbac.RuleDeleteAccount]): only its owner may. Users stay; so does the audit log.
type DeleteAccount struct {
	Account rbac.Ref
}

// Op returns "account.delete", its log name and audit action.
func (DeleteAccount) Op() string { return "account.delete" }

// Apply runs the operation; call it through Do or Run.
func (o DeleteAccount) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("account", o.Account); err != nil {
		return struct{}{}, err
	}
	action := rbac.AccountDelete
	if o.Account.Kind == rbac.KindOrganization {
		action = rbac.OrgDelete
	}
	if _, _, err := tx.authorize(ctx, actor, action, o.Account); err != nil {
		return struct{}{}, err
	}
	tenants, err := tx.withSubAccounts(ctx, o.Account)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteAccount(ctx, o.Account); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.auditIn(ctx, o, tenants, actor, o.Account.String(), "", "")
}

// TransferOwnership makes the member To the owner of the account or organization
// ([rbac.RuleTransfer]). Only the owner may; the previous owner stays as admin
// ([rbac.RuleFormerOwner]). Transferring an organization moves its sub-accounts' ownership
// with it ([rbac.RuleSubOwnership]); a sub-account's ownership cannot move alone.
type TransferOwnership struct {
	Account rbac.Ref
	To      rbac.Holder
}

// Op returns "account.transfer", its log name and audit action.
func (TransferOwnership) Op() string { return "account.transfer" }

// Apply runs the operation; call it through Do or Run.
func (o TransferOwnership) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("account", o.Account); err != nil {
		return struct{}{}, err
	}
	if err := validHolder("to", o.To); err != nil {
		return struct{}{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return struct{}{}, err
	}
	_, lvl, err := tx.visible(ctx, actor, o.Account)
	if err != nil {
		return struct{}{}, err
	}
	a, err := tx.r.Account(ctx, o.Account)
	if err != nil {
		return struct{}{}, err
	}
	toMember, err := tx.isMember(ctx, o.To, o.Account)
	if err != nil {
		return struct{}{}, err
	}
	d := rbac.DecideTransfer(actor, lvl, rbac.User(a.Owner), o.To, o.Account, toMember, a.Org != "")
	if !d.Allowed {
		return struct{}{}, d.Err()
	}
	to := o.To.ID
	prev := a.Owner
	if err := tx.setOwner(ctx, a, to); err != nil {
		return struct{}{}, err
	}
	tenants := []rbac.Ref{o.Account}
	if o.Account.Kind == rbac.KindOrganization {
		for sub, err := range txn.Collect(tx.r.SubAccounts(ctx, o.Account.ID)) {
			if err != nil {
				return struct{}{}, err
			}
			if _, err := tx.r.Member(ctx, sub.Ref, to); errors.Is(err, store.ErrNotFound) {
				if err := tx.w.InsertMember(ctx, store.Member{Tenant: sub.Ref, User: to, Created: tx.Env.Now()}); err != nil {
					return struct{}{}, err
				}
			} else if err != nil {
				return struct{}{}, err
			}
			if err := tx.setOwner(ctx, sub, to); err != nil {
				return struct{}{}, err
			}
			tenants = append(tenants, sub.Ref)
		}
	}
	return struct{}{}, tx.auditIn(ctx, o, tenants, actor, o.Account.String(), "owner="+prev, "owner="+to)
}

// setOwner makes to the owner of a and the previous owner an admin there
// ([rbac.RuleFormerOwner]).
func (tx *work) setOwner(ctx context.Context, a store.Account, to string) error {
	prev := a.Owner
	a.Owner = to
	if err := tx.w.UpdateAccount(ctx, a); err != nil {
		return err
	}
	return tx.w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User(prev), Scope: a.Ref, Level: rbac.Admin}, Tenant: a.Ref})
}

// Leave removes the acting user from the account or organization ([rbac.RuleLeave]):
// anyone but the owner may leave; the owner must transfer ownership first. All the user's
// grants and team places there go.
type Leave struct {
	Account rbac.Ref
}

// Op returns "member.leave", its log name and audit action.
func (Leave) Op() string { return "member.leave" }

// Apply runs the operation; call it through Do or Run.
func (o Leave) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("account", o.Account); err != nil {
		return struct{}{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return struct{}{}, err
	}
	a, err := tx.r.Account(ctx, o.Account)
	if errors.Is(err, store.ErrNotFound) {
		return struct{}{}, notFound(o.Account)
	} else if err != nil {
		return struct{}{}, err
	}
	if m, err := tx.isMember(ctx, actor, o.Account); err != nil {
		return struct{}{}, err
	} else if !m {
		return struct{}{}, notFound(o.Account)
	}
	if d := rbac.DecideLeave(actor, rbac.User(a.Owner), o.Account); !d.Allowed {
		return struct{}{}, d.Err()
	}
	if err := tx.w.DeleteMember(ctx, o.Account, actor.ID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Account, actor, actor.String(), "member", "")
}

// SetPlan moves the account or organization to another plan (billing admin, C1). A
// plan with fewer seats than are in use is refused (ErrSeatLimit); an organization
// cannot leave a plan with organizations (ErrPlan). A sub-account is on its
// organization's plan.
type SetPlan struct {
	Account rbac.Ref
	Plan    string
}

// Op returns "plan.set", its log name and audit action.
func (SetPlan) Op() string { return "plan.set" }

// Apply runs the operation; call it through Do or Run.
func (o SetPlan) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("account", o.Account); err != nil {
		return struct{}{}, err
	}
	p, ok := tx.s.plans[o.Plan]
	if !ok {
		return struct{}{}, invalid("plan", "no plan %q", o.Plan)
	}
	action, scope := rbac.BillingManage, rbac.Billing(o.Account.ID)
	if o.Account.Kind == rbac.KindOrganization {
		action, scope = rbac.OrgBillingManage, o.Account
	}
	if _, _, err := tx.authorize(ctx, actor, action, scope); err != nil {
		return struct{}{}, err
	}
	a, err := tx.r.Account(ctx, o.Account)
	if err != nil {
		return struct{}{}, err
	}
	if a.Org != "" {
		return struct{}{}, errorsJoinPlan("a plan of its own (a sub-account is on its organization's)", a.Plan)
	}
	if o.Account.Kind == rbac.KindOrganization && !p.Organizations {
		return struct{}{}, errorsJoinPlan("organizations", o.Plan)
	}
	used, err := tx.seatsUsed(ctx, a)
	if err != nil {
		return struct{}{}, err
	}
	if p.Seats > 0 && used > p.Seats {
		return struct{}{}, seatError(used, p.Seats)
	}
	before := a.Plan
	a.Plan = o.Plan
	if err := tx.w.UpdateAccount(ctx, a); err != nil {
		return struct{}{}, err
	}
	tenants := []rbac.Ref{o.Account}
	if o.Account.Kind == rbac.KindOrganization {
		for sub, err := range txn.Collect(tx.r.SubAccounts(ctx, o.Account.ID)) {
			if err != nil {
				return struct{}{}, err
			}
			sub.Plan = o.Plan
			if err := tx.w.UpdateAccount(ctx, sub); err != nil {
				return struct{}{}, err
			}
			tenants = append(tenants, sub.Ref)
		}
	}
	return struct{}{}, tx.auditIn(ctx, o, tenants, actor, o.Account.String(), before, o.Plan)
}

// Account returns an account or organization the actor can see: a member, or a
// holder of any grant in it (even below it).
type Account struct {
	Account rbac.Ref
}

// Op returns "account.get", its log name.
func (Account) Op() string { return "account.get" }

// Answer answers the query; call it through Get or Read.
func (q Account) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Account, error) {
	tx := open(t)
	if err := validTenant("account", q.Account); err != nil {
		return store.Account{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Account{}, err
	}
	if _, _, err := tx.visible(ctx, actor, q.Account); err != nil {
		return store.Account{}, err
	}
	return tx.r.Account(ctx, q.Account)
}

// SubAccounts lists an organization's sub-accounts (organization viewer), by ID.
type SubAccounts struct {
	Org  rbac.Ref
	Page PageRequest
}

// Op returns "subaccount.list", its log name.
func (SubAccounts) Op() string { return "subaccount.list" }

func (q SubAccounts) from(after string) Lister[store.Account] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q SubAccounts) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[store.Account], error) {
	tx := open(t)
	if q.Org.Kind != rbac.KindOrganization {
		return Page[store.Account]{}, invalid("org", "not an organization")
	}
	if err := ValidID("org", q.Org.ID); err != nil {
		return Page[store.Account]{}, err
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[store.Account]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[store.Account]{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.OrgSubAccountsList, q.Org); err != nil {
		return Page[store.Account]{}, err
	}
	var out []store.Account
	for a, err := range tx.r.SubAccounts(ctx, q.Org.ID) {
		if err != nil {
			return Page[store.Account]{}, err
		}
		if a.Ref.ID <= after {
			continue
		}
		out = append(out, a)
		if len(out) > limit {
			break
		}
	}
	return pageOf(out, limit, func(a store.Account) string { return a.Ref.ID }), nil
}

// withSubAccounts returns tenant and, for an organization, its sub-accounts.
func (tx *work) withSubAccounts(ctx context.Context, tenant rbac.Ref) ([]rbac.Ref, error) {
	tenants := []rbac.Ref{tenant}
	if tenant.Kind != rbac.KindOrganization {
		return tenants, nil
	}
	for sub, err := range tx.r.SubAccounts(ctx, tenant.ID) {
		if err != nil {
			return nil, err
		}
		tenants = append(tenants, sub.Ref)
	}
	return tenants, nil
}
