package account

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// MaxBulkInvite is the most addresses InviteMany takes in one call.
const MaxBulkInvite = 50

// InviteMany invites up to MaxBulkInvite addresses into the account or organization
// Tenant with the same grants, teams and expiry, all or nothing: each address as Invite
// would, the seats counted for the whole batch ([rbac.RuleSeats]). A refusal names the
// address it concerns; then no invitation is made. Each invitation writes its own audit
// event.
type InviteMany struct {
	Tenant    rbac.Ref
	Emails    []string
	Grants    []GrantSpec
	Teams     []rbac.Holder
	ExpiresIn time.Duration
}

// Op returns "member.invite_many", its log name and audit action.
func (InviteMany) Op() string { return "member.invite_many" }

// Apply runs the operation; call it through Do or Run.
func (o InviteMany) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) ([]NewInvitation, error) {
	tx := open(t)
	switch {
	case len(o.Emails) == 0:
		return nil, invalid("emails", "empty")
	case len(o.Emails) > MaxBulkInvite:
		return nil, invalid("emails", "more than %d addresses", MaxBulkInvite)
	}
	seen := make(map[string]bool, len(o.Emails))
	for i, e := range o.Emails {
		email, err := NormalizeEmail(e)
		if err != nil {
			return nil, invalid("emails["+strconv.Itoa(i)+"]", "%v", err)
		}
		k := store.FoldKey(email)
		if seen[k] {
			return nil, invalid("emails["+strconv.Itoa(i)+"]", "%s appears twice", email)
		}
		seen[k] = true
	}
	out := make([]NewInvitation, 0, len(o.Emails))
	for i, email := range o.Emails {
		one := Invite{Tenant: o.Tenant, Email: email, Grants: o.Grants, Teams: o.Teams, ExpiresIn: o.ExpiresIn}
		inv, err := one.apply(ctx, tx, actor, o.Op())
		if err != nil {
			return nil, &BatchError{Index: i, Email: email, Err: err}
		}
		out = append(out, inv)
	}
	return out, nil
}

// BatchError is InviteMany's refusal: the address at Index (Email) was refused with Err,
// and no invitation was made. errors.Is and errors.As see Err.
type BatchError struct {
	Index int
	Email string
	Err   error
}

func (e *BatchError) Error() string {
	return "emails[" + strconv.Itoa(e.Index) + "] " + e.Email + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *BatchError) Unwrap() error { return e.Err }

// ResendInvitation renews an invitation of the account or organization Tenant, pending
// or expired ([rbac.RuleInviteExpiry]): it gets a new secret, returned once for the host
// to deliver (the old one stops working), and a new expiry, ExpiresIn from now (the
// service's InvitationTTL when zero). Who may revoke it may resend it; an expired
// invitation takes a seat again, so it must fit in the seats.
type ResendInvitation struct {
	Tenant     rbac.Ref
	Invitation rbac.Holder // rbac.Invite(id)
	ExpiresIn  time.Duration
}

// Op returns "invitation.resend", its log name and audit action.
func (ResendInvitation) Op() string { return "invitation.resend" }

// Apply runs the operation; call it through Do or Run.
func (o ResendInvitation) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (NewInvitation, error) {
	tx := open(t)
	inv, a, err := tx.managedInvitation(ctx, actor, o.Tenant, o.Invitation)
	if err != nil {
		return NewInvitation{}, err
	}
	expires, err := tx.inviteExpiry(o.ExpiresIn)
	if err != nil {
		return NewInvitation{}, err
	}
	now := tx.Env.Now()
	if inv.Expired(now) {
		if p := tx.s.plans[a.Plan]; !p.UserManagement {
			return NewInvitation{}, errorsJoinPlan("user management", a.Plan)
		}
		if limit := tx.s.plans[a.Plan].Invitations; limit > 0 {
			n := 0
			for other, err := range tx.r.Invitations(ctx, o.Tenant) {
				if err != nil {
					return NewInvitation{}, err
				}
				if !other.Expired(now) {
					n++
				}
			}
			if err := withinLimit("pending invitations", n, limit, o.Tenant, a.Plan); err != nil {
				return NewInvitation{}, err
			}
		}
		pool, err := tx.seatPool(ctx, a)
		if err != nil {
			return NewInvitation{}, err
		}
		if _, counted := pool.emails[store.FoldKey(inv.Email)]; !counted && pool.limit > 0 && len(pool.emails)+1 > pool.limit {
			return NewInvitation{}, seatError(len(pool.emails), pool.limit)
		}
	}
	before := inv.Expires
	secret, hash, err := tx.secret(inv.ID)
	if err != nil {
		return NewInvitation{}, err
	}
	inv.Hash, inv.Expires = hash, expires
	if err := tx.w.UpdateInvitation(ctx, inv); err != nil {
		return NewInvitation{}, err
	}
	tenants, err := tx.invitationTenants(ctx, inv)
	if err != nil {
		return NewInvitation{}, err
	}
	inv.Hash = nil
	return NewInvitation{Invitation: inv, Secret: secret}, tx.auditIn(ctx, o, tenants, actor, o.Invitation.String(),
		"expires="+stamp(before), "expires="+stamp(expires))
}

// stamp formats an expiry for the audit log: RFC 3339, or "never".
func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// managedInvitation loads an invitation of tenant that the actor may revoke (admin,
// D18 visibility): ErrNotFound naming it otherwise, as for one that does not exist. It
// returns the invitation's account too.
func (tx *work) managedInvitation(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, h rbac.Holder) (store.Invitation, store.Account, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return store.Invitation{}, store.Account{}, err
	}
	if h.Kind != rbac.HolderInvite {
		return store.Invitation{}, store.Account{}, invalid("invitation", "not an invitation")
	}
	if err := ValidID("invitation", h.ID); err != nil {
		return store.Invitation{}, store.Account{}, err
	}
	a, err := tx.tenantOf(ctx, actor, tenant)
	if err != nil {
		return store.Invitation{}, store.Account{}, err
	}
	if _, err := tx.subject(ctx, actor, a, h); err != nil {
		return store.Invitation{}, store.Account{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, tenant); err != nil {
		return store.Invitation{}, store.Account{}, err
	}
	inv, err := tx.r.Invitation(ctx, h.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && inv.Tenant != tenant {
		return store.Invitation{}, store.Account{}, notFound(h)
	}
	return inv, a, err
}

// invitationTenants returns the invitation's tenant and every sub-account it holds
// grants in, the tenants whose logs a change of it goes to.
func (tx *work) invitationTenants(ctx context.Context, inv store.Invitation) ([]rbac.Ref, error) {
	tenants, err := tx.withSubAccounts(ctx, inv.Tenant)
	if err != nil {
		return nil, err
	}
	out := []rbac.Ref{inv.Tenant}
	for _, t := range tenants[1:] {
		for _, err := range tx.r.HolderGrants(ctx, rbac.Invite(inv.ID), t) {
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			break
		}
	}
	return out, nil
}

// DeclineInvitation removes an invitation, pending or expired, at its addressee's
// request ([rbac.RuleInviteExpiry]): the acting user must have the invited address and
// hold the invitation's secret, as to accept it; otherwise, as for an invitation that
// does not exist, ErrNotFound.
type DeclineInvitation struct {
	Invitation rbac.Holder // rbac.Invite(id)
	Secret     string
}

// Op returns "invitation.decline", its log name and audit action.
func (DeclineInvitation) Op() string { return "invitation.decline" }

// Apply runs the operation; call it through Do or Run.
func (o DeclineInvitation) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	inv, err := tx.addressed(ctx, actor, o.Invitation, o.Secret)
	if err != nil {
		return struct{}{}, err
	}
	tenants, err := tx.invitationTenants(ctx, inv)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteInvitation(ctx, inv.ID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.auditIn(ctx, o, tenants, actor, o.Invitation.String(), "invited", "")
}

// addressed loads the invitation h for its addressee: the acting user, with the
// invited address and the invitation's secret. A wrong secret, another address and an
// invitation that does not exist answer alike, ErrNotFound.
func (tx *work) addressed(ctx context.Context, actor rbac.Holder, h rbac.Holder, secret string) (store.Invitation, error) {
	if h.Kind != rbac.HolderInvite {
		return store.Invitation{}, invalid("invitation", "not an invitation")
	}
	if err := ValidID("invitation", h.ID); err != nil {
		return store.Invitation{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Invitation{}, err
	}
	if actor.Kind != rbac.HolderUser {
		return store.Invitation{}, notFound(h)
	}
	u, err := tx.r.User(ctx, actor.ID)
	if err != nil {
		return store.Invitation{}, err
	}
	inv, err := tx.r.Invitation(ctx, h.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Invitation{}, err
	}
	// The secret is compared in constant time whether or not the invitation exists.
	match := secretMatches(secret, inv.Hash)
	if err != nil || !match || store.FoldKey(inv.Email) != store.FoldKey(u.Email) {
		return store.Invitation{}, notFound(h)
	}
	return inv, nil
}

// AddressedInvitation returns an invitation to its addressee, pending or expired: the
// acting user must have the invited address and hold the invitation's secret, as to
// accept it; otherwise, as for an invitation that does not exist, ErrNotFound. It lets
// the host show an invitation (and that it expired, [rbac.RuleInviteExpiry]) before
// the user accepts or declines it. The hash of the secret is never shown.
type AddressedInvitation struct {
	Invitation rbac.Holder // rbac.Invite(id)
	Secret     string
}

// InvitationView is the answer of AddressedInvitation.
type InvitationView struct {
	store.Invitation
	Expired bool
}

// Op returns "invitation.get", its log name.
func (AddressedInvitation) Op() string { return "invitation.get" }

// Answer answers the query; call it through Get or Read.
func (q AddressedInvitation) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (InvitationView, error) {
	tx := open(t)
	inv, err := tx.addressed(ctx, actor, q.Invitation, q.Secret)
	if err != nil {
		return InvitationView{}, err
	}
	inv.Hash = nil
	return InvitationView{Invitation: inv, Expired: inv.Expired(tx.Env.Now())}, nil
}
