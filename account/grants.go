package account

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// GrantSpec is a grant requested for a holder: a level on a scope, and on a domain the
// view-email-content flag ([rbac.RuleViewContent]).
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

// validChanges checks a list of grant requests for target: each scope and level well
// formed, no scope twice, the flag only on a domain, and never the owner level
// ([rbac.RuleOwnerNotGrant]).
func validChanges(field string, actor, target rbac.Holder, changes []PermissionChange) error {
	if len(changes) > MaxGrants {
		return invalid(field, "more than %d entries", MaxGrants)
	}
	var seen map[rbac.Ref]bool // for a long list; a short one is searched
	if len(changes) > 16 {
		seen = make(map[rbac.Ref]bool, len(changes))
	}
	for i, c := range changes {
		f := func() string { return field + "[" + strconv.Itoa(i) + "]" }
		if !c.Scope.Kind.Valid() || validIDOf("", c.Scope.ID) != nil {
			return validRef(f()+".scope", c.Scope)
		}
		twice := seen[c.Scope]
		if seen == nil {
			twice = slices.ContainsFunc(changes[:i], func(d PermissionChange) bool { return d.Scope == c.Scope })
		} else {
			seen[c.Scope] = true
		}
		if twice {
			return invalid(f()+".scope", "%v appears twice", c.Scope)
		}
		if target.Kind == rbac.HolderToken && !tokenKinds.Has(c.Scope.Kind) {
			return invalid(f()+".scope", "a token holds grants on organizations, accounts, projects, inboxes and domains only (D22)")
		}
		if c.Destroy {
			continue
		}
		if c.Level == rbac.Owner {
			return rbac.DecideChange(rbac.Change{Actor: actor, Target: target, Scope: c.Scope, To: rbac.Owner}).Err()
		}
		if c.Level != rbac.Viewer && c.Level != rbac.Admin {
			return invalid(f()+".level", "must be viewer or admin")
		}
		if c.ViewContent && c.Scope.Kind != rbac.KindDomain {
			return invalid(f()+".view_content", "only a domain grant carries the flag")
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

var tokenKinds = rbac.KindsOf(rbac.KindOrganization, rbac.KindAccount, rbac.KindProject, rbac.KindInbox, rbac.KindDomain)

// target is the holder whose grants a change touches, with the facts the rules need.
type target struct {
	holder        rbac.Holder
	isOwner       bool // the owner of the tenant (D9)
	includesActor bool // the actor itself, or a team the actor is in (D10)
}

// planChange checks one grant change of t on c.Scope within tenant (whose scopes must
// contain c.Scope) and returns the grant to put (zero Level to delete) and the level
// it replaces.
func (tx *work) planChange(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, t target, c PermissionChange) (store.Grant, rbac.Level, error) {
	p, actorLevel, err := tx.levelOn(ctx, actor, c.Scope)
	if err != nil {
		return store.Grant{}, 0, err
	}
	if p.Tenant() != tenant {
		return store.Grant{}, 0, notFound(c.Scope)
	}
	if actorLevel == rbac.None {
		if seen, err := store.Sees(ctx, tx.r, actor, c.Scope); err != nil {
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
func (tx *work) applyChanges(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, t target, changes []PermissionChange) (before, after string, err error) {
	type plannedChange struct {
		g    store.Grant
		from rbac.Level
	}
	var buf [4]plannedChange
	planned := buf[:0]
	for _, c := range changes {
		g, from, err := tx.planChange(ctx, actor, tenant, t, c)
		if err != nil {
			return "", "", err
		}
		planned = append(planned, plannedChange{g, from})
	}
	for _, p := range planned {
		if p.g.Level == rbac.None {
			err = tx.w.DeleteGrant(ctx, p.g.Holder, p.g.Scope)
		} else {
			err = tx.w.PutGrant(ctx, p.g)
		}
		if err != nil {
			return "", "", err
		}
	}
	// Both summaries, "scope=level,...", in one string.
	var text [256]byte
	b := text[:0]
	for i, p := range planned {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendChange(b, p.g.Scope, p.from)
	}
	n := len(b)
	for i, p := range planned {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendChange(b, p.g.Scope, p.g.Level)
	}
	both := string(b)
	return both[:n], both[n:], nil
}

// appendChange appends "scope=level" to b.
func appendChange(b []byte, scope rbac.Ref, l rbac.Level) []byte {
	b = append(b, scope.Kind.String()...)
	b = append(b, ':')
	b = append(b, scope.ID...)
	b = append(b, '=')
	return append(b, l.String()...)
}

// subject resolves holder h as the subject of a change within tenant a: it must exist
// there (a member, an invitation made there, a token or team of the tenant) and the actor
// must be able to see it — a member or invitation as the member listing shows it
// ([rbac.RuleVisibility]), a token or team only to who may manage them. Otherwise
// ErrNotFound naming h, exactly as for a holder that does not exist.
func (tx *work) subject(ctx context.Context, actor rbac.Holder, a store.Account, h rbac.Holder) (target, error) {
	return tx.subjectAt(ctx, actor, a, rbac.None, false, h)
}

// subjectAt is subject for an actor whose level on a is lvl when known, as
// tenantLevel returned it in the same read.
func (tx *work) subjectAt(ctx context.Context, actor rbac.Holder, a store.Account, lvl rbac.Level, known bool, h rbac.Holder) (target, error) {
	t := target{holder: h, includesActor: h == actor}
	switch h.Kind {
	case rbac.HolderUser:
		m, err := tx.isMember(ctx, h, a.Ref)
		if err != nil {
			return t, err
		}
		if !m {
			return t, notFound(h)
		}
		t.isOwner = a.Owner == h.ID
	case rbac.HolderInvite:
		inv, err := tx.r.Invitation(ctx, h.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && inv.Tenant != a.Ref {
			return t, notFound(h)
		} else if err != nil {
			return t, err
		}
	case rbac.HolderToken:
		tok, err := tx.r.Token(ctx, h.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && tok.Tenant != a.Ref {
			return t, notFound(h)
		} else if err != nil {
			return t, err
		}
		if ok, err := tx.may(ctx, actor, rbac.AccountTokensManage, a.Ref); err != nil || !ok {
			return t, orNotFound(err, h)
		}
		return t, nil
	case rbac.HolderTeam:
		team, err := tx.r.Team(ctx, h.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && team.Tenant != a.Ref {
			return t, notFound(h)
		} else if err != nil {
			return t, err
		}
		if ok, err := tx.may(ctx, actor, rbac.AccountTeamsManage, a.Ref); err != nil || !ok {
			return t, orNotFound(err, h)
		}
		if actor.Kind == rbac.HolderUser {
			in, err := tx.inTeam(ctx, h.ID, actor.ID)
			if err != nil {
				return t, err
			}
			t.includesActor = in
		}
		return t, nil
	default:
		return t, invalid("holder.kind", "not a holder kind")
	}
	if h == actor {
		return t, nil // one sees oneself (and is refused by D10)
	}
	aud, err := tx.audienceAt(ctx, actor, a, lvl, known)
	if err != nil {
		return t, err
	}
	if !aud.all {
		seen, err := aud.sees(ctx, tx, h)
		if err != nil {
			return t, err
		}
		if !seen {
			return t, notFound(h)
		}
	}
	return t, nil
}

// orNotFound returns err when it is not nil, else ErrNotFound naming what.
func orNotFound(err error, what rbac.Holder) error {
	if err != nil {
		return err
	}
	return notFound(what)
}

// may reports whether actor may do action on scope.
func (tx *work) may(ctx context.Context, actor rbac.Holder, action rbac.Action, scope rbac.Ref) (bool, error) {
	_, d, err := tx.decide(ctx, actor, action, scope)
	if err != nil {
		return false, err
	}
	return d.Allowed, nil
}

func (tx *work) inTeam(ctx context.Context, team, user string) (bool, error) {
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

// tenantOf loads the account or organization ref for an operation, after checking
// the actor: ErrNotFound naming ref when it does not exist or the actor cannot see it.
func (tx *work) tenantOf(ctx context.Context, actor rbac.Holder, ref rbac.Ref) (store.Account, error) {
	a, _, err := tx.tenantLevel(ctx, actor, ref)
	return a, err
}

// tenantLevel is tenantOf with the actor's effective level on the tenant, as level
// returns it.
func (tx *work) tenantLevel(ctx context.Context, actor rbac.Holder, ref rbac.Ref) (store.Account, rbac.Level, error) {
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Account{}, rbac.None, err
	}
	_, lvl, err := tx.visible(ctx, actor, ref)
	if err != nil {
		return store.Account{}, rbac.None, err
	}
	a, err := tx.r.Account(ctx, ref)
	return a, lvl, err
}

// SetPermissions applies a bulk permissions update to the grants of Holder in the account
// or organization Tenant ([rbac.RuleAdminChanges], [rbac.RuleNoEscalation],
// [rbac.RuleOwnerImmutable], [rbac.RuleNoSelfChange], [rbac.RuleTokenSelf]), all or
// nothing: one refused entry refuses them all. Holder is a member, an invitation, a token
// or a team of the tenant that the actor can see.
type SetPermissions struct {
	Tenant  rbac.Ref
	Holder  rbac.Holder
	Changes []PermissionChange
}

// Op returns "permissions.set", its log name and audit action.
func (SetPermissions) Op() string { return "permissions.set" }

// Apply runs the operation; call it through Do or Run.
func (o SetPermissions) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return struct{}{}, err
	}
	if err := validHolder("holder", o.Holder); err != nil {
		return struct{}{}, err
	}
	if len(o.Changes) == 0 {
		return struct{}{}, invalid("changes", "empty")
	}
	if err := validChanges("changes", actor, o.Holder, o.Changes); err != nil {
		return struct{}{}, err
	}
	a, lvl, err := tx.tenantLevel(ctx, actor, o.Tenant)
	if err != nil {
		return struct{}{}, err
	}
	tg, err := tx.subjectAt(ctx, actor, a, lvl, true, o.Holder)
	if err != nil {
		return struct{}{}, err
	}
	before, after, err := tx.applyChanges(ctx, actor, o.Tenant, tg, o.Changes)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.Audit(ctx, o.Tenant, actor, o.Op(), o.Holder.String(), before, after)
}

// RemoveFromResource removes Member's grants on Scope (a project, inbox or domain) and
// below ([rbac.RuleRemoveResource]). A removed user stays in the account, possibly with no
// access, and still counts to seats.
type RemoveFromResource struct {
	Scope  rbac.Ref
	Member rbac.Holder
}

// Op returns "member.remove_from_resource", its log name and audit action.
func (RemoveFromResource) Op() string { return "member.remove_from_resource" }

// Apply runs the operation; call it through Do or Run.
func (o RemoveFromResource) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validRef("scope", o.Scope); err != nil {
		return struct{}{}, err
	}
	if o.Scope.Kind.Ownable() {
		return struct{}{}, invalid("scope", "use RemoveMember to remove a member from the account (D13)")
	}
	if err := validHolder("member", o.Member); err != nil {
		return struct{}{}, err
	}
	p, _, err := tx.authorize(ctx, actor, rbac.AccessManage, o.Scope)
	if err != nil {
		return struct{}{}, err
	}
	a, err := tx.r.Account(ctx, p.Tenant())
	if err != nil {
		return struct{}{}, err
	}
	tg, err := tx.subject(ctx, actor, a, o.Member)
	if err != nil {
		return struct{}{}, err
	}
	// The owner ([rbac.RuleOwnerImmutable]) and the actor itself ([rbac.RuleNoSelfChange])
	// are refused before anything else.
	if d := rbac.DecideChange(rbac.Change{
		Actor: actor, ActorLevel: rbac.Admin, Target: o.Member, Scope: o.Scope,
		TargetIsOwner: tg.isOwner, TargetIncludesActor: tg.includesActor,
	}); !d.Allowed {
		return struct{}{}, d.Err()
	}
	var changes []PermissionChange
	for g, err := range tx.r.ScopeGrants(ctx, o.Scope, true) {
		if err != nil {
			return struct{}{}, err
		}
		if g.Holder == o.Member {
			changes = append(changes, PermissionChange{Scope: g.Scope, Destroy: true})
		}
	}
	if len(changes) == 0 {
		return struct{}{}, notFound(o.Member)
	}
	before, after, err := tx.applyChanges(ctx, actor, a.Ref, tg, changes)
	if err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, a.Ref, actor, o.Member.String(), before, after)
}

// RemoveMember removes the user Member from the account or organization Tenant
// ([rbac.RuleRemoveMember]): the user loses every grant and team place there (in an
// organization, in its sub-accounts too), stays a user, and no longer counts to seats.
// Nobody removes the owner ([rbac.RuleOwnerImmutable]) or themselves
// ([rbac.RuleNoSelfChange]; use Leave).
type RemoveMember struct {
	Tenant rbac.Ref
	Member rbac.Holder
}

// Op returns "member.remove", its log name and audit action.
func (RemoveMember) Op() string { return "member.remove" }

// Apply runs the operation; call it through Do or Run.
func (o RemoveMember) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return struct{}{}, err
	}
	if err := validHolder("member", o.Member); err != nil {
		return struct{}{}, err
	}
	if o.Member.Kind != rbac.HolderUser {
		return struct{}{}, invalid("member.kind", "a member is a user; revoke an invitation, delete a token")
	}
	a, err := tx.tenantOf(ctx, actor, o.Tenant)
	if err != nil {
		return struct{}{}, err
	}
	if _, err := tx.subject(ctx, actor, a, o.Member); err != nil {
		return struct{}{}, err
	}
	lvl, err := tx.level(ctx, actor, o.Tenant)
	if err != nil {
		return struct{}{}, err
	}
	if d := rbac.DecideRemoveMember(actor, lvl, o.Member, rbac.User(a.Owner), o.Tenant); !d.Allowed {
		return struct{}{}, d.Err()
	}
	tenants, err := tx.withSubAccounts(ctx, o.Tenant)
	if err != nil {
		return struct{}{}, err
	}
	var changed []rbac.Ref
	for _, t := range tenants {
		err := tx.w.DeleteMember(ctx, t, o.Member.ID)
		switch {
		case err == nil:
			changed = append(changed, t)
		case t != o.Tenant && errors.Is(err, store.ErrNotFound):
		default:
			return struct{}{}, err
		}
	}
	return struct{}{}, tx.auditIn(ctx, o, changed, actor, o.Member.String(), "member", "")
}

// Level returns a holder's effective level on a scope ([rbac.RuleEffective]), with the
// decision's reason: the actor may ask about itself on any scope it can see, and about
// another holder on a scope it administers when it can see that holder.
type Level struct {
	Holder rbac.Holder
	Scope  rbac.Ref
}

// Op returns "access.level", its log name.
func (Level) Op() string { return "access.level" }

// Answer answers the query; call it through Get or Read.
func (q Level) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (rbac.Level, error) {
	tx := open(t)
	if err := validHolder("holder", q.Holder); err != nil {
		return rbac.None, err
	}
	if err := validRef("scope", q.Scope); err != nil {
		return rbac.None, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return rbac.None, err
	}
	p, lvl, err := tx.visible(ctx, actor, q.Scope)
	if err != nil {
		return rbac.None, err
	}
	if q.Holder == actor {
		return lvl, nil
	}
	if lvl < rbac.Admin {
		return rbac.None, notFound(q.Holder)
	}
	a, err := tx.r.Account(ctx, p.Tenant())
	if err != nil {
		return rbac.None, err
	}
	if _, err := tx.subject(ctx, actor, a, q.Holder); err != nil {
		return rbac.None, err
	}
	return tx.level(ctx, q.Holder, q.Scope)
}
