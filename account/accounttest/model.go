package accounttest

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/store"

	"github.com/tenantry/tenantry/rbac"
)

// model is a small, independent model of what the account and profile operations
// should leave in a store. It knows the rules only through package rbac's pure
// functions; everything else (who owns what, what a delete takes with it) is written
// here again, plainly, so that the store and the operations are checked against
// something they do not share.
type model struct {
	users   map[string]string // user ID → email
	tenants map[rbac.Ref]*mTenant
	parent  map[rbac.Ref]rbac.Ref // resource → parent scope
	members map[rbac.Ref]map[string]bool
	grants  map[gkey]mGrant
	teams   map[string]*mTeam
	invites map[string]*mInvite
	tokens  map[string]*mToken
	links   map[string]*mLink
	// now is the service's clock.
	now *time.Time
	// active is each member's last recorded activity, used each token's last use
	// (D39).
	active map[mkey]time.Time
	used   map[string]time.Time
	// policies are the tenants' security policies; auth is how the requests of the
	// current step authenticated (nil: not said); twoFactor the users with 2FA on.
	policies  map[rbac.Ref]rbac.Policy
	auth      *rbac.Auth
	twoFactor map[string]bool
	// conns are the SSO connections, domains the verified domains, mapped the grants
	// SSO mappings gave each member (D33, D34).
	conns   map[string]*mConn
	domains map[string]*mDomain
	mapped  map[mkey][]store.MappedGrant

	// Every ID ever created, to check that deleted records are gone.
	everUsers   []string
	everTenants []rbac.Ref
	everScopes  []rbac.Ref
	everTeams   []string
	everInvites []string
	everTokens  []string
	everLinks   []string
}

// mkey is a membership: a user in a tenant.
type mkey struct {
	tenant rbac.Ref
	user   string
}

type mTenant struct {
	owner string
	org   string // for a sub-account
	plan  string
}

type gkey struct {
	h rbac.Holder
	s rbac.Ref
}

type mGrant struct {
	level   rbac.Level
	content bool
	granter rbac.Level // the granter's level on the scope when it was given
}

type mTeam struct {
	tenant  rbac.Ref
	members map[string]bool
}

type mInvite struct {
	tenant  rbac.Ref
	email   string
	teams   []string
	expires time.Time
}

type mToken struct {
	tenant  rbac.Ref
	creator string    // the user the token acts for
	reset   bool      // reset: its successor took over; it lives out its grace period
	expires time.Time // zero: never
	ips     []netip.Prefix
}

type mConn struct {
	tenant     rbac.Ref
	enforce    bool
	noPersonal bool
	mapping    []store.RoleMapping
	author     string
}

type mDomain struct {
	tenant  rbac.Ref
	capture rbac.Level
}

type mLink struct {
	tenant   rbac.Ref
	level    rbac.Level
	scopes   []rbac.Ref
	creator  string
	disabled bool
	joined   int
	secret   string
}

// expired reports whether the invitation has expired (D36).
func (m *model) expired(inv *mInvite) bool { return !m.now.Before(inv.expires) }

// alive reports whether token t is live: not deleted and not expired (D23, D38).
func (m *model) alive(t *mToken) bool {
	return t != nil && (t.expires.IsZero() || m.now.Before(t.expires))
}

// touch records actor's activity in tenant now, unless recorded less than a minute
// ago (D39): a member's in the tenant, a token's use.
func (m *model) touch(actor rbac.Holder, tenant rbac.Ref) {
	due := func(last time.Time) bool { return last.IsZero() || m.now.Sub(last) >= account.ActivityEvery }
	switch actor.Kind {
	case rbac.HolderUser:
		k := mkey{tenant, actor.ID}
		if !tenant.IsZero() && m.isMember(tenant, actor.ID) && due(m.active[k]) {
			m.active[k] = *m.now
		}
	case rbac.HolderToken:
		if _, ok := m.tokens[actor.ID]; ok && due(m.used[actor.ID]) {
			m.used[actor.ID] = *m.now
		}
	}
}

func newModel(now *time.Time) *model {
	return &model{
		users: map[string]string{}, tenants: map[rbac.Ref]*mTenant{}, parent: map[rbac.Ref]rbac.Ref{},
		members: map[rbac.Ref]map[string]bool{}, grants: map[gkey]mGrant{}, teams: map[string]*mTeam{},
		invites: map[string]*mInvite{}, tokens: map[string]*mToken{}, links: map[string]*mLink{},
		now: now, active: map[mkey]time.Time{}, used: map[string]time.Time{},
		policies: map[rbac.Ref]rbac.Policy{}, twoFactor: map[string]bool{},
		conns: map[string]*mConn{}, domains: map[string]*mDomain{}, mapped: map[mkey][]store.MappedGrant{},
	}
}

// exists reports whether scope is a live tenant or resource.
func (m *model) exists(s rbac.Ref) bool {
	if _, ok := m.tenants[s]; ok {
		return true
	}
	_, ok := m.parent[s]
	return ok
}

// path returns the scope's path, root first.
func (m *model) path(s rbac.Ref) rbac.Path {
	var p rbac.Path
	for {
		p = append(p, s)
		if par, ok := m.parent[s]; ok {
			s = par
			continue
		}
		if t, ok := m.tenants[s]; ok && t.org != "" {
			s = rbac.Org(t.org)
			continue
		}
		break
	}
	slices.Reverse(p)
	return p
}

// tenantOf returns the account (or organization) a scope belongs to.
func (m *model) tenantOf(s rbac.Ref) rbac.Ref { return m.path(s).Tenant() }

// reach returns the grants that reach s for h: its own, its teams', the owner's.
func (m *model) reach(h rbac.Holder, s rbac.Ref) []rbac.Grant {
	var out []rbac.Grant
	p := m.path(s)
	var teams []string
	if h.Kind == rbac.HolderUser {
		for id, t := range m.teams {
			if t.members[h.ID] && p.Contains(t.tenant) {
				teams = append(teams, id)
			}
		}
	}
	for _, sc := range p {
		if g, ok := m.grants[gkey{h, sc}]; ok {
			out = append(out, rbac.Grant{Holder: h, Scope: sc, Level: g.level, ViewContent: g.content})
		}
		for _, id := range teams {
			if g, ok := m.grants[gkey{rbac.Team(id), sc}]; ok {
				out = append(out, rbac.Grant{Holder: rbac.Team(id), Scope: sc, Level: g.level, ViewContent: g.content})
			}
		}
		if t, ok := m.tenants[sc]; ok && h.Kind == rbac.HolderUser && t.owner == h.ID {
			out = append(out, rbac.Grant{Holder: h, Scope: sc, Level: rbac.Owner})
		}
	}
	return out
}

// level is h's effective level on s (D5); a token's is capped by its creator's
// (D40), and a dead token's is none.
func (m *model) level(h rbac.Holder, s rbac.Ref) rbac.Level {
	if !m.exists(s) {
		return rbac.None
	}
	lvl := rbac.EffectiveLevel(m.path(s), m.reach(h, s))
	if h.Kind == rbac.HolderToken {
		t := m.tokens[h.ID]
		if !m.alive(t) {
			return rbac.None
		}
		lvl = min(lvl, rbac.EffectiveLevel(m.path(s), m.reach(rbac.User(t.creator), s)))
	}
	return lvl
}

// policiesOn returns the security policies that apply on s: its account's and its
// organization's (D32, D35).
func (m *model) policiesOn(s rbac.Ref) []rbac.Policy {
	var out []rbac.Policy
	for _, ref := range m.path(s) {
		if p, ok := m.policyOf(ref); ok && ref.Kind.Ownable() {
			out = append(out, p)
		}
	}
	return out
}

// policyOf returns tenant's security policy, with the SSO connections and enforced
// domains its connections and domains make (D33), and whether it has one.
func (m *model) policyOf(tenant rbac.Ref) (rbac.Policy, bool) {
	p, ok := m.policies[tenant]
	if !ok {
		return p, false
	}
	enforce := false
	for _, id := range slices.Sorted(maps.Keys(m.conns)) {
		if c := m.conns[id]; c.tenant == tenant {
			p.SSO = append(p.SSO, id)
			enforce = enforce || c.enforce
		}
	}
	if enforce {
		for _, name := range slices.Sorted(maps.Keys(m.domains)) {
			if m.domains[name].tenant == tenant {
				p.EnforceSSO = append(p.EnforceSSO, name)
			}
		}
	}
	return p, true
}

// blocked reports whether the security policies on s refuse h, acting in the current
// step's requests.
func (m *model) blocked(h rbac.Holder, s rbac.Ref) bool {
	var ips []netip.Prefix
	if h.Kind == rbac.HolderToken {
		if t := m.tokens[h.ID]; t != nil {
			ips = t.ips
		}
	}
	d := rbac.ApplyPolicyTo(rbac.Decision{Allowed: true}, h, m.users[h.ID], m.auth, *m.now, ips, m.policiesOn(s)...)
	return !d.Allowed
}

// actorLevel is the level of h acting on s: level, or none when the security policies
// refuse it there.
func (m *model) actorLevel(h rbac.Holder, s rbac.Ref) rbac.Level {
	if !m.exists(s) || m.blocked(h, s) {
		return rbac.None
	}
	return m.level(h, s)
}

// decide is the model's decision for h: rbac.Decide on its grants, and for a token
// rbac.DecideToken with its creator's; then the security policies on s.
func (m *model) decide(h rbac.Holder, a rbac.Action, s rbac.Ref) rbac.Decision {
	d := m.decideGrants(h, a, s)
	var ips []netip.Prefix
	if t := m.tokens[h.ID]; h.Kind == rbac.HolderToken && t != nil {
		ips = t.ips
	}
	email := ""
	if h.Kind == rbac.HolderUser {
		email = m.users[h.ID]
	}
	return rbac.ApplyPolicyTo(d, h, email, m.auth, *m.now, ips, m.policiesOn(s)...)
}

func (m *model) decideGrants(h rbac.Holder, a rbac.Action, s rbac.Ref) rbac.Decision {
	if h.Kind != rbac.HolderToken {
		return rbac.Decide(a, m.path(s), m.reach(h, s))
	}
	t := m.tokens[h.ID]
	var creator []rbac.Grant
	if m.alive(t) {
		creator = m.reach(rbac.User(t.creator), s)
	}
	return rbac.DecideToken(a, m.path(s), m.reach(h, s), creator, m.alive(t))
}

// live reports whether h may act: an existing user, or a token neither reset nor
// deleted.
func (m *model) live(h rbac.Holder) bool {
	switch h.Kind {
	case rbac.HolderUser:
		_, ok := m.users[h.ID]
		return ok
	case rbac.HolderToken:
		t, ok := m.tokens[h.ID]
		return ok && m.alive(t)
	}
	return false
}

// below returns s and every resource below it.
func (m *model) below(s rbac.Ref) []rbac.Ref {
	out := []rbac.Ref{s}
	for i := 0; i < len(out); i++ {
		for r, p := range m.parent {
			if p == out[i] {
				out = append(out, r)
			}
		}
	}
	return out
}

func (m *model) isMember(tenant rbac.Ref, user string) bool { return m.members[tenant][user] }

// seesAll reports whether actor sees every member of tenant (D18): an admin of it, a
// user of its organization, or any user of an organization for the organization.
func (m *model) seesAll(actor rbac.Holder, tenant rbac.Ref) bool {
	lvl := m.actorLevel(actor, tenant)
	tn := m.tenants[tenant]
	return lvl >= rbac.Admin || tenant.Kind == rbac.KindOrganization && lvl >= rbac.Viewer ||
		tn != nil && tn.org != "" && m.actorLevel(actor, rbac.Org(tn.org)) >= rbac.Viewer
}

// administered returns the projects, inboxes and domains of tenant on which actor is
// admin.
func (m *model) administered(actor rbac.Holder, tenant rbac.Ref) []rbac.Ref {
	var within []rbac.Ref
	for _, s := range m.scopesOf(tenant) {
		switch s.Kind {
		case rbac.KindProject, rbac.KindInbox, rbac.KindDomain:
			if m.actorLevel(actor, s) >= rbac.Admin {
				within = append(within, s)
			}
		}
	}
	return within
}

// sees reports whether actor can see the subject h of tenant (D18): itself; a member
// or invitation when it sees everyone, or when h has access to a resource actor
// administers; a token or team when it may manage them (admin of the tenant).
func (m *model) sees(actor rbac.Holder, tenant rbac.Ref, h rbac.Holder) bool {
	switch {
	case h == actor:
		return true
	case h.Kind == rbac.HolderToken || h.Kind == rbac.HolderTeam:
		return m.actorLevel(actor, tenant) >= rbac.Admin
	case m.seesAll(actor, tenant):
		return true
	}
	for _, s := range m.administered(actor, tenant) {
		for _, x := range m.below(s) {
			if m.level(h, x) >= rbac.Viewer {
				return true
			}
		}
	}
	return false
}

func (m *model) userByEmail(email string) (string, bool) {
	for id, e := range m.users {
		if e == email {
			return id, true
		}
	}
	return "", false
}

// ---- effects ----

func (m *model) addTenant(ref rbac.Ref, owner, org, plan string) {
	m.tenants[ref] = &mTenant{owner: owner, org: org, plan: plan}
	m.members[ref] = map[string]bool{owner: true}
	m.everTenants = append(m.everTenants, ref)
	if ref.Kind == rbac.KindAccount {
		for _, k := range []rbac.Kind{rbac.KindBilling, rbac.KindTemplates, rbac.KindCampaigns} {
			m.addResource(rbac.Ref{Kind: k, ID: ref.ID}, ref)
		}
	}
}

func (m *model) addResource(ref, parent rbac.Ref) {
	m.parent[ref] = parent
	m.everScopes = append(m.everScopes, ref)
}

func (m *model) dropGrantsOf(h rbac.Holder) {
	for k := range m.grants {
		if k.h == h {
			delete(m.grants, k)
		}
	}
}

func (m *model) deleteTenant(ref rbac.Ref) {
	if ref.Kind == rbac.KindOrganization {
		for sub, t := range m.tenants {
			if t.org == ref.ID {
				m.deleteTenant(sub)
			}
		}
	}
	scopes := map[rbac.Ref]bool{ref: true}
	for r := range m.parent {
		if m.tenantOf(r) == ref {
			scopes[r] = true
		}
	}
	for k := range m.grants {
		if scopes[k.s] {
			delete(m.grants, k)
		}
	}
	for r := range scopes {
		delete(m.parent, r)
	}
	for id, t := range m.teams {
		if t.tenant == ref {
			m.dropGrantsOf(rbac.Team(id))
			delete(m.teams, id)
		}
	}
	for id, inv := range m.invites {
		if inv.tenant == ref {
			m.dropGrantsOf(rbac.Invite(id))
			delete(m.invites, id)
		}
	}
	for id, t := range m.tokens {
		if t.tenant == ref {
			m.deleteToken(id)
		}
	}
	for id, l := range m.links {
		if l.tenant == ref {
			delete(m.links, id)
		}
	}
	for k := range m.active {
		if k.tenant == ref {
			delete(m.active, k)
		}
	}
	delete(m.members, ref)
	delete(m.tenants, ref)
	delete(m.policies, ref)
	for id, c := range m.conns {
		if c.tenant == ref {
			delete(m.conns, id)
		}
	}
	for name, d := range m.domains {
		if d.tenant == ref {
			delete(m.domains, name)
		}
	}
	for k := range m.mapped {
		if k.tenant == ref {
			delete(m.mapped, k)
		}
	}
}

func (m *model) deleteResource(ref rbac.Ref) {
	sub := m.below(ref)
	for k := range m.grants {
		if slices.Contains(sub, k.s) {
			delete(m.grants, k)
		}
	}
	for _, r := range sub {
		delete(m.parent, r)
	}
}

// deleteToken removes token id with its grants and last use.
func (m *model) deleteToken(id string) {
	m.dropGrantsOf(rbac.Token(id))
	delete(m.tokens, id)
	delete(m.used, id)
}

func (m *model) deleteMember(tenant rbac.Ref, user string) {
	delete(m.members[tenant], user)
	delete(m.active, mkey{tenant, user})
	delete(m.mapped, mkey{tenant, user})
	for k := range m.grants {
		if k.h == rbac.User(user) && m.tenantOf(k.s) == tenant {
			delete(m.grants, k)
		}
	}
	for _, t := range m.teams {
		if t.tenant == tenant {
			delete(t.members, user)
		}
	}
}

func (m *model) deleteUser(id string) {
	for _, ms := range m.members {
		delete(ms, id)
	}
	for k := range m.active {
		if k.user == id {
			delete(m.active, k)
		}
	}
	for k := range m.mapped {
		if k.user == id {
			delete(m.mapped, k)
		}
	}
	for lid, l := range m.links {
		if l.creator == id {
			delete(m.links, lid)
		}
	}
	for _, t := range m.teams {
		delete(t.members, id)
	}
	m.dropGrantsOf(rbac.User(id))
	delete(m.users, id)
}

// sortedTenants returns the live tenants in order, for deterministic draws.
func (m *model) sortedTenants() []rbac.Ref {
	return slices.SortedFunc(maps.Keys(m.tenants), rbac.Ref.Compare)
}

// scopesOf returns the live scopes of tenant (itself and its resources), in order.
func (m *model) scopesOf(tenant rbac.Ref) []rbac.Ref {
	out := []rbac.Ref{tenant}
	for r := range m.parent {
		if m.tenantOf(r) == tenant {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, rbac.Ref.Compare)
	return out
}

// within reports whether tenant may hold one more record of a kind its plan limits:
// limit reads the plan's limit (0: none), count counts the records it holds.
func (m *model) within(tenant rbac.Ref, limit func(account.Plan) int, count func() int) bool {
	tn := m.tenants[tenant]
	if tn == nil {
		return true
	}
	for _, p := range opsPlans {
		if p.Name == tn.plan {
			l := limit(p)
			return l == 0 || count() < l
		}
	}
	return true
}
