package account

import (
	"context"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// PastAccess is the access of one account or organization at a time in the past, as
// its audit log tells it (rbac.RuleAudit): every event's Changes (store.Change)
// replayed in commit order, up to the events stamped at that time. Checks at that
// time would have found the same levels and grants: Scope and Holder answer what
// Check's Decision.Level and Decision.Grant said then, before security policies
// (which depend on each request's sign-in, not on the grants).
//
// A PastAccess is read-only and safe for concurrent use.
type PastAccess struct {
	tenant rbac.Ref
	at     time.Time
	m      *replay
}

// HolderAccess is one holder's access to a scope in a PastAccess: its effective
// level and the grant that gave it (for an API token, capped by its creator's access
// at that time, and nothing once it had expired).
type HolderAccess struct {
	Holder rbac.Holder
	Level  rbac.Level
	Grant  rbac.Grant
}

// ScopeAccess is a holder's access to one scope in a PastAccess.
type ScopeAccess struct {
	Scope rbac.Ref
	Level rbac.Level
	Grant rbac.Grant
}

// AccessAt replays the audit log of the whole store up to at and returns the access
// of the account or organization tenant at that time, for actor, who must be allowed
// to read tenant's audit log now (rbac.AccountAuditView, admin): ErrNotFound when
// actor cannot see tenant now or tenant did not exist at at (D18), a refusal when it
// sees it but may not read its log. ErrNoFeed when the store has no change feed.
//
// It reads every event up to at, so its cost grows with the log; see the
// package's benchmarks.
func (s *Service) AccessAt(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, at time.Time) (*PastAccess, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return nil, err
	}
	if err := s.View(ctx, func(ctx context.Context, tx *Tx) error {
		t := tx.t
		t.Actor = actor
		_, _, err := open(&t).authorize(ctx, actor, rbac.AccountAuditView, tenant)
		return err
	}); err != nil {
		return nil, err
	}
	return s.pastAccess(ctx, tenant, at)
}

// HostAccessAt is AccessAt for the host itself: no actor is checked.
func (s *Service) HostAccessAt(ctx context.Context, tenant rbac.Ref, at time.Time) (*PastAccess, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return nil, err
	}
	return s.pastAccess(ctx, tenant, at)
}

// historyPage is how many events AccessAt reads at a time.
const historyPage = 1024

func (s *Service) pastAccess(ctx context.Context, tenant rbac.Ref, at time.Time) (*PastAccess, error) {
	m := newReplay()
	apply := func(_ uint64, _ time.Time, cs []store.Change) {
		for _, c := range cs {
			m.apply(c)
		}
	}
	if cl, ok := store.ChangeLogOf(s.st); ok {
		if err := cl.ReadChanges(ctx, at, apply); err != nil {
			return nil, err
		}
	} else if err := s.feedChanges(ctx, at, apply); err != nil {
		return nil, err
	}
	if _, ok := m.scopes[tenant]; !ok {
		return nil, notFound(tenant)
	}
	return &PastAccess{tenant: tenant, at: at, m: m}, nil
}

// feedChanges is store.ChangeLog.ReadChanges over the Feed, for a store without a
// ChangeLog: ErrNoFeed when it has no Feed either.
func (s *Service) feedChanges(ctx context.Context, at time.Time, fn func(uint64, time.Time, []store.Change)) error {
	f, ok := store.FeedOf(s.st)
	if !ok {
		return ErrNoFeed
	}
	var after uint64
	for {
		evs, err := f.Changes(ctx, after, historyPage)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if len(e.Changes) > 0 && !e.Time.After(at) {
				fn(e.Seq, e.Time, e.Changes)
			}
			after = e.Seq
		}
		if len(evs) < historyPage {
			return nil
		}
	}
}

// Tenant returns the account or organization p is about.
func (p *PastAccess) Tenant() rbac.Ref { return p.tenant }

// At returns the time p is at.
func (p *PastAccess) At() time.Time { return p.at }

// Scopes returns the scopes of the tenant at that time (with, for an organization,
// its sub-accounts' scopes), in rbac.Ref order.
func (p *PastAccess) Scopes() []rbac.Ref {
	var out []rbac.Ref
	var walk func(rbac.Ref)
	walk = func(r rbac.Ref) {
		out = append(out, r)
		for c := range p.m.children[r] {
			walk(c)
		}
	}
	walk(p.tenant)
	slices.SortFunc(out, rbac.Ref.Compare)
	return out
}

// Scope returns every holder (user, team, API token) that had access to scope at
// that time, with its level and the grant it came from, by holder. ErrNotFound
// when scope was not in the tenant then.
func (p *PastAccess) Scope(scope rbac.Ref) ([]HolderAccess, error) {
	if !p.in(scope) {
		return nil, notFound(scope)
	}
	var out []HolderAccess
	for _, h := range p.m.holdersReaching(scope) {
		if lv, g := p.m.access(h, scope, p.at); lv > rbac.None {
			out = append(out, HolderAccess{Holder: h, Level: lv, Grant: g})
		}
	}
	return out, nil
}

// Holder returns every scope of the tenant on which holder had access at that time,
// with its level and the grant it came from, in rbac.Ref order.
func (p *PastAccess) Holder(holder rbac.Holder) []ScopeAccess {
	var out []ScopeAccess
	for _, sc := range p.Scopes() {
		if lv, g := p.m.access(holder, sc, p.at); lv > rbac.None {
			out = append(out, ScopeAccess{Scope: sc, Level: lv, Grant: g})
		}
	}
	return out
}

// Level returns holder's effective level on scope at that time and the grant it
// came from: what Check's Decision.Level and Decision.Grant said. ErrNotFound when
// scope was not in the tenant then.
func (p *PastAccess) Level(holder rbac.Holder, scope rbac.Ref) (rbac.Level, rbac.Grant, error) {
	if !p.in(scope) {
		return rbac.None, rbac.Grant{}, notFound(scope)
	}
	lv, g := p.m.access(holder, scope, p.at)
	return lv, g, nil
}

// in reports whether scope was in p's tenant (or below it) at that time.
func (p *PastAccess) in(scope rbac.Ref) bool {
	for r := scope; ; {
		sc, ok := p.m.scopes[r]
		if !ok {
			return false
		}
		if r == p.tenant {
			return true
		}
		r = sc.parent
	}
}

// ---- the replay ----

// replay is the access state the Changes of the log build: a store.Writer's
// records, as far as checks read them, with the cascades the Writer documents.
type replay struct {
	scopes    map[rbac.Ref]*replayScope
	children  map[rbac.Ref]map[rbac.Ref]struct{}
	grants    map[rbac.Ref]map[rbac.Holder]rbac.Grant // by scope
	held      map[rbac.Holder]map[rbac.Ref]struct{}   // the scopes of each holder's grants
	members   map[rbac.Ref]map[string]struct{}
	teams     map[string]rbac.Ref            // team → its tenant
	places    map[string]map[string]struct{} // team → its users
	userTeams map[string]map[string]struct{} // user → teams
	tokens    map[string]replayToken
}

type replayScope struct {
	parent rbac.Ref
	owner  string // an account's or organization's
}

type replayToken struct {
	tenant  rbac.Ref
	creator string
	expires time.Time
}

func newReplay() *replay {
	return &replay{
		scopes: map[rbac.Ref]*replayScope{}, children: map[rbac.Ref]map[rbac.Ref]struct{}{},
		grants: map[rbac.Ref]map[rbac.Holder]rbac.Grant{}, held: map[rbac.Holder]map[rbac.Ref]struct{}{},
		members: map[rbac.Ref]map[string]struct{}{}, teams: map[string]rbac.Ref{},
		places: map[string]map[string]struct{}{}, userTeams: map[string]map[string]struct{}{},
		tokens: map[string]replayToken{},
	}
}

func addTo[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	s := m[k]
	if s == nil {
		s = map[V]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

func delFrom[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// apply replays one change.
func (m *replay) apply(c store.Change) {
	switch c.Kind {
	case store.ChangeGrant:
		if c.After == rbac.None && !c.ViewContent {
			m.dropGrant(c.Holder, c.Scope)
			return
		}
		gs := m.grants[c.Scope]
		if gs == nil {
			gs = map[rbac.Holder]rbac.Grant{}
			m.grants[c.Scope] = gs
		}
		gs[c.Holder] = rbac.Grant{Holder: c.Holder, Scope: c.Scope, Level: c.After, ViewContent: c.ViewContent}
		addTo(m.held, c.Holder, c.Scope)
	case store.ChangeScope:
		if c.Removed {
			m.dropScope(c.Scope)
			return
		}
		m.scopes[c.Scope] = &replayScope{parent: c.Parent, owner: c.Holder.ID}
		if !c.Parent.IsZero() {
			addTo(m.children, c.Parent, c.Scope)
		}
	case store.ChangeOwner:
		if sc := m.scopes[c.Scope]; sc != nil {
			sc.owner = c.Holder.ID
		}
	case store.ChangeMember:
		if !c.Removed {
			addTo(m.members, c.Scope, c.Holder.ID)
			return
		}
		m.dropMember(c.Scope, c.Holder.ID)
	case store.ChangeTeam:
		if !c.Removed {
			m.teams[c.Team] = c.Scope
			return
		}
		m.dropTeam(c.Team)
	case store.ChangeTeamMember:
		if !c.Removed {
			addTo(m.places, c.Team, c.Holder.ID)
			addTo(m.userTeams, c.Holder.ID, c.Team)
			return
		}
		delFrom(m.places, c.Team, c.Holder.ID)
		delFrom(m.userTeams, c.Holder.ID, c.Team)
	case store.ChangeToken:
		if c.Removed {
			delete(m.tokens, c.Holder.ID)
			m.dropHolder(c.Holder)
			return
		}
		t := replayToken{tenant: c.Scope, creator: c.Creator, expires: c.Expires}
		if old, ok := m.tokens[c.Holder.ID]; ok && t.tenant.IsZero() {
			t.tenant = old.tenant
		}
		m.tokens[c.Holder.ID] = t
	case store.ChangeUser:
		if !c.Removed { // a new address: access is the same
			return
		}
		u := c.Holder.ID
		for tenant, ms := range m.members {
			if _, ok := ms[u]; ok {
				delFrom(m.members, tenant, u)
			}
		}
		for team := range m.userTeams[u] {
			delFrom(m.places, team, u)
		}
		delete(m.userTeams, u)
		m.dropHolder(c.Holder)
	}
}

func (m *replay) dropGrant(h rbac.Holder, scope rbac.Ref) {
	if gs := m.grants[scope]; gs != nil {
		delete(gs, h)
		if len(gs) == 0 {
			delete(m.grants, scope)
		}
	}
	delFrom(m.held, h, scope)
}

// dropHolder removes every grant of h.
func (m *replay) dropHolder(h rbac.Holder) {
	for sc := range m.held[h] {
		m.dropGrant(h, sc)
	}
}

// dropScope removes scope, every scope below it and every grant on them, and for
// an account or organization its memberships, teams and tokens.
func (m *replay) dropScope(scope rbac.Ref) {
	for c := range m.children[scope] {
		m.dropScope(c)
	}
	delete(m.children, scope)
	for h := range m.grants[scope] {
		delFrom(m.held, h, scope)
	}
	delete(m.grants, scope)
	if sc := m.scopes[scope]; sc != nil && !sc.parent.IsZero() {
		delFrom(m.children, sc.parent, scope)
	}
	delete(m.scopes, scope)
	if !scope.Kind.Ownable() {
		return
	}
	delete(m.members, scope)
	for team, tenant := range m.teams {
		if tenant == scope {
			m.dropTeam(team)
		}
	}
	for id, t := range m.tokens {
		if t.tenant == scope {
			delete(m.tokens, id)
			m.dropHolder(rbac.Token(id))
		}
	}
}

// dropMember removes user's membership of tenant, with the user's grants on the
// tenant's own scopes and places in its teams.
func (m *replay) dropMember(tenant rbac.Ref, user string) {
	delFrom(m.members, tenant, user)
	h := rbac.User(user)
	for sc := range m.held[h] {
		if m.tenantOf(sc) == tenant {
			m.dropGrant(h, sc)
		}
	}
	for team := range m.userTeams[user] {
		if m.teams[team] == tenant {
			delFrom(m.places, team, user)
			delFrom(m.userTeams, user, team)
		}
	}
}

func (m *replay) dropTeam(team string) {
	for u := range m.places[team] {
		delFrom(m.userTeams, u, team)
	}
	delete(m.places, team)
	delete(m.teams, team)
	m.dropHolder(rbac.Team(team))
}

// tenantOf returns the account or organization scope is in (itself for one).
func (m *replay) tenantOf(scope rbac.Ref) rbac.Ref {
	for r := scope; ; {
		if r.Kind.Ownable() {
			return r
		}
		sc, ok := m.scopes[r]
		if !ok || sc.parent.IsZero() {
			return rbac.Ref{}
		}
		r = sc.parent
	}
}

// path returns the path to scope, root first.
func (m *replay) path(scope rbac.Ref) rbac.Path {
	var p rbac.Path
	for r := scope; ; {
		sc, ok := m.scopes[r]
		if !ok {
			return nil
		}
		p = append(p, r)
		if sc.parent.IsZero() {
			break
		}
		r = sc.parent
	}
	slices.Reverse(p)
	return p
}

// reach returns the grants that reach path's leaf for h, as store.Reader.Reach does:
// h's own; a user's teams' in the tenants on the path; an Owner grant on each
// account or organization of the path that a user owns.
func (m *replay) reach(h rbac.Holder, path rbac.Path) []rbac.Grant {
	var out []rbac.Grant
	user := h.Kind == rbac.HolderUser
	for _, r := range path {
		if g, ok := m.grants[r][h]; ok {
			out = append(out, g)
		}
		if user {
			for team := range m.userTeams[h.ID] {
				if slices.Contains(path, m.teams[team]) {
					if g, ok := m.grants[r][rbac.Team(team)]; ok {
						out = append(out, g)
					}
				}
			}
			if r.Kind.Ownable() && m.scopes[r].owner == h.ID {
				out = append(out, rbac.Grant{Holder: h, Scope: r, Level: rbac.Owner})
			}
		}
	}
	return out
}

// access returns h's effective level on scope at at and the grant it comes from,
// as store.Check decides them (rbac.Decide, rbac.DecideToken).
func (m *replay) access(h rbac.Holder, scope rbac.Ref, at time.Time) (rbac.Level, rbac.Grant) {
	path := m.path(scope)
	if path == nil {
		return rbac.None, rbac.Grant{}
	}
	action := levelAction(scope.Kind)
	grants := m.reach(h, path)
	var d rbac.Decision
	switch h.Kind {
	case rbac.HolderToken:
		t, ok := m.tokens[h.ID]
		live := ok && store.TokenLive(store.Token{Expires: t.expires}, at)
		var creator []rbac.Grant
		if live {
			creator = m.reach(rbac.User(t.creator), path)
		}
		d = rbac.DecideToken(action, path, grants, creator, live)
	case rbac.HolderUser, rbac.HolderTeam:
		d = rbac.Decide(action, path, grants)
	default:
		return rbac.None, rbac.Grant{}
	}
	return d.Level, d.Grant
}

// holdersReaching returns every user, team and token that may reach scope: those
// holding a grant on its path, the owners on the path, the members of the users'
// teams holding one, and the tokens of the tenants on the path, by holder.
func (m *replay) holdersReaching(scope rbac.Ref) []rbac.Holder {
	path := m.path(scope)
	seen := map[rbac.Holder]struct{}{}
	for _, r := range path {
		for h := range m.grants[r] {
			switch h.Kind {
			case rbac.HolderUser, rbac.HolderToken:
				seen[h] = struct{}{}
			case rbac.HolderTeam:
				seen[h] = struct{}{}
				for u := range m.places[h.ID] {
					seen[rbac.User(u)] = struct{}{}
				}
			}
		}
		if sc := m.scopes[r]; r.Kind.Ownable() && sc.owner != "" {
			seen[rbac.User(sc.owner)] = struct{}{}
		}
	}
	out := make([]rbac.Holder, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	slices.SortFunc(out, rbac.Holder.Compare)
	return out
}
