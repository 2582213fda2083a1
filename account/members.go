package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// NewInvitation is an invitation just made, with its secret: the only time the secret
// is shown. The host delivers it to the invited address (in the link of an email, say);
// only its hash is kept, and accepting needs it.
type NewInvitation struct {
	store.Invitation
	Secret string
}

// Invite invites an email address into the account or organization Tenant with grants and
// team places in one call ([rbac.RuleInvite]). The actor needs admin there; the plan must
// include user management ([rbac.RulePlan]); the address must not be a member already
// (ErrExists) and must fit in the seats ([rbac.RuleSeats], [rbac.RuleInviteSeats]); every
// grant and team place obeys the rules on changing access ([rbac.RuleAdminChanges],
// [rbac.RuleNoEscalation]). Grants may be on the tenant and, when it is an organization,
// on its sub-accounts and what they hold. The invitation expires after ExpiresIn
// ([rbac.RuleInviteExpiry]).
type Invite struct {
	Tenant rbac.Ref
	Email  string
	Grants []GrantSpec
	Teams  []rbac.Holder // teams of the tenant (rbac.Team)
	// ExpiresIn is how long the invitation can be accepted: between MinInvitationTTL
	// and the service's MaxInvitationTTL; the service's InvitationTTL when zero.
	ExpiresIn time.Duration
}

// Op returns "member.invite", its log name and audit action.
func (Invite) Op() string { return "member.invite" }

// Apply runs the operation; call it through Do or Run.
func (o Invite) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (NewInvitation, error) {
	return o.apply(ctx, open(t), actor, o.Op())
}

// expiry returns when an invitation made now for ttl expires.
func (tx *work) inviteExpiry(ttl time.Duration) (time.Time, error) {
	switch {
	case ttl == 0:
		ttl = tx.s.inviteTTL
	case ttl < MinInvitationTTL:
		return time.Time{}, invalid("expires_in", "shorter than %v (D36)", MinInvitationTTL)
	case ttl > tx.s.maxInviteTTL:
		return time.Time{}, invalid("expires_in", "longer than %v (D36)", tx.s.maxInviteTTL)
	}
	return tx.Env.Now().Add(ttl), nil
}

// apply invites, writing its audit events with op's action.
func (o Invite) apply(ctx context.Context, tx *work, actor rbac.Holder, action string) (NewInvitation, error) {
	if err := validTenant("tenant", o.Tenant); err != nil {
		return NewInvitation{}, err
	}
	expires, err := tx.inviteExpiry(o.ExpiresIn)
	if err != nil {
		return NewInvitation{}, err
	}
	email, err := NormalizeEmail(o.Email)
	if err != nil {
		return NewInvitation{}, err
	}
	changes := specsAsChanges(o.Grants)
	if err := validChanges("grants", actor, rbac.Invite("new"), changes); err != nil {
		return NewInvitation{}, err
	}
	if len(o.Teams) > MaxGrants {
		return NewInvitation{}, invalid("teams", "more than %d entries", MaxGrants)
	}
	teams := make([]string, len(o.Teams))
	for i, h := range o.Teams {
		f := "teams[" + strconv.Itoa(i) + "]"
		if h.Kind != rbac.HolderTeam {
			return NewInvitation{}, invalid(f, "not a team")
		}
		if err := ValidID(f, h.ID); err != nil {
			return NewInvitation{}, err
		}
		if slices.Contains(teams[:i], h.ID) {
			return NewInvitation{}, invalid(f, "%v appears twice", h)
		}
		teams[i] = h.ID
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountMembersInvite, o.Tenant); err != nil {
		return NewInvitation{}, err
	}
	a, err := tx.r.Account(ctx, o.Tenant)
	if err != nil {
		return NewInvitation{}, err
	}
	if p := tx.s.plans[a.Plan]; !p.UserManagement {
		return NewInvitation{}, errorsJoinPlan("user management", a.Plan)
	}
	if u, err := tx.r.UserByEmail(ctx, email); err == nil {
		if m, err := tx.isMember(ctx, rbac.User(u.ID), o.Tenant); err != nil {
			return NewInvitation{}, err
		} else if m {
			return NewInvitation{}, errorsExists("%v is already a member of %v (D19)", rbac.User(u.ID), o.Tenant)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return NewInvitation{}, err
	}
	if limit := tx.s.plans[a.Plan].Invitations; limit > 0 {
		n, err := tx.pendingInvitations(ctx, o.Tenant)
		if err != nil {
			return NewInvitation{}, err
		}
		if n >= limit {
			return NewInvitation{}, withinLimit("pending invitations", n, limit, o.Tenant, a.Plan)
		}
	}
	limit, err := tx.seatLimit(ctx, a)
	if err != nil {
		return NewInvitation{}, err
	}
	if limit > 0 { // without a limit, nothing to count
		pool, err := tx.seatPool(ctx, a)
		if err != nil {
			return NewInvitation{}, err
		}
		if _, counted := pool.emails[store.FoldKey(email)]; !counted && len(pool.emails)+1 > pool.limit {
			return NewInvitation{}, seatError(len(pool.emails), pool.limit)
		}
	}
	inv := store.Invitation{ID: tx.Env.NewID("inv"), Tenant: o.Tenant, Email: email, InvitedBy: actor, Teams: teams, Created: tx.Env.Now(), Expires: expires}
	secret, hash, err := tx.secret(inv.ID)
	if err != nil {
		return NewInvitation{}, err
	}
	inv.Hash = hash
	if err := tx.w.InsertInvitation(ctx, inv); err != nil {
		if errors.Is(err, store.ErrExists) {
			return NewInvitation{}, errorsExists("an invitation of this address is pending or expired in %v: resend it (D36)", o.Tenant)
		}
		return NewInvitation{}, err
	}
	tg := target{holder: rbac.Invite(inv.ID)}
	var afterBuf [256]byte
	after := afterBuf[:0] // "scope=level,...,team:id,..."
	var tenantsBuf [4]rbac.Ref
	tenants := append(tenantsBuf[:0], o.Tenant)
	for _, c := range changes {
		p, err := tx.path(ctx, c.Scope)
		if errors.Is(err, store.ErrNotFound) {
			return NewInvitation{}, notFound(c.Scope)
		} else if err != nil {
			return NewInvitation{}, err
		}
		if !p.Contains(o.Tenant) {
			return NewInvitation{}, notFound(c.Scope)
		}
		g, _, err := tx.planChange(ctx, actor, p.Tenant(), tg, c)
		if err != nil {
			return NewInvitation{}, err
		}
		if err := tx.w.PutGrant(ctx, g); err != nil {
			return NewInvitation{}, err
		}
		tenants = append(tenants, g.Tenant)
		if len(after) > 0 {
			after = append(after, ',')
		}
		after = appendChange(after, c.Scope, c.Level)
	}
	for _, team := range teams {
		if err := tx.teamPlace(ctx, actor, a, team, rbac.Invite(inv.ID), false); err != nil {
			return NewInvitation{}, err
		}
		if len(after) > 0 {
			after = append(after, ',')
		}
		after = append(after, rbac.Team(team).String()...)
	}
	inv.Hash = nil
	return NewInvitation{Invitation: inv, Secret: secret}, tx.auditAllIn(ctx, action, tenants, actor, rbac.Invite(inv.ID).String(), "", string(after))
}

// pendingInvitations counts the invitations of tenant that have not expired.
func (tx *work) pendingInvitations(ctx context.Context, tenant rbac.Ref) (int, error) {
	c := struct {
		n   int
		now time.Time
		err error
	}{now: tx.Env.Now()}
	tx.r.Invitations(ctx, tenant)(func(inv store.Invitation, err error) bool {
		if err != nil {
			c.err = err
			return false
		}
		if !inv.Expired(c.now) {
			c.n++
		}
		return true
	})
	return c.n, c.err
}

// AcceptInvitation turns an invitation into memberships of the acting user, whose email
// must be the invited one and who holds the invitation's secret, delivered to that
// address: the user joins every account the invitation has grants in, receives its
// grants and joins its teams ([rbac.RuleInvite]). A wrong secret, another address and
// an invitation that does not exist answer alike, ErrNotFound: changing one's own
// address to the invitee's does not make the invitation acceptable.
type AcceptInvitation struct {
	Invitation rbac.Holder // rbac.Invite(id)
	Secret     string      // the secret of NewInvitation
}

// Op returns "invitation.accept", its log name and audit action.
func (AcceptInvitation) Op() string { return "invitation.accept" }

// Apply runs the operation; call it through Do or Run.
func (o AcceptInvitation) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	inv, err := tx.addressed(ctx, actor, o.Invitation, o.Secret)
	if err != nil {
		return struct{}{}, err
	}
	if inv.Expired(tx.Env.Now()) {
		return struct{}{}, fmt.Errorf("%w: %v expired at %s; ask for it to be resent (%s)", ErrExpired, o.Invitation, inv.Expires.Format(time.RFC3339), rbac.RuleInviteExpiry)
	}
	id := inv.ID
	u := store.User{ID: actor.ID}
	var grants []store.Grant
	tenants := []rbac.Ref{inv.Tenant}
	for g, err := range tx.r.HolderGrants(ctx, o.Invitation, inv.Tenant) {
		if err != nil {
			return struct{}{}, err
		}
		grants = append(grants, g)
	}
	if inv.Tenant.Kind == rbac.KindOrganization {
		for sub, err := range txn.Collect(tx.r.SubAccounts(ctx, inv.Tenant.ID)) {
			if err != nil {
				return struct{}{}, err
			}
			n := len(grants)
			for g, err := range tx.r.HolderGrants(ctx, o.Invitation, sub.Ref) {
				if err != nil {
					return struct{}{}, err
				}
				grants = append(grants, g)
			}
			if len(grants) > n {
				tenants = append(tenants, sub.Ref)
			}
		}
	}
	for _, t := range tenants {
		if m, err := tx.isMember(ctx, actor, t); err != nil {
			return struct{}{}, err
		} else if !m {
			if err := tx.w.InsertMember(ctx, store.Member{Tenant: t, User: u.ID, Created: tx.Env.Now()}); err != nil {
				return struct{}{}, err
			}
		}
	}
	for _, g := range grants {
		mine := g
		mine.Holder = actor
		cur, err := tx.r.Grant(ctx, mine.Holder, g.Scope)
		if err == nil && cur.Level > g.Level {
			continue
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return struct{}{}, err
		}
		if err := tx.w.PutGrant(ctx, mine); err != nil {
			return struct{}{}, err
		}
	}
	for _, team := range inv.Teams {
		err := tx.w.InsertTeamMember(ctx, team, u.ID)
		// A team deleted since the invitation was made is skipped; so is a place
		// the user already has.
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrExists) {
			return struct{}{}, err
		}
	}
	if err := tx.w.DeleteInvitation(ctx, id); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.auditIn(ctx, o, tenants, actor, o.Invitation.String(), "", actor.String())
}

// RevokeInvitation removes a pending invitation of the account or organization Tenant
// with its grants (admin, D19).
type RevokeInvitation struct {
	Tenant     rbac.Ref
	Invitation rbac.Holder // rbac.Invite(id)
}

// Op returns "invitation.revoke", its log name and audit action.
func (RevokeInvitation) Op() string { return "invitation.revoke" }

// Apply runs the operation; call it through Do or Run.
func (o RevokeInvitation) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	inv, _, err := tx.managedInvitation(ctx, actor, o.Tenant, o.Invitation)
	if err != nil {
		return struct{}{}, err
	}
	changed, err := tx.invitationTenants(ctx, inv)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteInvitation(ctx, inv.ID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.auditIn(ctx, o, changed, actor, o.Invitation.String(), "invited", "")
}

// seats is a seat pool: the account, or the organization an account is in, with the
// addresses that count to it ([rbac.RuleSeats], [rbac.RuleInviteSeats]) and its limit (0:
// none).
type seats struct {
	emails map[string]struct{}
	limit  int
}

// seatPool counts the users of a's pool: every member of the account (or of the
// organization and all its sub-accounts, once each) and every invitation that has not
// expired.
func (tx *work) seatPool(ctx context.Context, a store.Account) (seats, error) {
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
				pool.emails[store.FoldKey(u.Email)] = struct{}{}
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
			if !inv.Expired(tx.Env.Now()) {
				pool.emails[store.FoldKey(inv.Email)] = struct{}{}
			}
		}
	}
	return pool, nil
}

// seatLimit returns the seat limit of a's pool (0: none).
func (tx *work) seatLimit(ctx context.Context, a store.Account) (int, error) {
	root, err := tx.seatRoot(ctx, a)
	return tx.s.plans[root.Plan].Seats, err
}

// seatRoot returns the account whose plan and pool a's seats belong to: its
// organization for a sub-account, else a itself.
func (tx *work) seatRoot(ctx context.Context, a store.Account) (store.Account, error) {
	if a.Org == "" {
		return a, nil
	}
	return tx.r.Account(ctx, rbac.Org(a.Org))
}

// seatsUsed returns how many seats a's pool uses.
func (tx *work) seatsUsed(ctx context.Context, a store.Account) (int, error) {
	p, err := tx.seatPool(ctx, a)
	return len(p.emails), err
}

// Seats returns the seats used in the pool of the account or organization Tenant and
// its limit (0: none), for who may list its members.
type Seats struct {
	Tenant rbac.Ref
}

// SeatCount is the answer of Seats.
type SeatCount struct {
	Used  int
	Limit int // 0: no limit
}

// Op returns "seats.get", its log name.
func (Seats) Op() string { return "seats.get" }

// Answer answers the query; call it through Get or Read.
func (q Seats) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (SeatCount, error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return SeatCount{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.MembersList, q.Tenant); err != nil {
		return SeatCount{}, err
	}
	a, err := tx.r.Account(ctx, q.Tenant)
	if err != nil {
		return SeatCount{}, err
	}
	p, err := tx.seatPool(ctx, a)
	return SeatCount{Used: len(p.emails), Limit: p.limit}, err
}

// MyInvitations lists the pending invitations of the acting user's email address,
// across all accounts, by ID: what the signed-in user may accept or decline. Expired
// invitations are not listed ([rbac.RuleInviteExpiry]); secrets' hashes are never
// shown.
type MyInvitations struct {
	Page PageRequest
}

// Op returns "invitation.mine", its log name.
func (MyInvitations) Op() string { return "invitation.mine" }

func (q MyInvitations) from(after string) Lister[store.Invitation] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q MyInvitations) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[store.Invitation], error) {
	tx := open(t)
	limit, err := q.Page.limit()
	if err != nil {
		return Page[store.Invitation]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[store.Invitation]{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return Page[store.Invitation]{}, err
	}
	if actor.Kind != rbac.HolderUser {
		return Page[store.Invitation]{}, nil
	}
	u, err := tx.r.User(ctx, actor.ID)
	if err != nil {
		return Page[store.Invitation]{}, err
	}
	var out []store.Invitation
	for inv, err := range tx.r.InvitationsByEmail(ctx, u.Email) {
		if err != nil {
			return Page[store.Invitation]{}, err
		}
		if inv.ID <= after || inv.Expired(tx.Env.Now()) {
			continue
		}
		inv.Hash = nil
		out = append(out, inv)
		if len(out) > limit {
			break
		}
	}
	return pageOf(out, limit, func(i store.Invitation) string { return i.ID }), nil
}
