package accounttest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// Existence checks, for random worlds and random actors, that every operation, filter
// and listing naming something that exists but that the actor cannot see answers
// exactly as the same call naming something that does not exist: the same error (the
// same type, and the same message once the two names are swapped), no change to the
// store and no audit event. Scopes (accounts, organizations and what they hold) and
// subjects (members, invitations, tokens, teams) are both probed.
func Existence(t *testing.T, newStore func(t *testing.T) store.Store) {
	rapid.Check(t, func(rt *rapid.T) {
		st := newStore(t)
		defer release(st)
		w := newMachine(t.Context(), st)
		w.build(rt)
		actor := w.drawProbeActor(rt)
		if hidden := w.hiddenScopes(actor); len(hidden) > 0 {
			x := rapid.SampledFrom(hidden).Draw(rt, "hiddenScope")
			w.probeScope(rt, actor, x)
		}
		if tenant, hidden := w.hiddenSubjects(rt, actor); len(hidden) > 0 {
			h := rapid.SampledFrom(hidden).Draw(rt, "hiddenSubject")
			w.probeSubject(rt, actor, tenant, h)
		}
		if n := w.newEvents(rt, rbac.Ref{}); len(n) != 0 {
			rt.Fatalf("probes wrote audit events in %v", n)
		}
		w.check(rt)
	})
}

// build makes a random world with the state machine's own building operations, each
// checked against the model as in the state machine.
func (w *machine) build(t *rapid.T) {
	ops := []func(*rapid.T){
		w.register, w.onboard, w.onboard, w.onboard, w.createAccount, w.createOrganization,
		w.createSubAccount, w.createResource, w.createResource, w.invite, w.setPermissions,
		w.setPermissions, w.createTeam, w.teamMember, w.createToken,
	}
	w.register(t)
	for range rapid.IntRange(5, 40).Draw(t, "steps") {
		ops[rapid.IntRange(0, len(ops)-1).Draw(t, "op")](t)
	}
	w.newEvents(t, rbac.Ref{}) // the world's own events are not the probes'
}

// drawProbeActor draws a live user or token of the world, or a stranger.
func (w *machine) drawProbeActor(t *rapid.T) rbac.Holder {
	var cands []rbac.Holder
	for _, id := range w.m.everUsers {
		if w.m.live(rbac.User(id)) {
			cands = append(cands, rbac.User(id))
		}
	}
	for _, id := range w.m.everTokens {
		if w.m.live(rbac.Token(id)) {
			cands = append(cands, rbac.Token(id))
		}
	}
	return rapid.SampledFrom(cands).Draw(t, "actor")
}

// seesScope reports whether actor can see scope s (which exists): some level there,
// a membership of it, or a grant (its own or one of its teams') at or below it.
func (m *model) seesScope(actor rbac.Holder, s rbac.Ref) bool {
	if m.level(actor, s) >= rbac.Viewer {
		return true
	}
	if actor.Kind == rbac.HolderUser && s.Kind.Ownable() && m.isMember(s, actor.ID) {
		return true
	}
	tenant := m.tenantOf(s)
	holders := []rbac.Holder{actor}
	if actor.Kind == rbac.HolderUser {
		for id, tm := range m.teams {
			if tm.tenant == tenant && tm.members[actor.ID] {
				holders = append(holders, rbac.Team(id))
			}
		}
	}
	for _, x := range m.below(s) {
		for _, h := range holders {
			if _, ok := m.grants[gkey{h, x}]; ok {
				return true
			}
		}
	}
	return false
}

// hiddenScopes returns the live scopes actor cannot see.
func (w *machine) hiddenScopes(actor rbac.Holder) []rbac.Ref {
	var out []rbac.Ref
	for _, tn := range w.m.sortedTenants() {
		for _, s := range w.m.scopesOf(tn) {
			if !w.m.seesScope(actor, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// hiddenSubjects draws a tenant actor can see and returns its members, invitations,
// tokens and teams that actor cannot see.
func (w *machine) hiddenSubjects(t *rapid.T, actor rbac.Holder) (rbac.Ref, []rbac.Holder) {
	var tenants []rbac.Ref
	for _, tn := range w.m.sortedTenants() {
		if w.m.seesScope(actor, tn) {
			tenants = append(tenants, tn)
		}
	}
	if len(tenants) == 0 {
		return rbac.Ref{}, nil
	}
	tenant := rapid.SampledFrom(tenants).Draw(t, "seenTenant")
	var out []rbac.Holder
	for u := range w.m.members[tenant] {
		out = append(out, rbac.User(u))
	}
	for id, inv := range w.m.invites {
		if inv.tenant == tenant {
			out = append(out, rbac.Invite(id))
		}
	}
	for id, tok := range w.m.tokens {
		if tok.tenant == tenant {
			out = append(out, rbac.Token(id))
		}
	}
	for id, tm := range w.m.teams {
		if tm.tenant == tenant {
			out = append(out, rbac.Team(id))
		}
	}
	out = slices.DeleteFunc(out, func(h rbac.Holder) bool { return w.m.sees(actor, tenant, h) })
	slices.SortFunc(out, rbac.Holder.Compare)
	return tenant, out
}

// ghost returns an ID that never exists, of the same shape as id.
func ghost(id string) string { return id + "-ghost" }

// same runs call with the hidden scope or subject named kind:x and with a ghost of
// the same kind, and fails unless both answer alike.
func (w *machine) same(t *rapid.T, what, kind, x string, call func(id string) error) {
	y := ghost(x)
	errX, errY := call(x), call(y)
	if (errX == nil) != (errY == nil) {
		t.Fatalf("%s: naming the hidden %s answers %v, naming nothing answers %v", what, x, errX, errY)
	}
	if errX == nil {
		t.Fatalf("%s succeeded on the hidden %s and on a name that does not exist", what, x)
	}
	for _, target := range typedErrs {
		if errors.Is(errX, target) != errors.Is(errY, target) {
			t.Fatalf("%s: the hidden %s answers %v, nothing answers %v", what, x, errX, errY)
		}
	}
	if mx, my := normalize(errX.Error(), kind, x), normalize(errY.Error(), kind, y); mx != my {
		t.Fatalf("%s: the answers differ:\n  hidden %s: %s\n  nothing:   %s", what, x, mx, my)
	}
}

// normalize replaces the name kind:id in msg by a placeholder; for an account, also
// the names of its billing, templates and campaigns scopes, which share its ID.
func normalize(msg, kind, id string) string {
	kinds := []string{kind}
	if kind == rbac.KindAccount.String() {
		kinds = append(kinds, rbac.KindBilling.String(), rbac.KindTemplates.String(), rbac.KindCampaigns.String())
	}
	for _, k := range kinds {
		re := regexp.MustCompile(regexp.QuoteMeta(k+":"+id) + `\b`)
		msg = re.ReplaceAllString(msg, k+":<id>")
	}
	return msg
}

// probeScope runs every operation, filter and listing that takes a scope, with the
// hidden scope x and with a ghost of the same kind.
func (w *machine) probeScope(t *rapid.T, actor rbac.Holder, x rbac.Ref) {
	ctx := w.ctx
	ref := func(id string) rbac.Ref { return rbac.Ref{Kind: x.Kind, ID: id} }
	me := rbac.User("user-nobody")
	if u := w.m.everUsers; len(u) > 0 {
		me = rbac.User(u[0])
	}
	// A tenant the actor can see, for filters and grants that name x inside it.
	var seen rbac.Ref
	for _, tn := range w.m.sortedTenants() {
		if w.m.seesScope(actor, tn) {
			seen = tn
			break
		}
	}
	probes := map[string]func(id string) error{
		"Authorize": func(id string) error { return w.svc.Authorize(ctx, actor, rbac.MembersList, ref(id)) },
		"Level": func(id string) error {
			return errOf(account.Get(ctx, w.svc, actor, account.Level{Holder: actor, Scope: ref(id)}))
		},
		"Invite grant": func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.Invite{Tenant: seen, Email: "probe@x.test", Grants: []account.GrantSpec{{Scope: ref(id), Level: rbac.Viewer}}}))
		},
		"SetPermissions scope": func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.SetPermissions{Tenant: seen, Holder: actor, Changes: []account.PermissionChange{{Scope: ref(id), Level: rbac.Viewer}}}))
		},
		"Members filter": func(id string) error {
			return errOf(account.Get(ctx, w.svc, actor, account.Members{Tenant: seen, Scopes: []rbac.Ref{ref(id)}}))
		},
		"RemoveFromResource": func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.RemoveFromResource{Scope: ref(id), Member: me}))
		},
		"Resource": func(id string) error {
			return errOf(account.Get(ctx, w.svc, actor, account.Resource{Resource: ref(id)}))
		},
	}
	if x.Kind.Ownable() {
		maps := map[string]func(id string) error{
			"Account": func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.Account{Account: ref(id)})) },
			"RenameAccount": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.RenameAccount{Account: ref(id), Name: "N"}))
			},
			"DeleteAccount": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.DeleteAccount{Account: ref(id)}))
			},
			"Transfer": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.TransferOwnership{Account: ref(id), To: me}))
			},
			"Leave": func(id string) error { return errOf(account.Do(ctx, w.svc, actor, account.Leave{Account: ref(id)})) },
			"SetPlan": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.SetPlan{Account: ref(id), Plan: "starter"}))
			},
			"Members": func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.Members{Tenant: ref(id)})) },
			"Seats":   func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.Seats{Tenant: ref(id)})) },
			"Teams":   func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.Teams{Tenant: ref(id)})) },
			"Tokens":  func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.Tokens{Tenant: ref(id)})) },
			"Events":  func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.Events{Tenant: ref(id)})) },
			"CreateTeam": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.CreateTeam{Tenant: ref(id), Name: "T"}))
			},
			"Invite": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.Invite{Tenant: ref(id), Email: "probe@x.test"}))
			},
			"CreateToken": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.CreateToken{Tenant: ref(id), Name: "k"}))
			},
			"RemoveMember": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.RemoveMember{Tenant: ref(id), Member: me}))
			},
			"RevokeInvitation": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.RevokeInvitation{Tenant: ref(id), Invitation: rbac.Invite("inv-1")}))
			},
			"Token": func(id string) error {
				return errOf(account.Get(ctx, w.svc, actor, account.Token{Tenant: ref(id), Token: rbac.Token("tok-1")}))
			},
			"Resources": func(id string) error {
				return errOf(account.Get(ctx, w.svc, actor, account.Resources{Account: ref(id)}))
			},
			"CreateProject": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.CreateResource{Parent: ref(id), Kind: rbac.KindProject, Name: "P"}))
			},
			"SubAccounts": func(id string) error { return errOf(account.Get(ctx, w.svc, actor, account.SubAccounts{Org: ref(id)})) },
			"CreateSubAccount": func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.CreateSubAccount{Org: ref(id), Name: "S"}))
			},
		}
		for k, v := range maps {
			probes[k] = v
		}
	} else {
		probes["RenameResource"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.RenameResource{Resource: ref(id), Name: "N"}))
		}
		probes["DeleteResource"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.DeleteResource{Resource: ref(id)}))
		}
		if x.Kind == rbac.KindProject {
			probes["CreateInbox"] = func(id string) error {
				return errOf(account.Do(ctx, w.svc, actor, account.CreateResource{Parent: ref(id), Kind: rbac.KindInbox, Name: "I"}))
			}
		}
	}
	for _, name := range sortedKeys(probes) {
		w.same(t, fmt.Sprintf("%s(%v) by %v", name, x, actor), x.Kind.String(), x.ID, probes[name])
	}
}

// probeSubject runs every operation that names a member, invitation, token or team of
// tenant, with the hidden subject h and with a ghost of the same kind.
func (w *machine) probeSubject(t *rapid.T, actor rbac.Holder, tenant rbac.Ref, h rbac.Holder) {
	ctx := w.ctx
	holder := func(id string) rbac.Holder { return rbac.Holder{Kind: h.Kind, ID: id} }
	scopes := w.m.scopesOf(tenant)
	scope := scopes[len(scopes)-1]
	probes := map[string]func(id string) error{
		"SetPermissions": func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.SetPermissions{Tenant: tenant, Holder: holder(id), Changes: []account.PermissionChange{{Scope: tenant, Level: rbac.Viewer}}}))
		},
		"Level": func(id string) error {
			return errOf(account.Get(ctx, w.svc, actor, account.Level{Holder: holder(id), Scope: tenant}))
		},
		"RemoveFromResource": func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.RemoveFromResource{Scope: scope, Member: holder(id)}))
		},
	}
	switch h.Kind {
	case rbac.HolderUser:
		probes["RemoveMember"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.RemoveMember{Tenant: tenant, Member: holder(id)}))
		}
	case rbac.HolderInvite:
		probes["RevokeInvitation"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.RevokeInvitation{Tenant: tenant, Invitation: holder(id)}))
		}
	case rbac.HolderToken:
		probes["Token"] = func(id string) error {
			return errOf(account.Get(ctx, w.svc, actor, account.Token{Tenant: tenant, Token: holder(id)}))
		}
		probes["ResetToken"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.ResetToken{Tenant: tenant, Token: holder(id)}))
		}
		probes["DeleteToken"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.DeleteToken{Tenant: tenant, Token: holder(id)}))
		}
	case rbac.HolderTeam:
		probes["RenameTeam"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.RenameTeam{Tenant: tenant, Team: holder(id), Name: "N"}))
		}
		probes["DeleteTeam"] = func(id string) error {
			return errOf(account.Do(ctx, w.svc, actor, account.DeleteTeam{Tenant: tenant, Team: holder(id)}))
		}
		probes["TeamMembers"] = func(id string) error {
			return errOf(account.Get(ctx, w.svc, actor, account.TeamMembers{Tenant: tenant, Team: holder(id)}))
		}
	}
	for _, name := range sortedKeys(probes) {
		w.same(t, fmt.Sprintf("%s(%v in %v) by %v", name, h, tenant, actor), h.Kind.String(), h.ID, probes[name])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
