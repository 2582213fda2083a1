package account

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Access is one entry of a member listing: a user or a pending invitation, with its
// grants in the account and what the actor may do with it.
type Access struct {
	Holder     rbac.Holder      // rbac.User or rbac.Invite
	User       store.User       // for a user
	Invitation store.Invitation // for an invitation
	Owner      bool             // the account's owner
	Grants     []store.Grant    // the holder's own grants that the actor may see
	Teams      []rbac.Holder    // the holder's teams in the account
	CanUpdate  bool             // the actor may change these grants
	CanDestroy bool             // the actor may remove the holder from the account
	CanLeave   bool             // this is the actor, who may leave
	// LastActive is when the user last acted in the account ([rbac.RuleActivity]);
	// zero when never recorded.
	LastActive time.Time
	// Expired reports an invitation that can no longer be accepted and holds no
	// seat ([rbac.RuleInviteExpiry]).
	Expired bool
}

// Email returns the user's or the invitation's email address.
func (a Access) Email() string {
	if a.Holder.Kind == rbac.HolderInvite {
		return a.Invitation.Email
	}
	return a.User.Email
}

// Members lists the members and pending invitations of the account or organization Tenant
// that the actor may see ([rbac.RuleVisibility]): owners and admins of the account (and
// users of its organization) see everyone; a project, inbox or domain admin sees only the
// holders with access to a resource they administer; anyone else is refused. Scopes, when
// given, keep the holders with access to one of them (projects, inboxes or domains the
// actor can see). Users come first, then invitations, each by ID. For an account admin
// without a filter, a page costs O(page), whatever the account's size.
type Members struct {
	Tenant rbac.Ref
	Scopes []rbac.Ref
	Page   PageRequest
}

// Op returns "member.list", its log name.
func (Members) Op() string { return "member.list" }

func (q Members) from(after string) Lister[Access] { q.Page.After = after; return q }

// audience is what an actor may see of a tenant's people ([rbac.RuleVisibility]).
type audience struct {
	a      store.Account
	actor  rbac.Holder
	level  rbac.Level // the actor's effective level on the tenant
	all    bool       // the actor sees everyone
	within []rbac.Ref // otherwise, the resources it administers
	seen   map[rbac.Holder]bool
}

// audience works out what actor may see of a's people.
func (tx *work) audience(ctx context.Context, actor rbac.Holder, a store.Account) (*audience, error) {
	return tx.audienceAt(ctx, actor, a, rbac.None, false)
}

// audienceAt is audience for an actor whose level on a is lvl when known, as
// tenantLevel returned it in the same read.
func (tx *work) audienceAt(ctx context.Context, actor rbac.Holder, a store.Account, lvl rbac.Level, known bool) (*audience, error) {
	if !known {
		var err error
		if lvl, err = tx.level(ctx, actor, a.Ref); err != nil {
			return nil, err
		}
	}
	aud := &audience{a: a, actor: actor, level: lvl}
	aud.all = lvl >= rbac.Admin || a.Ref.Kind == rbac.KindOrganization && lvl >= rbac.Viewer
	if a.Org != "" && !aud.all {
		orgLvl, err := tx.level(ctx, actor, rbac.Org(a.Org))
		if err != nil {
			return nil, err
		}
		aud.all = orgLvl >= rbac.Viewer
	}
	if !aud.all {
		within, err := tx.administered(ctx, actor, a.Ref)
		if err != nil {
			return nil, err
		}
		aud.within = within
	}
	return aud, nil
}

// sees reports whether the audience sees h.
func (aud *audience) sees(ctx context.Context, tx *work, h rbac.Holder) (bool, error) {
	if aud.all {
		return true, nil
	}
	seen, err := aud.visible(ctx, tx)
	return seen[h], err
}

// visible returns the holders a restricted audience sees: those with access to a
// resource it administers.
func (aud *audience) visible(ctx context.Context, tx *work) (map[rbac.Holder]bool, error) {
	if aud.seen == nil {
		seen := map[rbac.Holder]bool{}
		for _, s := range aud.within {
			if err := tx.holdersWithAccess(ctx, aud.a, s, seen); err != nil {
				return nil, err
			}
		}
		aud.seen = seen
	}
	return aud.seen, nil
}

// holderKey is a holder's key in member listings: users before invitations, each by
// ID, as rbac.Holder.Compare orders them.
func holderKey(h rbac.Holder) string { return strconv.Itoa(int(h.Kind)) + ":" + h.ID }

// Answer answers the query; call it through Get or Read.
func (q Members) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[Access], error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return Page[Access]{}, err
	}
	if len(q.Scopes) > MaxGrants {
		return Page[Access]{}, invalid("scopes", "more than %d scopes", MaxGrants)
	}
	for i, r := range q.Scopes {
		if err := validRef("scopes["+strconv.Itoa(i)+"]", r); err != nil {
			return Page[Access]{}, err
		}
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[Access]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[Access]{}, err
	}
	if after != "" && !strings.HasPrefix(after, holderKey(rbac.User(""))) && !strings.HasPrefix(after, holderKey(rbac.Invite(""))) {
		return Page[Access]{}, invalid("page.after", "not a cursor of this listing")
	}
	a, lvl, err := tx.tenantLevel(ctx, actor, q.Tenant)
	if err != nil {
		return Page[Access]{}, err
	}
	aud, err := tx.audienceAt(ctx, actor, a, lvl, true)
	if err != nil {
		return Page[Access]{}, err
	}
	if !aud.all && len(aud.within) == 0 {
		_, d, err := tx.decide(ctx, actor, rbac.MembersList, q.Tenant)
		if err != nil {
			return Page[Access]{}, err
		}
		return Page[Access]{}, d.Err()
	}
	var keep map[rbac.Holder]bool
	if len(q.Scopes) > 0 {
		keep = map[rbac.Holder]bool{}
		for _, s := range q.Scopes {
			sp, _, err := tx.visible(ctx, actor, s)
			if err != nil {
				return Page[Access]{}, err
			}
			if sp.Tenant() != q.Tenant {
				return Page[Access]{}, notFound(s)
			}
			if err := tx.holdersWithAccess(ctx, a, s, keep); err != nil {
				return Page[Access]{}, err
			}
		}
	}
	l := &lister{tx: tx, aud: aud, limit: limit}
	if aud.all && keep == nil {
		// Everyone, in key order, straight from the store's keyset-paged listing.
		l.out = make([]Access, 0, min(limit+1, 128))
		l.grants = make([]store.Grant, 0, cap(l.out)+cap(l.out)/4)
		if err := tx.everyone(ctx, q.Tenant, after, limit, l); err != nil {
			return Page[Access]{}, err
		}
	} else {
		set := keep
		if !aud.all {
			seen, err := aud.visible(ctx, tx)
			if err != nil {
				return Page[Access]{}, err
			}
			set = seen
			if keep != nil {
				set = map[rbac.Holder]bool{}
				for h := range seen {
					if keep[h] {
						set[h] = true
					}
				}
			}
		}
		holders := make([]rbac.Holder, 0, len(set))
		for h := range set {
			if (h.Kind == rbac.HolderUser || h.Kind == rbac.HolderInvite) && (after == "" || holderKey(h) > after) {
				holders = append(holders, h)
			}
		}
		slices.SortFunc(holders, rbac.Holder.Compare)
		for _, h := range holders {
			if full, err := l.add(ctx, h, nil); err != nil {
				return Page[Access]{}, err
			} else if full {
				break
			}
		}
	}
	return pageOf(l.out, limit, func(a Access) string { return holderKey(a.Holder) }), nil
}

// lister builds the entries of one page of a member listing.
type lister struct {
	tx    *work
	aud   *audience
	limit int
	out   []Access
	// grants holds the entries' grants one after the other, each entry's capped at
	// its end, so that a page of members with few grants allocates them a few times
	// rather than once per member.
	grants []store.Grant

	// The functions that receive each holder's grants and teams from the store's
	// listings, made once for the page instead of a loop body per holder, and what
	// they share: the context of the listing at hand, the teams read, the error met.
	yieldGrant func(store.Grant, error) bool
	yieldTeam  func(store.Team, error) bool
	noTeams    int8 // 0: not known yet; 1: the tenant has no teams; 2: it has some
	ctx        context.Context
	teamsRead  []rbac.Holder
	err        error
}

// add adds h's entry to the page, when h is listed; m is h's membership when the
// caller has read it already. full reports a page of limit+1 entries.
func (l *lister) add(ctx context.Context, h rbac.Holder, m *store.Member) (full bool, err error) {
	// The entry is built in place, an Access being large, in room that is zero: fresh,
	// or cleared when an entry is dropped.
	if len(l.out) < cap(l.out) {
		l.out = l.out[:len(l.out)+1]
	} else {
		l.out = append(l.out, Access{})
	}
	ok, err := l.tx.access(ctx, l, &l.out[len(l.out)-1], h, m)
	if err != nil || !ok {
		l.out[len(l.out)-1] = Access{}
		l.out = l.out[:len(l.out)-1]
		return false, err
	}
	return len(l.out) > l.limit, nil
}

// everyone adds the members and then the invitations of tenant whose key is after the
// cursor to the page, until it is full.
func (tx *work) everyone(ctx context.Context, tenant rbac.Ref, after string, limit int, l *lister) error {
	userAfter, inInvites := "", false
	switch {
	case after == "":
	case after > holderKey(rbac.Invite("")):
		inInvites = true
	default:
		userAfter = after[len(holderKey(rbac.User(""))):]
	}
	if !inInvites {
		for {
			page, err := tx.r.Members(ctx, tenant, userAfter, limit+1)
			if err != nil {
				return err
			}
			for i := range page {
				if full, err := l.add(ctx, rbac.User(page[i].User), &page[i]); err != nil || full {
					return err
				}
			}
			if len(page) < limit+1 {
				break
			}
			userAfter = page[len(page)-1].User
		}
	}
	var invites []rbac.Holder
	for inv, err := range tx.r.Invitations(ctx, tenant) {
		if err != nil {
			return err
		}
		if h := rbac.Invite(inv.ID); holderKey(h) > after {
			invites = append(invites, h)
		}
	}
	for _, h := range invites {
		if full, err := l.add(ctx, h, nil); err != nil || full {
			return err
		}
	}
	return nil
}

// access builds in acc the listing entry of h for the lister's audience; ok is false
// when h is not listed in the tenant (a user with access through the organization
// only, an invitation made in the organization). m, when not nil, is h's membership of
// the tenant, read already.
func (tx *work) access(ctx context.Context, l *lister, acc *Access, h rbac.Holder, m *store.Member) (bool, error) {
	aud := l.aud
	tenant := aud.a.Ref
	acc.Holder = h
	var err error
	switch h.Kind {
	case rbac.HolderUser:
		if m == nil {
			mm, err := tx.r.Member(ctx, tenant, h.ID)
			if errors.Is(err, store.ErrNotFound) {
				return false, nil
			} else if err != nil {
				return false, err
			}
			m = &mm
		}
		acc.LastActive = m.LastActive
		if acc.User, err = tx.r.User(ctx, h.ID); err != nil {
			return false, err
		}
		acc.Owner = aud.a.Owner == h.ID
		if acc.Teams, err = l.teams(ctx, h.ID); err != nil {
			return false, err
		}
	case rbac.HolderInvite:
		acc.Invitation, err = tx.r.Invitation(ctx, h.ID)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		if acc.Invitation.Tenant != tenant {
			return false, nil // made in the organization: listed there
		}
		acc.Invitation.Hash = nil
		acc.Expired = acc.Invitation.Expired(tx.Env.Now())
	default:
		return false, nil
	}
	if acc.Grants, err = l.holderGrants(ctx, h); err != nil {
		return false, err
	}
	self := h == aud.actor
	acc.CanUpdate = !acc.Owner && !self
	acc.CanDestroy = !acc.Owner && !self && aud.level >= rbac.Admin
	acc.CanLeave = self && !acc.Owner
	return true, nil
}

// teams returns the teams of user in the listed tenant, nil for none.
func (l *lister) teams(ctx context.Context, user string) ([]rbac.Holder, error) {
	if l.noTeams == 0 { // whether the tenant has teams at all, learnt once per page
		if err := l.learnTeams(ctx); err != nil {
			return nil, err
		}
	}
	if l.noTeams == 1 {
		return nil, nil
	}
	if l.yieldTeam == nil {
		l.yieldTeam = func(t store.Team, err error) bool {
			if err != nil {
				l.err = err
				return false
			}
			l.teamsRead = append(l.teamsRead, rbac.Team(t.ID))
			return true
		}
	}
	l.teamsRead, l.err = nil, nil
	l.tx.r.UserTeams(ctx, user, l.aud.a.Ref)(l.yieldTeam)
	teams := l.teamsRead
	l.teamsRead = nil
	return teams, l.err
}

// learnTeams sets noTeams.
func (l *lister) learnTeams(ctx context.Context) error {
	l.noTeams = 1
	for _, err := range l.tx.r.Teams(ctx, l.aud.a.Ref) {
		if err != nil {
			return err
		}
		l.noTeams = 2
		break
	}
	return nil
}

// holderGrants returns h's grants in the listed tenant that the audience may see, nil
// for none, appended to l.grants.
func (l *lister) holderGrants(ctx context.Context, h rbac.Holder) ([]store.Grant, error) {
	if l.yieldGrant == nil {
		l.yieldGrant = func(gr store.Grant, err error) bool {
			if err != nil {
				l.err = err
				return false
			}
			if !l.aud.all {
				rel, err := l.tx.related(l.ctx, gr.Scope, l.aud.within)
				if err != nil {
					l.err = err
					return false
				}
				if !rel {
					return true
				}
			}
			l.grants = append(l.grants, gr)
			return true
		}
	}
	start := len(l.grants)
	l.ctx, l.err = ctx, nil
	l.tx.r.HolderGrants(ctx, h, l.aud.a.Ref)(l.yieldGrant)
	l.ctx = nil
	if l.err != nil {
		return nil, l.err
	}
	if len(l.grants) == start {
		return nil, nil
	}
	return l.grants[start:len(l.grants):len(l.grants)], nil
}

// administered returns the project, inbox and domain scopes of tenant on which actor
// (or one of its teams) holds admin.
func (tx *work) administered(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) ([]rbac.Ref, error) {
	holders := []rbac.Holder{actor}
	if actor.Kind == rbac.HolderUser {
		for t, err := range tx.r.UserTeams(ctx, actor.ID, tenant) {
			if err != nil {
				return nil, err
			}
			holders = append(holders, rbac.Team(t.ID))
		}
	}
	var out []rbac.Ref
	for _, h := range holders {
		for g, err := range tx.r.HolderGrants(ctx, h, tenant) {
			if err != nil {
				return nil, err
			}
			switch g.Scope.Kind {
			case rbac.KindProject, rbac.KindInbox, rbac.KindDomain:
				if g.Level >= rbac.Admin && !slices.Contains(out, g.Scope) {
					out = append(out, g.Scope)
				}
			}
		}
	}
	return out, nil
}

// holdersWithAccess adds to set every user and invitation with access to scope: the
// holders of grants on scope, below it and on its ancestors, the members of teams
// among them, and the account's owner.
func (tx *work) holdersWithAccess(ctx context.Context, a store.Account, scope rbac.Ref, set map[rbac.Holder]bool) error {
	p, err := tx.r.Path(ctx, scope, nil)
	if err != nil {
		return err
	}
	var teams []string
	for i, s := range p {
		for g, err := range tx.r.ScopeGrants(ctx, s, i == len(p)-1) {
			if err != nil {
				return err
			}
			switch g.Holder.Kind {
			case rbac.HolderUser, rbac.HolderInvite:
				set[g.Holder] = true
			case rbac.HolderTeam:
				teams = append(teams, g.Holder.ID)
			}
		}
	}
	for _, team := range teams {
		for u, err := range tx.r.TeamMembers(ctx, team) {
			if err != nil {
				return err
			}
			set[rbac.User(u)] = true
		}
	}
	set[rbac.User(a.Owner)] = true
	return nil
}

// related reports whether scope is on the path to, or below, one of within.
func (tx *work) related(ctx context.Context, scope rbac.Ref, within []rbac.Ref) (bool, error) {
	p, err := tx.r.Path(ctx, scope, nil)
	if err != nil {
		return false, err
	}
	for _, w := range within {
		if p.Contains(w) {
			return true, nil
		}
		wp, err := tx.r.Path(ctx, w, nil)
		if err != nil {
			return false, err
		}
		if wp.Contains(scope) {
			return true, nil
		}
	}
	return false, nil
}

// AccountAccess is an account a user belongs to, with the user's levels there
// ([rbac.RuleMyAccounts]).
type AccountAccess struct {
	Account store.Account
	// Level is the user's effective level on the account itself.
	Level rbac.Level
	// Levels are the distinct levels the user holds anywhere in the account, highest
	// first, as the platform's access_levels.
	Levels []rbac.Level
	// Policy is what the account's security policy says of the actor's requests with
	// the context's authentication: allowed (with Notice when 2FA becomes required at a
	// date ahead), or refused under [rbac.RuleRequire2FA], [rbac.RuleSSO] or
	// [rbac.RuleIPAllowlist] — then every request in the account is, but the account is
	// still listed, so that the user learns what to do.
	Policy rbac.Decision
}

// MyAccounts lists every account and organization the actor belongs to, with its levels
// there ([rbac.RuleMyAccounts]), by kind and ID. For a token, the token's own account.
type MyAccounts struct {
	Page PageRequest
}

// Op returns "account.mine", its log name.
func (MyAccounts) Op() string { return "account.mine" }

func (q MyAccounts) from(after string) Lister[AccountAccess] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q MyAccounts) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[AccountAccess], error) {
	tx := open(t)
	limit, err := q.Page.limit()
	if err != nil {
		return Page[AccountAccess]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[AccountAccess]{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return Page[AccountAccess]{}, err
	}
	key := func(r rbac.Ref) string { return strconv.Itoa(int(r.Kind)) + ":" + r.ID }
	var tenants []rbac.Ref
	if actor.Kind == rbac.HolderToken {
		tok, err := tx.r.Token(ctx, actor.ID)
		if err != nil {
			return Page[AccountAccess]{}, err
		}
		tenants = append(tenants, tok.Tenant)
	} else {
		for m, err := range tx.r.Memberships(ctx, actor.ID) {
			if err != nil {
				return Page[AccountAccess]{}, err
			}
			tenants = append(tenants, m.Tenant)
		}
	}
	out := make([]AccountAccess, 0, min(len(tenants), limit+1))
	for _, ref := range tenants {
		if key(ref) <= after {
			continue
		}
		acc, err := tx.accountAccess(ctx, actor, ref)
		if err != nil {
			return Page[AccountAccess]{}, err
		}
		out = append(out, acc)
		if len(out) > limit {
			break
		}
	}
	return pageOf(out, limit, func(a AccountAccess) string { return key(a.Account.Ref) }), nil
}

func (tx *work) accountAccess(ctx context.Context, actor rbac.Holder, ref rbac.Ref) (AccountAccess, error) {
	a, err := tx.r.Account(ctx, ref)
	if err != nil {
		return AccountAccess{}, err
	}
	p, lvl, err := tx.grantedLevel(ctx, actor, ref)
	if err != nil {
		return AccountAccess{}, err
	}
	pd, err := tx.policyDecision(ctx, actor, p, lvl)
	if err != nil {
		return AccountAccess{}, err
	}
	acc := AccountAccess{Account: a, Level: lvl, Policy: pd}
	if lvl > rbac.None {
		acc.Levels = append(acc.Levels, lvl)
	}
	holders := []rbac.Holder{actor}
	if actor.Kind == rbac.HolderUser {
		for tm, err := range tx.r.UserTeams(ctx, actor.ID, ref) {
			if err != nil {
				return AccountAccess{}, err
			}
			holders = append(holders, rbac.Team(tm.ID))
		}
	}
	for _, h := range holders {
		for g, err := range tx.r.HolderGrants(ctx, h, ref) {
			if err != nil {
				return AccountAccess{}, err
			}
			if !slices.Contains(acc.Levels, g.Level) {
				acc.Levels = append(acc.Levels, g.Level)
			}
		}
	}
	slices.SortFunc(acc.Levels, func(x, y rbac.Level) int { return int(y) - int(x) })
	return acc, nil
}
