package storetest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"iter"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// modelClauses are the clauses of the Model group.
var modelClauses = []clause{
	{name: "RandomReadsAndWrites", fn: modelRandomReadsAndWrites, ownStores: true},
	{name: "CheckerAgreesInRandomWorlds", fn: modelCheckerAgrees, ownStores: true},
}

// modelRandomReadsAndWrites runs the record machine with rapid, each run on a fresh
// store, reporting to e.tb.
func modelRandomReadsAndWrites(e *env) {
	// rapid.Check calls testing.Short, which panics unless the testing flags are
	// registered and parsed, as they are in a test binary.
	if flag.Lookup("test.short") == nil || !flag.Parsed() {
		e.skipf("pgregory.net/rapid needs the testing package's flags: outside go test, call testing.Init and flag.Parse before Check")
	}
	rapid.Check(e.tb, func(rt *rapid.T) {
		s, err := e.newStore()
		switch {
		case err != nil:
			rt.Fatalf("storetest: newStore failed: %v", err)
		case s == nil:
			rt.Fatalf("storetest: newStore returned nil")
		}
		w := &recMachine{ctx: e.ctx, s: s, m: newRecModel()}
		rt.Repeat(w.actions())
	})
}

// The key pools of the Model group: small, so that draws collide often.
var (
	recUsers = []string{"u1", "u2", "u3", "u4"}
	// recEmails are the users' addresses: in domains that policies enforce single
	// sign-on for (recDomainNames), or not, or with no domain at all.
	recEmails  = []string{"ann@x.test", "bob@x.test", "cy@x.test", "dee@x.test", "eve@x.test", "fay@y.test", "gus@w.test", "hal"}
	recLinks   = []store.OAuthLink{{Provider: "gh", Subject: "1"}, {Provider: "gh", Subject: "2"}, {Provider: "gl", Subject: "1"}}
	recOrgs    = []rbac.Ref{rbac.Org("o1"), rbac.Org("o2")}
	recAccts   = []rbac.Ref{rbac.Account("a1"), rbac.Account("a2"), rbac.Account("a3")}
	recProjs   = []rbac.Ref{rbac.Project("p1"), rbac.Project("p2"), rbac.Project("p3")}
	recInboxes = []rbac.Ref{rbac.Inbox("i1"), rbac.Inbox("i2")}
	recDomains = []rbac.Ref{rbac.Domain("d1"), rbac.Domain("d2")}
	recTeams   = []string{"t1", "t2", "t3"}
	recTeamNms = []string{"Ops", "ops", "Dev", "QA"}
	recInvites = []string{"v1", "v2", "v3"}
	recTokens  = []string{"k1", "k2"}
	recLinkIDs = []string{"l1", "l2", "l3"}
	// recTimes are the times of LastActive, Expires and LastUsed: zero (none), and a
	// few instants, one of them written in another zone.
	recTimes = []time.Time{{}, t0.Add(time.Hour), t0.Add(2 * time.Hour), t0.Add(2 * time.Hour).In(time.FixedZone("UTC-5", -5*60*60)), t0.Add(3 * time.Hour)}
	// recWindows are the [from, to) windows the Model group asks TokensExpiring for.
	recWindows = [][2]time.Time{{{}, t0.AddDate(10, 0, 0)}, {t0.Add(time.Hour), t0.Add(3 * time.Hour)}, {t0.Add(2 * time.Hour), t0.Add(2 * time.Hour)}, {t0.Add(2 * time.Hour), t0.AddDate(1, 0, 0)}}
	// recPrefixes are the prefixes of the allowlists the Model group draws, IPv4 and
	// IPv6, some inside others (a drawn list is normalized).
	recPrefixes = []netip.Prefix{pfx10, pfx10one, pfxDoc4, pfxHost4, pfxDoc6, pfxDoc6one, pfxHost6, pfxULA}
	// recNows are the times the Model group checks at: between, and after, the
	// instants of recTimes (which Require2FA and Expires are drawn from).
	recNows = []time.Time{t0.Add(90 * time.Minute), t0.Add(150 * time.Minute), t0.Add(4 * time.Hour)}
	// recConnIDs are the IDs of SSO connections, and the providers Auths name with
	// them (an OAuth provider among them).
	recConnIDs   = []string{"c1", "c2"}
	recProviders = []string{"c1", "c2", "gh", ""}
	// recDomainNames are the domains tenants verify and policies enforce SSO for.
	recDomainNames = []string{"x.test", "y.test", "z.test"}
	recMappings    = []store.RoleMapping{
		{Group: "ops", Scope: rbac.Account("a1"), Level: rbac.Admin}, {Group: "dev", Scope: rbac.Project("p1"), Level: rbac.Viewer},
		{Group: "all", Scope: rbac.Org("o1"), Level: rbac.Viewer},
	}
	recMapped  = []store.MappedGrant{{Scope: rbac.Account("a1"), Level: rbac.Admin}, {Scope: rbac.Inbox("i1"), Level: rbac.Viewer}, {Scope: rbac.Org("o1"), Level: rbac.Viewer}}
	recTenants = slices.Concat(recOrgs, recAccts)
	recScopes  = slices.Concat(recOrgs, recAccts, recProjs, recInboxes, recDomains)
)

func recHolders() []rbac.Holder {
	var hs []rbac.Holder
	for _, u := range recUsers {
		hs = append(hs, rbac.User(u))
	}
	for _, t := range recTeams {
		hs = append(hs, rbac.Team(t))
	}
	for _, v := range recInvites {
		hs = append(hs, rbac.Invite(v))
	}
	for _, k := range recTokens {
		hs = append(hs, rbac.Token(k))
	}
	return hs
}

// recMachine drives single writes on the store and the model and compares them.
type recMachine struct {
	ctx     context.Context
	s       store.Store
	m       *recModel
	lastSeq uint64
}

func (w *recMachine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"":                 w.compare,
		"InsertUser":       w.insertUser,
		"UpdateUser":       w.updateUser,
		"DeleteUser":       w.deleteUser,
		"InsertAccount":    w.insertAccount,
		"UpdateAccount":    w.updateAccount,
		"DeleteAccount":    w.deleteAccount,
		"InsertResource":   w.insertResource,
		"UpdateResource":   w.updateResource,
		"DeleteResource":   w.deleteResource,
		"InsertMember":     w.insertMember,
		"DeleteMember":     w.deleteMember,
		"TouchMember":      w.touchMember,
		"PutGrant":         w.putGrant,
		"DeleteGrant":      w.deleteGrant,
		"InsertTeam":       w.insertTeam,
		"UpdateTeam":       w.updateTeam,
		"DeleteTeam":       w.deleteTeam,
		"InsertTeamMember": w.insertTeamMember,
		"DeleteTeamMember": w.deleteTeamMember,
		"InsertInvitation": w.insertInvitation,
		"UpdateInvitation": w.updateInvitation,
		"DeleteInvitation": w.deleteInvitation,
		"InsertInviteLink": w.insertInviteLink,
		"UpdateInviteLink": w.updateInviteLink,
		"DeleteInviteLink": w.deleteInviteLink,
		"InsertToken":      w.insertToken,
		"UpdateToken":      w.updateToken,
		"DeleteToken":      w.deleteToken,
		"PutPolicy":        w.putPolicy,
		"SetMapped":        w.setMapped,
		"PutConnection":    w.putConnection,
		"DeleteConnection": w.deleteConnection,
		"PutDomain":        w.putDomain,
		"DeleteDomain":     w.deleteDomain,
		"Check":            w.check,
		"AppendEvent":      w.appendEvent,
		"RolledBack":       w.rolledBack,
	}
}

// pick draws one of existing about half the time (when there is any), else one of
// pool.
func pick[T any](t *rapid.T, label string, existing, pool []T) T {
	if len(existing) > 0 && rapid.Bool().Draw(t, label+" exists") {
		return rapid.SampledFrom(existing).Draw(t, label)
	}
	return rapid.SampledFrom(pool).Draw(t, label)
}

func sortedKeys[K interface {
	comparable
	Compare(K) int
}, V any](m map[K]V) []K {
	return slices.SortedFunc(maps.Keys(m), K.Compare)
}

func sortedIDs[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func (w *recMachine) drawUser(t *rapid.T) string {
	return pick(t, "user", sortedIDs(w.m.users), recUsers)
}

func (w *recMachine) drawTenant(t *rapid.T) rbac.Ref {
	return pick(t, "tenant", sortedKeys(w.m.accts), recTenants)
}

// drawLiveTenant draws an existing tenant, and skips the step when there is none.
func (w *recMachine) drawLiveTenant(t *rapid.T) rbac.Ref {
	live := sortedKeys(w.m.accts)
	if len(live) == 0 {
		t.Skip("no tenant yet")
	}
	return rapid.SampledFrom(live).Draw(t, "tenant")
}

func (w *recMachine) drawScope(t *rapid.T) rbac.Ref {
	live := sortedKeys(w.m.accts)
	live = append(live, sortedKeys(w.m.res)...)
	return pick(t, "scope", live, recScopes)
}

func (w *recMachine) drawHolder(t *rapid.T) rbac.Holder {
	var live []rbac.Holder
	for _, u := range sortedIDs(w.m.users) {
		live = append(live, rbac.User(u))
	}
	for _, id := range sortedIDs(w.m.teams) {
		live = append(live, rbac.Team(id))
	}
	for _, id := range sortedIDs(w.m.tokens) {
		live = append(live, rbac.Token(id))
	}
	for _, id := range sortedIDs(w.m.invites) {
		live = append(live, rbac.Invite(id))
	}
	return pick(t, "holder", live, recHolders())
}

func drawTime(t *rapid.T, label string) time.Time {
	return rapid.SampledFrom(recTimes).Draw(t, label)
}

// drawAllowlist draws a normalized allowlist of recPrefixes, often empty.
func drawAllowlist(t *rapid.T, label string) []netip.Prefix {
	idx := rapid.SliceOfNDistinct(rapid.IntRange(0, len(recPrefixes)-1), 0, 3, rapid.ID).Draw(t, label)
	var l []netip.Prefix
	for _, i := range idx {
		l = append(l, recPrefixes[i])
	}
	return rbac.NormalizeAllowlist(l)
}

func drawHash(t *rapid.T) []byte {
	return rapid.SliceOfN(rapid.Byte(), 1, 4).Draw(t, "hash")
}

func drawEmail(t *rapid.T) string {
	e := rapid.SampledFrom(recEmails).Draw(t, "email")
	switch rapid.IntRange(0, 2).Draw(t, "email case") {
	case 1:
		return strings.ToUpper(e)
	case 2:
		return strings.ToUpper(e[:1]) + e[1:]
	}
	return e
}

func drawLinks(t *rapid.T) []store.OAuthLink {
	idx := rapid.SliceOfNDistinct(rapid.IntRange(0, len(recLinks)-1), 0, 2, rapid.ID).Draw(t, "links")
	var out []store.OAuthLink
	for _, i := range idx {
		out = append(out, recLinks[i])
	}
	return out
}

// outcome lists the errors a write may return: conds pairs a condition with the error
// it causes; no condition true means success.
func outcome(conds ...any) []error {
	var out []error
	for i := 0; i < len(conds); i += 2 {
		if conds[i].(bool) {
			out = append(out, conds[i+1].(error))
		}
	}
	if len(out) == 0 {
		return []error{nil}
	}
	return out
}

// write runs one write in its own Update and checks that it returns one of want; it
// reports whether the write succeeded.
func (w *recMachine) write(t *rapid.T, name string, want []error, fn func(ctx context.Context, wr store.Writer) error) bool {
	err := w.s.Update(w.ctx, fn)
	for _, e := range want {
		if e == nil && err == nil || e != nil && errors.Is(err, e) {
			return err == nil
		}
	}
	t.Fatalf("store.go: %s returned %v; the contract wants one of %v", name, err, want)
	return false
}

// ---- actions ----

func (w *recMachine) insertUser(t *rapid.T) {
	u := store.User{ID: rapid.SampledFrom(recUsers).Draw(t, "id"), Email: drawEmail(t), Name: "n", OAuth: drawLinks(t), Created: t0}
	_, had := w.m.users[u.ID]
	want := outcome(had, store.ErrExists, w.m.emailTaken(u.Email, ""), store.ErrExists, w.m.linkTaken(u.OAuth, ""), store.ErrExists)
	if w.write(t, "Writer.InsertUser", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertUser(ctx, u) }) {
		w.m.users[u.ID] = u
	}
}

func (w *recMachine) updateUser(t *rapid.T) {
	u := store.User{ID: w.drawUser(t), Email: drawEmail(t), Name: rapid.SampledFrom([]string{"a", "b"}).Draw(t, "name"),
		TimeZone: "UTC", TwoFactor: rapid.Bool().Draw(t, "2fa"), OAuth: drawLinks(t), Created: t0.AddDate(0, 0, 1)}
	_, had := w.m.users[u.ID]
	want := outcome(!had, store.ErrNotFound)
	if had {
		want = outcome(w.m.emailTaken(u.Email, u.ID), store.ErrExists, w.m.linkTaken(u.OAuth, u.ID), store.ErrExists)
	}
	if w.write(t, "Writer.UpdateUser", want, func(ctx context.Context, wr store.Writer) error { return wr.UpdateUser(ctx, u) }) {
		u.Created = w.m.users[u.ID].Created
		w.m.users[u.ID] = u
	}
}

func (w *recMachine) deleteUser(t *rapid.T) {
	id := w.drawUser(t)
	_, had := w.m.users[id]
	if w.write(t, "Writer.DeleteUser", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteUser(ctx, id) }) {
		w.m.deleteUser(id)
	}
}

func (w *recMachine) insertAccount(t *rapid.T) {
	var a store.Account
	if rapid.Bool().Draw(t, "organization") {
		a.Ref = rapid.SampledFrom(recOrgs).Draw(t, "ref")
	} else {
		a.Ref = rapid.SampledFrom(recAccts).Draw(t, "ref")
		if rapid.Bool().Draw(t, "sub-account") {
			a.Org = pick(t, "org", w.liveOf(rbac.KindOrganization), recOrgs).ID
		}
	}
	a.Name, a.Owner, a.Plan, a.Created = "n", rapid.SampledFrom(recUsers).Draw(t, "owner"), "free", t0
	_, had := w.m.accts[a.Ref]
	_, org := w.m.accts[rbac.Org(a.Org)]
	want := outcome(had, store.ErrExists, a.Org != "" && !org, store.ErrNotFound)
	if w.write(t, "Writer.InsertAccount", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertAccount(ctx, a) }) {
		w.m.accts[a.Ref] = a
	}
}

func (w *recMachine) updateAccount(t *rapid.T) {
	ref := w.drawTenant(t)
	a := store.Account{Ref: ref, Name: rapid.SampledFrom([]string{"x", "y"}).Draw(t, "name"), Owner: rapid.SampledFrom(recUsers).Draw(t, "owner"),
		Plan: rapid.SampledFrom([]string{"free", "business"}).Draw(t, "plan"), Created: t0.AddDate(0, 0, 1)}
	old, had := w.m.accts[ref]
	if w.write(t, "Writer.UpdateAccount", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.UpdateAccount(ctx, a) }) {
		old.Name, old.Owner, old.Plan = a.Name, a.Owner, a.Plan
		w.m.accts[ref] = old
	}
}

func (w *recMachine) deleteAccount(t *rapid.T) {
	ref := w.drawTenant(t)
	_, had := w.m.accts[ref]
	if w.write(t, "Writer.DeleteAccount", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteAccount(ctx, ref) }) {
		w.m.deleteAccount(ref)
	}
}

func (w *recMachine) insertResource(t *rapid.T) {
	var r store.Resource
	switch rapid.IntRange(0, 2).Draw(t, "kind") {
	case 0:
		r.Ref, r.Parent = rapid.SampledFrom(recProjs).Draw(t, "ref"), pick(t, "parent", w.liveOf(rbac.KindAccount), recAccts)
	case 1:
		r.Ref, r.Parent = rapid.SampledFrom(recInboxes).Draw(t, "ref"), pick(t, "parent", w.liveOf(rbac.KindProject), recProjs)
	default:
		r.Ref, r.Parent = rapid.SampledFrom(recDomains).Draw(t, "ref"), pick(t, "parent", w.liveOf(rbac.KindAccount), recAccts)
	}
	r.Account, r.Name, r.Created = w.m.tenantOf(r.Parent).ID, "n", t0
	want := outcome(!w.m.scopeExists(r.Parent), store.ErrNotFound, w.m.scopeExists(r.Ref), store.ErrExists)
	if w.write(t, "Writer.InsertResource", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertResource(ctx, r) }) {
		w.m.res[r.Ref] = r
	}
}

// liveOf returns the existing scopes of kind k, in order.
func (w *recMachine) liveOf(k rbac.Kind) []rbac.Ref {
	var out []rbac.Ref
	for _, s := range slices.Concat(sortedKeys(w.m.accts), sortedKeys(w.m.res)) {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

func (w *recMachine) drawResource(t *rapid.T) rbac.Ref {
	return pick(t, "resource", sortedKeys(w.m.res), slices.Concat(recProjs, recInboxes, recDomains))
}

func (w *recMachine) updateResource(t *rapid.T) {
	ref := w.drawResource(t)
	name := rapid.SampledFrom([]string{"x", "y"}).Draw(t, "name")
	old, had := w.m.res[ref]
	if w.write(t, "Writer.UpdateResource", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.UpdateResource(ctx, store.Resource{Ref: ref, Name: name})
	}) {
		old.Name = name
		w.m.res[ref] = old
	}
}

func (w *recMachine) deleteResource(t *rapid.T) {
	ref := w.drawResource(t)
	_, had := w.m.res[ref]
	if w.write(t, "Writer.DeleteResource", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteResource(ctx, ref) }) {
		w.m.deleteResource(ref)
	}
}

func (w *recMachine) insertMember(t *rapid.T) {
	m := store.Member{Tenant: w.drawTenant(t), User: w.drawUser(t), Created: t0, LastActive: drawTime(t, "last active"), Mapped: drawSome(t, "mapped", recMapped)}
	_, tenant := w.m.accts[m.Tenant]
	_, user := w.m.users[m.User]
	want := outcome(!tenant, store.ErrNotFound, !user, store.ErrNotFound, w.m.isMember(m.Tenant, m.User), store.ErrExists)
	if w.write(t, "Writer.InsertMember", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertMember(ctx, m) }) {
		if w.m.members[m.Tenant] == nil {
			w.m.members[m.Tenant] = map[string]store.Member{}
		}
		w.m.members[m.Tenant][m.User] = m
	}
}

func (w *recMachine) deleteMember(t *rapid.T) {
	tenant, user := w.drawTenant(t), w.drawUser(t)
	if w.write(t, "Writer.DeleteMember", outcome(!w.m.isMember(tenant, user), store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.DeleteMember(ctx, tenant, user)
	}) {
		w.m.deleteMember(tenant, user)
	}
}

func (w *recMachine) touchMember(t *rapid.T) {
	tenant, user, at := w.drawTenant(t), w.drawUser(t), drawTime(t, "at")
	if w.write(t, "Writer.TouchMember", outcome(!w.m.isMember(tenant, user), store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.TouchMember(ctx, tenant, user, at)
	}) {
		m := w.m.members[tenant][user]
		m.LastActive = at
		w.m.members[tenant][user] = m
	}
}

func (w *recMachine) putGrant(t *rapid.T) {
	g := store.Grant{Grant: rbac.Grant{Holder: w.drawHolder(t), Scope: w.drawScope(t),
		Level: rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "level"), ViewContent: rapid.Bool().Draw(t, "content")}}
	g.Tenant = w.m.tenantOf(g.Scope)
	if w.write(t, "Writer.PutGrant", outcome(!w.m.scopeExists(g.Scope), store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.PutGrant(ctx, g) }) {
		w.m.grants[recGrantKey{g.Holder, g.Scope}] = g
	}
}

func (w *recMachine) deleteGrant(t *rapid.T) {
	var k recGrantKey
	live := slices.SortedFunc(maps.Keys(w.m.grants), func(a, b recGrantKey) int {
		if c := a.h.Compare(b.h); c != 0 {
			return c
		}
		return a.s.Compare(b.s)
	})
	if len(live) > 0 && rapid.Bool().Draw(t, "existing grant") {
		k = rapid.SampledFrom(live).Draw(t, "grant")
	} else {
		k = recGrantKey{w.drawHolder(t), w.drawScope(t)}
	}
	_, had := w.m.grants[k]
	if w.write(t, "Writer.DeleteGrant", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteGrant(ctx, k.h, k.s) }) {
		delete(w.m.grants, k)
	}
}

func (w *recMachine) drawTeam(t *rapid.T) string {
	return pick(t, "team", sortedIDs(w.m.teams), recTeams)
}

func (w *recMachine) insertTeam(t *rapid.T) {
	tm := store.Team{ID: rapid.SampledFrom(recTeams).Draw(t, "id"), Tenant: w.drawLiveTenant(t), Name: rapid.SampledFrom(recTeamNms).Draw(t, "name"), Created: t0}
	_, had := w.m.teams[tm.ID]
	want := outcome(had, store.ErrExists, w.m.teamNameTaken(tm.Tenant, tm.Name, ""), store.ErrExists)
	if w.write(t, "Writer.InsertTeam", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertTeam(ctx, tm) }) {
		w.m.teams[tm.ID] = tm
	}
}

func (w *recMachine) updateTeam(t *rapid.T) {
	id, name := w.drawTeam(t), rapid.SampledFrom(recTeamNms).Draw(t, "name")
	old, had := w.m.teams[id]
	want := outcome(!had, store.ErrNotFound, had && w.m.teamNameTaken(old.Tenant, name, id), store.ErrExists)
	if w.write(t, "Writer.UpdateTeam", want, func(ctx context.Context, wr store.Writer) error {
		return wr.UpdateTeam(ctx, store.Team{ID: id, Tenant: old.Tenant, Name: name})
	}) {
		old.Name = name
		w.m.teams[id] = old
	}
}

func (w *recMachine) deleteTeam(t *rapid.T) {
	id := w.drawTeam(t)
	_, had := w.m.teams[id]
	if w.write(t, "Writer.DeleteTeam", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteTeam(ctx, id) }) {
		w.m.deleteTeam(id)
	}
}

func (w *recMachine) insertTeamMember(t *rapid.T) {
	id, user := w.drawTeam(t), w.drawUser(t)
	_, team := w.m.teams[id]
	_, u := w.m.users[user]
	want := outcome(!team, store.ErrNotFound, !u, store.ErrNotFound, w.m.teamMem[id][user], store.ErrExists)
	if w.write(t, "Writer.InsertTeamMember", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertTeamMember(ctx, id, user) }) {
		if w.m.teamMem[id] == nil {
			w.m.teamMem[id] = map[string]bool{}
		}
		w.m.teamMem[id][user] = true
	}
}

func (w *recMachine) deleteTeamMember(t *rapid.T) {
	id, user := w.drawTeam(t), w.drawUser(t)
	if w.write(t, "Writer.DeleteTeamMember", outcome(!w.m.teamMem[id][user], store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.DeleteTeamMember(ctx, id, user)
	}) {
		delete(w.m.teamMem[id], user)
	}
}

func (w *recMachine) insertInvitation(t *rapid.T) {
	inv := store.Invitation{ID: rapid.SampledFrom(recInvites).Draw(t, "id"), Tenant: w.drawLiveTenant(t), Email: drawEmail(t),
		InvitedBy: rbac.User(rapid.SampledFrom(recUsers).Draw(t, "by")),
		Teams:     rapid.SliceOfNDistinct(rapid.SampledFrom(recTeams), 0, 2, rapid.ID).Draw(t, "teams"), Created: t0,
		Hash: rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "hash"), Expires: drawTime(t, "expires")}
	if len(inv.Hash) == 0 {
		inv.Hash = nil // a store need not tell an empty hash from none
	}
	_, had := w.m.invites[inv.ID]
	want := outcome(had, store.ErrExists, w.m.inviteTaken(inv.Tenant, inv.Email), store.ErrExists)
	if w.write(t, "Writer.InsertInvitation", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertInvitation(ctx, inv) }) {
		w.m.invites[inv.ID] = inv
	}
}

func (w *recMachine) updateInvitation(t *rapid.T) {
	id := pick(t, "invitation", sortedIDs(w.m.invites), recInvites)
	u := store.Invitation{ID: id, Tenant: w.drawTenant(t), Email: drawEmail(t), Hash: drawHash(t), Created: t0.AddDate(0, 0, 1),
		Expires: drawTime(t, "expires")}
	old, had := w.m.invites[id]
	if w.write(t, "Writer.UpdateInvitation", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.UpdateInvitation(ctx, u) }) {
		old.Hash, old.Expires = u.Hash, u.Expires
		w.m.invites[id] = old
	}
}

func (w *recMachine) insertInviteLink(t *rapid.T) {
	idx := rapid.SliceOfNDistinct(rapid.IntRange(0, len(recScopes)-1), 0, 3, rapid.ID).Draw(t, "scopes")
	var scopes []rbac.Ref
	for _, i := range idx {
		scopes = append(scopes, recScopes[i])
	}
	l := store.InviteLink{ID: rapid.SampledFrom(recLinkIDs).Draw(t, "id"), Tenant: w.drawTenant(t),
		Level: rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "level"), Scopes: scopes,
		CreatedBy: w.drawUser(t), Hash: drawHash(t), Created: t0,
		Disabled: rapid.Bool().Draw(t, "disabled"), Joined: rapid.IntRange(0, 3).Draw(t, "joined")}
	_, had := w.m.links[l.ID]
	_, tenant := w.m.accts[l.Tenant]
	want := outcome(had, store.ErrExists, !tenant, store.ErrNotFound)
	if w.write(t, "Writer.InsertInviteLink", want, func(ctx context.Context, wr store.Writer) error { return wr.InsertInviteLink(ctx, l) }) {
		w.m.links[l.ID] = l
	}
}

func (w *recMachine) updateInviteLink(t *rapid.T) {
	id := pick(t, "invite link", sortedIDs(w.m.links), recLinkIDs)
	u := store.InviteLink{ID: id, Tenant: w.drawTenant(t), Level: rbac.Admin, Scopes: []rbac.Ref{recScopes[0]},
		CreatedBy: rapid.SampledFrom(recUsers).Draw(t, "created by"), Hash: drawHash(t), Created: t0.AddDate(0, 0, 1),
		Disabled: rapid.Bool().Draw(t, "disabled"), Joined: rapid.IntRange(0, 3).Draw(t, "joined")}
	old, had := w.m.links[id]
	if w.write(t, "Writer.UpdateInviteLink", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.UpdateInviteLink(ctx, u) }) {
		old.Hash, old.Disabled, old.Joined = u.Hash, u.Disabled, u.Joined
		w.m.links[id] = old
	}
}

func (w *recMachine) deleteInviteLink(t *rapid.T) {
	id := pick(t, "invite link", sortedIDs(w.m.links), recLinkIDs)
	_, had := w.m.links[id]
	if w.write(t, "Writer.DeleteInviteLink", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteInviteLink(ctx, id) }) {
		delete(w.m.links, id)
	}
}

func (w *recMachine) deleteInvitation(t *rapid.T) {
	id := pick(t, "invitation", sortedIDs(w.m.invites), recInvites)
	_, had := w.m.invites[id]
	if w.write(t, "Writer.DeleteInvitation", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteInvitation(ctx, id) }) {
		w.m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.Invite(id) })
		delete(w.m.invites, id)
	}
}

func (w *recMachine) insertToken(t *rapid.T) {
	tok := store.Token{ID: rapid.SampledFrom(recTokens).Draw(t, "id"), Tenant: w.drawLiveTenant(t), Name: "n",
		Hash: rapid.SliceOfN(rapid.Byte(), 1, 4).Draw(t, "hash"), Last4: "1234", CreatedBy: "u1", Created: t0,
		Expires: drawTime(t, "expires"), LastUsed: drawTime(t, "last used"), IPAllowlist: drawAllowlist(t, "allowlist")}
	_, had := w.m.tokens[tok.ID]
	if w.write(t, "Writer.InsertToken", outcome(had, store.ErrExists), func(ctx context.Context, wr store.Writer) error { return wr.InsertToken(ctx, tok) }) {
		w.m.tokens[tok.ID] = tok
	}
}

func (w *recMachine) updateToken(t *rapid.T) {
	id := pick(t, "token", sortedIDs(w.m.tokens), recTokens)
	u := store.Token{ID: id, Name: "m", Hash: rapid.SliceOfN(rapid.Byte(), 1, 4).Draw(t, "hash"), Last4: "5678",
		Expires: drawTime(t, "expires"), ResetTo: rapid.SampledFrom([]string{"", "k9"}).Draw(t, "reset to"),
		CreatedBy: rapid.SampledFrom([]string{"u1", "u2"}).Draw(t, "created by"), LastUsed: drawTime(t, "last used"),
		IPAllowlist: drawAllowlist(t, "allowlist")}
	old, had := w.m.tokens[id]
	if w.write(t, "Writer.UpdateToken", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.UpdateToken(ctx, u) }) {
		old.Name, old.Hash, old.Last4, old.CreatedBy, old.Expires, old.ResetTo, old.LastUsed = u.Name, u.Hash, u.Last4, u.CreatedBy, u.Expires, u.ResetTo, u.LastUsed
		old.IPAllowlist = u.IPAllowlist
		w.m.tokens[id] = old
	}
}

func (w *recMachine) deleteToken(t *rapid.T) {
	id := pick(t, "token", sortedIDs(w.m.tokens), recTokens)
	_, had := w.m.tokens[id]
	if w.write(t, "Writer.DeleteToken", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error { return wr.DeleteToken(ctx, id) }) {
		w.m.dropGrants(func(k recGrantKey) bool { return k.h == rbac.Token(id) })
		delete(w.m.tokens, id)
	}
}

func (w *recMachine) putPolicy(t *rapid.T) {
	p := store.SecurityPolicy{Tenant: w.drawTenant(t), Require2FA: drawTime(t, "require 2fa"), IPAllowlist: drawAllowlist(t, "allowlist"),
		SSO: drawSome(t, "sso", recConnIDs), EnforceSSO: drawSome(t, "enforce sso", recDomainNames), UpdatedBy: w.drawUser(t), Updated: drawTime(t, "updated")}
	if p.Updated.IsZero() {
		p.Updated = t0
	}
	_, tenant := w.m.accts[p.Tenant]
	if w.write(t, "Writer.PutSecurityPolicy", outcome(!tenant, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.PutSecurityPolicy(ctx, p)
	}) {
		w.m.pols[p.Tenant] = p
	}
}

// drawAuth draws how a request authenticated: not said, or by password, OAuth or
// single sign-on (through one of recConnIDs or another provider), with or without a
// second factor, from an address inside or outside recPrefixes, or none.
func drawAuth(t *rapid.T) *rbac.Auth {
	if rapid.IntRange(0, 4).Draw(t, "auth given") == 0 {
		return nil
	}
	ips := []netip.Addr{{}, ipInTen, ipInTenOnly, ipDoc4, ipDoc6, ipMapped, netip.MustParseAddr("2001:db8:1::9"), netip.MustParseAddr("203.0.113.1")}
	a := &rbac.Auth{Method: rbac.AuthPassword, SecondFactor: rapid.Bool().Draw(t, "second factor"), ClientIP: rapid.SampledFrom(ips).Draw(t, "client ip")}
	switch rapid.IntRange(0, 3).Draw(t, "auth method") {
	case 1:
		a.Method, a.Provider = rbac.AuthOAuth, rapid.SampledFrom(recProviders).Draw(t, "provider")
	case 2, 3:
		a.Method, a.Provider = rbac.AuthSSO, rapid.SampledFrom(recProviders).Draw(t, "provider")
	}
	return a
}

// drawSome draws up to two distinct elements of pool, in a random order; nil for none.
func drawSome[T any](t *rapid.T, label string, pool []T) []T {
	idx := rapid.SliceOfNDistinct(rapid.IntRange(0, len(pool)-1), 0, 2, rapid.ID).Draw(t, label)
	var out []T
	for _, i := range idx {
		out = append(out, pool[i])
	}
	return out
}

func (w *recMachine) setMapped(t *rapid.T) {
	tenant, user, mapped := w.drawTenant(t), w.drawUser(t), drawSome(t, "mapped", recMapped)
	if w.write(t, "Writer.SetMapped", outcome(!w.m.isMember(tenant, user), store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.SetMapped(ctx, tenant, user, mapped)
	}) {
		m := w.m.members[tenant][user]
		m.Mapped = mapped
		w.m.members[tenant][user] = m
	}
}

func (w *recMachine) putConnection(t *rapid.T) {
	c := store.SSOConnection{ID: pick(t, "connection", sortedIDs(w.m.conns), recConnIDs), Tenant: w.drawTenant(t),
		Name: rapid.SampledFrom([]string{"Okta", "Azure"}).Draw(t, "name"), Enforce: rapid.Bool().Draw(t, "enforce"),
		NoPersonalAccount: rapid.Bool().Draw(t, "no personal account"), Mapping: drawSome(t, "mapping", recMappings),
		CreatedBy: w.drawUser(t), Created: drawTime(t, "created")}
	old, had := w.m.conns[c.ID]
	_, tenant := w.m.accts[c.Tenant]
	if w.write(t, "Writer.PutSSOConnection", outcome(!had && !tenant, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.PutSSOConnection(ctx, c)
	}) {
		if had {
			c.Tenant = old.Tenant
		}
		w.m.conns[c.ID] = c
	}
}

func (w *recMachine) deleteConnection(t *rapid.T) {
	id := pick(t, "connection", sortedIDs(w.m.conns), recConnIDs)
	_, had := w.m.conns[id]
	if w.write(t, "Writer.DeleteSSOConnection", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.DeleteSSOConnection(ctx, id)
	}) {
		delete(w.m.conns, id)
	}
}

// drawDomainName draws one of recDomainNames, in lower, upper or mixed case.
func drawDomainName(t *rapid.T) string {
	n := rapid.SampledFrom(recDomainNames).Draw(t, "domain")
	switch rapid.IntRange(0, 2).Draw(t, "domain case") {
	case 1:
		return strings.ToUpper(n)
	case 2:
		return strings.ToUpper(n[:1]) + n[1:]
	}
	return n
}

func (w *recMachine) putDomain(t *rapid.T) {
	d := store.Domain{Name: drawDomainName(t), Tenant: w.drawTenant(t), VerifiedBy: w.drawUser(t), Verified: drawTime(t, "verified"),
		Capture: rapid.SampledFrom([]rbac.Level{rbac.None, rbac.Viewer, rbac.Admin}).Draw(t, "capture")}
	key := strings.ToLower(d.Name)
	old, had := w.m.domains[key]
	_, tenant := w.m.accts[d.Tenant]
	want := outcome(had && old.Tenant != d.Tenant, store.ErrExists, !tenant, store.ErrNotFound)
	if w.write(t, "Writer.PutDomain", want, func(ctx context.Context, wr store.Writer) error { return wr.PutDomain(ctx, d) }) {
		d.Name = key
		w.m.domains[key] = d
	}
}

func (w *recMachine) deleteDomain(t *rapid.T) {
	name := drawDomainName(t)
	_, had := w.m.domains[strings.ToLower(name)]
	if w.write(t, "Writer.DeleteDomain", outcome(!had, store.ErrNotFound), func(ctx context.Context, wr store.Writer) error {
		return wr.DeleteDomain(ctx, name)
	}) {
		delete(w.m.domains, strings.ToLower(name))
	}
}

// check compares the store's Checker.Check with store.Check over its Reader, in the
// random state the machine reached, policies and tokens' allowlists included: for a
// random holder (a user or token), action, time and Auth, on every scope that exists
// and a missing one.
func (w *recMachine) check(t *rapid.T) {
	ck, ok := store.CheckerOf(w.s)
	if !ok {
		t.Skip("the store does not implement store.Checker")
	}
	var live []rbac.Holder
	for _, u := range sortedIDs(w.m.users) {
		live = append(live, rbac.User(u))
	}
	for _, id := range sortedIDs(w.m.tokens) {
		live = append(live, rbac.Token(id))
	}
	pool := []rbac.Holder{rbac.User(recUsers[0]), rbac.Token(recTokens[0])}
	holders := []rbac.Holder{pick(t, "holder", live, pool)}
	a := rapid.SampledFrom([]rbac.Action{rbac.AccountView, rbac.InboxRead, rbac.OrgView, rbac.AccountTransfer, rbac.AccessManage}).Draw(t, "action")
	now := rapid.SampledFrom(recNows).Draw(t, "now")
	auth := drawAuth(t)
	ctx := withAuth(w.ctx, auth)
	scopes := slices.Concat(sortedKeys(w.m.accts), sortedKeys(w.m.res), []rbac.Ref{rbac.Inbox("missing")})
	for _, h := range holders {
		for _, s := range scopes {
			var want rbac.Decision
			var werr error
			if err := w.s.View(ctx, func(ctx context.Context, r store.Reader) error {
				want, werr = store.Check(ctx, r, h, a, s, now)
				return nil
			}); err != nil {
				t.Fatalf("View failed: %v", err)
			}
			got, err := ck.Check(ctx, h, a, s, now)
			switch {
			case werr != nil && errors.Is(werr, store.ErrNotFound):
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("store.go: Checker.Check(%v, %v, %v) on a missing scope must return ErrNotFound as store.Check does: got %+v, %v", h, a, s, got, err)
				}
			case werr != nil:
				t.Fatalf("store.Check(%v, %v, %v): %v", h, a, s, werr)
			case err != nil || !sameDecision(got, want):
				t.Fatalf("store.go: Checker.Check must decide as store.Check, the security policies and the Auth of the context included: Check(%v, %v, %v) at %v with Auth %+v = %+v, %v; want %+v",
					h, a, s, now, auth, got, err, want)
			}
		}
	}
}

func (w *recMachine) appendEvent(t *rapid.T) {
	tenant := rbac.Ref{}
	if rapid.Bool().Draw(t, "in a tenant") {
		tenant = w.drawTenant(t)
	}
	e := store.Event{Time: t0, Tenant: tenant, Actor: rbac.User("u1"), Action: "a", Target: "t"}
	var got store.Event
	w.write(t, "Writer.AppendEvent", []error{nil}, func(ctx context.Context, wr store.Writer) error {
		var err error
		got, err = wr.AppendEvent(ctx, e)
		return err
	})
	if got.Seq <= w.lastSeq {
		t.Fatalf("store.go: Event.Seq must increase in commit order across the store: %d after %d", got.Seq, w.lastSeq)
	}
	w.lastSeq = got.Seq
	e.Seq = got.Seq
	w.m.events[tenant] = append(w.m.events[tenant], e)
}

// rolledBack makes a few writes, cascades included, in an Update that then fails: the
// store must be left as the model is.
func (w *recMachine) rolledBack(t *rapid.T) {
	tenant, user, res := w.drawTenant(t), w.drawUser(t), w.drawResource(t)
	holder, scope := w.drawHolder(t), w.drawScope(t)
	inv := pick(t, "invitation", sortedIDs(w.m.invites), recInvites)
	link := pick(t, "invite link", sortedIDs(w.m.links), recLinkIDs)
	tok := pick(t, "token", sortedIDs(w.m.tokens), recTokens)
	at := drawTime(t, "at")
	err := w.s.Update(w.ctx, func(ctx context.Context, wr store.Writer) error {
		// Each write may fail; the closure fails anyway.
		_ = wr.TouchMember(ctx, tenant, user, at)
		_ = wr.UpdateInvitation(ctx, store.Invitation{ID: inv, Hash: []byte("rolled back"), Expires: at})
		_ = wr.UpdateInviteLink(ctx, store.InviteLink{ID: link, Hash: []byte("rolled back"), Disabled: true, Joined: 99})
		_ = wr.InsertInviteLink(ctx, store.InviteLink{ID: "l-rolled-back", Tenant: tenant, CreatedBy: user, Hash: []byte("x"), Created: t0})
		_ = wr.UpdateToken(ctx, store.Token{ID: tok, Name: "rolled back", Expires: at, LastUsed: at, IPAllowlist: []netip.Prefix{pfxHost6}})
		_ = wr.PutSecurityPolicy(ctx, store.SecurityPolicy{Tenant: tenant, Require2FA: at, IPAllowlist: []netip.Prefix{pfxHost4},
			SSO: []string{"rolled-back"}, EnforceSSO: []string{"rolled-back.test"}, UpdatedBy: user, Updated: t0})
		_ = wr.SetMapped(ctx, tenant, user, []store.MappedGrant{{Scope: scope, Level: rbac.Owner}})
		_ = wr.PutSSOConnection(ctx, store.SSOConnection{ID: recConnIDs[0], Tenant: tenant, Name: "rolled back", CreatedBy: user, Created: t0})
		_ = wr.PutSSOConnection(ctx, store.SSOConnection{ID: "c-rolled-back", Tenant: tenant, Name: "rolled back", CreatedBy: user, Created: t0})
		_ = wr.PutDomain(ctx, store.Domain{Name: recDomainNames[0], Tenant: tenant, VerifiedBy: user, Verified: t0, Capture: rbac.Owner})
		_ = wr.PutDomain(ctx, store.Domain{Name: "rolled-back.test", Tenant: tenant, VerifiedBy: user, Verified: t0})
		_ = wr.DeleteDomain(ctx, recDomainNames[1])
		_ = wr.DeleteSSOConnection(ctx, recConnIDs[1])
		_ = wr.DeleteInviteLink(ctx, link)
		_ = wr.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: holder, Scope: scope, Level: rbac.Admin}, Tenant: w.m.tenantOf(scope)})
		_, _ = wr.AppendEvent(ctx, store.Event{Time: t0, Tenant: tenant, Action: "rolled back"})
		_ = wr.DeleteResource(ctx, res)
		_ = wr.DeleteUser(ctx, user)
		_ = wr.DeleteAccount(ctx, tenant)
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("store.go: Store.Update must return the closure's error: got %v", err)
	}
}

// ---- comparison ----

// compare checks every record and listing of the store against the model.
func (w *recMachine) compare(t *rapid.T) {
	err := w.s.View(w.ctx, func(ctx context.Context, r store.Reader) error {
		c := &recCompare{t: t, ctx: ctx, r: r, m: w.m}
		c.users()
		c.scopes()
		c.members()
		c.grants()
		c.teams()
		c.invitesAndTokens()
		c.inviteLinks()
		c.policies()
		c.sso()
		c.events()
		return nil
	})
	if err != nil {
		t.Fatalf("View failed: %v", err)
	}
}

type recCompare struct {
	t   *rapid.T
	ctx context.Context
	r   store.Reader
	m   *recModel
}

// get checks a getter's result against the model: want when found, ErrNotFound when
// not.
func recGet[T any](c *recCompare, what string, found bool, want T, eq func(T, T) bool, get func() (T, error)) {
	got, err := get()
	switch {
	case found && (err != nil || !eq(got, want)):
		c.t.Fatalf("store.go: %s: got %+v, %v; want %+v", what, got, err, want)
	case !found && !errors.Is(err, store.ErrNotFound):
		c.t.Fatalf("store.go: %s must report ErrNotFound for a record that is not there: got %+v, %v", what, got, err)
	}
}

// recList checks a listing against the model's.
func recList[T any](c *recCompare, what string, want []T, eq func(T, T) bool, seq iter.Seq2[T, error]) {
	got, err := collect(seq)
	if err != nil || !slices.EqualFunc(got, want, eq) {
		c.t.Fatalf("store.go: %s:\n got %+v (%v)\nwant %+v", what, got, err, want)
	}
}

func eqValue[T comparable](a, b T) bool { return a == b }

func (c *recCompare) users() {
	for _, id := range recUsers {
		u, ok := c.m.users[id]
		recGet(c, "Reader.User("+id+")", ok, u, eqUser, func() (store.User, error) { return c.r.User(c.ctx, id) })
	}
	for _, e := range recEmails {
		var want store.User
		found := false
		for _, u := range c.m.users {
			if strings.EqualFold(u.Email, e) {
				want, found = u, true
			}
		}
		recGet(c, "Reader.UserByEmail("+strings.ToUpper(e)+") (ignoring case)", found, want, eqUser, func() (store.User, error) {
			return c.r.UserByEmail(c.ctx, strings.ToUpper(e))
		})
	}
	for _, l := range recLinks {
		var want store.User
		found := false
		for _, u := range c.m.users {
			if slices.Contains(u.OAuth, l) {
				want, found = u, true
			}
		}
		recGet(c, fmt.Sprintf("Reader.UserByOAuth(%s, %s)", l.Provider, l.Subject), found, want, eqUser, func() (store.User, error) {
			return c.r.UserByOAuth(c.ctx, l.Provider, l.Subject)
		})
	}
}

func (c *recCompare) scopes() {
	for _, ref := range recTenants {
		a, ok := c.m.accts[ref]
		recGet(c, "Reader.Account("+ref.String()+")", ok, a, eqAccount, func() (store.Account, error) { return c.r.Account(c.ctx, ref) })
	}
	for _, org := range recOrgs {
		recList(c, "Reader.SubAccounts("+org.ID+")", c.m.subAccounts(org.ID), eqAccount, c.r.SubAccounts(c.ctx, org.ID))
	}
	for _, ref := range recScopes {
		if ref.Kind.Ownable() {
			if _, err := c.r.Resource(c.ctx, ref); !errors.Is(err, store.ErrNotFound) {
				c.t.Fatalf("store.go: Reader.Resource must not return accounts: Resource(%v) got %v", ref, err)
			}
		} else {
			r, ok := c.m.res[ref]
			recGet(c, "Reader.Resource("+ref.String()+")", ok, r, eqResource, func() (store.Resource, error) { return c.r.Resource(c.ctx, ref) })
		}
		recList(c, "Reader.Children("+ref.String()+")", c.m.children(ref), eqResource, c.r.Children(c.ctx, ref))
		recGet(c, "Reader.Path("+ref.String()+")", c.m.scopeExists(ref), c.m.path(ref), slices.Equal, func() (rbac.Path, error) {
			return c.r.Path(c.ctx, ref, nil)
		})
	}
}

func (c *recCompare) members() {
	for _, tenant := range recTenants {
		want := c.m.memberList(tenant)
		var got []store.Member
		after := ""
		for range len(want) + 1 {
			page, err := c.r.Members(c.ctx, tenant, after, 2)
			if err != nil {
				c.t.Fatalf("Reader.Members: %v", err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].User
		}
		if !slices.EqualFunc(got, want, eqMember) {
			c.t.Fatalf("store.go: Reader.Members(%v) pages of 2:\n got %+v\nwant %+v", tenant, got, want)
		}
		if n, err := c.r.CountMembers(c.ctx, tenant); err != nil || n != len(want) {
			c.t.Fatalf("store.go: Reader.CountMembers(%v) = %d, %v; want %d", tenant, n, err, len(want))
		}
		for _, u := range recUsers {
			m, ok := c.m.members[tenant][u]
			recGet(c, "Reader.Member("+tenant.String()+", "+u+")", ok, m, eqMember, func() (store.Member, error) { return c.r.Member(c.ctx, tenant, u) })
		}
	}
	for _, u := range recUsers {
		recList(c, "Reader.Memberships("+u+")", c.m.memberships(u), eqMember, c.r.Memberships(c.ctx, u))
	}
}

func (c *recCompare) grants() {
	holders := recHolders()
	for _, h := range holders {
		for _, s := range recScopes {
			g, ok := c.m.grants[recGrantKey{h, s}]
			recGet(c, fmt.Sprintf("Reader.Grant(%v, %v)", h, s), ok, g, eqValue, func() (store.Grant, error) { return c.r.Grant(c.ctx, h, s) })
		}
		for _, tenant := range recTenants {
			recList(c, fmt.Sprintf("Reader.HolderGrants(%v, %v)", h, tenant), c.m.holderGrants(h, tenant), eqValue, c.r.HolderGrants(c.ctx, h, tenant))
		}
	}
	for _, s := range recScopes {
		for _, sub := range []bool{false, true} {
			recList(c, fmt.Sprintf("Reader.ScopeGrants(%v, subtree %v)", s, sub), c.m.scopeGrants(s, sub), eqValue, c.r.ScopeGrants(c.ctx, s, sub))
		}
	}
	for _, h := range slices.Concat(holders[:len(recUsers)], []rbac.Holder{rbac.Token(recTokens[0]), rbac.Team(recTeams[0])}) {
		for _, s := range recScopes {
			p, gs, err := c.r.Reach(c.ctx, h, s, nil, nil)
			if !c.m.scopeExists(s) {
				if !errors.Is(err, store.ErrNotFound) {
					c.t.Fatalf("store.go: Reader.Reach(%v, %v) on a missing scope must report ErrNotFound: got %v", h, s, err)
				}
				continue
			}
			sortGrants(gs)
			if want := c.m.reach(h, s); err != nil || !slices.Equal(p, c.m.path(s)) || !slices.Equal(gs, want) {
				c.t.Fatalf("store.go: Reader.Reach(%v, %v):\n got %v %v (%v)\nwant %v %v", h, s, p, gs, err, c.m.path(s), want)
			}
		}
	}
}

func (c *recCompare) teams() {
	for _, id := range recTeams {
		tm, ok := c.m.teams[id]
		recGet(c, "Reader.Team("+id+")", ok, tm, eqTeam, func() (store.Team, error) { return c.r.Team(c.ctx, id) })
		want := slices.Sorted(maps.Keys(c.m.teamMem[id]))
		recList(c, "Reader.TeamMembers("+id+")", want, eqValue, c.r.TeamMembers(c.ctx, id))
	}
	for _, tenant := range recTenants {
		recList(c, "Reader.Teams("+tenant.String()+")", c.m.teamList(func(t store.Team) bool { return t.Tenant == tenant }), eqTeam, c.r.Teams(c.ctx, tenant))
		for _, u := range recUsers {
			want := c.m.teamList(func(t store.Team) bool { return t.Tenant == tenant && c.m.teamMem[t.ID][u] })
			recList(c, "Reader.UserTeams("+u+", "+tenant.String()+")", want, eqTeam, c.r.UserTeams(c.ctx, u, tenant))
		}
	}
}

func (c *recCompare) invitesAndTokens() {
	for _, id := range recInvites {
		inv, ok := c.m.invites[id]
		recGet(c, "Reader.Invitation("+id+")", ok, inv, eqInvitation, func() (store.Invitation, error) { return c.r.Invitation(c.ctx, id) })
	}
	for _, id := range recTokens {
		tok, ok := c.m.tokens[id]
		recGet(c, "Reader.Token("+id+")", ok, tok, eqToken, func() (store.Token, error) { return c.r.Token(c.ctx, id) })
	}
	for _, tenant := range recTenants {
		recList(c, "Reader.Invitations("+tenant.String()+")", c.m.inviteList(func(i store.Invitation) bool { return i.Tenant == tenant }), eqInvitation, c.r.Invitations(c.ctx, tenant))
		recList(c, "Reader.Tokens("+tenant.String()+")", c.m.tokenList(tenant), eqToken, c.r.Tokens(c.ctx, tenant))
	}
	for _, e := range recEmails {
		want := c.m.inviteList(func(i store.Invitation) bool { return strings.EqualFold(i.Email, e) })
		recList(c, "Reader.InvitationsByEmail("+e+")", want, eqInvitation, c.r.InvitationsByEmail(c.ctx, strings.ToUpper(e)))
	}
}

func (c *recCompare) inviteLinks() {
	for _, id := range append(slices.Clone(recLinkIDs), "l-rolled-back") {
		l, ok := c.m.links[id]
		recGet(c, "Reader.InviteLink("+id+")", ok, l, eqInviteLink, func() (store.InviteLink, error) { return c.r.InviteLink(c.ctx, id) })
	}
	for _, tenant := range recTenants {
		recList(c, "Reader.InviteLinks("+tenant.String()+")", c.m.linkList(tenant), eqInviteLink, c.r.InviteLinks(c.ctx, tenant))
	}
	for _, win := range recWindows {
		recList(c, fmt.Sprintf("Reader.TokensExpiring(%v, %v) (by Expires then ID, none that never expires)", win[0], win[1]),
			c.m.tokensExpiring(win[0], win[1]), eqToken, c.r.TokensExpiring(c.ctx, win[0], win[1]))
	}
}

func (c *recCompare) policies() {
	for _, tenant := range recTenants {
		p, ok := c.m.pols[tenant]
		recGet(c, "Reader.SecurityPolicy("+tenant.String()+")", ok, p, eqPolicy, func() (store.SecurityPolicy, error) {
			return c.r.SecurityPolicy(c.ctx, tenant)
		})
	}
}

func (c *recCompare) sso() {
	for _, id := range append(slices.Clone(recConnIDs), "c-rolled-back") {
		conn, ok := c.m.conns[id]
		recGet(c, "Reader.SSOConnection("+id+")", ok, conn, eqConnection, func() (store.SSOConnection, error) { return c.r.SSOConnection(c.ctx, id) })
	}
	for _, name := range append(slices.Clone(recDomainNames), "rolled-back.test") {
		d, ok := c.m.domains[name]
		recGet(c, "Reader.Domain("+strings.ToUpper(name)+") (in lower case)", ok, d, eqDomain, func() (store.Domain, error) {
			return c.r.Domain(c.ctx, strings.ToUpper(name))
		})
	}
	for _, tenant := range recTenants {
		recList(c, "Reader.SSOConnections("+tenant.String()+")", c.m.connList(tenant), eqConnection, c.r.SSOConnections(c.ctx, tenant))
		recList(c, "Reader.Domains("+tenant.String()+")", c.m.domainList(tenant), eqDomain, c.r.Domains(c.ctx, tenant))
	}
}

func (c *recCompare) events() {
	for _, tenant := range append([]rbac.Ref{{}}, recTenants...) {
		got, err := c.r.Events(c.ctx, tenant, 0, 1<<20)
		if want := c.m.events[tenant]; err != nil || !slices.EqualFunc(got, want, eqEvent) {
			c.t.Fatalf("store.go: Reader.Events(%v) (events stay when their tenant is deleted; rolled-back ones never show):\n got %+v (%v)\nwant %+v", tenant, got, err, want)
		}
	}
}
