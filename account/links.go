package account

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// linkRef names an invite link in errors and audit events: "invitelink:ID".
type linkRef string

func (l linkRef) String() string { return "invitelink:" + string(l) }

// NewInviteLink is an invite link just created or rotated, with its secret: the only
// time the secret is shown. Whoever holds it and signs in may join; only its hash is
// kept.
type NewInviteLink struct {
	store.InviteLink
	Secret string
}

// CreateInviteLink creates a reusable invite link of the account or organization Tenant
// ([rbac.RuleInviteLink]): a signed-in user holding its secret joins Tenant with Level
// (viewer or admin) on each of Scopes (the tenant, or scopes within it). The actor needs
// admin on the tenant and may give that level on every scope ([rbac.RuleAdminChanges],
// [rbac.RuleNoEscalation]); the plan must include user management. The link is
// attributed to the actor (a token's creator for a token), and works only while that
// user may still give its access.
type CreateInviteLink struct {
	Tenant rbac.Ref
	Level  rbac.Level
	Scopes []rbac.Ref
}

// Op returns "invitelink.create", its log name and audit action.
func (CreateInviteLink) Op() string { return "invitelink.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateInviteLink) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (NewInviteLink, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return NewInviteLink{}, err
	}
	if o.Level != rbac.Viewer && o.Level != rbac.Admin {
		return NewInviteLink{}, invalid("level", "not viewer or admin")
	}
	switch {
	case len(o.Scopes) == 0:
		return NewInviteLink{}, invalid("scopes", "empty")
	case len(o.Scopes) > MaxGrants:
		return NewInviteLink{}, invalid("scopes", "more than %d entries", MaxGrants)
	}
	changes := make([]PermissionChange, len(o.Scopes))
	for i, s := range o.Scopes {
		changes[i] = PermissionChange{Scope: s, Level: o.Level}
	}
	if err := validChanges("scopes", actor, rbac.Invite("new"), changes); err != nil {
		return NewInviteLink{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, o.Tenant); err != nil {
		return NewInviteLink{}, err
	}
	a, err := tx.r.Account(ctx, o.Tenant)
	if err != nil {
		return NewInviteLink{}, err
	}
	if p := tx.s.plans[a.Plan]; !p.UserManagement {
		return NewInviteLink{}, errorsJoinPlan("user management", a.Plan)
	}
	for _, c := range changes {
		if _, _, err := tx.planChange(ctx, actor, o.Tenant, target{holder: rbac.Invite("new")}, c); err != nil {
			return NewInviteLink{}, err
		}
	}
	creator, err := tx.creator(ctx, actor)
	if err != nil {
		return NewInviteLink{}, err
	}
	scopes := slices.Clone(o.Scopes)
	slices.SortFunc(scopes, rbac.Ref.Compare)
	l := store.InviteLink{ID: tx.Env.NewID("link"), Tenant: o.Tenant, Level: o.Level, Scopes: scopes, CreatedBy: creator, Created: tx.Env.Now()}
	secret, hash, err := tx.secret(l.ID)
	if err != nil {
		return NewInviteLink{}, err
	}
	l.Hash = hash
	if err := tx.w.InsertInviteLink(ctx, l); err != nil {
		return NewInviteLink{}, err
	}
	l.Hash = nil
	return NewInviteLink{InviteLink: l, Secret: secret}, tx.audit(ctx, o, o.Tenant, actor, linkRef(l.ID).String(), "", linkSummary(l))
}

// linkSummary is what the audit log says a link gives: "admin on project:p1,inbox:i1".
func linkSummary(l store.InviteLink) string {
	parts := make([]string, len(l.Scopes))
	for i, s := range l.Scopes {
		parts[i] = s.String()
	}
	return l.Level.String() + " on " + strings.Join(parts, ",")
}

// managedLink loads an invite link of tenant that the actor may manage (admin):
// ErrNotFound otherwise, as for one that does not exist.
func (tx *work) managedLink(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, id string) (store.InviteLink, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return store.InviteLink{}, err
	}
	if err := ValidID("link", id); err != nil {
		return store.InviteLink{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, tenant); err != nil {
		return store.InviteLink{}, err
	}
	l, err := tx.r.InviteLink(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && l.Tenant != tenant {
		return store.InviteLink{}, notFound(linkRef(id))
	}
	return l, err
}

// DisableInviteLink turns an invite link of the account or organization Tenant off
// (admin): joining through it answers as for a link that does not exist. Rotating it
// turns it on again with a new secret.
type DisableInviteLink struct {
	Tenant rbac.Ref
	Link   string // the link's ID
}

// Op returns "invitelink.disable", its log name and audit action.
func (DisableInviteLink) Op() string { return "invitelink.disable" }

// Apply runs the operation; call it through Do or Run.
func (o DisableInviteLink) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.InviteLink, error) {
	tx := open(t)
	l, err := tx.managedLink(ctx, actor, o.Tenant, o.Link)
	if err != nil {
		return store.InviteLink{}, err
	}
	if l.Disabled {
		return store.InviteLink{}, invalid("link", "already disabled")
	}
	l.Disabled = true
	if err := tx.w.UpdateInviteLink(ctx, l); err != nil {
		return store.InviteLink{}, err
	}
	l.Hash = nil
	return l, tx.audit(ctx, o, o.Tenant, actor, linkRef(l.ID).String(), "enabled", "disabled")
}

// RotateInviteLink gives an invite link of the account or organization Tenant a new
// secret, returned once (admin): the old secret stops working at once. A disabled link
// is enabled again.
type RotateInviteLink struct {
	Tenant rbac.Ref
	Link   string
}

// Op returns "invitelink.rotate", its log name and audit action.
func (RotateInviteLink) Op() string { return "invitelink.rotate" }

// Apply runs the operation; call it through Do or Run.
func (o RotateInviteLink) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (NewInviteLink, error) {
	tx := open(t)
	l, err := tx.managedLink(ctx, actor, o.Tenant, o.Link)
	if err != nil {
		return NewInviteLink{}, err
	}
	before := "enabled"
	if l.Disabled {
		before = "disabled"
	}
	secret, hash, err := tx.secret(l.ID)
	if err != nil {
		return NewInviteLink{}, err
	}
	l.Hash, l.Disabled = hash, false
	if err := tx.w.UpdateInviteLink(ctx, l); err != nil {
		return NewInviteLink{}, err
	}
	l.Hash = nil
	return NewInviteLink{InviteLink: l, Secret: secret}, tx.audit(ctx, o, o.Tenant, actor, linkRef(l.ID).String(), before, "enabled, new secret")
}

// DeleteInviteLink deletes an invite link of the account or organization Tenant (admin).
type DeleteInviteLink struct {
	Tenant rbac.Ref
	Link   string
}

// Op returns "invitelink.delete", its log name and audit action.
func (DeleteInviteLink) Op() string { return "invitelink.delete" }

// Apply runs the operation; call it through Do or Run.
func (o DeleteInviteLink) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	l, err := tx.managedLink(ctx, actor, o.Tenant, o.Link)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteInviteLink(ctx, l.ID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Tenant, actor, linkRef(l.ID).String(), linkSummary(l), "")
}

// JoinByLink makes the acting user a member of an invite link's account or organization
// with the link's level on its scopes, as an accepted invitation would
// ([rbac.RuleInviteLink]): within the plan, within the seats counted at the moment of
// joining ([rbac.RuleSeats]), and as the tenant's security policies allow a member
// acting there ([rbac.RuleRequire2FA], [rbac.RuleIPAllowlist], [rbac.RuleSSO]). A link
// that does not exist, is disabled, or whose secret is wrong answers ErrNotFound; a
// member of the tenant gets ErrExists; when the link's creator may no longer give its
// access (has left, or lost admin), the join is denied under [rbac.RuleInviteLink].
// Scopes deleted since the link was made are skipped.
type JoinByLink struct {
	Link   string // the link's ID
	Secret string // the secret of NewInviteLink
}

// Op returns "invitelink.join", its log name and audit action.
func (JoinByLink) Op() string { return "invitelink.join" }

// Apply runs the operation; call it through Do or Run.
func (o JoinByLink) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Member, error) {
	tx := open(t)
	if err := ValidID("link", o.Link); err != nil {
		return store.Member{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Member{}, err
	}
	l, err := tx.r.InviteLink(ctx, o.Link)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Member{}, err
	}
	// The secret is compared in constant time whether or not the link exists.
	match := secretMatches(o.Secret, l.Hash)
	if err != nil || !match || l.Disabled || actor.Kind != rbac.HolderUser {
		return store.Member{}, notFound(linkRef(o.Link))
	}
	a, err := tx.r.Account(ctx, l.Tenant)
	if err != nil {
		return store.Member{}, err
	}
	if p := tx.s.plans[a.Plan]; !p.UserManagement {
		return store.Member{}, errorsJoinPlan("user management", a.Plan)
	}
	if m, err := tx.isMember(ctx, actor, l.Tenant); err != nil {
		return store.Member{}, err
	} else if m {
		return store.Member{}, errorsExists("%v is already a member of %v", actor, l.Tenant)
	}
	grants, err := tx.linkGrants(ctx, l, actor)
	if err != nil {
		return store.Member{}, err
	}
	// The tenant's security policies judge the joiner as they would a member acting
	// there with the link's level: from an address outside the allowlist, without a
	// required second factor, or outside an enforced single sign-on, the join is
	// refused under the policy's rule.
	p, err := tx.path(ctx, l.Tenant)
	if err != nil {
		return store.Member{}, err
	}
	if err := tx.gate(ctx, actor, p, l.Level); err != nil {
		return store.Member{}, err
	}
	u, err := tx.r.User(ctx, actor.ID)
	if err != nil {
		return store.Member{}, err
	}
	pool, err := tx.seatPool(ctx, a)
	if err != nil {
		return store.Member{}, err
	}
	if _, counted := pool.emails[store.FoldKey(u.Email)]; !counted && pool.limit > 0 && len(pool.emails)+1 > pool.limit {
		return store.Member{}, seatError(len(pool.emails), pool.limit)
	}
	m := store.Member{Tenant: l.Tenant, User: actor.ID, Created: tx.Env.Now()}
	if err := tx.w.InsertMember(ctx, m); err != nil {
		return store.Member{}, err
	}
	after := make([]string, 0, len(grants))
	for _, g := range grants {
		if err := tx.w.PutGrant(ctx, g); err != nil {
			return store.Member{}, err
		}
		after = append(after, g.Scope.String()+"="+g.Level.String())
	}
	l.Joined++
	if err := tx.w.UpdateInviteLink(ctx, l); err != nil {
		return store.Member{}, err
	}
	return m, tx.audit(ctx, o, l.Tenant, actor, linkRef(l.ID).String(), "", actor.String()+" "+strings.Join(after, ","))
}

// linkGrants returns the grants joining through l gives joiner, after checking that
// the link's creator may still give them: admin on the tenant, and allowed to give the
// link's level on each of its scopes that still exist. A refusal is a *rbac.DeniedError
// under rbac.RuleInviteLink.
func (tx *work) linkGrants(ctx context.Context, l store.InviteLink, joiner rbac.Holder) ([]store.Grant, error) {
	creator := rbac.User(l.CreatedBy)
	denied := func(scope rbac.Ref, need, has rbac.Level) error {
		return rbac.Decision{Action: rbac.AccountMembersInvite, Scope: scope, Need: need, Level: has, Rule: rbac.RuleInviteLink}.Err()
	}
	if _, err := tx.r.User(ctx, l.CreatedBy); errors.Is(err, store.ErrNotFound) {
		return nil, denied(l.Tenant, rbac.Admin, rbac.None)
	} else if err != nil {
		return nil, err
	}
	_, d, err := tx.decide(ctx, creator, rbac.AccountMembersInvite, l.Tenant)
	if err != nil {
		return nil, err
	}
	if !d.Allowed {
		return nil, denied(l.Tenant, d.Need, d.Level)
	}
	var grants []store.Grant
	for _, s := range l.Scopes {
		p, lvl, err := tx.levelOn(ctx, creator, s)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the link was made
		} else if err != nil {
			return nil, err
		}
		if p.Tenant() != l.Tenant {
			continue
		}
		if d := rbac.DecideChange(rbac.Change{Actor: creator, ActorLevel: lvl, Target: joiner, Scope: s, From: rbac.None, To: l.Level}); !d.Allowed {
			return nil, denied(s, max(rbac.Admin, l.Level), lvl)
		}
		grants = append(grants, store.Grant{Grant: rbac.Grant{Holder: joiner, Scope: s, Level: l.Level}, Tenant: l.Tenant})
	}
	return grants, nil
}

// InviteLinks lists the invite links of the account or organization Tenant (admin), by
// ID, with how many joined through each; secrets' hashes are never shown.
type InviteLinks struct {
	Tenant rbac.Ref
	Page   PageRequest
}

// Op returns "invitelink.list", its log name.
func (InviteLinks) Op() string { return "invitelink.list" }

func (q InviteLinks) from(after string) Lister[store.InviteLink] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q InviteLinks) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[store.InviteLink], error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return Page[store.InviteLink]{}, err
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[store.InviteLink]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[store.InviteLink]{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, q.Tenant); err != nil {
		return Page[store.InviteLink]{}, err
	}
	var out []store.InviteLink
	for l, err := range tx.r.InviteLinks(ctx, q.Tenant) {
		if err != nil {
			return Page[store.InviteLink]{}, err
		}
		if l.ID <= after {
			continue
		}
		l.Hash = nil
		out = append(out, l)
		if len(out) > limit {
			break
		}
	}
	return pageOf(out, limit, func(l store.InviteLink) string { return l.ID }), nil
}
