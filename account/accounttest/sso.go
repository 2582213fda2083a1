package accounttest

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

var (
	opsDomains = []string{"x.test", "y.test"} // opsEmails are all in x.test
	opsGroups  = []string{"eng", "leads"}
)

// securityAdmin reports whether actor may manage tenant's security settings and SSO:
// a live user, admin there, on a plan that has them.
func (w *machine) securityAdmin(actor rbac.Holder, tenant rbac.Ref) bool {
	return w.m.live(actor) && actor.Kind == rbac.HolderUser && w.m.tenants[tenant] != nil &&
		w.m.actorLevel(actor, tenant) >= rbac.Admin && planOf(w.rootPlan(tenant)).SecurityPolicies
}

// securityManager reports whether actor may remove tenant's connections and domains:
// admin there, on any plan, a person or a token.
func (w *machine) securityManager(actor rbac.Holder, tenant rbac.Ref) bool {
	return w.m.live(actor) && w.m.tenants[tenant] != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin
}

// ssoTouched records that an SSO operation wrote tenant's policy record (D33).
func (w *machine) ssoTouched(tenant rbac.Ref) {
	if _, ok := w.m.policies[tenant]; !ok {
		w.m.policies[tenant] = rbac.Policy{}
	}
}

// ssoConnect creates, updates or deletes an SSO connection with a random mapping.
func (w *machine) ssoConnect(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	var mapping []store.RoleMapping
	if w.m.tenants[tenant] != nil {
		for _, g := range opsGroups {
			if rapid.Bool().Draw(t, "map "+g) {
				mapping = append(mapping, store.RoleMapping{Group: g,
					Scope: rapid.SampledFrom(w.m.scopesOf(tenant)).Draw(t, "mapScope"),
					Level: rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "mapLevel")})
			}
		}
	}
	mappingOK := func() bool {
		for _, m := range mapping {
			if l := w.m.actorLevel(actor, m.Scope); !w.m.exists(m.Scope) || w.m.tenantOf(m.Scope) != tenant || l < rbac.Admin || l < m.Level {
				return false
			}
		}
		return true
	}
	enforce, noPersonal := rapid.Bool().Draw(t, "enforce"), rapid.Bool().Draw(t, "noPersonal")
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(w.m.conns)) {
		if w.m.conns[id].tenant == tenant {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || rapid.IntRange(0, 2).Draw(t, "newConnection?") == 0 {
		want := w.securityAdmin(actor, tenant) && mappingOK()
		var c store.SSOConnection
		if w.do(t, "CreateSSO", want, tenant, nil, func() error {
			var err error
			c, err = account.Do(w.ctx, w.svc, actor, account.CreateSSOConnection{Tenant: tenant, Name: "IdP", Enforce: enforce, NoPersonalAccount: noPersonal, Mapping: mapping})
			return err
		}) {
			w.m.conns[c.ID] = &mConn{tenant: tenant, enforce: enforce, noPersonal: noPersonal, mapping: mapping, author: actor.ID}
			w.ssoTouched(tenant)
		}
		return
	}
	id := rapid.SampledFrom(ids).Draw(t, "connection")
	if rapid.IntRange(0, 3).Draw(t, "deleteConnection?") == 0 {
		if w.do(t, "DeleteSSO", w.securityManager(actor, tenant), tenant, nil, func() error {
			return errOf(account.Do(w.ctx, w.svc, actor, account.DeleteSSOConnection{Tenant: tenant, Connection: id}))
		}) {
			delete(w.m.conns, id)
		}
		return
	}
	want := w.securityAdmin(actor, tenant) && mappingOK()
	if w.do(t, "UpdateSSO", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.UpdateSSOConnection{Tenant: tenant, Connection: id, Name: "IdP", Enforce: enforce, NoPersonalAccount: noPersonal, Mapping: mapping}))
	}) {
		w.m.conns[id] = &mConn{tenant: tenant, enforce: enforce, noPersonal: noPersonal, mapping: mapping, author: actor.ID}
	}
}

// verifyDomain verifies or removes a domain, with a capture level (D33, D34).
func (w *machine) verifyDomain(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	name := rapid.SampledFrom(opsDomains).Draw(t, "domain")
	d := w.m.domains[name]
	if d != nil && rapid.IntRange(0, 3).Draw(t, "removeDomain?") == 0 {
		want := w.securityManager(actor, tenant) && d.tenant == tenant
		if w.do(t, "RemoveDomain", want, tenant, nil, func() error {
			return errOf(account.Do(w.ctx, w.svc, actor, account.RemoveDomain{Tenant: tenant, Domain: name}))
		}) {
			delete(w.m.domains, name)
		}
		return
	}
	capture := rapid.SampledFrom([]rbac.Level{rbac.None, rbac.Viewer, rbac.Admin}).Draw(t, "capture")
	want := w.securityAdmin(actor, tenant) && (d == nil || d.tenant == tenant)
	if w.do(t, "VerifyDomain", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.VerifyDomain{Tenant: tenant, Domain: name, Capture: capture}))
	}) {
		w.m.domains[name] = &mDomain{tenant: tenant, capture: capture}
		w.ssoTouched(tenant)
	}
}

// ssoSignIn: the service reports an SSO sign-in; the user and membership are made
// just in time, and the mapping applied (D33).
func (w *machine) ssoSignIn(t *rapid.T) {
	// Mostly a connection of a tenant that verified the users' domain.
	ids := slices.Sorted(maps.Keys(w.m.conns))
	var good []string
	for _, id := range ids {
		if d := w.m.domains[opsDomains[0]]; d != nil && d.tenant == w.m.conns[id].tenant {
			good = append(good, id)
		}
	}
	if len(good) > 0 && rapid.IntRange(0, 3).Draw(t, "goodConnection?") > 0 {
		ids = good
	}
	id := "sso-none"
	if len(ids) > 0 {
		id = rapid.SampledFrom(ids).Draw(t, "connection")
	}
	email := rapid.SampledFrom(opsEmails).Draw(t, "email")
	groups := rapid.SliceOfDistinct(rapid.SampledFrom(opsGroups), rapid.ID[string]).Draw(t, "groups")
	c := w.m.conns[id]
	var tenant rbac.Ref
	if c != nil {
		tenant = c.tenant
	}
	d := w.m.domains[rbac.EmailDomain(email)]
	uid, known := w.m.userByEmail(email)
	want := c != nil && d != nil && d.tenant == c.tenant
	joins := want && (!known || !w.m.isMember(tenant, uid))
	if joins {
		pool, limit := w.seatPool(tenant)
		want = planOf(w.rootPlan(tenant)).UserManagement && (pool[email] || limit == 0 || len(pool)+1 <= limit)
	}
	touched := []rbac.Ref{tenant}
	if want && !known && !c.noPersonal {
		// First, so that the events are read from the new account's log too.
		touched = append([]rbac.Ref{rbac.Account("acct-" + fmt.Sprint(w.ids+2))}, touched...)
	}
	var out account.SSOSignedIn
	if !w.doIn(t, "SSOSignIn", want, touched, nil, func() error {
		var err error
		out, err = account.Do(w.ctx, w.svc, rbac.Holder{}, account.SSOSignIn{Connection: id, Email: email, Groups: groups})
		return err
	}) {
		return
	}
	if !known {
		uid = out.User.ID
		w.m.users[uid] = email
		w.m.everUsers = append(w.m.everUsers, uid)
		if !c.noPersonal {
			w.m.addTenant(out.Account, uid, "", opsPlans[0].Name)
		}
	}
	if joins {
		w.m.members[tenant][uid] = true
	}
	w.applyMapping(t, c, tenant, uid, groups, out.Mapped)
}

// applyMapping is the model of a mapping applied at sign-in: the grants it gave and
// still gives stay or change, those it no longer gives go, hand-given ones and the
// owner's are untouched, nothing above the author (D33).
func (w *machine) applyMapping(t *rapid.T, c *mConn, tenant rbac.Ref, uid string, groups []string, got []store.MappedGrant) {
	k := mkey{tenant, uid}
	if w.m.tenants[tenant].owner == uid {
		if !slices.Equal(got, w.m.mapped[k]) {
			t.Fatalf("SSOSignIn changed the owner's mapped grants: %v, had %v", got, w.m.mapped[k])
		}
		return
	}
	want := map[rbac.Ref]rbac.Level{}
	for _, m := range c.mapping {
		if slices.Contains(groups, m.Group) && m.Level > want[m.Scope] {
			want[m.Scope] = m.Level
		}
	}
	had := map[rbac.Ref]rbac.Level{}
	for _, p := range w.m.mapped[k] {
		had[p.Scope] = p.Level
	}
	scopes := slices.Collect(maps.Keys(want))
	for s := range had {
		if _, ok := want[s]; !ok {
			scopes = append(scopes, s)
		}
	}
	slices.SortFunc(scopes, rbac.Ref.Compare)
	me := rbac.User(uid)
	var mapped []store.MappedGrant
	for _, s := range scopes {
		cur := rbac.None
		if g, ok := w.m.grants[gkey{me, s}]; ok {
			cur = g.level
		}
		prev, from := had[s]
		ours := from && cur == prev
		if cur != rbac.None && !ours {
			continue
		}
		to := want[s]
		author := rbac.User(c.author)
		al := w.m.level(author, s)
		if to != rbac.None && c.author != uid && w.m.live(author) && w.m.exists(s) && al >= rbac.Admin && al >= to {
			w.m.grants[gkey{me, s}] = mGrant{level: to, granter: al}
			mapped = append(mapped, store.MappedGrant{Scope: s, Level: to})
			continue
		}
		if ours && cur != rbac.None {
			delete(w.m.grants, gkey{me, s})
		}
	}
	if !slices.Equal(got, mapped) {
		t.Fatalf("SSOSignIn mapped %v, the model says %v", got, mapped)
	}
	if len(mapped) == 0 {
		delete(w.m.mapped, k)
	} else {
		w.m.mapped[k] = mapped
	}
}

// joinDomain: a user of a captured domain joins on their own (D34).
func (w *machine) joinDomain(t *rapid.T) {
	tenant := w.drawTenant(t)
	if d := w.m.domains[opsDomains[0]]; d != nil && rapid.IntRange(0, 3).Draw(t, "capturingTenant?") > 0 {
		tenant = d.tenant
	}
	actor := w.drawActor(t)
	email := w.m.users[actor.ID]
	d := w.m.domains[rbac.EmailDomain(email)]
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && w.m.tenants[tenant] != nil && d != nil && d.tenant == tenant &&
		d.capture != rbac.None && !w.m.isMember(tenant, actor.ID) && planOf(w.rootPlan(tenant)).UserManagement
	if want {
		pool, limit := w.seatPool(tenant)
		want = pool[email] || limit == 0 || len(pool)+1 <= limit
	}
	if w.do(t, "JoinDomain", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.JoinByDomain{Tenant: tenant}))
	}) {
		w.m.members[tenant][actor.ID] = true
		w.m.grants[gkey{actor, tenant}] = mGrant{level: d.capture, granter: d.capture}
	}
}

// compareSSO checks connections, domains and members' mapped grants against the
// model, both ways.
func (w *machine) compareSSO(ctx context.Context, r store.Reader) error {
	for _, ref := range w.m.everTenants {
		var ids []string
		for c, err := range r.SSOConnections(ctx, ref) {
			if err != nil {
				return err
			}
			mc := w.m.conns[c.ID]
			if mc == nil || mc.tenant != ref || mc.enforce != c.Enforce || mc.noPersonal != c.NoPersonalAccount || !slices.Equal(mc.mapping, c.Mapping) || mc.author != c.CreatedBy {
				return fmt.Errorf("SSO connection %+v, model %+v", c, mc)
			}
			ids = append(ids, c.ID)
		}
		for id, mc := range w.m.conns {
			if mc.tenant == ref && !slices.Contains(ids, id) {
				return fmt.Errorf("the model has SSO connection %s in %v, the store does not", id, ref)
			}
		}
		for d, err := range r.Domains(ctx, ref) {
			if err != nil {
				return err
			}
			md := w.m.domains[d.Name]
			if md == nil || md.tenant != ref || md.capture != d.Capture {
				return fmt.Errorf("domain %+v, model %+v", d, md)
			}
		}
		if w.m.tenants[ref] == nil {
			continue
		}
		for u := range w.m.members[ref] {
			mb, err := r.Member(ctx, ref, u)
			if err != nil {
				return err
			}
			if !slices.Equal(mb.Mapped, w.m.mapped[mkey{ref, u}]) {
				return fmt.Errorf("member %s of %v: mapped %v, model %v", u, ref, mb.Mapped, w.m.mapped[mkey{ref, u}])
			}
		}
	}
	for name, md := range w.m.domains {
		if _, err := r.Domain(ctx, name); err != nil {
			return fmt.Errorf("domain %s of %v: %v", name, md.tenant, err)
		}
	}
	return nil
}
