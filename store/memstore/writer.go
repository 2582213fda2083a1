package memstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// writer is the store.Writer of an Update. Every change goes through one of the
// logged primitives below, which records its inverse; rollback replays the inverses
// in reverse order.
type writer struct {
	reader
	undo []undoEntry
}

// undoEntry is the inverse of one change: a function, or, for the changes every
// operation makes (an audit event, a grant), a record of what to restore, which costs
// no closure.
type undoEntry struct {
	f     func() // when not nil, the inverse
	event bool   // pop the last event of tenant ref
	h     rbac.Holder
	ref   rbac.Ref // the event's tenant, or the grant's scope
	old   grantVal // the grant of h on ref to restore...
	had   bool     // ...or, when false, the grant to delete
}

func (w *writer) log(f func()) { w.undo = append(w.undo, undoEntry{f: f}) }

func (w *writer) rollback() {
	st := w.st
	for i := len(w.undo) - 1; i >= 0; i-- {
		switch u := &w.undo[i]; {
		case u.f != nil:
			u.f()
		case u.event:
			st.popEvent(u.ref)
		case u.had:
			st.setGrant(u.h, st.sidOf(u.ref), u.old)
		default:
			st.delGrant(u.h, st.sidOf(u.ref))
		}
	}
	clear(w.undo)
	w.undo = w.undo[:0]
}

// ---- logged primitives ----

func (w *writer) addScope(ref rbac.Ref, parent uint32, acct *store.Account, res *store.Resource) {
	st := w.st
	st.addScope(ref, parent, acct, res)
	w.log(func() { st.removeScope(st.sidOf(ref)) })
}

func (w *writer) removeScope(id uint32) {
	st := w.st
	sc := st.scopes[id]
	var parent rbac.Ref
	if sc.parent != noID {
		parent = st.scopes[sc.parent].ref
	}
	st.removeScope(id)
	w.log(func() {
		p := noID
		if sc.parent != noID {
			p = st.sidOf(parent)
		}
		st.addScope(sc.ref, p, sc.acct, sc.res)
	})
}

func (w *writer) setAccount(id uint32, a *store.Account) {
	st := w.st
	old := st.scopes[id].acct
	st.scopes[id].acct = a
	w.log(func() { st.scopes[st.sidOf(old.Ref)].acct = old })
}

func (w *writer) setResource(id uint32, r *store.Resource) {
	st := w.st
	old := st.scopes[id].res
	st.scopes[id].res = r
	w.log(func() { st.scopes[st.sidOf(old.Ref)].res = old })
}

func (w *writer) setGrant(h rbac.Holder, sid uint32, v grantVal) {
	st := w.st
	old, had := st.grant(h, sid)
	st.setGrant(h, sid, v)
	w.undo = append(w.undo, undoEntry{h: h, ref: st.scopes[sid].ref, old: old, had: had})
}

func (w *writer) delGrant(h rbac.Holder, sid uint32) {
	st := w.st
	old, _ := st.grant(h, sid)
	ref := st.scopes[sid].ref
	st.delGrant(h, sid)
	w.undo = append(w.undo, undoEntry{h: h, ref: ref, old: old, had: true})
}

// dropScopeGrants deletes every grant on scope sid.
func (w *writer) dropScopeGrants(sid uint32) {
	for hs := w.st.scopes[sid].holders; len(hs) > 0; hs = w.st.scopes[sid].holders {
		w.delGrant(w.st.holders[hs[len(hs)-1]].h, sid)
	}
}

// dropHolderGrants deletes every grant h holds, in every tenant.
func (w *writer) dropHolderGrants(h rbac.Holder) {
	hid, ok := w.st.lookupHolder(h)
	if !ok {
		return
	}
	for _, t := range slices.Clone(w.st.holders[hid].tenants) {
		w.dropHolderTenantGrants(h, t)
	}
}

// dropHolderTenantGrants deletes the grants h holds in tenant tid.
func (w *writer) dropHolderTenantGrants(h rbac.Holder, tid uint32) {
	hid, ok := w.st.lookupHolder(h)
	if !ok {
		return
	}
	for _, sid := range slices.Clone(w.st.holderTenant[gkey(hid, tid)]) {
		w.delGrant(h, sid)
	}
}

func (w *writer) addUser(u *store.User) {
	st := w.st
	st.addUser(u)
	w.log(func() { st.removeUser(u.ID) })
}

func (w *writer) removeUser(id string) {
	st := w.st
	u := st.removeUser(id)
	w.log(func() { st.addUser(u) })
}

func (w *writer) addMember(m store.Member) {
	st := w.st
	st.addMember(m)
	w.log(func() { st.removeMember(m.Tenant, m.User) })
}

func (w *writer) removeMember(tenant rbac.Ref, user string) {
	st := w.st
	m := st.removeMember(tenant, user)
	w.log(func() { st.addMember(m) })
}

func (w *writer) addTeam(t store.Team) {
	st := w.st
	st.addTeam(t)
	w.log(func() { st.removeTeam(t.ID) })
}

func (w *writer) removeTeam(id string) {
	st := w.st
	t := st.removeTeam(id)
	w.log(func() { st.addTeam(t) })
}

func (w *writer) renameTeam(id, name string) {
	st := w.st
	old := st.teams[id].rec.Name
	st.renameTeam(id, name)
	w.log(func() { st.renameTeam(id, old) })
}

func (w *writer) addTeamMember(team, user string) {
	st := w.st
	st.addTeamMember(team, user)
	w.log(func() { st.removeTeamMember(team, user) })
}

func (w *writer) removeTeamMember(team, user string) {
	st := w.st
	st.removeTeamMember(team, user)
	w.log(func() { st.addTeamMember(team, user) })
}

func (w *writer) addInvite(inv *store.Invitation) {
	st := w.st
	st.addInvite(inv)
	w.log(func() { st.removeInvite(inv.ID) })
}

func (w *writer) removeInvite(id string) {
	st := w.st
	inv := st.removeInvite(id)
	w.log(func() { st.addInvite(inv) })
}

func (w *writer) addToken(t *store.Token) {
	st := w.st
	st.addToken(t)
	w.log(func() { st.removeToken(t.ID) })
}

func (w *writer) removeToken(id string) {
	st := w.st
	t := st.removeToken(id)
	w.log(func() { st.addToken(t) })
}

func (w *writer) setToken(t *store.Token) {
	st := w.st
	old := st.setToken(t)
	w.log(func() { st.setToken(old) })
}

func (w *writer) setMember(m store.Member) {
	st := w.st
	old := st.setMember(m)
	w.log(func() { st.setMember(old) })
}

func (w *writer) setInvite(inv *store.Invitation) {
	st := w.st
	old := st.setInvite(inv)
	w.log(func() { st.setInvite(old) })
}

func (w *writer) addLink(l *store.InviteLink) {
	st := w.st
	st.addLink(l)
	w.log(func() { st.removeLink(l.ID) })
}

func (w *writer) removeLink(id string) {
	st := w.st
	l := st.removeLink(id)
	w.log(func() { st.addLink(l) })
}

func (w *writer) setLink(l *store.InviteLink) {
	st := w.st
	old := st.setLink(l)
	w.log(func() { st.setLink(old) })
}

// ---- cascades ----

// deleteTenant deletes an account or organization and everything in it.
func (w *writer) deleteTenant(sid uint32) {
	st := w.st
	ref := st.scopes[sid].ref
	for _, c := range slices.Clone(st.scopes[sid].children) {
		if st.scopes[c].acct != nil {
			w.deleteTenant(c)
		}
	}
	for _, id := range slices.Clone(st.tenantTeams[ref]) {
		w.deleteTeam(id)
	}
	for _, id := range slices.Clone(st.tenantInvites[ref]) {
		w.deleteInvite(id)
	}
	for _, id := range slices.Clone(st.tenantTokens[ref]) {
		w.deleteToken(id)
	}
	for _, id := range slices.Clone(st.tenantLinks[ref]) {
		w.removeLink(id)
	}
	if st.policies[ref] != nil {
		w.setPolicy(ref, nil)
	}
	w.deleteSSO(ref)
	if ms := st.members[ref]; ms != nil {
		for _, u := range slices.Clone(ms.users) {
			w.removeMember(ref, u)
		}
	}
	w.deleteSubtree(sid)
}

// deleteSubtree deletes scope sid, every resource below it, and their grants.
func (w *writer) deleteSubtree(sid uint32) {
	for _, c := range slices.Clone(w.st.scopes[sid].children) {
		w.deleteSubtree(c)
	}
	w.dropScopeGrants(sid)
	w.removeScope(sid)
}

func (w *writer) deleteTeam(id string) {
	for _, u := range slices.Clone(w.st.teams[id].members) {
		w.removeTeamMember(id, u)
	}
	w.dropHolderGrants(rbac.Team(id))
	w.removeTeam(id)
}

func (w *writer) deleteInvite(id string) {
	w.dropHolderGrants(rbac.Invite(id))
	w.removeInvite(id)
}

func (w *writer) deleteToken(id string) {
	w.dropHolderGrants(rbac.Token(id))
	w.removeToken(id)
}

// ---- store.Writer ----

var (
	errAccountKind  = errors.New("memstore: an account's kind must be account or organization")
	errResourceKind = errors.New("memstore: a resource's kind must be a resource kind")
	errOrgOfOrg     = errors.New("memstore: only an account can belong to an organization")
)

// tenant returns the scope number of tenant, an account or organization.
func (w *writer) tenant(ref rbac.Ref) (uint32, error) {
	if id, ok := w.st.lookupScope(ref); ok && w.st.scopes[id].acct != nil {
		return id, nil
	}
	return 0, notFound(ref.String())
}

// InsertAccount implements store.Writer.
func (w *writer) InsertAccount(ctx context.Context, a store.Account) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if (a.Ref.Kind != rbac.KindAccount && a.Ref.Kind != rbac.KindOrganization) || a.Ref.ID == "" {
		return errAccountKind
	}
	parent := noID
	if a.Org != "" {
		if a.Ref.Kind != rbac.KindAccount {
			return errOrgOfOrg
		}
		id, err := w.tenant(rbac.Org(a.Org))
		if err != nil {
			return err
		}
		parent = id
	}
	if _, ok := w.st.lookupScope(a.Ref); ok {
		return exists(a.Ref.String())
	}
	w.addScope(a.Ref, parent, &a, nil)
	return nil
}

// UpdateAccount implements store.Writer.
func (w *writer) UpdateAccount(ctx context.Context, a store.Account) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	id, err := w.tenant(a.Ref)
	if err != nil {
		return err
	}
	c := *w.st.scopes[id].acct
	c.Name, c.Owner, c.Plan = a.Name, a.Owner, a.Plan
	w.setAccount(id, &c)
	return nil
}

// DeleteAccount implements store.Writer.
func (w *writer) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	id, err := w.tenant(ref)
	if err != nil {
		return err
	}
	w.deleteTenant(id)
	return nil
}

// InsertResource implements store.Writer.
func (w *writer) InsertResource(ctx context.Context, r store.Resource) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if !r.Ref.Kind.Valid() || r.Ref.Kind.Ownable() || r.Ref.ID == "" {
		return errResourceKind
	}
	parent, ok := w.st.lookupScope(r.Parent)
	if !ok {
		return notFound("parent " + r.Parent.String())
	}
	if _, ok := w.st.lookupScope(r.Ref); ok {
		return exists(r.Ref.String())
	}
	w.addScope(r.Ref, parent, nil, &r)
	return nil
}

// resource returns the scope number of resource ref.
func (w *writer) resource(ref rbac.Ref) (uint32, error) {
	if id, ok := w.st.lookupScope(ref); ok && w.st.scopes[id].res != nil {
		return id, nil
	}
	return 0, notFound(ref.String())
}

// UpdateResource implements store.Writer.
func (w *writer) UpdateResource(ctx context.Context, r store.Resource) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	id, err := w.resource(r.Ref)
	if err != nil {
		return err
	}
	c := *w.st.scopes[id].res
	c.Name = r.Name
	w.setResource(id, &c)
	return nil
}

// DeleteResource implements store.Writer.
func (w *writer) DeleteResource(ctx context.Context, ref rbac.Ref) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	id, err := w.resource(ref)
	if err != nil {
		return err
	}
	w.deleteSubtree(id)
	return nil
}

// uniqueUser reports ErrExists when u's email or one of its OAuth links belongs to a
// user other than u.
func (w *writer) uniqueUser(u *store.User) error {
	if id, ok := w.st.emails[store.FoldKey(u.Email)]; ok && id != u.ID {
		return exists("email " + u.Email)
	}
	for _, l := range u.OAuth {
		if id, ok := w.st.oauth[l]; ok && id != u.ID {
			return exists("OAuth link " + l.Provider + " " + l.Subject)
		}
	}
	return nil
}

// InsertUser implements store.Writer.
func (w *writer) InsertUser(ctx context.Context, u store.User) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.users[u.ID]; ok {
		return exists("user " + u.ID)
	}
	c := copyUser(&u)
	if err := w.uniqueUser(&c); err != nil {
		return err
	}
	w.addUser(&c)
	return nil
}

// UpdateUser implements store.Writer.
func (w *writer) UpdateUser(ctx context.Context, u store.User) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	old, ok := w.st.users[u.ID]
	if !ok {
		return notFound("user " + u.ID)
	}
	c := copyUser(&u)
	c.Created = old.Created
	if err := w.uniqueUser(&c); err != nil {
		return err
	}
	w.removeUser(u.ID)
	w.addUser(&c)
	return nil
}

// DeleteUser implements store.Writer.
func (w *writer) DeleteUser(ctx context.Context, id string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.users[id]; !ok {
		return notFound("user " + id)
	}
	if hid, ok := w.st.lookupHolder(rbac.User(id)); ok {
		for _, p := range slices.Clone(w.st.holders[hid].places) {
			w.removeTeamMember(w.st.holders[p.team].h.ID, id)
		}
	}
	for _, t := range slices.Clone(w.st.memberships[id]) {
		w.removeMember(t, id)
	}
	for _, l := range slices.Clone(w.st.userLinks[id]) {
		w.removeLink(l)
	}
	w.dropHolderGrants(rbac.User(id))
	w.removeUser(id)
	return nil
}

// InsertMember implements store.Writer.
func (w *writer) InsertMember(ctx context.Context, m store.Member) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, err := w.tenant(m.Tenant); err != nil {
		return err
	}
	if _, ok := w.st.users[m.User]; !ok {
		return notFound("user " + m.User)
	}
	if ms := w.st.members[m.Tenant]; ms != nil {
		if _, ok := ms.since[m.User]; ok {
			return exists("member " + m.User + " of " + m.Tenant.String())
		}
	}
	w.addMember(copyMember(m))
	return nil
}

// DeleteMember implements store.Writer.
func (w *writer) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	ms := w.st.members[tenant]
	if ms == nil {
		return notFound("member " + user + " of " + tenant.String())
	}
	if _, ok := ms.since[user]; !ok {
		return notFound("member " + user + " of " + tenant.String())
	}
	for _, team := range slices.Clone(w.st.userTeams[userTenant{user, tenant}]) {
		w.removeTeamMember(team, user)
	}
	w.dropHolderTenantGrants(rbac.User(user), w.st.sidOf(tenant))
	w.removeMember(tenant, user)
	return nil
}

// TouchMember implements store.Writer.
func (w *writer) TouchMember(ctx context.Context, tenant rbac.Ref, user string, at time.Time) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	ms := w.st.members[tenant]
	if ms == nil {
		return notFound("member " + user + " of " + tenant.String())
	}
	m, ok := ms.since[user]
	if !ok {
		return notFound("member " + user + " of " + tenant.String())
	}
	c := *m
	c.LastActive = at
	w.setMember(c)
	return nil
}

// PutGrant implements store.Writer. The grant's Tenant is derived from its scope.
func (w *writer) PutGrant(ctx context.Context, g store.Grant) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	sid, ok := w.st.lookupScope(g.Scope)
	if !ok {
		return notFound(g.Scope.String())
	}
	w.setGrant(g.Holder, sid, grantVal{level: g.Level, content: g.ViewContent})
	return nil
}

// DeleteGrant implements store.Writer.
func (w *writer) DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if sid, ok := w.st.lookupScope(scope); ok {
		if _, ok := w.st.grant(holder, sid); ok {
			w.delGrant(holder, sid)
			return nil
		}
	}
	return notFound("grant of " + holder.String() + " on " + scope.String())
}

// InsertTeam implements store.Writer. ErrNotFound when its tenant does not exist.
func (w *writer) InsertTeam(ctx context.Context, t store.Team) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.teams[t.ID]; ok {
		return exists("team " + t.ID)
	}
	if _, err := w.tenant(t.Tenant); err != nil {
		return err
	}
	if _, ok := w.st.teamNames[tenantKey{t.Tenant, store.FoldKey(t.Name)}]; ok {
		return exists("team name " + t.Name + " in " + t.Tenant.String())
	}
	w.addTeam(t)
	return nil
}

// UpdateTeam implements store.Writer. ErrExists when another team of the tenant has
// the new name.
func (w *writer) UpdateTeam(ctx context.Context, t store.Team) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	old, ok := w.st.teams[t.ID]
	if !ok {
		return notFound("team " + t.ID)
	}
	if id, ok := w.st.teamNames[tenantKey{old.rec.Tenant, store.FoldKey(t.Name)}]; ok && id != t.ID {
		return exists("team name " + t.Name + " in " + old.rec.Tenant.String())
	}
	w.renameTeam(t.ID, t.Name)
	return nil
}

// DeleteTeam implements store.Writer.
func (w *writer) DeleteTeam(ctx context.Context, id string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.teams[id]; !ok {
		return notFound("team " + id)
	}
	w.deleteTeam(id)
	return nil
}

// InsertTeamMember implements store.Writer. ErrExists when user is already in the
// team.
func (w *writer) InsertTeamMember(ctx context.Context, team, user string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	t, ok := w.st.teams[team]
	if !ok {
		return notFound("team " + team)
	}
	if _, ok := w.st.users[user]; !ok {
		return notFound("user " + user)
	}
	if _, found := slices.BinarySearch(t.members, user); found {
		return exists("member " + user + " of team " + team)
	}
	w.addTeamMember(team, user)
	return nil
}

// DeleteTeamMember implements store.Writer.
func (w *writer) DeleteTeamMember(ctx context.Context, team, user string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	t, ok := w.st.teams[team]
	if !ok {
		return notFound("team " + team)
	}
	if _, found := slices.BinarySearch(t.members, user); !found {
		return notFound("member " + user + " of team " + team)
	}
	w.removeTeamMember(team, user)
	return nil
}

// InsertInvitation implements store.Writer. ErrNotFound when its tenant does not
// exist.
func (w *writer) InsertInvitation(ctx context.Context, inv store.Invitation) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.invites[inv.ID]; ok {
		return exists("invitation " + inv.ID)
	}
	if _, err := w.tenant(inv.Tenant); err != nil {
		return err
	}
	if _, ok := w.st.inviteEmails[tenantKey{inv.Tenant, store.FoldKey(inv.Email)}]; ok {
		return exists("invitation of " + inv.Email + " in " + inv.Tenant.String())
	}
	c := copyInvite(&inv)
	w.addInvite(&c)
	return nil
}

// UpdateInvitation implements store.Writer.
func (w *writer) UpdateInvitation(ctx context.Context, inv store.Invitation) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	old, ok := w.st.invites[inv.ID]
	if !ok {
		return notFound("invitation " + inv.ID)
	}
	c := copyInvite(old)
	c.Hash, c.Expires = slices.Clone(inv.Hash), inv.Expires
	w.setInvite(&c)
	return nil
}

// DeleteInvitation implements store.Writer.
func (w *writer) DeleteInvitation(ctx context.Context, id string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.invites[id]; !ok {
		return notFound("invitation " + id)
	}
	w.deleteInvite(id)
	return nil
}

// InsertInviteLink implements store.Writer. ErrNotFound when its tenant does not
// exist.
func (w *writer) InsertInviteLink(ctx context.Context, l store.InviteLink) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.links[l.ID]; ok {
		return exists("invite link " + l.ID)
	}
	if _, err := w.tenant(l.Tenant); err != nil {
		return err
	}
	c := copyLink(&l)
	w.addLink(&c)
	return nil
}

// UpdateInviteLink implements store.Writer.
func (w *writer) UpdateInviteLink(ctx context.Context, l store.InviteLink) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	old, ok := w.st.links[l.ID]
	if !ok {
		return notFound("invite link " + l.ID)
	}
	c := copyLink(old)
	c.Hash, c.Disabled, c.Joined = slices.Clone(l.Hash), l.Disabled, l.Joined
	w.setLink(&c)
	return nil
}

// DeleteInviteLink implements store.Writer.
func (w *writer) DeleteInviteLink(ctx context.Context, id string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.links[id]; !ok {
		return notFound("invite link " + id)
	}
	w.removeLink(id)
	return nil
}

// InsertToken implements store.Writer. ErrNotFound when its tenant does not exist.
func (w *writer) InsertToken(ctx context.Context, t store.Token) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.tokens[t.ID]; ok {
		return exists("token " + t.ID)
	}
	if _, err := w.tenant(t.Tenant); err != nil {
		return err
	}
	c := copyToken(&t)
	w.addToken(&c)
	return nil
}

// UpdateToken implements store.Writer.
func (w *writer) UpdateToken(ctx context.Context, t store.Token) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	old, ok := w.st.tokens[t.ID]
	if !ok {
		return notFound("token " + t.ID)
	}
	c := copyToken(old)
	c.Name, c.Hash, c.Last4, c.CreatedBy, c.Expires, c.ResetTo, c.LastUsed = t.Name, slices.Clone(t.Hash), t.Last4, t.CreatedBy, t.Expires, t.ResetTo, t.LastUsed
	c.IPAllowlist = clonePrefixes(t.IPAllowlist)
	w.setToken(&c)
	return nil
}

// DeleteToken implements store.Writer.
func (w *writer) DeleteToken(ctx context.Context, id string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.tokens[id]; !ok {
		return notFound("token " + id)
	}
	w.deleteToken(id)
	return nil
}

// AppendEvent implements store.Writer.
func (w *writer) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	if err := w.check(ctx); err != nil {
		return store.Event{}, err
	}
	e = w.st.appendEvent(e)
	w.undo = append(w.undo, undoEntry{event: true, ref: e.Tenant})
	return e, nil
}
