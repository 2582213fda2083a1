package storetest

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// recModel is the Model group's plain model of the store contract: maps of records
// and the cascades of store.go written again, by scanning, with no indexes.
type recModel struct {
	users   map[string]store.User
	accts   map[rbac.Ref]store.Account
	res     map[rbac.Ref]store.Resource
	members map[rbac.Ref]map[string]store.Member
	grants  map[recGrantKey]store.Grant
	teams   map[string]store.Team
	teamMem map[string]map[string]bool
	invites map[string]store.Invitation
	links   map[string]store.InviteLink
	tokens  map[string]store.Token
	pols    map[rbac.Ref]store.SecurityPolicy
	conns   map[string]store.SSOConnection
	domains map[string]store.Domain // by lower-case name
	events  map[rbac.Ref][]store.Event
}

type recGrantKey struct {
	h rbac.Holder
	s rbac.Ref
}

func newRecModel() *recModel {
	return &recModel{
		users: map[string]store.User{}, accts: map[rbac.Ref]store.Account{}, res: map[rbac.Ref]store.Resource{},
		members: map[rbac.Ref]map[string]store.Member{}, grants: map[recGrantKey]store.Grant{},
		teams: map[string]store.Team{}, teamMem: map[string]map[string]bool{}, invites: map[string]store.Invitation{},
		links: map[string]store.InviteLink{}, tokens: map[string]store.Token{}, pols: map[rbac.Ref]store.SecurityPolicy{},
		conns: map[string]store.SSOConnection{}, domains: map[string]store.Domain{}, events: map[rbac.Ref][]store.Event{},
	}
}

func (m *recModel) scopeExists(s rbac.Ref) bool {
	_, a := m.accts[s]
	_, r := m.res[s]
	return a || r
}

// parent returns the scope directly above s.
func (m *recModel) parent(s rbac.Ref) (rbac.Ref, bool) {
	if r, ok := m.res[s]; ok {
		return r.Parent, true
	}
	if a, ok := m.accts[s]; ok && a.Org != "" {
		return rbac.Org(a.Org), true
	}
	return rbac.Ref{}, false
}

func (m *recModel) path(s rbac.Ref) rbac.Path {
	p := rbac.Path{s}
	for {
		par, ok := m.parent(s)
		if !ok {
			break
		}
		p = append(p, par)
		s = par
	}
	slices.Reverse(p)
	return p
}

// tenantOf returns the account or organization s belongs to.
func (m *recModel) tenantOf(s rbac.Ref) rbac.Ref {
	for {
		if _, ok := m.accts[s]; ok {
			return s
		}
		r, ok := m.res[s]
		if !ok {
			return rbac.Ref{}
		}
		s = r.Parent
	}
}

// isBelow reports whether s lies strictly below anc.
func (m *recModel) isBelow(s, anc rbac.Ref) bool {
	for {
		par, ok := m.parent(s)
		if !ok {
			return false
		}
		if par == anc {
			return true
		}
		s = par
	}
}

func (m *recModel) dropGrants(pred func(k recGrantKey) bool) {
	maps.DeleteFunc(m.grants, func(k recGrantKey, _ store.Grant) bool { return pred(k) })
}

func (m *recModel) deleteAccount(ref rbac.Ref) {
	if ref.Kind == rbac.KindOrganization {
		for r, a := range m.accts {
			if a.Org == ref.ID {
				m.deleteAccount(r)
			}
		}
	}
	scopes := map[rbac.Ref]bool{ref: true}
	for r := range m.res {
		if m.tenantOf(r) == ref {
			scopes[r] = true
		}
	}
	m.dropGrants(func(k recGrantKey) bool { return scopes[k.s] })
	for r := range scopes {
		delete(m.res, r)
	}
	for id, t := range m.teams {
		if t.Tenant == ref {
			m.deleteTeam(id)
		}
	}
	for id, inv := range m.invites {
		if inv.Tenant == ref {
			m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.Invite(id) })
			delete(m.invites, id)
		}
	}
	for id, t := range m.tokens {
		if t.Tenant == ref {
			m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.Token(id) })
			delete(m.tokens, id)
		}
	}
	maps.DeleteFunc(m.links, func(_ string, l store.InviteLink) bool { return l.Tenant == ref })
	delete(m.pols, ref)
	maps.DeleteFunc(m.conns, func(_ string, c store.SSOConnection) bool { return c.Tenant == ref })
	maps.DeleteFunc(m.domains, func(_ string, d store.Domain) bool { return d.Tenant == ref })
	delete(m.members, ref)
	delete(m.accts, ref)
}

func (m *recModel) deleteResource(ref rbac.Ref) {
	gone := map[rbac.Ref]bool{ref: true}
	for r := range m.res {
		if m.isBelow(r, ref) {
			gone[r] = true
		}
	}
	m.dropGrants(func(k recGrantKey) bool { return gone[k.s] })
	for r := range gone {
		delete(m.res, r)
	}
}

func (m *recModel) deleteTeam(id string) {
	delete(m.teamMem, id)
	m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.Team(id) })
	delete(m.teams, id)
}

func (m *recModel) deleteUser(id string) {
	for _, ms := range m.members {
		delete(ms, id)
	}
	for _, ms := range m.teamMem {
		delete(ms, id)
	}
	m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.User(id) })
	maps.DeleteFunc(m.links, func(_ string, l store.InviteLink) bool { return l.CreatedBy == id })
	delete(m.users, id)
}

func (m *recModel) deleteMember(tenant rbac.Ref, user string) {
	delete(m.members[tenant], user)
	m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.User(user) && m.grants[k].Tenant == tenant })
	for id, t := range m.teams {
		if t.Tenant == tenant {
			delete(m.teamMem[id], user)
		}
	}
}

func (m *recModel) isMember(tenant rbac.Ref, user string) bool {
	_, ok := m.members[tenant][user]
	return ok
}

// emailTaken reports whether a user other than id has email, ignoring case.
func (m *recModel) emailTaken(email, id string) bool {
	for _, u := range m.users {
		if u.ID != id && strings.EqualFold(u.Email, email) {
			return true
		}
	}
	return false
}

// linkTaken reports whether a user other than id has one of links.
func (m *recModel) linkTaken(links []store.OAuthLink, id string) bool {
	for _, u := range m.users {
		if u.ID == id {
			continue
		}
		for _, l := range links {
			if slices.Contains(u.OAuth, l) {
				return true
			}
		}
	}
	return false
}

// teamNameTaken reports whether a team of tenant other than id is named name, ignoring
// case.
func (m *recModel) teamNameTaken(tenant rbac.Ref, name, id string) bool {
	for _, t := range m.teams {
		if t.ID != id && t.Tenant == tenant && strings.EqualFold(t.Name, name) {
			return true
		}
	}
	return false
}

func (m *recModel) inviteTaken(tenant rbac.Ref, email string) bool {
	for _, inv := range m.invites {
		if inv.Tenant == tenant && strings.EqualFold(inv.Email, email) {
			return true
		}
	}
	return false
}

// reach is store.Reader.Reach as the contract states it.
func (m *recModel) reach(h rbac.Holder, s rbac.Ref) []rbac.Grant {
	p := m.path(s)
	var out []rbac.Grant
	for k, g := range m.grants {
		if !p.Contains(k.s) {
			continue
		}
		switch {
		case k.h == h:
			out = append(out, g.Grant)
		case k.h.Kind == rbac.HolderTeam && h.Kind == rbac.HolderUser:
			if t, ok := m.teams[k.h.ID]; ok && m.teamMem[k.h.ID][h.ID] && p.Contains(t.Tenant) {
				out = append(out, g.Grant)
			}
		}
	}
	for _, sc := range p {
		if a, ok := m.accts[sc]; ok && h.Kind == rbac.HolderUser && a.Owner == h.ID {
			out = append(out, rbac.Grant{Holder: h, Scope: sc, Level: rbac.Owner})
		}
	}
	sortGrants(out)
	return out
}

// ---- sorted listings, as store.go orders them ----

func (m *recModel) subAccounts(org string) []store.Account {
	var out []store.Account
	for _, a := range m.accts {
		if a.Org == org && a.Ref.Kind == rbac.KindAccount {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b store.Account) int { return a.Ref.Compare(b.Ref) })
	return out
}

func (m *recModel) children(parent rbac.Ref) []store.Resource {
	var out []store.Resource
	for _, r := range m.res {
		if r.Parent == parent {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.Resource) int { return a.Ref.Compare(b.Ref) })
	return out
}

func (m *recModel) memberList(tenant rbac.Ref) []store.Member {
	out := slices.Collect(maps.Values(m.members[tenant]))
	slices.SortFunc(out, func(a, b store.Member) int { return strings.Compare(a.User, b.User) })
	return out
}

func (m *recModel) memberships(user string) []store.Member {
	var out []store.Member
	for _, ms := range m.members {
		if mm, ok := ms[user]; ok {
			out = append(out, mm)
		}
	}
	slices.SortFunc(out, func(a, b store.Member) int { return a.Tenant.Compare(b.Tenant) })
	return out
}

func (m *recModel) holderGrants(h rbac.Holder, tenant rbac.Ref) []store.Grant {
	var out []store.Grant
	for k, g := range m.grants {
		if k.h == h && g.Tenant == tenant {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b store.Grant) int { return a.Scope.Compare(b.Scope) })
	return out
}

func (m *recModel) scopeGrants(s rbac.Ref, subtree bool) []store.Grant {
	var out []store.Grant
	for k, g := range m.grants {
		if k.s == s || subtree && m.isBelow(k.s, s) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b store.Grant) int { return cmp.Or(a.Scope.Compare(b.Scope), a.Holder.Compare(b.Holder)) })
	return out
}

func (m *recModel) teamList(pred func(store.Team) bool) []store.Team {
	var out []store.Team
	for _, t := range m.teams {
		if pred(t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.Team) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *recModel) inviteList(pred func(store.Invitation) bool) []store.Invitation {
	var out []store.Invitation
	for _, inv := range m.invites {
		if pred(inv) {
			out = append(out, inv)
		}
	}
	slices.SortFunc(out, func(a, b store.Invitation) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *recModel) tokenList(tenant rbac.Ref) []store.Token {
	var out []store.Token
	for _, t := range m.tokens {
		if t.Tenant == tenant {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.Token) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *recModel) linkList(tenant rbac.Ref) []store.InviteLink {
	var out []store.InviteLink
	for _, l := range m.links {
		if l.Tenant == tenant {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b store.InviteLink) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// tokensExpiring is Reader.TokensExpiring as the contract states it.
func (m *recModel) tokensExpiring(from, to time.Time) []store.Token {
	var out []store.Token
	for _, t := range m.tokens {
		if !t.Expires.IsZero() && !t.Expires.Before(from) && t.Expires.Before(to) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.Token) int { return cmp.Or(a.Expires.Compare(b.Expires), strings.Compare(a.ID, b.ID)) })
	return out
}

func (m *recModel) connList(tenant rbac.Ref) []store.SSOConnection {
	var out []store.SSOConnection
	for _, c := range m.conns {
		if c.Tenant == tenant {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.SSOConnection) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *recModel) domainList(tenant rbac.Ref) []store.Domain {
	var out []store.Domain
	for _, d := range m.domains {
		if d.Tenant == tenant {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b store.Domain) int { return strings.Compare(a.Name, b.Name) })
	return out
}
