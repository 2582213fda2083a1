package accounttest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// opsPlans are the plans of the state machine: new accounts may invite, with few
// seats, so that seat limits are reached.
var opsPlans = []account.Plan{
	{Name: "starter", Seats: 5, UserManagement: true, Tokens: 2, Teams: 2, Invitations: 3, SecurityPolicies: true},
	{Name: "solo", Seats: 1},
	{Name: "business", UserManagement: true, Organizations: true, SecurityPolicies: true},
}

var opsEmails = []string{"ann@x.test", "bob@x.test", "cy@x.test", "dee@x.test", "eve@x.test", "fay@x.test", "gus@x.test"}

// machine drives the account and profile operations on a store and checks, after
// every step, the store against the model and the invariants listed on StateMachine.
type machine struct {
	ctx    context.Context // base, with the current step's Auth when there is one
	base   context.Context
	st     store.Store
	svc    *account.Service
	m      *model
	ids    int
	now    time.Time
	cursor map[rbac.Ref]uint64
	// secrets are the invitations' secrets, as Invite returned them: what their
	// addressees received.
	secrets map[string]string
	// tokenSecrets are the tokens' secrets, as CreateToken and ResetToken returned them.
	tokenSecrets map[string]string
	// linkSecrets are the invite links' secrets.
	linkSecrets map[string]string
	// acted are the (tenant, actor) pairs of the events written since the last
	// check, whose activity the model records then (D39).
	acted []store.Event
	// past are the snapshots of access that checkHistory took at earlier steps.
	past []snapshot
}

func newMachine(ctx context.Context, st store.Store) *machine {
	w := &machine{ctx: ctx, base: ctx, st: st, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), cursor: map[rbac.Ref]uint64{}, secrets: map[string]string{}}
	w.m = newModel(&w.now)
	w.tokenSecrets, w.linkSecrets = map[string]string{}, map[string]string{}
	w.svc = account.New(st, account.Options{
		Now:   func() time.Time { return w.now },
		NewID: func(kind string) string { w.ids++; return kind + "-" + strconv.Itoa(w.ids) },
		Plans: opsPlans,
	})
	return w
}

func (w *machine) actions() map[string]func(*rapid.T) {
	acts := map[string]func(*rapid.T){
		"":                   w.check,
		"Register":           w.register,
		"Onboard":            w.onboard,
		"CreateAccount":      w.createAccount,
		"CreateOrganization": w.createOrganization,
		"CreateSubAccount":   w.createSubAccount,
		"SetPlan":            w.setPlan,
		"CreateResource":     w.createResource,
		"DeleteResource":     w.rarely(w.deleteResource),
		"Invite":             w.invite,
		"Accept":             w.accept,
		"Revoke":             w.revoke,
		"SetPermissions":     w.setPermissions,
		"RemoveFromResource": w.removeFromResource,
		"RemoveMember":       w.removeMember,
		"Leave":              w.leave,
		"Transfer":           w.transfer,
		"DeleteAccount":      w.rarely(w.deleteAccount),
		"CreateTeam":         w.createTeam,
		"TeamMember":         w.teamMember,
		"DeleteTeam":         w.rarely(w.deleteTeam),
		"CreateToken":        w.createToken,
		"ResetToken":         w.resetToken,
		"DeleteToken":        w.rarely(w.deleteToken),
		"ReassignToken":      w.reassignToken,
		"DeleteProfile":      w.rarely(w.deleteProfile),
		"ChangeEmail":        w.changeEmail,
		"Check":              w.checkDecision,
		"ListMembers":        w.listMembers,
		"Advance":            w.advance,
		"Resend":             w.resend,
		"Decline":            w.decline,
		"InviteMany":         w.inviteMany,
		"CreateLink":         w.createLink,
		"ManageLink":         w.manageLink,
		"JoinLink":           w.joinLink,
		"Sweep":              w.sweep,
		"AuthenticateToken":  w.authenticate,
		"Inactive":           w.inactive,
		"Auth":               w.drawAuth,
		"SetPolicy":          w.setPolicy,
		"TwoFactor":          w.setTwoFactor,
		"TokenAllowlist":     w.tokenAllowlist,
		"SSOConnect":         w.ssoConnect,
		"VerifyDomain":       w.verifyDomain,
		"SSOSignIn":          w.ssoSignIn,
		"JoinDomain":         w.joinDomain,
	}
	// Weights: the operations that build state run more often.
	for _, name := range []string{"Onboard", "SetPermissions", "CreateResource", "Invite", "TeamMember", "Check", "ListMembers", "Advance"} {
		acts[name+" again"] = acts[name]
	}
	return acts
}

// rarely runs a destructive operation one time in three, and a check otherwise, so
// that states grow rich enough for the other operations to succeed.
func (w *machine) rarely(op func(*rapid.T)) func(*rapid.T) {
	return func(t *rapid.T) {
		if rapid.IntRange(0, 2).Draw(t, "destroy?") == 0 {
			op(t)
			return
		}
		w.checkDecision(t)
	}
}

// onboard brings a user into a tenant the usual way, one operation at a time (each
// checked on its own): register the address if nobody has it, invite it with a
// grant, accept.
func (w *machine) onboard(t *rapid.T) {
	if len(w.m.tenants) == 0 {
		w.register(t)
		return
	}
	tenant := rapid.SampledFrom(w.m.sortedTenants()).Draw(t, "tenant")
	email := rapid.SampledFrom(opsEmails).Draw(t, "email")
	if _, ok := w.m.userByEmail(email); !ok {
		w.registerEmail(t, email)
	}
	u, _ := w.m.userByEmail(email)
	owner := rbac.User(w.m.tenants[tenant].owner)
	scope := rapid.SampledFrom(w.m.scopesOf(tenant)).Draw(t, "scope")
	level := rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "level")
	id, ok := w.inviteWith(t, owner, tenant, email, []account.PermissionChange{{Scope: scope, Level: level}}, nil)
	if ok {
		w.acceptAs(t, rbac.User(u), id)
	}
}

// ---- draws: existing keys about half the time ----

func (w *machine) drawUser(t *rapid.T, label string) string {
	if len(w.m.everUsers) == 0 || rapid.IntRange(0, 9).Draw(t, label+"?") == 0 {
		return "user-nobody"
	}
	return rapid.SampledFrom(w.m.everUsers).Draw(t, label)
}

func (w *machine) drawActor(t *rapid.T) rbac.Holder {
	if len(w.m.everTokens) > 0 && rapid.IntRange(0, 4).Draw(t, "tokenActor?") == 0 {
		return rbac.Token(rapid.SampledFrom(w.m.everTokens).Draw(t, "token"))
	}
	return rbac.User(w.drawUser(t, "actor"))
}

// drawActorIn draws an actor for an operation on tenant: its owner, one of its members
// or one of its tokens most of the time, anyone (strangers and deleted users
// included) otherwise.
func (w *machine) drawActorIn(t *rapid.T, tenant rbac.Ref) rbac.Holder {
	tn := w.m.tenants[tenant]
	if tn == nil {
		return w.drawActor(t)
	}
	switch rapid.IntRange(0, 9).Draw(t, "actorKind") {
	case 0, 1, 2, 3:
		return rbac.User(tn.owner)
	case 4, 5, 6:
		if ms := slices.Sorted(maps.Keys(w.m.members[tenant])); len(ms) > 0 {
			return rbac.User(rapid.SampledFrom(ms).Draw(t, "memberActor"))
		}
	case 7:
		var toks []string
		for id, tok := range w.m.tokens {
			if tok.tenant == tenant {
				toks = append(toks, id)
			}
		}
		if len(toks) > 0 {
			slices.Sort(toks)
			return rbac.Token(rapid.SampledFrom(toks).Draw(t, "tokenActor"))
		}
	}
	return w.drawActor(t)
}

// drawMember draws a member of tenant most of the time, anyone otherwise.
func (w *machine) drawMember(t *rapid.T, tenant rbac.Ref, label string) string {
	if ms := slices.Sorted(maps.Keys(w.m.members[tenant])); len(ms) > 0 && rapid.IntRange(0, 4).Draw(t, label+"Member?") > 0 {
		return rapid.SampledFrom(ms).Draw(t, label)
	}
	return w.drawUser(t, label)
}

func (w *machine) drawTenant(t *rapid.T) rbac.Ref {
	if len(w.m.everTenants) == 0 {
		return rbac.Account("acct-none")
	}
	if live := w.m.sortedTenants(); len(live) > 0 && rapid.Bool().Draw(t, "liveTenant?") {
		return rapid.SampledFrom(live).Draw(t, "tenant")
	}
	return rapid.SampledFrom(w.m.everTenants).Draw(t, "tenant")
}

func (w *machine) drawScopeIn(t *rapid.T, tenant rbac.Ref) rbac.Ref {
	if w.m.exists(tenant) && rapid.IntRange(0, 5).Draw(t, "ownScope?") > 0 {
		return rapid.SampledFrom(w.m.scopesOf(tenant)).Draw(t, "scope")
	}
	all := append(slices.Clone(w.m.everScopes), w.m.everTenants...)
	if len(all) == 0 {
		return rbac.Project("proj-none")
	}
	return rapid.SampledFrom(all).Draw(t, "scope")
}

// drawScopeOf draws, most of the time, a live scope of tenant whose kind is in kinds;
// otherwise any scope, as drawScopeIn.
func (w *machine) drawScopeOf(t *rapid.T, tenant rbac.Ref, kinds rbac.KindSet) rbac.Ref {
	var fit []rbac.Ref
	if w.m.exists(tenant) {
		for _, s := range w.m.scopesOf(tenant) {
			if kinds.Has(s.Kind) {
				fit = append(fit, s)
			}
		}
	}
	if len(fit) > 0 && rapid.IntRange(0, 4).Draw(t, "fittingScope?") > 0 {
		return rapid.SampledFrom(fit).Draw(t, "scope")
	}
	return w.drawScopeIn(t, tenant)
}

func drawLevel(t *rapid.T) rbac.Level {
	if rapid.IntRange(0, 9).Draw(t, "ownerLevel?") == 0 {
		return rbac.Owner
	}
	return rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "level")
}

func (w *machine) drawHolderIn(t *rapid.T, tenant rbac.Ref) rbac.Holder {
	var cands []rbac.Holder
	skipOwner := rapid.IntRange(0, 3).Draw(t, "ownerTarget?") > 0
	for u := range w.m.members[tenant] {
		if skipOwner && w.m.tenants[tenant].owner == u {
			continue
		}
		cands = append(cands, rbac.User(u))
	}
	for id, inv := range w.m.invites {
		if inv.tenant == tenant {
			cands = append(cands, rbac.Invite(id))
		}
	}
	for id, tok := range w.m.tokens {
		if tok.tenant == tenant {
			cands = append(cands, rbac.Token(id))
		}
	}
	for id, tm := range w.m.teams {
		if tm.tenant == tenant {
			cands = append(cands, rbac.Team(id))
		}
	}
	if len(cands) == 0 || rapid.IntRange(0, 7).Draw(t, "strangerTarget?") == 0 {
		return rbac.User(w.drawUser(t, "target"))
	}
	slices.SortFunc(cands, rbac.Holder.Compare)
	return rapid.SampledFrom(cands).Draw(t, "target")
}

func (w *machine) drawTeam(t *rapid.T) string {
	if len(w.m.everTeams) == 0 {
		return "team-none"
	}
	return rapid.SampledFrom(w.m.everTeams).Draw(t, "team")
}

func (w *machine) drawInvite(t *rapid.T) string {
	if len(w.m.everInvites) == 0 {
		return "inv-none"
	}
	return rapid.SampledFrom(w.m.everInvites).Draw(t, "invite")
}

func (w *machine) drawToken(t *rapid.T) string {
	if len(w.m.everTokens) == 0 {
		return "tok-none"
	}
	return rapid.SampledFrom(w.m.everTokens).Draw(t, "token")
}

// ---- running an operation ----

// typedErrs are the errors a refusal may match; anything else is a defect.
var typedErrs = []error{rbac.ErrDenied, account.ErrNotFound, account.ErrExists, account.ErrInvalid,
	account.ErrSeatLimit, account.ErrPlan, account.ErrUnauthenticated, account.ErrLimit, account.ErrExpired}

// guard is a holder whose access within some tenants (all, when tenants is nil) an
// operation must not change.
type guard struct {
	h       rbac.Holder
	tenants []rbac.Ref
	// grantsOnly: only the holder's own grants count, not its team places (deleting
	// a team the owner happens to be in leaves the owner's access, owner throughout
	// the account, as it was).
	grantsOnly bool
}

// do runs op, whose success the model predicts as want, and checks that it succeeded
// exactly when predicted, that a refusal is typed, and that it wrote exactly one
// audit event on success (in tenant) and none on refusal (D31). On success, the
// access of every guard must be as it was (D9, D10).
func (w *machine) do(t *rapid.T, name string, want bool, tenant rbac.Ref, guards []guard, op func() error) bool {
	return w.doIn(t, name, want, []rbac.Ref{tenant}, guards, op)
}

// doIn is do for an operation whose success writes one event in each of tenants
// (invariant 9: every change is in the log of every account it changes).
func (w *machine) doIn(t *rapid.T, name string, want bool, tenants []rbac.Ref, guards []guard, op func() error) bool {
	return w.doWith(t, name, want, tenants, guards, op, sameSet)
}

// doEach is doIn for an operation whose success writes exactly the events listed in
// tenants, one per entry: a tenant listed twice gets two.
func (w *machine) doEach(t *rapid.T, name string, want bool, tenants []rbac.Ref, op func() error) bool {
	return w.doWith(t, name, want, tenants, nil, op, func(got, want []rbac.Ref) bool {
		return slices.Equal(slices.SortedFunc(slices.Values(got), rbac.Ref.Compare), slices.SortedFunc(slices.Values(want), rbac.Ref.Compare))
	})
}

func (w *machine) doWith(t *rapid.T, name string, want bool, tenants []rbac.Ref, guards []guard, op func() error, same func(got, want []rbac.Ref) bool) bool {
	tenant := tenants[0]
	before := make([]string, len(guards))
	for i, g := range guards {
		before[i] = w.accessOf(t, g)
	}
	err := op()
	if (err == nil) != want {
		t.Fatalf("%s: the model predicts success=%v, the operation returned err=%v", name, want, err)
	}
	if err != nil && !slices.ContainsFunc(typedErrs, func(e error) bool { return errors.Is(err, e) }) {
		t.Fatalf("%s: refusal with an untyped error: %v", name, err)
	}
	n := w.newEvents(t, tenant)
	switch {
	case err == nil && !same(n, tenants):
		t.Fatalf("%s: succeeded and wrote events in %v, want exactly one in each of %v (D31)", name, n, tenants)
	case err != nil && len(n) != 0:
		t.Fatalf("%s: refused (%v) but wrote events in %v (D31)", name, err, n)
	}
	if err == nil {
		for i, g := range guards {
			if after := w.accessOf(t, g); after != before[i] {
				t.Fatalf("%s by someone else changed the access of %v in %v (D9/D10):\nbefore %s\nafter  %s", name, g.h, g.tenants, before[i], after)
			}
		}
	}
	return err == nil
}

// sameSet reports whether got holds each of want exactly once, in any order.
func sameSet(got, want []rbac.Ref) bool {
	want = slices.Compact(slices.SortedFunc(slices.Values(want), rbac.Ref.Compare))
	return slices.Equal(slices.SortedFunc(slices.Values(got), rbac.Ref.Compare), want)
}

// withSubs returns tenant and, for an organization, its live sub-accounts.
func (m *model) withSubs(tenant rbac.Ref) []rbac.Ref {
	out := []rbac.Ref{tenant}
	if tenant.Kind != rbac.KindOrganization {
		return out
	}
	for _, ref := range m.sortedTenants() {
		if m.tenants[ref].org == tenant.ID {
			out = append(out, ref)
		}
	}
	return out
}

// grantTenants returns the tenants in which holder h holds grants.
func (m *model) grantTenants(h rbac.Holder) []rbac.Ref {
	var out []rbac.Ref
	for k := range m.grants {
		if k.h == h {
			out = append(out, m.tenantOf(k.s))
		}
	}
	return out
}

// owners guards every owner's access in the tenants they own (D9).
func (w *machine) owners() []guard {
	var out []guard
	for _, ref := range w.m.sortedTenants() {
		out = append(out, guard{h: rbac.User(w.m.tenants[ref].owner), tenants: []rbac.Ref{ref}})
	}
	return out
}

// guardFor guards the owners (D9) and, everywhere, the actor itself (D10).
func (w *machine) guardFor(actor rbac.Holder) []guard {
	return append(w.owners(), guard{h: actor})
}

// accessOf reads from the store everything that makes up g.h's access in g's
// tenants: its grants and its team places.
func (w *machine) accessOf(t *rapid.T, g guard) string {
	tenants := g.tenants
	if tenants == nil {
		tenants = w.m.everTenants
	}
	h := g.h
	var parts []string
	err := w.st.View(w.ctx, func(ctx context.Context, r store.Reader) error {
		for _, tn := range tenants {
			for gr, err := range r.HolderGrants(ctx, h, tn) {
				if err != nil {
					return err
				}
				parts = append(parts, gr.Grant.String())
			}
			if h.Kind == rbac.HolderUser && !g.grantsOnly {
				for tm, err := range r.UserTeams(ctx, h.ID, tn) {
					if err != nil {
						return err
					}
					parts = append(parts, "team:"+tm.ID)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading access of %v: %v", h, err)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// newEvents returns the tenants of the events written since the last call, in every
// tenant ever created, the profile log, and also.
func (w *machine) newEvents(t *rapid.T, also rbac.Ref) []rbac.Ref {
	var out []rbac.Ref
	tenants := append([]rbac.Ref{{}}, w.m.everTenants...)
	if !slices.Contains(tenants, also) {
		tenants = append(tenants, also)
	}
	err := w.st.View(w.ctx, func(ctx context.Context, r store.Reader) error {
		for _, tn := range tenants {
			evs, err := r.Events(ctx, tn, w.cursor[tn], 100)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if e.Tenant != tn {
					return fmt.Errorf("Events(%v) returned an event of %v", tn, e.Tenant)
				}
				out = append(out, tn)
				w.cursor[tn] = e.Seq
				w.acted = append(w.acted, e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading events: %v", err)
	}
	return out
}

// ---- operations ----

func (w *machine) register(t *rapid.T) {
	w.registerEmail(t, rapid.SampledFrom(opsEmails).Draw(t, "email"))
}

func (w *machine) registerEmail(t *rapid.T, email string) {
	_, taken := w.m.userByEmail(email)
	var reg profile.Registered
	next := rbac.Account("acct-" + strconv.Itoa(w.ids+2))
	if w.do(t, "Register", !taken, next, nil, func() error {
		var err error
		reg, err = account.Do(w.ctx, w.svc, rbac.Holder{}, profile.Register{Email: strings.ToUpper(email[:1]) + email[1:]})
		return err
	}) {
		u, a := reg.User, reg.Account
		if a.Ref != next || u.Email != email {
			t.Fatalf("Register: got user %+v account %v", u, a.Ref)
		}
		w.m.users[u.ID] = email
		w.m.everUsers = append(w.m.everUsers, u.ID)
		w.m.addTenant(a.Ref, u.ID, "", opsPlans[0].Name)
	}
}

func (w *machine) createAccount(t *rapid.T) {
	actor := w.drawActor(t)
	want := actor.Kind == rbac.HolderUser && w.m.live(actor)
	next := rbac.Account("acct-" + strconv.Itoa(w.ids+1))
	var a store.Account
	if w.do(t, "CreateAccount", want, next, nil, func() error {
		var err error
		a, err = account.Do(w.ctx, w.svc, actor, account.CreateAccount{Name: "Acme"})
		return err
	}) {
		w.m.addTenant(a.Ref, actor.ID, "", opsPlans[0].Name)
	}
}

func (w *machine) createOrganization(t *rapid.T) {
	actor := w.drawActor(t)
	want := actor.Kind == rbac.HolderUser && w.m.live(actor)
	next := rbac.Org("org-" + strconv.Itoa(w.ids+1))
	var a store.Account
	if w.do(t, "CreateOrganization", want, next, nil, func() error {
		var err error
		a, err = account.Do(w.ctx, w.svc, actor, account.CreateOrganization{Name: "Group", Plan: "business"})
		return err
	}) {
		w.m.addTenant(a.Ref, actor.ID, "", "business")
	}
}

func (w *machine) createSubAccount(t *rapid.T) {
	org := w.drawTenant(t)
	actor := w.drawActorIn(t, org)
	o := w.m.tenants[org]
	want := org.Kind == rbac.KindOrganization && w.m.live(actor) && o != nil && w.m.actorLevel(actor, org) >= rbac.Admin
	next := rbac.Account("acct-" + strconv.Itoa(w.ids+1))
	var a store.Account
	if w.do(t, "CreateSubAccount", want, next, nil, func() error {
		var err error
		a, err = account.Do(w.ctx, w.svc, actor, account.CreateSubAccount{Org: org, Name: "Client"})
		return err
	}) {
		if a.Owner != o.owner {
			t.Fatalf("CreateSubAccount: owner %s, want the organization's owner %s (C4)", a.Owner, o.owner)
		}
		w.m.addTenant(a.Ref, o.owner, org.ID, o.plan)
	}
}

// seatPool returns the addresses counted in the seats of tenant's pool and its limit.
func (w *machine) seatPool(tenant rbac.Ref) (map[string]bool, int) {
	root := tenant
	if tn := w.m.tenants[tenant]; tn.org != "" {
		root = rbac.Org(tn.org)
	}
	limit := 0
	for _, p := range opsPlans {
		if p.Name == w.m.tenants[root].plan {
			limit = p.Seats
		}
	}
	pool := map[string]bool{}
	for ref, tn := range w.m.tenants {
		if ref != root && tn.org != root.ID || root.Kind != rbac.KindOrganization && ref != root {
			continue
		}
		for u := range w.m.members[ref] {
			pool[w.m.users[u]] = true
		}
		for _, inv := range w.m.invites {
			if inv.tenant == ref && !w.m.expired(inv) {
				pool[inv.email] = true
			}
		}
	}
	return pool, limit
}

func planOf(name string) account.Plan {
	for _, p := range opsPlans {
		if p.Name == name {
			return p
		}
	}
	return account.Plan{}
}

func (w *machine) setPlan(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	plan := rapid.SampledFrom(opsPlans).Draw(t, "plan")
	tn := w.m.tenants[tenant]
	want := w.m.live(actor) && tn != nil
	if want {
		billing := tenant
		if tenant.Kind == rbac.KindAccount {
			billing = rbac.Billing(tenant.ID)
		}
		pool, _ := w.seatPool(tenant)
		want = w.m.actorLevel(actor, billing) >= rbac.Admin && tn.org == "" &&
			(tenant.Kind != rbac.KindOrganization || plan.Organizations) &&
			(plan.Seats == 0 || len(pool) <= plan.Seats)
	}
	if w.doIn(t, "SetPlan", want, w.m.withSubs(tenant), nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.SetPlan{Account: tenant, Plan: plan.Name}))
	}) {
		tn.plan = plan.Name
		for _, sub := range w.m.tenants {
			if tenant.Kind == rbac.KindOrganization && sub.org == tenant.ID {
				sub.plan = plan.Name
			}
		}
	}
}

func (w *machine) createResource(t *rapid.T) {
	kind := rapid.SampledFrom([]rbac.Kind{rbac.KindProject, rbac.KindInbox, rbac.KindDomain}).Draw(t, "kind")
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	parent := tenant
	if kind == rbac.KindInbox {
		parent = rbac.Project("proj-none")
		var projects []rbac.Ref
		for _, s := range w.m.scopesOf(tenant) {
			if s.Kind == rbac.KindProject {
				projects = append(projects, s)
			}
		}
		if len(projects) > 0 {
			parent = rapid.SampledFrom(projects).Draw(t, "project")
		}
	}
	want := w.m.live(actor) && w.m.exists(parent) && parent.Kind == kind.Parent() && w.m.actorLevel(actor, parent) >= rbac.Admin
	var r store.Resource
	if w.m.exists(parent) {
		tenant = w.m.tenantOf(parent)
	}
	if w.do(t, "Create "+kind.String(), want, tenant, nil, func() error {
		var err error
		r, err = account.Do(w.ctx, w.svc, actor, account.CreateResource{Parent: parent, Kind: kind, Name: "mail.example.com"})
		return err
	}) {
		w.m.addResource(r.Ref, parent)
	}
}

func (w *machine) deleteResource(t *rapid.T) {
	tenant0 := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant0)
	ref := w.drawScopeOf(t, tenant0, rbac.KindsOf(rbac.KindProject, rbac.KindInbox, rbac.KindDomain))
	deletable := ref.Kind == rbac.KindProject || ref.Kind == rbac.KindInbox || ref.Kind == rbac.KindDomain
	want := deletable && w.m.live(actor) && w.m.exists(ref) && w.m.actorLevel(actor, ref) >= rbac.Admin
	tenant := rbac.Ref{}
	if w.m.exists(ref) {
		tenant = w.m.tenantOf(ref)
	}
	if w.do(t, "DeleteResource", want, tenant, nil, func() error { return errOf(account.Do(w.ctx, w.svc, actor, account.DeleteResource{Resource: ref})) }) {
		w.m.deleteResource(ref)
	}
}

// changeAllowed predicts one grant change by the rules (D9–D12, D24).
func (w *machine) changeAllowed(actor rbac.Holder, tenant rbac.Ref, target rbac.Holder, c account.PermissionChange) bool {
	if !w.m.exists(c.Scope) || w.m.tenantOf(c.Scope) != tenant {
		return false
	}
	cur, has := w.m.grants[gkey{target, c.Scope}]
	if c.Destroy && !has {
		return false
	}
	to := c.Level
	if c.Destroy {
		to = rbac.None
	}
	includes := target == actor
	if target.Kind == rbac.HolderTeam && actor.Kind == rbac.HolderUser {
		includes = w.m.teams[target.ID] != nil && w.m.teams[target.ID].members[actor.ID]
	}
	isOwner := target.Kind == rbac.HolderUser && w.m.tenants[tenant] != nil && w.m.tenants[tenant].owner == target.ID
	return rbac.DecideChange(rbac.Change{
		Actor: actor, ActorLevel: w.m.actorLevel(actor, c.Scope), Target: target, Scope: c.Scope,
		From: cur.level, To: to, TargetIsOwner: isOwner, TargetIncludesActor: includes,
	}).Allowed
}

func (w *machine) drawChanges(t *rapid.T, tenant rbac.Ref, destroy bool) []account.PermissionChange {
	n := rapid.IntRange(1, 2).Draw(t, "changes")
	var out []account.PermissionChange
	for range n {
		s := w.drawScopeIn(t, tenant)
		c := account.PermissionChange{Scope: s, Level: drawLevel(t)}
		if s.Kind == rbac.KindDomain {
			c.ViewContent = rapid.Bool().Draw(t, "content")
		}
		if destroy {
			c.Destroy = rapid.IntRange(0, 4).Draw(t, "destroy?") == 0
		}
		out = append(out, c)
	}
	return out
}

// changesValid mirrors the input rules: no scope twice; levels viewer or admin; the
// view-content flag only on a domain.
func changesValid(cs []account.PermissionChange) bool {
	seen := map[rbac.Ref]bool{}
	for _, c := range cs {
		if seen[c.Scope] || !c.Destroy && c.Level != rbac.Viewer && c.Level != rbac.Admin {
			return false
		}
		if !c.Destroy && c.ViewContent && c.Scope.Kind != rbac.KindDomain {
			return false // the flag belongs to a domain grant (D8)
		}
		seen[c.Scope] = true
	}
	return true
}

var tokenScopeKinds = rbac.KindsOf(rbac.KindOrganization, rbac.KindAccount, rbac.KindProject, rbac.KindInbox, rbac.KindDomain)

func (w *machine) applyChanges(actor rbac.Holder, target rbac.Holder, cs []account.PermissionChange) {
	levels := make([]rbac.Level, len(cs))
	for i, c := range cs {
		levels[i] = w.m.actorLevel(actor, c.Scope)
	}
	for i, c := range cs {
		k := gkey{target, c.Scope}
		if c.Destroy {
			delete(w.m.grants, k)
			continue
		}
		w.m.grants[k] = mGrant{level: c.Level, content: c.ViewContent, granter: levels[i]}
	}
}

func (w *machine) invite(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	email := rapid.SampledFrom(opsEmails).Draw(t, "email")
	var changes []account.PermissionChange
	if rapid.Bool().Draw(t, "withGrants") {
		changes = w.drawChanges(t, tenant, false)
	}
	var teams []string
	for _, id := range slices.Sorted(maps.Keys(w.m.teams)) {
		if w.m.teams[id].tenant == tenant && rapid.Bool().Draw(t, "team "+id) {
			teams = append(teams, id)
		}
	}
	w.inviteWith(t, actor, tenant, email, changes, teams)
}

// drawInviteTTL draws an invitation's ExpiresIn: mostly the default, sometimes a
// chosen time, sometimes one out of bounds (D36).
func drawInviteTTL(t *rapid.T) time.Duration {
	return rapid.SampledFrom([]time.Duration{0, 0, 0, time.Hour, 2 * 24 * time.Hour, 30 * time.Minute, 31 * 24 * time.Hour}).Draw(t, "expiresIn")
}

// inviteTTLValid reports whether d is a valid ExpiresIn, and the lifetime it gives.
func inviteTTLValid(d time.Duration) (time.Duration, bool) {
	switch {
	case d == 0:
		return account.DefaultInvitationTTL, true
	case d < account.MinInvitationTTL || d > account.DefaultMaxInvitationTTL:
		return 0, false
	}
	return d, true
}

// inviteWith runs Invite and returns the new invitation's ID when it succeeded.
func (w *machine) inviteWith(t *rapid.T, actor rbac.Holder, tenant rbac.Ref, email string, changes []account.PermissionChange, teams []string) (string, bool) {
	ttl := time.Duration(0)
	if rapid.IntRange(0, 3).Draw(t, "chooseExpiry?") == 0 {
		ttl = drawInviteTTL(t)
	}
	life, ttlOK := inviteTTLValid(ttl)
	var grants []account.GrantSpec
	for _, c := range changes {
		grants = append(grants, account.GrantSpec{Scope: c.Scope, Level: c.Level, ViewContent: c.ViewContent})
	}
	tn := w.m.tenants[tenant]
	want := w.m.live(actor) && tn != nil && changesValid(changes) && ttlOK
	if want {
		want = w.m.actorLevel(actor, tenant) >= rbac.Admin && planOf(w.rootPlan(tenant)).UserManagement
	}
	if want {
		if u, ok := w.m.userByEmail(email); ok && w.m.isMember(tenant, u) {
			want = false
		}
		for _, inv := range w.m.invites {
			if inv.tenant == tenant && inv.email == email {
				want = false
			}
		}
		if !w.m.within(tenant, func(p account.Plan) int { return p.Invitations }, func() int {
			n := 0
			for _, inv := range w.m.invites {
				if inv.tenant == tenant && !w.m.expired(inv) {
					n++
				}
			}
			return n
		}) {
			want = false
		}
		pool, limit := w.seatPool(tenant)
		if !pool[email] && limit > 0 && len(pool)+1 > limit {
			want = false
		}
		for _, c := range changes {
			if !w.m.exists(c.Scope) || !w.m.path(c.Scope).Contains(tenant) ||
				!w.changeAllowed(actor, w.m.tenantOf(c.Scope), rbac.Invite("new"), c) {
				want = false
			}
		}
		for _, id := range teams {
			if !w.teamGrantsWithin(actor, id) {
				want = false
			}
		}
	}
	next := "inv-" + strconv.Itoa(w.ids+1)
	var inv account.NewInvitation
	invited := []rbac.Ref{tenant}
	for _, c := range changes {
		if w.m.exists(c.Scope) {
			invited = append(invited, w.m.tenantOf(c.Scope))
		}
	}
	if !w.doIn(t, "Invite", want, invited, nil, func() error {
		var err error
		var teamHolders []rbac.Holder
		for _, id := range teams {
			teamHolders = append(teamHolders, rbac.Team(id))
		}
		inv, err = account.Do(w.ctx, w.svc, actor, account.Invite{Tenant: tenant, Email: email, Grants: grants, Teams: teamHolders, ExpiresIn: ttl})
		return err
	}) {
		return "", false
	}
	if inv.ID != next {
		t.Fatalf("Invite: id %s, want %s", inv.ID, next)
	}
	w.m.invites[inv.ID] = &mInvite{tenant: tenant, email: email, teams: teams, expires: w.now.Add(life)}
	w.secrets[inv.ID] = inv.Secret
	w.m.everInvites = append(w.m.everInvites, inv.ID)
	w.applyChanges(actor, rbac.Invite(inv.ID), changes)
	return inv.ID, true
}

// rootPlan is the plan of the tenant's pool: its organization's, or its own.
func (w *machine) rootPlan(tenant rbac.Ref) string {
	tn := w.m.tenants[tenant]
	if tn.org != "" {
		return w.m.tenants[rbac.Org(tn.org)].plan
	}
	return tn.plan
}

// teamGrantsWithin reports whether the actor may give or take every grant of team id
// (D11, D12).
func (w *machine) teamGrantsWithin(actor rbac.Holder, id string) bool {
	for k, g := range w.m.grants {
		if k.h == rbac.Team(id) {
			l := w.m.actorLevel(actor, k.s)
			if l < rbac.Admin || l < g.level {
				return false
			}
		}
	}
	return true
}

func (w *machine) accept(t *rapid.T) {
	id := w.drawInvite(t)
	inv := w.m.invites[id]
	actor := w.drawActor(t)
	if inv != nil && rapid.IntRange(0, 3).Draw(t, "invitee?") > 0 {
		if u, ok := w.m.userByEmail(inv.email); ok {
			actor = rbac.User(u)
		}
	}
	w.acceptAs(t, actor, id)
}

func (w *machine) acceptAs(t *rapid.T, actor rbac.Holder, id string) {
	inv := w.m.invites[id]
	// Mostly the invitation's own secret; sometimes another invitation's, or none.
	secret := w.secrets[id]
	switch rapid.IntRange(0, 9).Draw(t, "secret") {
	case 0:
		secret = ""
	case 1:
		if ids := slices.Sorted(maps.Keys(w.secrets)); len(ids) > 0 {
			secret = w.secrets[rapid.SampledFrom(ids).Draw(t, "otherSecret")]
		}
	}
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && inv != nil && w.m.users[actor.ID] == inv.email &&
		secret == w.secrets[id] && secret != "" && !w.m.expired(inv)
	accepted := []rbac.Ref{{}}
	if inv != nil {
		accepted = append([]rbac.Ref{inv.tenant}, w.m.grantTenants(rbac.Invite(id))...)
	}
	if !w.doIn(t, "Accept", want, accepted, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.AcceptInvitation{Invitation: rbac.Invite(id), Secret: secret}))
	}) {
		return
	}
	tenants := map[rbac.Ref]bool{inv.tenant: true}
	for k, g := range w.m.grants {
		if k.h != rbac.Invite(id) {
			continue
		}
		tenants[w.m.tenantOf(k.s)] = true
		mine := gkey{actor, k.s}
		if cur, ok := w.m.grants[mine]; !ok || cur.level <= g.level {
			w.m.grants[mine] = g
		}
	}
	for tn := range tenants {
		w.m.members[tn][actor.ID] = true
	}
	for _, team := range inv.teams {
		if tm := w.m.teams[team]; tm != nil {
			tm.members[actor.ID] = true
		}
	}
	w.m.dropGrantsOf(rbac.Invite(id))
	delete(w.m.invites, id)
}

func (w *machine) revoke(t *rapid.T) {
	id := w.drawInvite(t)
	inv := w.m.invites[id]
	var tenant0 rbac.Ref
	if inv != nil {
		tenant0 = inv.tenant
	}
	actor := w.drawActorIn(t, tenant0)
	tenant := tenant0
	if tenant.IsZero() || rapid.IntRange(0, 7).Draw(t, "otherTenant?") == 0 {
		tenant = w.drawTenant(t)
	}
	want := w.m.live(actor) && inv != nil && inv.tenant == tenant && w.m.actorLevel(actor, inv.tenant) >= rbac.Admin
	revoked := []rbac.Ref{tenant}
	if inv != nil {
		revoked = append(revoked, w.m.grantTenants(rbac.Invite(id))...)
	}
	if w.doIn(t, "Revoke", want, revoked, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.RevokeInvitation{Tenant: tenant, Invitation: rbac.Invite(id)}))
	}) {
		w.m.dropGrantsOf(rbac.Invite(id))
		delete(w.m.invites, id)
	}
}

// targetIn reports whether h exists in tenant as a target of grant changes.
func (w *machine) targetIn(tenant rbac.Ref, h rbac.Holder) bool {
	switch h.Kind {
	case rbac.HolderUser:
		return w.m.isMember(tenant, h.ID)
	case rbac.HolderInvite:
		return w.m.invites[h.ID] != nil && w.m.invites[h.ID].tenant == tenant
	case rbac.HolderToken:
		return w.m.tokens[h.ID] != nil && w.m.tokens[h.ID].tenant == tenant
	case rbac.HolderTeam:
		return w.m.teams[h.ID] != nil && w.m.teams[h.ID].tenant == tenant
	}
	return false
}

func (w *machine) setPermissions(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	target := w.drawHolderIn(t, tenant)
	changes := w.drawChanges(t, tenant, true)
	for i := range changes {
		if changes[i].Destroy && rapid.Bool().Draw(t, "destroyExisting?") {
			for k := range w.m.grants {
				if k.h == target && k.s.Compare(changes[i].Scope) < 0 {
					changes[i].Scope = k.s
				}
			}
		}
	}
	want := w.m.live(actor) && w.m.tenants[tenant] != nil && w.targetIn(tenant, target) && w.m.sees(actor, tenant, target) && changesValid(changes)
	for _, c := range changes {
		if target.Kind == rbac.HolderToken && !tokenScopeKinds.Has(c.Scope.Kind) {
			want = false
		}
		if want && !w.changeAllowed(actor, tenant, target, c) {
			want = false
		}
	}
	if w.do(t, "SetPermissions", want, tenant, w.guardFor(actor), func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.SetPermissions{Tenant: tenant, Holder: target, Changes: changes}))
	}) {
		w.applyChanges(actor, target, changes)
	}
}

func (w *machine) removeFromResource(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	scope := w.drawScopeIn(t, tenant)
	target := w.drawHolderIn(t, tenant)
	// Most of the time, someone who holds a grant on a resource, removed from it or
	// from the resource above it.
	var held []gkey
	for k := range w.m.grants {
		if k.s.Kind != rbac.KindAccount && k.s.Kind != rbac.KindOrganization && w.m.tenantOf(k.s) == tenant {
			held = append(held, k)
		}
	}
	if len(held) > 0 && rapid.IntRange(0, 3).Draw(t, "heldGrant?") > 0 {
		slices.SortFunc(held, func(a, b gkey) int {
			if c := a.s.Compare(b.s); c != 0 {
				return c
			}
			return a.h.Compare(b.h)
		})
		k := rapid.SampledFrom(held).Draw(t, "grant")
		target, scope = k.h, k.s
		if p := w.m.parent[k.s]; p.Kind == rbac.KindProject && rapid.Bool().Draw(t, "fromParent?") {
			scope = p
		}
	}
	want := w.m.live(actor) && w.m.exists(scope) && scope.Kind != rbac.KindAccount && scope.Kind != rbac.KindOrganization
	var changes []account.PermissionChange
	var evTenant rbac.Ref
	if want {
		evTenant = w.m.tenantOf(scope)
		want = w.m.actorLevel(actor, scope) >= rbac.Admin && w.targetIn(evTenant, target) && w.m.sees(actor, evTenant, target)
		for _, s := range w.m.below(scope) {
			if _, ok := w.m.grants[gkey{target, s}]; ok {
				changes = append(changes, account.PermissionChange{Scope: s, Destroy: true})
			}
		}
		want = want && len(changes) > 0
		for _, c := range changes {
			want = want && w.changeAllowed(actor, evTenant, target, c)
		}
	}
	if w.do(t, "RemoveFromResource", want, evTenant, w.guardFor(actor), func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.RemoveFromResource{Scope: scope, Member: target}))
	}) {
		w.applyChanges(actor, target, changes)
	}
}

func (w *machine) removeMember(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	user := w.drawMember(t, tenant, "member")
	tn := w.m.tenants[tenant]
	want := w.m.live(actor) && tn != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin &&
		w.m.isMember(tenant, user) && tn.owner != user && actor != rbac.User(user)
	removedFrom := []rbac.Ref{tenant}
	for _, ref := range w.m.withSubs(tenant)[1:] {
		if w.m.isMember(ref, user) {
			removedFrom = append(removedFrom, ref)
		}
	}
	if w.doIn(t, "RemoveMember", want, removedFrom, w.guardFor(actor), func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.RemoveMember{Tenant: tenant, Member: rbac.User(user)}))
	}) {
		w.m.deleteMember(tenant, user)
		for ref, sub := range w.m.tenants {
			if tenant.Kind == rbac.KindOrganization && sub.org == tenant.ID {
				w.m.deleteMember(ref, user)
			}
		}
	}
}

func (w *machine) leave(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := rbac.User(w.drawMember(t, tenant, "leaver"))
	tn := w.m.tenants[tenant]
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && tn != nil && w.m.isMember(tenant, actor.ID) && tn.owner != actor.ID
	if w.do(t, "Leave", want, tenant, w.owners(), func() error { return errOf(account.Do(w.ctx, w.svc, actor, account.Leave{Account: tenant})) }) {
		w.m.deleteMember(tenant, actor.ID)
	}
}

func (w *machine) transfer(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	to := w.drawMember(t, tenant, "to")
	tn := w.m.tenants[tenant]
	want := w.m.live(actor) && tn != nil && actor == rbac.User(tn.owner) && tn.org == "" &&
		w.m.isMember(tenant, to) && to != tn.owner && !w.m.blocked(actor, tenant)
	if !w.doIn(t, "Transfer", want, w.m.withSubs(tenant), nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.TransferOwnership{Account: tenant, To: rbac.User(to)}))
	}) {
		return
	}
	move := func(ref rbac.Ref, t *mTenant) {
		prev := t.owner
		w.m.members[ref][to] = true
		t.owner = to
		w.m.grants[gkey{rbac.User(prev), ref}] = mGrant{level: rbac.Admin, granter: rbac.Owner}
	}
	move(tenant, tn)
	for ref, sub := range w.m.tenants {
		if tenant.Kind == rbac.KindOrganization && sub.org == tenant.ID {
			move(ref, sub)
		}
	}
}

func (w *machine) deleteAccount(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	want := w.m.live(actor) && w.m.tenants[tenant] != nil && w.m.actorLevel(actor, tenant) == rbac.Owner
	if w.doIn(t, "DeleteAccount", want, w.m.withSubs(tenant), nil, func() error { return errOf(account.Do(w.ctx, w.svc, actor, account.DeleteAccount{Account: tenant})) }) {
		w.m.deleteTenant(tenant)
	}
}

func (w *machine) createTeam(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	want := w.m.live(actor) && w.m.tenants[tenant] != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin &&
		w.m.within(tenant, func(p account.Plan) int { return p.Teams }, func() int {
			n := 0
			for _, tm := range w.m.teams {
				if tm.tenant == tenant {
					n++
				}
			}
			return n
		})
	var tm store.Team
	if w.do(t, "CreateTeam", want, tenant, nil, func() error {
		var err error
		tm, err = account.Do(w.ctx, w.svc, actor, account.CreateTeam{Tenant: tenant, Name: "Team " + strconv.Itoa(w.ids)})
		return err
	}) {
		w.m.teams[tm.ID] = &mTeam{tenant: tenant, members: map[string]bool{}}
		w.m.everTeams = append(w.m.everTeams, tm.ID)
	}
}

func (w *machine) teamMember(t *rapid.T) {
	id := w.drawTeam(t)
	tm := w.m.teams[id]
	var tenant0 rbac.Ref
	if tm != nil {
		tenant0 = tm.tenant
	}
	actor := w.drawActorIn(t, tenant0)
	user := w.drawMember(t, tenant0, "member")
	if tn := w.m.tenants[tenant0]; tn != nil && user == tn.owner {
		user = w.drawMember(t, tenant0, "member2")
	}
	remove := rapid.Bool().Draw(t, "remove")
	want := w.m.live(actor) && tm != nil
	var tenant rbac.Ref
	if want {
		tenant = tm.tenant
		want = w.m.actorLevel(actor, tenant) >= rbac.Admin && w.m.isMember(tenant, user) &&
			w.m.tenants[tenant].owner != user && actor != rbac.User(user) &&
			w.teamGrantsWithin(actor, id) && tm.members[user] == remove
	}
	if w.do(t, "TeamMember", want, tenant, w.guardFor(actor), func() error {
		if remove {
			return errOf(account.Do(w.ctx, w.svc, actor, account.RemoveTeamMember{Tenant: tenant0, Team: rbac.Team(id), Member: rbac.User(user)}))
		}
		return errOf(account.Do(w.ctx, w.svc, actor, account.AddTeamMember{Tenant: tenant0, Team: rbac.Team(id), Member: rbac.User(user)}))
	}) {
		if remove {
			delete(tm.members, user)
		} else {
			tm.members[user] = true
		}
	}
}

func (w *machine) deleteTeam(t *rapid.T) {
	id := w.drawTeam(t)
	tm := w.m.teams[id]
	var tenant0 rbac.Ref
	if tm != nil {
		tenant0 = tm.tenant
	}
	actor := w.drawActorIn(t, tenant0)
	want := w.m.live(actor) && tm != nil
	var tenant rbac.Ref
	if want {
		tenant = tm.tenant
		inTeam := actor.Kind == rbac.HolderUser && tm.members[actor.ID]
		want = w.m.actorLevel(actor, tenant) >= rbac.Admin && !inTeam && w.teamGrantsWithin(actor, id)
	}
	guards := []guard{{h: actor}}
	for _, g := range w.owners() {
		g.grantsOnly = true
		guards = append(guards, g)
	}
	if w.do(t, "DeleteTeam", want, tenant, guards, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.DeleteTeam{Tenant: tenant0, Team: rbac.Team(id)}))
	}) {
		w.m.dropGrantsOf(rbac.Team(id))
		delete(w.m.teams, id)
	}
}

func (w *machine) createToken(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	changes := w.drawChanges(t, tenant, false)
	for i := range changes {
		changes[i].Scope = w.drawScopeOf(t, tenant, tokenScopeKinds)
	}
	var grants []account.GrantSpec
	for _, c := range changes {
		grants = append(grants, account.GrantSpec{Scope: c.Scope, Level: c.Level, ViewContent: c.ViewContent})
	}
	want := w.m.live(actor) && w.m.tenants[tenant] != nil && changesValid(changes) && w.m.actorLevel(actor, tenant) >= rbac.Admin &&
		w.m.within(tenant, func(p account.Plan) int { return p.Tokens }, func() int {
			n := 0
			for _, tok := range w.m.tokens {
				if tok.tenant == tenant && !tok.reset && w.m.alive(tok) {
					n++
				}
			}
			return n
		})
	for _, c := range changes {
		want = want && tokenScopeKinds.Has(c.Scope.Kind) && w.changeAllowed(actor, tenant, rbac.Token("new"), c)
	}
	in := rapid.SampledFrom(append([]time.Duration{0, 0, -1, 2 * time.Hour, 24 * time.Hour, 24 * time.Hour}, account.TokenLifetimes...)).Draw(t, "expiresIn")
	req := account.CreateToken{Tenant: tenant, Name: "ci", Grants: grants}
	expires := w.now.Add(account.DefaultTokenLifetime)
	switch {
	case in == -1:
		req.NeverExpires, expires = true, time.Time{}
	case in > 0:
		req.ExpiresIn, expires = in, w.now.Add(in)
		want = want && slices.Contains(account.TokenLifetimes, in)
	}
	var info account.NewToken
	if w.do(t, "CreateToken", want, tenant, nil, func() error {
		var err error
		info, err = account.Do(w.ctx, w.svc, actor, req)
		return err
	}) {
		secret := info.Secret
		creator := actor.ID
		if actor.Kind == rbac.HolderToken {
			creator = w.m.tokens[actor.ID].creator
		}
		w.m.tokens[info.ID] = &mToken{tenant: tenant, creator: creator, expires: expires}
		w.m.everTokens = append(w.m.everTokens, info.ID)
		w.tokenSecrets[info.ID] = secret
		w.applyChanges(actor, rbac.Token(info.ID), changes)
		if h, err := w.svc.Authenticate(w.ctx, secret); err != nil || h != rbac.Token(info.ID) {
			t.Fatalf("Authenticate(new secret) = %v, %v (D23)", h, err)
		}
		w.m.touch(rbac.Token(info.ID), rbac.Ref{})
	}
}

func (w *machine) resetToken(t *rapid.T) {
	id := w.drawToken(t)
	tok := w.m.tokens[id]
	var tenant0 rbac.Ref
	if tok != nil {
		tenant0 = tok.tenant
	}
	actor := w.drawActorIn(t, tenant0)
	want := w.m.live(actor) && tok != nil && w.m.actorLevel(actor, tok.tenant) >= rbac.Admin && !tok.reset && w.m.alive(tok)
	var tenant rbac.Ref
	if tok != nil {
		tenant = tok.tenant
	}
	var info account.NewToken
	if w.do(t, "ResetToken", want, tenant, nil, func() error {
		var err error
		info, err = account.Do(w.ctx, w.svc, actor, account.ResetToken{Tenant: tenant0, Token: rbac.Token(id)})
		return err
	}) {
		tok.reset = true
		w.m.tokens[info.ID] = &mToken{tenant: tok.tenant, creator: tok.creator, expires: tok.expires, ips: tok.ips}
		if end := w.now.Add(account.DefaultTokenResetGrace); tok.expires.IsZero() || end.Before(tok.expires) {
			tok.expires = end // D38: the old secret works for the grace period
		}
		w.tokenSecrets[info.ID] = info.Secret
		w.m.everTokens = append(w.m.everTokens, info.ID)
		for k, g := range w.m.grants {
			if k.h == rbac.Token(id) {
				w.m.grants[gkey{rbac.Token(info.ID), k.s}] = g
			}
		}
	}
}

// reassignToken: an admin takes a token over, so that it acts within the admin's
// access (D40) — allowed when the admin holds every grant of the token (D12).
func (w *machine) reassignToken(t *rapid.T) {
	id := w.drawToken(t)
	tok := w.m.tokens[id]
	var tenant rbac.Ref
	if tok != nil {
		tenant = tok.tenant
	}
	actor := w.drawActorIn(t, tenant)
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && tok != nil && !tok.reset && w.m.alive(tok) &&
		w.m.actorLevel(actor, tenant) >= rbac.Admin
	if want {
		for k, g := range w.m.grants {
			if k.h == rbac.Token(id) && w.m.actorLevel(actor, k.s) < max(rbac.Admin, g.level) {
				want = false
			}
		}
	}
	if w.do(t, "ReassignToken", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.ReassignToken{Tenant: tenant, Token: rbac.Token(id)}))
	}) {
		tok.creator = actor.ID
	}
}

func (w *machine) deleteToken(t *rapid.T) {
	id := w.drawToken(t)
	tok := w.m.tokens[id]
	var tenant0 rbac.Ref
	if tok != nil {
		tenant0 = tok.tenant
	}
	actor := w.drawActorIn(t, tenant0)
	want := w.m.live(actor) && tok != nil && w.m.actorLevel(actor, tok.tenant) >= rbac.Admin
	var tenant rbac.Ref
	if tok != nil {
		tenant = tok.tenant
	}
	if w.do(t, "DeleteToken", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.DeleteToken{Tenant: tenant0, Token: rbac.Token(id)}))
	}) {
		w.m.deleteToken(id)
	}
}

func (w *machine) deleteProfile(t *rapid.T) {
	actor := w.drawActor(t)
	confirm := w.m.users[actor.ID]
	if rapid.IntRange(0, 9).Draw(t, "wrongConfirm?") == 0 {
		confirm = rapid.SampledFrom(opsEmails).Draw(t, "confirm")
	}
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && confirm == w.m.users[actor.ID]
	deleted := []rbac.Ref{{}}
	for ref, ms := range w.m.members {
		if ms[actor.ID] {
			deleted = append(deleted, ref)
		}
	}
	for _, inv := range w.m.invites {
		if inv.email == w.m.users[actor.ID] && actor.Kind == rbac.HolderUser {
			deleted = append(deleted, inv.tenant)
		}
	}
	if !w.doIn(t, "DeleteProfile", want, deleted, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, profile.Delete{Confirm: strings.ToUpper(confirm)}))
	}) {
		return
	}
	// D30: owned accounts and organizations go (D17); invitations of the address go;
	// every other membership, team place and grant goes.
	for ref, tn := range w.m.tenants {
		if tn.owner == actor.ID && (tn.org == "" || ref.Kind == rbac.KindOrganization) {
			if _, still := w.m.tenants[ref]; still {
				w.m.deleteTenant(ref)
			}
		}
	}
	email := w.m.users[actor.ID]
	for id, inv := range w.m.invites {
		if inv.email == email {
			w.m.dropGrantsOf(rbac.Invite(id))
			delete(w.m.invites, id)
		}
	}
	w.m.deleteUser(actor.ID)
}

func (w *machine) changeEmail(t *rapid.T) {
	actor := w.drawActor(t)
	email := rapid.SampledFrom(opsEmails).Draw(t, "email")
	other, taken := w.m.userByEmail(email)
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && (!taken || other == actor.ID)
	if w.do(t, "ChangeEmail", want, rbac.Ref{}, nil, func() error { return errOf(account.Do(w.ctx, w.svc, actor, profile.ChangeEmail{Email: email})) }) {
		w.m.users[actor.ID] = email
	}
}

// checkDecision: Check agrees with the model for a sampled holder, action and scope.
func (w *machine) checkDecision(t *rapid.T) {
	var scopes []rbac.Ref
	for _, tn := range w.m.sortedTenants() {
		scopes = append(scopes, w.m.scopesOf(tn)...)
	}
	if len(scopes) == 0 {
		t.Skip("no scope yet")
	}
	h := w.drawActor(t)
	if rapid.IntRange(0, 4).Draw(t, "teamHolder?") == 0 && len(w.m.everTeams) > 0 {
		h = rbac.Team(w.drawTeam(t))
	}
	s := rapid.SampledFrom(scopes).Draw(t, "scope")
	a := rapid.SampledFrom(rbac.Actions()).Draw(t, "action")
	got, err := w.svc.Check(w.ctx, h, a, s)
	if err != nil {
		t.Fatalf("Check(%v, %v, %v): %v", h, a, s, err)
	}
	want := w.m.decide(h, a, s)
	if got.Allowed != want.Allowed || got.Level != want.Level || got.Rule != want.Rule && !got.Allowed || got.Notice != want.Notice {
		t.Fatalf("Check(%v, %v, %v) = allowed %v at %v; the model says %v at %v (%s)", h, a, s, got.Allowed, got.Level, want.Allowed, want.Level, want.Reason())
	}
	if w.newEvents(t, rbac.Ref{}) != nil {
		t.Fatal("Check wrote an audit event")
	}
}

// listMembers: the listing shows exactly what the visibility rule allows (D18).
func (w *machine) listMembers(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	tn := w.m.tenants[tenant]
	// A request refused by the account's security policy is refused whole.
	want, all := w.m.live(actor) && tn != nil && !w.m.blocked(actor, tenant), false
	var within []rbac.Ref
	if want {
		all = w.m.seesAll(actor, tenant)
		if !all {
			within = w.m.administered(actor, tenant)
			want = len(within) > 0
		}
	}
	var got []account.Access
	err := func() error {
		for a, err := range account.All[account.Access](w.ctx, w.svc, actor, account.Members{Tenant: tenant, Page: account.PageRequest{Limit: rapid.IntRange(1, 4).Draw(t, "pageSize")}}) {
			if err != nil {
				return err
			}
			if slices.ContainsFunc(got, func(b account.Access) bool { return b.Holder == a.Holder }) {
				return fmt.Errorf("the member listing holds %v twice across pages", a.Holder)
			}
			got = append(got, a)
		}
		return nil
	}()
	if (err == nil) != want {
		t.Fatalf("Members(%v, %v): the model predicts success=%v, got %v", actor, tenant, want, err)
	}
	if err != nil {
		return
	}
	expect := map[rbac.Holder]bool{}
	var cands []rbac.Holder
	for u := range w.m.members[tenant] {
		cands = append(cands, rbac.User(u))
	}
	for id, inv := range w.m.invites {
		if inv.tenant == tenant {
			cands = append(cands, rbac.Invite(id))
		}
	}
	for _, h := range cands {
		if all {
			expect[h] = true
			continue
		}
		for _, s := range within {
			for _, x := range w.m.below(s) {
				if w.m.level(h, x) >= rbac.Viewer {
					expect[h] = true
				}
			}
		}
	}
	gotSet := map[rbac.Holder]bool{}
	for _, a := range got {
		gotSet[a.Holder] = true
		if a.Owner != (a.Holder == rbac.User(tn.owner)) {
			t.Fatalf("Members: %v marked owner=%v", a.Holder, a.Owner)
		}
	}
	if !maps.Equal(gotSet, expect) {
		t.Fatalf("Members(%v, %v) lists %v; the visibility rule (D18) allows exactly %v", actor, tenant, keys(gotSet), keys(expect))
	}
}

func keys(m map[rbac.Holder]bool) []string {
	var out []string
	for h := range m {
		out = append(out, h.String())
	}
	slices.Sort(out)
	return out
}

// ---- the check after every step ----

func (w *machine) check(t *rapid.T) {
	slices.SortFunc(w.acted, func(a, b store.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range w.acted {
		w.m.touch(e.Actor, e.Tenant)
	}
	w.acted = w.acted[:0]
	err := w.st.View(w.ctx, func(ctx context.Context, r store.Reader) error {
		return w.compare(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	w.tokensWithinCreators(t)
	w.checkHistory(t)
}

// tokensWithinCreators checks invariant 7 on the library's own answers: whatever a
// token may do, its creator may do now (D40), and a dead token may do nothing (D23).
// One scope and action are drawn for each token.
func (w *machine) tokensWithinCreators(t *rapid.T) {
	for _, id := range w.m.everTokens {
		tok := w.m.tokens[id]
		var tenant rbac.Ref
		if tok != nil {
			tenant = tok.tenant
		}
		if !w.m.exists(tenant) {
			continue
		}
		s := rapid.SampledFrom(w.m.scopesOf(tenant)).Draw(t, "tokenScope")
		a := rapid.SampledFrom(rbac.Actions()).Draw(t, "tokenAction")
		d, err := w.svc.Check(w.ctx, rbac.Token(id), a, s)
		if err != nil {
			t.Fatalf("Check(%v, %v, %v): %v", rbac.Token(id), a, s, err)
		}
		if !d.Allowed {
			continue
		}
		if !w.m.alive(tok) {
			t.Fatalf("the dead %v may %v on %v (D23)", rbac.Token(id), a, s)
		}
		c, err := w.svc.Check(w.ctx, rbac.User(tok.creator), a, s)
		// The creator's own security refusals (2FA and SSO, which tokens are not asked)
		// aside.
		if err != nil || !c.Allowed && c.Rule != rbac.RuleRequire2FA && c.Rule != rbac.RuleSSO {
			t.Fatalf("%v may %v on %v but its creator %s may not (%v, %v): a token above its creator (D40)", rbac.Token(id), a, s, tok.creator, c.Reason(), err)
		}
	}
}

// compare checks the store against the model, both ways, and the invariants.
func (w *machine) compare(ctx context.Context, r store.Reader) error {
	m := w.m
	for _, id := range m.everUsers {
		u, err := r.User(ctx, id)
		email, live := m.users[id]
		switch {
		case live && err != nil:
			return fmt.Errorf("user %s: %v", id, err)
		case live && u.Email != email:
			return fmt.Errorf("user %s has email %q, want %q", id, u.Email, email)
		case !live && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("deleted user %s: got %v, want ErrNotFound (D30)", id, err)
		}
	}
	for _, ref := range m.everTenants {
		a, err := r.Account(ctx, ref)
		tn := m.tenants[ref]
		if tn == nil {
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("deleted %v: got %v, want ErrNotFound (D17)", ref, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%v: %v", ref, err)
		}
		// Invariant 1: exactly one owner, who is a member.
		if a.Owner != tn.owner || a.Plan != tn.plan {
			return fmt.Errorf("%v: owner %s plan %s, want %s %s", ref, a.Owner, a.Plan, tn.owner, tn.plan)
		}
		got, err := r.Members(ctx, ref, "", 1000)
		if err != nil {
			return err
		}
		gotSet := map[string]bool{}
		for _, mb := range got {
			gotSet[mb.User] = true
			// Invariant 11: a member's last activity is the model's (D39).
			if want := m.active[mkey{ref, mb.User}]; !mb.LastActive.Equal(want) {
				return fmt.Errorf("%v: member %s last active %v, want %v (D39)", ref, mb.User, mb.LastActive, want)
			}
		}
		if !maps.Equal(gotSet, m.members[ref]) {
			return fmt.Errorf("%v: members %v, want %v", ref, gotSet, m.members[ref])
		}
		if !gotSet[a.Owner] {
			return fmt.Errorf("%v: the owner %s is not a member (invariant 1)", ref, a.Owner)
		}
	}
	for _, ref := range m.everScopes {
		_, err := r.Resource(ctx, ref)
		if m.exists(ref) != (err == nil) {
			return fmt.Errorf("resource %v: exists in store=%v (err %v), in model=%v", ref, err == nil, err, m.exists(ref))
		}
	}
	// Grants, both ways, scope by scope.
	want := map[gkey]mGrant{}
	for k, g := range m.grants {
		want[k] = g
	}
	for _, ref := range append(slices.Clone(m.everTenants), m.everScopes...) {
		for g, err := range r.ScopeGrants(ctx, ref, false) {
			if err != nil {
				return err
			}
			mg, ok := want[gkey{g.Holder, g.Scope}]
			if !ok {
				return fmt.Errorf("store has grant %v that the model does not", g.Grant)
			}
			if mg.level != g.Level || mg.content != g.ViewContent {
				return fmt.Errorf("grant %v: model has %v content=%v", g.Grant, mg.level, mg.content)
			}
			// Invariant 3: no owner grant; nothing above what the granter held.
			if g.Level == rbac.Owner || g.Level > mg.granter {
				return fmt.Errorf("grant %v exceeds its granter's level %v (D4, D12)", g.Grant, mg.granter)
			}
			if g.Holder.Kind == rbac.HolderUser && !m.isMember(m.tenantOf(g.Scope), g.Holder.ID) {
				return fmt.Errorf("grant %v is held by a non-member", g.Grant)
			}
			if g.Tenant != m.tenantOf(g.Scope) {
				return fmt.Errorf("grant %v recorded in tenant %v, want %v", g.Grant, g.Tenant, m.tenantOf(g.Scope))
			}
			delete(want, gkey{g.Holder, g.Scope})
		}
	}
	for k := range want {
		return fmt.Errorf("the model has grant %v %v on %v, the store does not", k.h, want[k].level, k.s)
	}
	for _, id := range m.everTeams {
		tm := m.teams[id]
		if _, err := r.Team(ctx, id); (err == nil) != (tm != nil) {
			return fmt.Errorf("team %s: store err %v, model exists %v", id, err, tm != nil)
		}
		if tm == nil {
			continue
		}
		got := map[string]bool{}
		for u, err := range r.TeamMembers(ctx, id) {
			if err != nil {
				return err
			}
			got[u] = true
		}
		if !maps.Equal(got, tm.members) {
			return fmt.Errorf("team %s: members %v, want %v", id, got, tm.members)
		}
	}
	for _, id := range m.everInvites {
		inv, err := r.Invitation(ctx, id)
		mi := m.invites[id]
		if (err == nil) != (mi != nil) {
			return fmt.Errorf("invitation %s: store err %v, model exists %v", id, err, mi != nil)
		}
		if mi != nil && (inv.Email != mi.email || inv.Tenant != mi.tenant || !inv.Expires.Equal(mi.expires)) {
			return fmt.Errorf("invitation %s: %s in %v expiring %v, want %s in %v expiring %v", id, inv.Email, inv.Tenant, inv.Expires, mi.email, mi.tenant, mi.expires)
		}
	}
	for _, id := range m.everTokens {
		tok, err := r.Token(ctx, id)
		mt := m.tokens[id]
		if (err == nil) != (mt != nil) {
			return fmt.Errorf("token %s: store err %v, model exists %v", id, err, mt != nil)
		}
		if mt != nil && ((tok.ResetTo != "") != mt.reset || !tok.Expires.Equal(mt.expires)) {
			return fmt.Errorf("token %s: reset to %q, expires %v; model reset %v, expires %v (D38)", id, tok.ResetTo, tok.Expires, mt.reset, mt.expires)
		}
		if mt != nil && !tok.LastUsed.Equal(m.used[id]) {
			return fmt.Errorf("token %s: last used %v, want %v (D39)", id, tok.LastUsed, m.used[id])
		}
		if mt != nil && len(tok.Hash) == 0 {
			return fmt.Errorf("token %s has no hash (D23)", id)
		}
	}
	return w.compareLinks(ctx, r)
}

// errOf returns the error of an operation's result.
func errOf[R any](_ R, err error) error { return err }
