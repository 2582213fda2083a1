package memstore

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// noID marks the absence of a scope or holder number.
const noID = ^uint32(0)

// state holds every record and index. Its methods are the primitive changes; each
// one has an inverse among them, which the writer records in its undo log. Scopes and
// holders are interned as small numbers, so that a grant costs one map entry keyed by
// a uint64 plus two slice elements.
type state struct {
	scopeIdx   kindIndex // scope kind and ID → scope number
	scopes     []scope
	freeScopes []uint32

	holderIdx   kindIndex // holder kind and ID → holder number
	holders     []holder
	freeHolders []uint32

	grants       map[uint64]grantVal // gkey(holder, scope) → grant
	holderTenant map[uint64][]uint32 // gkey(holder, tenant) → scopes of the holder's grants there

	users  map[string]*store.User
	emails map[string]string          // store.FoldKey(email) → user ID
	oauth  map[store.OAuthLink]string // link → user ID

	members     map[rbac.Ref]*memberSet
	memberships map[string][]rbac.Ref // user → tenants, unsorted

	teams       map[string]*team
	teamNames   map[tenantKey]string    // (tenant, store.FoldKey(name)) → team ID
	tenantTeams map[rbac.Ref][]string   // sorted team IDs
	userTeams   map[userTenant][]string // sorted team IDs

	invites       map[string]*store.Invitation
	inviteEmails  map[tenantKey]string  // (tenant, store.FoldKey(email)) → invitation ID
	tenantInvites map[rbac.Ref][]string // sorted
	emailInvites  map[string][]string   // store.FoldKey(email) → sorted invitation IDs

	links       map[string]*store.InviteLink
	tenantLinks map[rbac.Ref][]string // sorted
	userLinks   map[string][]string   // creator → sorted link IDs

	tokens       map[string]*store.Token
	tenantTokens map[rbac.Ref][]string // sorted
	expiring     []tokenExpiry         // tokens that expire, by Expires and then ID

	policies map[rbac.Ref]*store.SecurityPolicy // by tenant; see policy.go

	connections       map[string]*store.SSOConnection // see sso.go
	tenantConnections map[rbac.Ref][]string           // sorted
	domains           map[string]*store.Domain        // by lower-case name
	tenantDomains     map[rbac.Ref][]string           // sorted

	events map[rbac.Ref]*eventLog // per tenant, in Seq order
	seq    uint64
	feed   feedIndex // every tenant's events, in Seq order (see feed.go)
}

// scope is an account, organization or resource. policy is a tenant's security
// policy, for checks (see policy.go).
type scope struct {
	ref      rbac.Ref
	parent   uint32 // noID for a root
	tenant   uint32 // the account (or organization) the scope belongs to
	acct     *store.Account
	res      *store.Resource
	policy   *store.SecurityPolicy
	children []uint32 // scopes directly below, unsorted
	holders  []uint32 // holders with a grant on this scope, unsorted
}

// holder is an interned grant holder. It lives while it holds grants or team places.
type holder struct {
	h       rbac.Holder
	refs    int32    // grants held + team places (as a user or as the team)
	places  []place  // for a user: the teams it belongs to
	tenants []uint32 // tenants in which it holds grants, unsorted
	// small repeats the holder's grants while it has at most smallGrants of them, so
	// that Reach scans one short slice instead of looking up the grants map; big is set
	// for good once the holder had more.
	small []smallGrant
	big   bool
}

// smallGrants is the most grants a holder keeps in its small slice.
const smallGrants = 16

type smallGrant struct {
	sid uint32
	v   grantVal
}

// place is a user's place in a team: the team's tenant and the team's holder number.
type place struct{ tenant, team uint32 }

// grantVal is the stored part of a grant.
type grantVal struct {
	level   rbac.Level
	content bool
}

type memberSet struct {
	since map[string]*store.Member // by pointer: a Member is large, and sets are many
	users []string                 // sorted
}

type team struct {
	rec     store.Team
	members []string // sorted
}

// tokenExpiry is an entry of the index of tokens by expiry.
type tokenExpiry struct {
	at time.Time // without a monotonic clock reading
	id string
}

func cmpExpiry(a, b tokenExpiry) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.id, b.id)) }

type tenantKey struct {
	tenant rbac.Ref
	key    string
}

type userTenant struct {
	user   string
	tenant rbac.Ref
}

func newState() *state {
	return &state{
		grants:            map[uint64]grantVal{},
		holderTenant:      map[uint64][]uint32{},
		users:             map[string]*store.User{},
		emails:            map[string]string{},
		oauth:             map[store.OAuthLink]string{},
		members:           map[rbac.Ref]*memberSet{},
		memberships:       map[string][]rbac.Ref{},
		teams:             map[string]*team{},
		teamNames:         map[tenantKey]string{},
		tenantTeams:       map[rbac.Ref][]string{},
		userTeams:         map[userTenant][]string{},
		invites:           map[string]*store.Invitation{},
		inviteEmails:      map[tenantKey]string{},
		tenantInvites:     map[rbac.Ref][]string{},
		emailInvites:      map[string][]string{},
		links:             map[string]*store.InviteLink{},
		tenantLinks:       map[rbac.Ref][]string{},
		userLinks:         map[string][]string{},
		tokens:            map[string]*store.Token{},
		tenantTokens:      map[rbac.Ref][]string{},
		policies:          map[rbac.Ref]*store.SecurityPolicy{},
		connections:       map[string]*store.SSOConnection{},
		tenantConnections: map[rbac.Ref][]string{},
		domains:           map[string]*store.Domain{},
		tenantDomains:     map[rbac.Ref][]string{},
		events:            map[rbac.Ref]*eventLog{},
	}
}

// kindIndex maps a kind (of scope or holder) and an ID to a number: one map with
// string keys per kind, the fastest look-up of the check path.
type kindIndex struct{ m [256]map[string]uint32 }

func (x *kindIndex) get(k uint8, id string) (uint32, bool) {
	v, ok := x.m[k][id]
	return v, ok
}

func (x *kindIndex) set(k uint8, id string, v uint32) {
	if x.m[k] == nil {
		x.m[k] = map[string]uint32{}
	}
	x.m[k][id] = v
}

func (x *kindIndex) del(k uint8, id string) { delete(x.m[k], id) }

func (s *state) lookupScope(r rbac.Ref) (uint32, bool) { return s.scopeIdx.get(uint8(r.Kind), r.ID) }
func (s *state) lookupHolder(h rbac.Holder) (uint32, bool) {
	return s.holderIdx.get(uint8(h.Kind), h.ID)
}

// sidOf and hidOf return the number of a scope or holder known to exist.
func (s *state) sidOf(r rbac.Ref) uint32 {
	id, _ := s.lookupScope(r)
	return id
}

func (s *state) hidOf(h rbac.Holder) uint32 {
	id, _ := s.lookupHolder(h)
	return id
}

func gkey(a, b uint32) uint64 { return uint64(a)<<32 | uint64(b) }

// ---- sorted and unsorted small sets ----

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func removeSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

// removeSwap removes one v from s, searching from the end (cascades remove the last
// elements first), and does not keep the order.
func removeSwap[T comparable](s []T, v T) []T {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			last := len(s) - 1
			s[i] = s[last]
			var zero T
			s[last] = zero
			return s[:last]
		}
	}
	return s
}

// ---- scopes ----

// addScope adds a scope below parent (noID for a root) and returns its number.
func (s *state) addScope(ref rbac.Ref, parent uint32, acct *store.Account, res *store.Resource) uint32 {
	var id uint32
	if n := len(s.freeScopes); n > 0 {
		id = s.freeScopes[n-1]
		s.freeScopes = s.freeScopes[:n-1]
	} else {
		id = uint32(len(s.scopes))
		s.scopes = append(s.scopes, scope{})
	}
	sc := scope{ref: ref, parent: parent, tenant: id, acct: acct, res: res, policy: s.policies[ref]}
	if res != nil {
		sc.tenant = s.scopes[parent].tenant
	}
	s.scopes[id] = sc
	s.scopeIdx.set(uint8(ref.Kind), ref.ID, id)
	if parent != noID {
		s.scopes[parent].children = append(s.scopes[parent].children, id)
	}
	return id
}

// removeScope removes a scope that has no children and no grants left.
func (s *state) removeScope(id uint32) {
	sc := &s.scopes[id]
	if p := sc.parent; p != noID {
		s.scopes[p].children = removeSwap(s.scopes[p].children, id)
	}
	s.scopeIdx.del(uint8(sc.ref.Kind), sc.ref.ID)
	*sc = scope{parent: noID, tenant: noID}
	s.freeScopes = append(s.freeScopes, id)
}

// tenantRef returns the tenant of scope id.
func (s *state) tenantRef(id uint32) rbac.Ref { return s.scopes[s.scopes[id].tenant].ref }

// ---- holders ----

// intern returns h's number, creating it when h holds nothing yet.
func (s *state) intern(h rbac.Holder) uint32 {
	if id, ok := s.lookupHolder(h); ok {
		return id
	}
	var id uint32
	if n := len(s.freeHolders); n > 0 {
		id = s.freeHolders[n-1]
		s.freeHolders = s.freeHolders[:n-1]
	} else {
		id = uint32(len(s.holders))
		s.holders = append(s.holders, holder{})
	}
	s.holders[id] = holder{h: h}
	s.holderIdx.set(uint8(h.Kind), h.ID, id)
	return id
}

// release drops one reference to holder id and frees it when none is left.
func (s *state) release(id uint32) {
	hd := &s.holders[id]
	hd.refs--
	if hd.refs > 0 {
		return
	}
	s.holderIdx.del(uint8(hd.h.Kind), hd.h.ID)
	*hd = holder{}
	s.freeHolders = append(s.freeHolders, id)
}

// ---- grants ----

// setGrant sets h's grant on scope sid.
func (s *state) setGrant(h rbac.Holder, sid uint32, v grantVal) {
	hid := s.intern(h)
	k := gkey(hid, sid)
	hd := &s.holders[hid]
	if _, ok := s.grants[k]; ok {
		s.grants[k] = v
		if !hd.big {
			for i := range hd.small {
				if hd.small[i].sid == sid {
					hd.small[i].v = v
				}
			}
		}
		return
	}
	s.grants[k] = v
	hd.refs++
	switch {
	case hd.big:
	case len(hd.small) < smallGrants:
		hd.small = append(hd.small, smallGrant{sid, v})
	default:
		hd.big, hd.small = true, nil
	}
	sc := &s.scopes[sid]
	sc.holders = append(sc.holders, hid)
	tk := gkey(hid, sc.tenant)
	l, ok := s.holderTenant[tk]
	if !ok {
		s.holders[hid].tenants = append(s.holders[hid].tenants, sc.tenant)
	}
	s.holderTenant[tk] = append(l, sid)
}

// delGrant removes h's grant on scope sid, which exists.
func (s *state) delGrant(h rbac.Holder, sid uint32) {
	hid := s.hidOf(h)
	delete(s.grants, gkey(hid, sid))
	if hd := &s.holders[hid]; !hd.big {
		hd.small = slices.DeleteFunc(hd.small, func(g smallGrant) bool { return g.sid == sid })
	}
	sc := &s.scopes[sid]
	sc.holders = removeSwap(sc.holders, hid)
	tk := gkey(hid, sc.tenant)
	if l := removeSwap(s.holderTenant[tk], sid); len(l) > 0 {
		s.holderTenant[tk] = l
	} else {
		delete(s.holderTenant, tk)
		s.holders[hid].tenants = removeSwap(s.holders[hid].tenants, sc.tenant)
	}
	s.release(hid)
}

// grant returns h's grant on scope sid.
func (s *state) grant(h rbac.Holder, sid uint32) (grantVal, bool) {
	hid, ok := s.lookupHolder(h)
	if !ok {
		return grantVal{}, false
	}
	v, ok := s.grants[gkey(hid, sid)]
	return v, ok
}

// grantOf returns holder hid's grant on scope sid.
func (s *state) grantOf(hid, sid uint32) (grantVal, bool) {
	if hd := &s.holders[hid]; !hd.big {
		for _, g := range hd.small {
			if g.sid == sid {
				return g.v, true
			}
		}
		return grantVal{}, false
	}
	v, ok := s.grants[gkey(hid, sid)]
	return v, ok
}

func (s *state) storeGrant(hid, sid uint32, v grantVal) store.Grant {
	return store.Grant{
		Grant:  rbac.Grant{Holder: s.holders[hid].h, Scope: s.scopes[sid].ref, Level: v.level, ViewContent: v.content},
		Tenant: s.tenantRef(sid),
	}
}

// ---- users ----

func (s *state) addUser(u *store.User) {
	s.users[u.ID] = u
	s.emails[store.FoldKey(u.Email)] = u.ID
	for _, l := range u.OAuth {
		s.oauth[l] = u.ID
	}
}

func (s *state) removeUser(id string) *store.User {
	u := s.users[id]
	delete(s.users, id)
	if s.emails[store.FoldKey(u.Email)] == id {
		delete(s.emails, store.FoldKey(u.Email))
	}
	for _, l := range u.OAuth {
		if s.oauth[l] == id {
			delete(s.oauth, l)
		}
	}
	return u
}

// ---- members ----

func (s *state) addMember(m store.Member) {
	ms := s.members[m.Tenant]
	if ms == nil {
		ms = &memberSet{since: map[string]*store.Member{}}
		s.members[m.Tenant] = ms
	}
	ms.since[m.User] = &m
	ms.users = insertSorted(ms.users, m.User)
	s.memberships[m.User] = append(s.memberships[m.User], m.Tenant)
}

func (s *state) removeMember(tenant rbac.Ref, user string) store.Member {
	ms := s.members[tenant]
	m := *ms.since[user]
	delete(ms.since, user)
	ms.users = removeSorted(ms.users, user)
	if len(ms.users) == 0 {
		delete(s.members, tenant)
	}
	if l := removeSwap(s.memberships[user], tenant); len(l) > 0 {
		s.memberships[user] = l
	} else {
		delete(s.memberships, user)
	}
	return m
}

// setMember replaces user's membership of m.Tenant, which exists.
func (s *state) setMember(m store.Member) store.Member {
	ms := s.members[m.Tenant]
	old := *ms.since[m.User]
	ms.since[m.User] = &m
	return old
}

// ---- teams ----

func (s *state) addTeam(t store.Team) {
	s.teams[t.ID] = &team{rec: t}
	s.teamNames[tenantKey{t.Tenant, store.FoldKey(t.Name)}] = t.ID
	s.tenantTeams[t.Tenant] = insertSorted(s.tenantTeams[t.Tenant], t.ID)
}

// removeTeam removes a team that has no members left.
func (s *state) removeTeam(id string) store.Team {
	t := s.teams[id]
	delete(s.teams, id)
	delete(s.teamNames, tenantKey{t.rec.Tenant, store.FoldKey(t.rec.Name)})
	if l := removeSorted(s.tenantTeams[t.rec.Tenant], id); len(l) > 0 {
		s.tenantTeams[t.rec.Tenant] = l
	} else {
		delete(s.tenantTeams, t.rec.Tenant)
	}
	return t.rec
}

func (s *state) renameTeam(id, name string) {
	t := s.teams[id]
	delete(s.teamNames, tenantKey{t.rec.Tenant, store.FoldKey(t.rec.Name)})
	t.rec.Name = name
	s.teamNames[tenantKey{t.rec.Tenant, store.FoldKey(name)}] = id
}

func (s *state) addTeamMember(id, user string) {
	t := s.teams[id]
	t.members = insertSorted(t.members, user)
	ut := userTenant{user, t.rec.Tenant}
	s.userTeams[ut] = insertSorted(s.userTeams[ut], id)
	tid := s.intern(rbac.Team(id))
	s.holders[tid].refs++
	uid := s.intern(rbac.User(user))
	s.holders[uid].refs++
	s.holders[uid].places = append(s.holders[uid].places, place{tenant: s.sidOf(t.rec.Tenant), team: tid})
}

func (s *state) removeTeamMember(id, user string) {
	t := s.teams[id]
	t.members = removeSorted(t.members, user)
	ut := userTenant{user, t.rec.Tenant}
	if l := removeSorted(s.userTeams[ut], id); len(l) > 0 {
		s.userTeams[ut] = l
	} else {
		delete(s.userTeams, ut)
	}
	tid := s.hidOf(rbac.Team(id))
	uid := s.hidOf(rbac.User(user))
	s.holders[uid].places = removeSwap(s.holders[uid].places, place{tenant: s.sidOf(t.rec.Tenant), team: tid})
	s.release(uid)
	s.release(tid)
}

// ---- invitations ----

func (s *state) addInvite(inv *store.Invitation) {
	s.invites[inv.ID] = inv
	e := store.FoldKey(inv.Email)
	s.inviteEmails[tenantKey{inv.Tenant, e}] = inv.ID
	s.tenantInvites[inv.Tenant] = insertSorted(s.tenantInvites[inv.Tenant], inv.ID)
	s.emailInvites[e] = insertSorted(s.emailInvites[e], inv.ID)
}

func (s *state) removeInvite(id string) *store.Invitation {
	inv := s.invites[id]
	delete(s.invites, id)
	e := store.FoldKey(inv.Email)
	delete(s.inviteEmails, tenantKey{inv.Tenant, e})
	if l := removeSorted(s.tenantInvites[inv.Tenant], id); len(l) > 0 {
		s.tenantInvites[inv.Tenant] = l
	} else {
		delete(s.tenantInvites, inv.Tenant)
	}
	if l := removeSorted(s.emailInvites[e], id); len(l) > 0 {
		s.emailInvites[e] = l
	} else {
		delete(s.emailInvites, e)
	}
	return inv
}

// setInvite replaces the invitation with the same ID, whose email and tenant stay.
func (s *state) setInvite(inv *store.Invitation) *store.Invitation {
	old := s.invites[inv.ID]
	s.invites[inv.ID] = inv
	return old
}

// ---- invite links ----

func (s *state) addLink(l *store.InviteLink) {
	s.links[l.ID] = l
	s.tenantLinks[l.Tenant] = insertSorted(s.tenantLinks[l.Tenant], l.ID)
	s.userLinks[l.CreatedBy] = insertSorted(s.userLinks[l.CreatedBy], l.ID)
}

func (s *state) removeLink(id string) *store.InviteLink {
	l := s.links[id]
	delete(s.links, id)
	if ids := removeSorted(s.tenantLinks[l.Tenant], id); len(ids) > 0 {
		s.tenantLinks[l.Tenant] = ids
	} else {
		delete(s.tenantLinks, l.Tenant)
	}
	if ids := removeSorted(s.userLinks[l.CreatedBy], id); len(ids) > 0 {
		s.userLinks[l.CreatedBy] = ids
	} else {
		delete(s.userLinks, l.CreatedBy)
	}
	return l
}

// setLink replaces the invite link with the same ID, whose tenant and creator stay.
func (s *state) setLink(l *store.InviteLink) *store.InviteLink {
	old := s.links[l.ID]
	s.links[l.ID] = l
	return old
}

// ---- tokens ----

func (s *state) addToken(t *store.Token) {
	s.tokens[t.ID] = t
	s.tenantTokens[t.Tenant] = insertSorted(s.tenantTokens[t.Tenant], t.ID)
	s.indexExpiry(t)
}

func (s *state) removeToken(id string) *store.Token {
	t := s.tokens[id]
	delete(s.tokens, id)
	if l := removeSorted(s.tenantTokens[t.Tenant], id); len(l) > 0 {
		s.tenantTokens[t.Tenant] = l
	} else {
		delete(s.tenantTokens, t.Tenant)
	}
	s.unindexExpiry(t)
	return t
}

// setToken replaces the token with the same ID, whose tenant stays.
func (s *state) setToken(t *store.Token) *store.Token {
	old := s.tokens[t.ID]
	s.unindexExpiry(old)
	s.tokens[t.ID] = t
	s.indexExpiry(t)
	return old
}

func (s *state) indexExpiry(t *store.Token) {
	if t.Expires.IsZero() {
		return
	}
	e := tokenExpiry{t.Expires.Round(0), t.ID}
	i, _ := slices.BinarySearchFunc(s.expiring, e, cmpExpiry)
	s.expiring = slices.Insert(s.expiring, i, e)
}

func (s *state) unindexExpiry(t *store.Token) {
	if t.Expires.IsZero() {
		return
	}
	if i, found := slices.BinarySearchFunc(s.expiring, tokenExpiry{t.Expires.Round(0), t.ID}, cmpExpiry); found {
		s.expiring = slices.Delete(s.expiring, i, i+1)
	}
}

// expiringBetween returns the IDs of the tokens whose Expires is in [from, to), by
// Expires and then ID. The index holds wall-clock times only (Round(0)), so that its
// order never depends on monotonic clock readings.
func (s *state) expiringBetween(from, to time.Time) []string {
	from, to = from.Round(0), to.Round(0)
	i, _ := slices.BinarySearchFunc(s.expiring, from, func(e tokenExpiry, t time.Time) int { return e.at.Compare(t) })
	var out []string
	for ; i < len(s.expiring) && s.expiring[i].at.Before(to); i++ {
		out = append(out, s.expiring[i].id)
	}
	return out
}

// ---- events ----

func (s *state) appendEvent(e store.Event) store.Event {
	s.seq++
	e.Seq = s.seq
	e = copyEvent(e)
	l := s.events[e.Tenant]
	if l == nil {
		l = &eventLog{}
		s.events[e.Tenant] = l
	}
	l.push(e)
	s.feed.push(feedRef{l, l.n - 1})
	return e
}

func (s *state) popEvent(tenant rbac.Ref) {
	l := s.events[tenant]
	if l.pop(); l.n == 0 {
		delete(s.events, tenant)
	}
	s.feed.pop()
	s.seq--
}

// ---- reach ----

// reach implements Reader.Reach; see store.Reader. It allocates only when the
// buffers are too small or the scope is more than 8 levels deep.
func (s *state) reach(h rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	path, grants = path[:0], grants[:0]
	sid, ok := s.lookupScope(scope)
	if !ok {
		return path, grants, errNoScope
	}
	var buf [8]uint32
	sids := buf[:0]
	for id := sid; id != noID; id = s.scopes[id].parent {
		sids = append(sids, id)
	}
	hid, held := s.lookupHolder(h)
	user := h.Kind == rbac.HolderUser
	var places []place
	if held && user {
		places = s.holders[hid].places
	}
	for i := len(sids) - 1; i >= 0; i-- {
		id := sids[i]
		sc := &s.scopes[id]
		path = append(path, sc.ref)
		if held {
			if v, ok := s.grantOf(hid, id); ok {
				grants = append(grants, rbac.Grant{Holder: h, Scope: sc.ref, Level: v.level, ViewContent: v.content})
			}
		}
		for _, p := range places {
			if !slices.Contains(sids, p.tenant) {
				continue
			}
			if v, ok := s.grantOf(p.team, id); ok {
				grants = append(grants, rbac.Grant{Holder: s.holders[p.team].h, Scope: sc.ref, Level: v.level, ViewContent: v.content})
			}
		}
		if user && sc.acct != nil && sc.acct.Owner == h.ID {
			grants = append(grants, rbac.Grant{Holder: h, Scope: sc.ref, Level: rbac.Owner})
		}
	}
	return path, grants, nil
}

// sees reports what store.Sees reports: h is a user member of scope, or h or one of
// its teams in scope's tenant holds a grant at or below scope. It allocates nothing.
func (s *state) sees(h rbac.Holder, scope rbac.Ref) bool {
	sid, ok := s.lookupScope(scope)
	if !ok {
		return false
	}
	sc := &s.scopes[sid]
	user := h.Kind == rbac.HolderUser
	if user && sc.acct != nil {
		if ms := s.members[scope]; ms != nil {
			if _, ok := ms.since[h.ID]; ok {
				return true
			}
		}
	}
	tenant := sc.tenant
	hid, held := s.lookupHolder(h)
	if !held {
		return false
	}
	if s.holdsAtOrBelow(hid, tenant, sid) {
		return true
	}
	if user {
		for _, p := range s.holders[hid].places {
			if p.tenant == tenant && s.holdsAtOrBelow(p.team, tenant, sid) {
				return true
			}
		}
	}
	return false
}

// holdsAtOrBelow reports whether holder hid holds a grant in tenant on scope sid or
// below it.
func (s *state) holdsAtOrBelow(hid, tenant, sid uint32) bool {
	for _, g := range s.holderTenant[gkey(hid, tenant)] {
		for id := g; id != noID; id = s.scopes[id].parent {
			if id == sid {
				return true
			}
		}
	}
	return false
}

// ---- sorting helpers ----

func cmpGrant(a, b store.Grant) int {
	return cmp.Or(a.Scope.Compare(b.Scope), a.Holder.Compare(b.Holder))
}
