package storetest

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// This file holds the SSO group: single sign-on connections, verified domains, the
// grants an SSO role mapping gave a member (Member.Mapped), the connections and
// enforced domains of a security policy, and checks under enforced single sign-on.

// ssoClauses are the clauses of the SSO group.
var ssoClauses = []clause{
	{name: "ConnectionsPutAndGet", fn: ssoConnections},
	{name: "ConnectionReplaceKeepsTenant", fn: ssoConnectionReplace},
	{name: "ConnectionCopiesInAndOut", fn: ssoConnectionCopies},
	{name: "DomainsLowerCase", fn: ssoDomains},
	{name: "DomainBelongsToOneTenant", fn: ssoDomainOneTenant},
	{name: "NotFound", fn: ssoNotFound},
	{name: "DeleteAccountCascades", fn: ssoDeleteAccount},
	{name: "RolledBackLeavesNoTrace", fn: ssoRolledBack},
	{name: "MemberMapped", fn: ssoMapped},
	{name: "SetMappedOfNonMember", fn: ssoSetMappedNotFound},
	{name: "PolicySSOFields", fn: ssoPolicyFields},
	{name: "CheckEnforcesSSO", fn: ssoCheck},
}

// newConnection returns a connection of tenant created by ann at t0.
func newConnection(id string, tenant rbac.Ref, mapping ...store.RoleMapping) store.SSOConnection {
	return store.SSOConnection{ID: id, Tenant: tenant, Name: "Name of " + id, Mapping: mapping, CreatedBy: uAnn, Created: t0}
}

// newDomain returns the domain name verified by tenant, by ann at t0.
func newDomain(name string, tenant rbac.Ref, capture rbac.Level) store.Domain {
	return store.Domain{Name: name, Tenant: tenant, VerifiedBy: uAnn, Verified: t0, Capture: capture}
}

func eqConnection(a, b store.SSOConnection) bool {
	return a.ID == b.ID && a.Tenant == b.Tenant && a.Name == b.Name && a.Enforce == b.Enforce &&
		a.NoPersonalAccount == b.NoPersonalAccount && slices.Equal(a.Mapping, b.Mapping) && a.CreatedBy == b.CreatedBy &&
		a.Created.Equal(b.Created)
}

func eqDomain(a, b store.Domain) bool {
	return a.Name == b.Name && a.Tenant == b.Tenant && a.VerifiedBy == b.VerifiedBy && a.Verified.Equal(b.Verified) && a.Capture == b.Capture
}

// connection reads the connection id: found false on ErrNotFound.
func (e *env) connection(id string) (c store.SSOConnection, found bool) {
	found = e.exists("SSOConnection "+id, func(ctx context.Context, r store.Reader) error {
		var err error
		c, err = r.SSOConnection(ctx, id)
		return err
	})
	return c, found
}

// domain reads the domain name: found false on ErrNotFound.
func (e *env) domain(name string) (d store.Domain, found bool) {
	found = e.exists("Domain "+name, func(ctx context.Context, r store.Reader) error {
		var err error
		d, err = r.Domain(ctx, name)
		return err
	})
	return d, found
}

func (e *env) connections(tenant rbac.Ref) []store.SSOConnection {
	return list(e, "SSOConnections "+tenant.String(), func(ctx context.Context, r store.Reader) iter.Seq2[store.SSOConnection, error] {
		return r.SSOConnections(ctx, tenant)
	})
}

func (e *env) domains(tenant rbac.Ref) []store.Domain {
	return list(e, "Domains "+tenant.String(), func(ctx context.Context, r store.Reader) iter.Seq2[store.Domain, error] {
		return r.Domains(ctx, tenant)
	})
}

// putSSO puts connections and domains in one Update.
func (e *env) putSSO(cs []store.SSOConnection, ds []store.Domain) {
	e.do("putting SSO connections and domains", func(ctx context.Context, w store.Writer) error {
		for _, c := range cs {
			if err := w.PutSSOConnection(ctx, c); err != nil {
				return err
			}
		}
		for _, d := range ds {
			if err := w.PutDomain(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// The role mappings of the suite's connections.
var (
	mapOps   = store.RoleMapping{Group: "ops", Scope: a1, Level: rbac.Admin}
	mapDev   = store.RoleMapping{Group: "dev", Scope: p1, Level: rbac.Admin}
	mapAll   = store.RoleMapping{Group: "everyone", Scope: o1, Level: rbac.Viewer}
	mapInbox = store.RoleMapping{Group: "support", Scope: i2, Level: rbac.Viewer}
)

func ssoConnections(e *env) {
	e.world()
	zone := time.FixedZone("UTC-3", -3*60*60)
	cs := []store.SSOConnection{
		newConnection("c2", o1, mapAll, mapOps, mapDev),
		newConnection("c1", a1, mapDev),
		newConnection("c3", a2),
		newConnection("c0", o1),
	}
	cs[0].Enforce, cs[0].NoPersonalAccount = true, true
	cs[1].Created, cs[1].CreatedBy = t0.Add(time.Hour).In(zone), uCy
	cs[3].Mapping = []store.RoleMapping{} // empty: reads back as none
	e.putSSO(cs, nil)
	for _, want := range cs {
		got, found := e.connection(want.ID)
		if !found || !eqConnection(got, want) {
			e.Errorf("store.go: Reader.SSOConnection must return the connection as PutSSOConnection stored it, its Mapping in order: got %+v (found %v), want %+v", got, found, want)
		}
		if found && len(want.Mapping) == 0 && got.Mapping != nil {
			e.Errorf("store.go: an SSOConnection with an empty Mapping must read back with a nil one: %s got %#v", want.ID, got.Mapping)
		}
	}
	for _, c := range []struct {
		tenant rbac.Ref
		want   []store.SSOConnection
	}{
		{o1, []store.SSOConnection{cs[3], cs[0]}},
		{a1, []store.SSOConnection{cs[1]}},
		{a2, []store.SSOConnection{cs[2]}},
		{a3, nil},
		{rbac.Account("nope"), nil},
	} {
		if got := e.connections(c.tenant); !slices.EqualFunc(got, c.want, eqConnection) {
			e.Errorf("store.go: Reader.SSOConnections(%v) must list the tenant's connections by ID: got %+v, want %+v", c.tenant, got, c.want)
		}
	}

	// Put replaces: another mapping, then none.
	repl := cs[0]
	repl.Name, repl.Enforce, repl.Mapping = "Renamed", false, []store.RoleMapping{mapDev, mapAll}
	e.putSSO([]store.SSOConnection{repl}, nil)
	if got, _ := e.connection("c2"); !eqConnection(got, repl) {
		e.Errorf("store.go: Writer.PutSSOConnection must replace the connection with its ID: got %+v, want %+v", got, repl)
	}
	repl.Mapping = nil
	e.putSSO([]store.SSOConnection{repl}, nil)
	if got, _ := e.connection("c2"); !eqConnection(got, repl) || got.Mapping != nil {
		e.Errorf("store.go: Writer.PutSSOConnection with no Mapping must clear it: got %+v, want %+v", got, repl)
	}

	e.do("delete c1", func(ctx context.Context, w store.Writer) error { return w.DeleteSSOConnection(ctx, "c1") })
	if _, found := e.connection("c1"); found {
		e.Errorf("store.go: Writer.DeleteSSOConnection must delete the connection")
	}
	if got := e.connections(a1); len(got) != 0 {
		e.Errorf("store.go: Reader.SSOConnections must not list a deleted connection: got %+v", got)
	}
	if got := e.connections(o1); len(got) != 2 {
		e.Errorf("store.go: Writer.DeleteSSOConnection must delete only that connection: o1 has %+v", got)
	}
}

func ssoConnectionReplace(e *env) {
	e.world()
	c := newConnection("c1", a1, mapOps)
	e.putSSO([]store.SSOConnection{c}, nil)
	for _, other := range []rbac.Ref{a2, rbac.Account("nope"), {}} {
		moved := newConnection("c1", other, mapDev)
		moved.Name = "Moved to " + other.String()
		e.putSSO([]store.SSOConnection{moved}, nil)
		want := moved
		want.Tenant = a1
		if got, found := e.connection("c1"); !found || !eqConnection(got, want) {
			e.Errorf("store.go: Writer.PutSSOConnection replacing a connection must keep its Tenant (given %v): got %+v (found %v), want %+v", other, got, found, want)
		}
		if got := e.connections(a1); !slices.EqualFunc(got, []store.SSOConnection{want}, eqConnection) {
			e.Errorf("store.go: a replaced connection must stay listed under its tenant: SSOConnections(a1) got %+v", got)
		}
		if other.Kind != 0 {
			if got := e.connections(other); len(got) != 0 {
				e.Errorf("store.go: a replaced connection must not be listed under the tenant the replacement named (%v): got %+v", other, got)
			}
		}
	}
}

func ssoConnectionCopies(e *env) {
	e.world()
	c := newConnection("c1", a1, mapOps, mapDev)
	e.putSSO([]store.SSOConnection{c}, nil)
	c.Mapping[0] = mapInbox
	got, _ := e.connection("c1")
	if len(got.Mapping) != 2 || got.Mapping[0] != mapOps {
		e.Fatalf("store.go: stores copy records in: changing the caller's SSOConnection.Mapping after PutSSOConnection changed the stored connection: got %+v", got.Mapping)
	}
	got.Mapping[1] = mapInbox
	if again, _ := e.connection("c1"); len(again.Mapping) != 2 || again.Mapping[1] != mapDev {
		e.Errorf("store.go: stores copy records out: changing a returned SSOConnection.Mapping changed the stored connection: got %+v", again.Mapping)
	}
	listed := e.connections(a1)
	if len(listed) == 1 && len(listed[0].Mapping) == 2 {
		listed[0].Mapping[0] = mapInbox
		if again, _ := e.connection("c1"); len(again.Mapping) != 2 || again.Mapping[0] != mapOps {
			e.Errorf("store.go: stores copy records out: changing the Mapping of a connection Reader.SSOConnections returned changed the stored connection: got %+v", again.Mapping)
		}
	}
}

func ssoDomains(e *env) {
	e.world()
	zone := time.FixedZone("UTC+5:30", 5*60*60+30*60)
	ds := []store.Domain{
		newDomain("Example.TEST", o1, rbac.Viewer),
		newDomain("b.example.test", a1, rbac.None),
		newDomain("corp.test", o1, rbac.None),
		newDomain("elsewhere.test", a2, rbac.Admin),
	}
	ds[3].Verified, ds[3].VerifiedBy = t0.Add(time.Minute).In(zone), uBob
	e.putSSO(nil, ds)
	want := slices.Clone(ds)
	want[0].Name = "example.test"
	for _, w := range want {
		for _, name := range []string{w.Name, strings.ToUpper(w.Name), strings.ToUpper(w.Name[:1]) + w.Name[1:]} {
			if got, found := e.domain(name); !found || !eqDomain(got, w) {
				e.Errorf("store.go: Reader.Domain(%q) must return the domain stored in lower case, whatever the case of the name asked: got %+v (found %v), want %+v", name, got, found, w)
			}
		}
	}
	for _, c := range []struct {
		tenant rbac.Ref
		want   []store.Domain
	}{
		{o1, []store.Domain{want[2], want[0]}},
		{a1, []store.Domain{want[1]}},
		{a2, []store.Domain{want[3]}},
		{a3, nil},
	} {
		if got := e.domains(c.tenant); !slices.EqualFunc(got, c.want, eqDomain) {
			e.Errorf("store.go: Reader.Domains(%v) must list the tenant's domains by name, in lower case: got %+v, want %+v", c.tenant, got, c.want)
		}
	}

	// The tenant that has a domain puts it again: it is replaced, whatever the case.
	again := newDomain("EXAMPLE.test", o1, rbac.Admin)
	again.VerifiedBy = uDee
	e.putSSO(nil, []store.Domain{again})
	again.Name = "example.test"
	if got, found := e.domain("example.test"); !found || !eqDomain(got, again) {
		e.Errorf("store.go: Writer.PutDomain by the tenant that has the domain must replace it: got %+v (found %v), want %+v", got, found, again)
	}
	if got := e.domains(o1); len(got) != 2 {
		e.Errorf("store.go: Writer.PutDomain replacing a domain must not add another: Domains(o1) got %+v", got)
	}

	e.do("delete a domain", func(ctx context.Context, w store.Writer) error { return w.DeleteDomain(ctx, "Corp.Test") })
	if _, found := e.domain("corp.test"); found {
		e.Errorf("store.go: Writer.DeleteDomain must delete the domain, whatever the case of the name given")
	}
	if got := e.domains(o1); !slices.EqualFunc(got, []store.Domain{again}, eqDomain) {
		e.Errorf("store.go: Writer.DeleteDomain must delete only that domain: Domains(o1) got %+v", got)
	}
}

func ssoDomainOneTenant(e *env) {
	e.world()
	mine := newDomain("example.test", a1, rbac.Viewer)
	e.putSSO(nil, []store.Domain{mine})
	cases := []errCase{
		{"Writer.PutDomain of a domain another account has", func(ctx context.Context, w store.Writer) error {
			return w.PutDomain(ctx, newDomain("example.test", a2, rbac.Admin))
		}},
		{"Writer.PutDomain of a domain another tenant has, in other case", func(ctx context.Context, w store.Writer) error {
			return w.PutDomain(ctx, newDomain("Example.Test", o1, rbac.Admin))
		}},
	}
	e.checkErrs(store.ErrExists, "ErrExists when another tenant has the domain", cases)
	if got, found := e.domain("example.test"); !found || !eqDomain(got, mine) {
		e.Errorf("store.go: a refused Writer.PutDomain must leave the domain as it was: got %+v (found %v), want %+v", got, found, mine)
	}
	for _, t := range []rbac.Ref{a2, o1} {
		if got := e.domains(t); len(got) != 0 {
			e.Errorf("store.go: a refused Writer.PutDomain must not list the domain under %v: got %+v", t, got)
		}
	}
	// Once deleted, another tenant may have it.
	e.do("delete", func(ctx context.Context, w store.Writer) error { return w.DeleteDomain(ctx, "example.test") })
	theirs := newDomain("example.test", a2, rbac.None)
	e.putSSO(nil, []store.Domain{theirs})
	if got, found := e.domain("example.test"); !found || !eqDomain(got, theirs) {
		e.Errorf("store.go: a deleted domain may be put by another tenant: got %+v (found %v), want %+v", got, found, theirs)
	}
}

func ssoNotFound(e *env) {
	e.world()
	e.putSSO([]store.SSOConnection{newConnection("c1", a1)}, []store.Domain{newDomain("example.test", a1, rbac.None)})
	cases := []errCase{
		{"Reader.SSOConnection of a missing connection", func(ctx context.Context, w store.Writer) error {
			_, err := w.SSOConnection(ctx, "nope")
			return err
		}},
		{"Writer.PutSSOConnection for a missing account", func(ctx context.Context, w store.Writer) error {
			return w.PutSSOConnection(ctx, newConnection("c2", rbac.Account("nope")))
		}},
		{"Writer.PutSSOConnection for a missing organization", func(ctx context.Context, w store.Writer) error {
			return w.PutSSOConnection(ctx, newConnection("c2", rbac.Org("a1")))
		}},
		{"Writer.PutSSOConnection for a resource", func(ctx context.Context, w store.Writer) error {
			return w.PutSSOConnection(ctx, newConnection("c2", p1))
		}},
		{"Writer.DeleteSSOConnection of a missing connection", func(ctx context.Context, w store.Writer) error {
			return w.DeleteSSOConnection(ctx, "nope")
		}},
		{"Reader.Domain of a missing domain", func(ctx context.Context, w store.Writer) error {
			_, err := w.Domain(ctx, "nope.test")
			return err
		}},
		{"Writer.PutDomain for a missing account", func(ctx context.Context, w store.Writer) error {
			return w.PutDomain(ctx, newDomain("other.test", rbac.Account("nope"), rbac.None))
		}},
		{"Writer.PutDomain for a resource", func(ctx context.Context, w store.Writer) error {
			return w.PutDomain(ctx, newDomain("other.test", p1, rbac.None))
		}},
		{"Writer.DeleteDomain of a missing domain", func(ctx context.Context, w store.Writer) error {
			return w.DeleteDomain(ctx, "nope.test")
		}},
	}
	e.checkErrs(store.ErrNotFound, "ErrNotFound for a missing connection or domain, or a missing tenant to put one in", cases)
	if _, found := e.connection("c2"); found {
		e.Errorf("store.go: a failed Writer.PutSSOConnection must leave no connection")
	}
	if _, found := e.domain("other.test"); found {
		e.Errorf("store.go: a failed Writer.PutDomain must leave no domain")
	}
	if got := e.connections(a1); len(got) != 1 {
		e.Errorf("store.go: failed writes must leave other connections as they were: SSOConnections(a1) got %+v", got)
	}
	if got := e.domains(a1); len(got) != 1 {
		e.Errorf("store.go: failed writes must leave other domains as they were: Domains(a1) got %+v", got)
	}
}

func ssoDeleteAccount(e *env) {
	e.world()
	e.putSSO(
		[]store.SSOConnection{newConnection("c-o1", o1, mapAll), newConnection("c-a1", a1), newConnection("c-a3", a3), newConnection("c-a2", a2, mapInbox)},
		[]store.Domain{newDomain("o1.test", o1, rbac.None), newDomain("a1.test", a1, rbac.Viewer), newDomain("a3.test", a3, rbac.None), newDomain("a2.test", a2, rbac.None)},
	)
	e.do("delete a2", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, a2) })
	if _, found := e.connection("c-a2"); found {
		e.Errorf("store.go: Writer.DeleteAccount must delete the account's SSO connections")
	}
	if _, found := e.domain("a2.test"); found {
		e.Errorf("store.go: Writer.DeleteAccount must delete the account's verified domains")
	}
	if _, found := e.connection("c-a1"); !found {
		e.Errorf("store.go: Writer.DeleteAccount must delete only the account's SSO connections: c-a1 is gone")
	}
	e.do("delete o1", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, o1) })
	for _, id := range []string{"c-o1", "c-a1", "c-a3"} {
		if _, found := e.connection(id); found {
			e.Errorf("store.go: Writer.DeleteAccount of an organization must delete its SSO connections and its sub-accounts': %s is still there", id)
		}
	}
	for _, name := range []string{"o1.test", "a1.test", "a3.test"} {
		if _, found := e.domain(name); found {
			e.Errorf("store.go: Writer.DeleteAccount of an organization must delete its verified domains and its sub-accounts': %s is still there", name)
		}
	}
	// Tenants made again under the same IDs start with none, and the names are free.
	e.do("make o1, a1 and a2 again", func(ctx context.Context, w store.Writer) error {
		for _, a := range []store.Account{newAccount(o1, "", uAnn), newAccount(a1, "o1", uAnn), newAccount(a2, "", uBob)} {
			if err := w.InsertAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	for _, ref := range []rbac.Ref{o1, a1, a2} {
		if got := e.connections(ref); len(got) != 0 {
			e.Errorf("store.go: Writer.DeleteAccount must delete the SSO connections: %v made again lists %+v", ref, got)
		}
		if got := e.domains(ref); len(got) != 0 {
			e.Errorf("store.go: Writer.DeleteAccount must delete the verified domains: %v made again lists %+v", ref, got)
		}
	}
	if err := e.try(func(ctx context.Context, w store.Writer) error {
		return w.PutDomain(ctx, newDomain("a1.test", a2, rbac.None))
	}); err != nil {
		e.Errorf("store.go: a domain of a deleted tenant must be free for another: PutDomain(a1.test) for a2: %v", err)
	}
}

func ssoRolledBack(e *env) {
	e.world()
	keptConn, keptDom := newConnection("c1", a1, mapOps), newDomain("example.test", a1, rbac.Viewer)
	e.putSSO([]store.SSOConnection{keptConn}, []store.Domain{keptDom})
	mapped := []store.MappedGrant{{Scope: p1, Level: rbac.Admin}}
	e.do("mapped", func(ctx context.Context, w store.Writer) error { return w.SetMapped(ctx, a1, uCy, mapped) })
	err := e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
		changed := newConnection("c1", a1, mapDev)
		changed.Name = "changed"
		for _, f := range []func() error{
			func() error { return w.PutSSOConnection(ctx, changed) },
			func() error { return w.PutSSOConnection(ctx, newConnection("c2", a2, mapInbox)) },
			func() error { return w.PutDomain(ctx, newDomain("example.test", a1, rbac.Admin)) },
			func() error { return w.PutDomain(ctx, newDomain("other.test", o1, rbac.None)) },
			func() error { return w.SetMapped(ctx, a1, uCy, nil) },
			func() error { return w.SetMapped(ctx, o1, uDee, []store.MappedGrant{{Scope: o1, Level: rbac.Viewer}}) },
			func() error { return w.DeleteDomain(ctx, "example.test") },
			func() error { return w.DeleteSSOConnection(ctx, "c1") },
			func() error { return w.DeleteAccount(ctx, o1) },
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		e.Fatalf("store.go: Store.Update must return the closure's error: got %v", err)
	}
	if got, found := e.connection("c1"); !found || !eqConnection(got, keptConn) {
		e.Errorf("store.go: rolled-back writes must leave the SSO connection as it was: got %+v (found %v), want %+v", got, found, keptConn)
	}
	if got, found := e.domain("example.test"); !found || !eqDomain(got, keptDom) {
		e.Errorf("store.go: rolled-back writes must leave the domain as it was: got %+v (found %v), want %+v", got, found, keptDom)
	}
	if _, found := e.connection("c2"); found {
		e.Errorf("store.go: a rolled-back PutSSOConnection must leave no connection")
	}
	if _, found := e.domain("other.test"); found {
		e.Errorf("store.go: a rolled-back PutDomain must leave no domain")
	}
	if got := e.connections(a2); len(got) != 0 {
		e.Errorf("store.go: a rolled-back PutSSOConnection must not be listed: SSOConnections(a2) got %+v", got)
	}
	e.read("members", func(ctx context.Context, r store.Reader) error {
		if m, err := r.Member(ctx, a1, uCy); err != nil || !slices.Equal(m.Mapped, mapped) {
			e.Errorf("store.go: a rolled-back SetMapped must leave Member.Mapped as it was: got %+v, %v; want Mapped %v", m, err, mapped)
		}
		if m, err := r.Member(ctx, o1, uDee); err != nil || m.Mapped != nil {
			e.Errorf("store.go: a rolled-back SetMapped must leave Member.Mapped as it was (none): got %+v, %v", m, err)
		}
		return nil
	})
}

func ssoMapped(e *env) {
	e.world()
	inserted := store.Member{Tenant: a2, User: uCy, Created: t0, Mapped: []store.MappedGrant{{Scope: i2, Level: rbac.Viewer}, {Scope: a2, Level: rbac.Admin}}}
	e.do("insert a member with mapped grants", func(ctx context.Context, w store.Writer) error { return w.InsertMember(ctx, inserted) })
	mappedA1 := []store.MappedGrant{{Scope: p1, Level: rbac.Admin}, {Scope: a1, Level: rbac.Viewer}, {Scope: i1, Level: rbac.Admin}}
	e.do("set mapped", func(ctx context.Context, w store.Writer) error { return w.SetMapped(ctx, a1, uCy, mappedA1) })
	mappedA1[0].Level = rbac.Viewer // the store keeps its own copy
	want := map[rbac.Ref][]store.MappedGrant{
		a1: {{Scope: p1, Level: rbac.Admin}, {Scope: a1, Level: rbac.Viewer}, {Scope: i1, Level: rbac.Admin}},
		a2: inserted.Mapped,
	}
	check := func(clause string) {
		e.read("members", func(ctx context.Context, r store.Reader) error {
			for tenant, mapped := range want {
				m, err := r.Member(ctx, tenant, uCy)
				if err != nil || !slices.Equal(m.Mapped, mapped) {
					e.Errorf("store.go: %s: Reader.Member(%v, cy).Mapped got %+v, %v; want %v", clause, tenant, m.Mapped, err, mapped)
				}
				if err == nil && len(mapped) == 0 && m.Mapped != nil {
					e.Errorf("store.go: %s: Member.Mapped must read back nil when empty: got %#v", clause, m.Mapped)
				}
				page, err := r.Members(ctx, tenant, "", 10)
				i := slices.IndexFunc(page, func(m store.Member) bool { return m.User == uCy })
				if err != nil || i < 0 || !slices.Equal(page[i].Mapped, mapped) {
					e.Errorf("store.go: %s: Reader.Members(%v) must read Member.Mapped: got %+v, %v; want %v for cy", clause, tenant, page, err, mapped)
				}
			}
			ms, err := collect(r.Memberships(ctx, uCy))
			if err != nil || len(ms) != 2 {
				e.Errorf("store.go: Reader.Memberships(cy) got %+v, %v", ms, err)
				return nil
			}
			for _, m := range ms {
				if !slices.Equal(m.Mapped, want[m.Tenant]) {
					e.Errorf("store.go: %s: Reader.Memberships must read Member.Mapped: %v got %+v, want %v", clause, m.Tenant, m.Mapped, want[m.Tenant])
				}
			}
			if m, err := r.Member(ctx, a1, uAnn); err != nil || m.Mapped != nil {
				e.Errorf("store.go: SetMapped must change only that membership: Member(a1, ann) got %+v, %v", m, err)
			}
			return nil
		})
	}
	check("InsertMember and SetMapped must store Member.Mapped, in order")

	// Copies out.
	e.read("copies", func(ctx context.Context, r store.Reader) error {
		m, err := r.Member(ctx, a1, uCy)
		if err != nil || len(m.Mapped) == 0 {
			return err
		}
		m.Mapped[0].Level = rbac.None
		if again, err := r.Member(ctx, a1, uCy); err != nil || !slices.Equal(again.Mapped, want[a1]) {
			e.Errorf("store.go: stores copy records out: changing a returned Member.Mapped changed the stored membership: got %+v, %v", again.Mapped, err)
		}
		return nil
	})

	// SetMapped replaces the list, then clears it; TouchMember leaves it.
	want[a1] = []store.MappedGrant{{Scope: i1, Level: rbac.Viewer}}
	e.do("replace", func(ctx context.Context, w store.Writer) error { return w.SetMapped(ctx, a1, uCy, want[a1]) })
	e.do("touch", func(ctx context.Context, w store.Writer) error { return w.TouchMember(ctx, a1, uCy, t0.Add(time.Hour)) })
	check("SetMapped must replace Member.Mapped, and TouchMember leave it")
	want[a2] = nil
	e.do("clear", func(ctx context.Context, w store.Writer) error {
		return w.SetMapped(ctx, a2, uCy, []store.MappedGrant{})
	})
	check("SetMapped with an empty list must clear Member.Mapped")

	// A membership made again starts without.
	e.do("leave and join again", func(ctx context.Context, w store.Writer) error {
		if err := w.DeleteMember(ctx, a1, uCy); err != nil {
			return err
		}
		return w.InsertMember(ctx, store.Member{Tenant: a1, User: uCy, Created: t0})
	})
	want[a1] = nil
	check("DeleteMember must delete Member.Mapped with the membership")
}

func ssoSetMappedNotFound(e *env) {
	e.world()
	mapped := []store.MappedGrant{{Scope: p2, Level: rbac.Viewer}}
	cases := []errCase{
		{"Writer.SetMapped of a user who is not a member", func(ctx context.Context, w store.Writer) error {
			return w.SetMapped(ctx, a2, uCy, mapped)
		}},
		{"Writer.SetMapped of a missing user", func(ctx context.Context, w store.Writer) error {
			return w.SetMapped(ctx, a2, "u-nope", mapped)
		}},
		{"Writer.SetMapped in a missing tenant", func(ctx context.Context, w store.Writer) error {
			return w.SetMapped(ctx, rbac.Account("nope"), uCy, mapped)
		}},
		{"Writer.SetMapped in a resource", func(ctx context.Context, w store.Writer) error {
			return w.SetMapped(ctx, p2, uBob, mapped)
		}},
	}
	e.checkErrs(store.ErrNotFound, "ErrNotFound when there is no such membership", cases)
	if e.hasMember(a2, uCy) {
		e.Errorf("store.go: Writer.SetMapped of a user who is not a member must not make them one")
	}
}

func ssoPolicyFields(e *env) {
	e.world()
	p := newPolicy(o1, t0, pfx10)
	p.SSO, p.EnforceSSO = []string{"okta", "azure"}, []string{"example.test", "corp.test"}
	q := newPolicy(a2, time.Time{})
	q.EnforceSSO = []string{"elsewhere.test"}
	r := newPolicy(a1, t0)
	r.SSO, r.EnforceSSO = []string{}, []string{}
	e.putPolicies(p, q, r)
	for _, want := range []store.SecurityPolicy{p, q, r} {
		got, found := e.policy(want.Tenant)
		if !found || !eqPolicy(got, want) || !slices.Equal(got.SSO, want.SSO) || !slices.Equal(got.EnforceSSO, want.EnforceSSO) {
			e.Errorf("store.go: Reader.SecurityPolicy must return SSO and EnforceSSO as PutSecurityPolicy set them, in order: got %+v (found %v), want %+v", got, found, want)
		}
		if found && (len(want.SSO) == 0 && got.SSO != nil || len(want.EnforceSSO) == 0 && got.EnforceSSO != nil) {
			e.Errorf("store.go: empty SecurityPolicy.SSO and EnforceSSO must read back nil: %v got %#v, %#v", want.Tenant, got.SSO, got.EnforceSSO)
		}
	}
	p.SSO[0] = "changed"
	if got, _ := e.policy(o1); len(got.SSO) != 2 || got.SSO[0] != "okta" {
		e.Errorf("store.go: stores copy records in: changing the caller's SecurityPolicy.SSO after PutSecurityPolicy changed the stored policy: got %v", got.SSO)
	}
	// Put replaces the lists: cleared, then others.
	p = newPolicy(o1, t0, pfx10)
	e.putPolicies(p)
	if got, _ := e.policy(o1); got.SSO != nil || got.EnforceSSO != nil {
		e.Errorf("store.go: Writer.PutSecurityPolicy without SSO and EnforceSSO must clear them: got %v, %v", got.SSO, got.EnforceSSO)
	}
	p.SSO, p.EnforceSSO = []string{"c9"}, []string{"x.test"}
	e.putPolicies(p)
	if got, _ := e.policy(o1); !slices.Equal(got.SSO, p.SSO) || !slices.Equal(got.EnforceSSO, p.EnforceSSO) {
		e.Errorf("store.go: Writer.PutSecurityPolicy must replace SSO and EnforceSSO: got %v, %v; want %v, %v", got.SSO, got.EnforceSSO, p.SSO, p.EnforceSSO)
	}
}

// ---- Checks under enforced single sign-on ----

// The Auths of the SSO checks: signed in through each connection, through none, with
// an OAuth provider named as a connection, with and without a second factor.
var (
	authOkta       = &rbac.Auth{Method: rbac.AuthSSO, Provider: "okta"}
	authOkta2FA    = &rbac.Auth{Method: rbac.AuthSSO, Provider: "okta", SecondFactor: true}
	authAzure      = &rbac.Auth{Method: rbac.AuthSSO, Provider: "azure"}
	authSSONone    = &rbac.Auth{Method: rbac.AuthSSO, SecondFactor: true}
	authOAuthOkta  = &rbac.Auth{Method: rbac.AuthOAuth, Provider: "okta", SecondFactor: true}
	authPassword   = &rbac.Auth{Method: rbac.AuthPassword}
	authPassword2F = &rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true}
	ssoAuths       = []*rbac.Auth{nil, authOkta, authOkta2FA, authAzure, authSSONone, authOAuthOkta, authPassword, authPassword2F}
)

// ssoWorld sets, over the standard world, the users' addresses, connections, domains
// and security policies of the SSO checks:
//
//	ann ann@example.test, dee dee@example.test, bob bob@Elsewhere.TEST, cy "cy" (no domain)
//	o1  connection okta; enforces example.test
//	a1  connection okta (not enforcing); two-factor authentication required since before checkNow
//	a2  connection azure; enforces elsewhere.test
//	cy  viewer of i1, dee viewer of p1
func (e *env) ssoWorld() {
	e.do("addresses", func(ctx context.Context, w store.Writer) error {
		for id, email := range map[string]string{uBob: "bob@Elsewhere.TEST", uCy: "cy"} {
			u, err := w.User(ctx, id)
			if err != nil {
				return err
			}
			u.Email = email
			if err := w.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	e.putSSO(
		[]store.SSOConnection{newConnection("okta", o1), newConnection("azure", a2)},
		[]store.Domain{newDomain("example.test", o1, rbac.None), newDomain("elsewhere.test", a2, rbac.None)},
	)
	po1 := newPolicy(o1, time.Time{})
	po1.SSO, po1.EnforceSSO = []string{"okta"}, []string{"example.test"}
	pa1 := newPolicy(a1, checkNow.Add(-time.Hour))
	pa1.SSO = []string{"okta"}
	pa2 := newPolicy(a2, time.Time{})
	pa2.SSO, pa2.EnforceSSO = []string{"azure"}, []string{"elsewhere.test"}
	e.putPolicies(po1, pa1, pa2)
	e.put(grant(rbac.User(uCy), i1, a1, rbac.Viewer), grant(rbac.User(uDee), p1, a1, rbac.Viewer))
}

// ssoCheck: store.Check refuses, with rbac.RuleSSO, a user whose address is in a
// domain that a policy on the path enforces (or who has no domain) unless they signed
// in through one of that policy's connections, which also stands for a second factor;
// and a store.Checker decides the same.
func ssoCheck(e *env) {
	e.world()
	e.tokenWorld()
	e.ssoWorld()
	ck, hasChecker := store.CheckerOf(e.s)
	for _, c := range []struct {
		h     rbac.Holder
		scope rbac.Ref
		auth  *rbac.Auth
		allow bool
		rule  rbac.Rule // the refusal's rule
		why   string
	}{
		{rbac.User(uAnn), i1, authPassword2F, false, rbac.RuleSSO, "ann@example.test under o1, which enforces example.test"},
		{rbac.User(uAnn), i1, nil, false, rbac.RuleSSO, "no Auth, under enforced SSO"},
		{rbac.User(uAnn), i1, authOkta2FA, true, "", "signed in through o1's connection"},
		{rbac.User(uAnn), i1, authAzure, false, rbac.RuleSSO, "signed in through another tenant's connection"},
		{rbac.User(uAnn), i1, authOAuthOkta, false, rbac.RuleSSO, "an OAuth provider named as the connection is not single sign-on"},
		{rbac.User(uAnn), i1, authSSONone, false, rbac.RuleSSO, "single sign-on naming no connection"},
		{rbac.User(uCy), i1, authPassword2F, false, rbac.RuleSSO, "an address without a domain, under enforced SSO"},
		{rbac.User(uCy), i1, authOkta, true, "", "through o1's connection, which a1's policy also lists: no second factor needed"},
		{rbac.User(uDee), p1, authOkta, true, "", "dee@example.test through o1's connection"},
		{rbac.User(uDee), p1, authPassword2F, false, rbac.RuleSSO, "dee@example.test with a password"},
		{rbac.User(uBob), p3, authPassword, true, "", "bob@Elsewhere.TEST is not in o1's enforced domain, and a3 has no policy"},
		{rbac.User(uBob), i2, authPassword2F, false, rbac.RuleSSO, "bob@Elsewhere.TEST in a2, which enforces elsewhere.test, whatever the case"},
		{rbac.User(uBob), i2, authAzure, true, "", "through a2's connection"},
		{rbac.User(uBob), i2, authOkta, false, rbac.RuleSSO, "through a connection a2's policy does not list"},
		{kAnn, i1, authPassword, true, "", "a token is not asked to sign in through a connection"},
	} {
		ctx := withAuth(e.ctx, c.auth)
		action := rbac.InboxRead
		if c.scope.Kind == rbac.KindProject {
			action = rbac.ProjectView
		}
		var d rbac.Decision
		e.read("store.Check", func(_ context.Context, r store.Reader) error {
			var err error
			d, err = store.Check(ctx, r, c.h, action, c.scope, checkNow)
			return err
		})
		if d.Allowed != c.allow || !c.allow && d.Rule != c.rule {
			e.Errorf("store.go: store.Check(%v, %v, %v) with Auth %+v over the store's Reader = %+v; want allowed=%v, rule %q (%s): SecurityPolicy.SSO and EnforceSSO and the user's Email must read back as set",
				c.h, action, c.scope, c.auth, d, c.allow, c.rule, c.why)
		}
		if hasChecker {
			got, err := ck.Check(ctx, c.h, action, c.scope, checkNow)
			if err != nil || !sameDecision(got, d) {
				e.Errorf("store.go: Checker.Check must decide as store.Check, enforced single sign-on and the user's address included: Check(%v, %v, %v) with Auth %+v = %+v, %v; want %+v (%s)",
					c.h, action, c.scope, c.auth, got, err, d, c.why)
			}
		}
	}
	e.ssoCheckAfterAddressChange(ck, hasChecker)
}

// ssoCheckAfterAddressChange: a user whose address moves into an enforced domain is
// refused at once, by store.Check and by a store.Checker that answered before the
// change (a cached answer must not outlive it).
func (e *env) ssoCheckAfterAddressChange(ck store.Checker, hasChecker bool) {
	ctx := withAuth(e.ctx, authPassword)
	decide := func(when string, allow bool) {
		var d rbac.Decision
		e.read("store.Check", func(_ context.Context, r store.Reader) error {
			var err error
			d, err = store.Check(ctx, r, rbac.User(uBob), rbac.ProjectView, p3, checkNow)
			return err
		})
		if d.Allowed != allow {
			e.Errorf("store.go: store.Check(bob, project.view, p3) with a password %s = %+v; want allowed=%v", when, d, allow)
		}
		if hasChecker {
			got, err := ck.Check(ctx, rbac.User(uBob), rbac.ProjectView, p3, checkNow)
			if err != nil || !sameDecision(got, d) {
				e.Errorf("store.go: Checker.Check must decide as store.Check with the user's current address: Check(bob, project.view, p3) %s = %+v, %v; want %+v", when, got, err, d)
			}
		}
	}
	decide("while bob@Elsewhere.TEST is outside o1's enforced domain", true)
	e.do("bob moves to example.test", func(ctx context.Context, w store.Writer) error {
		u, err := w.User(ctx, uBob)
		if err != nil {
			return err
		}
		u.Email = "bob@EXAMPLE.test"
		return w.UpdateUser(ctx, u)
	})
	decide("once bob@EXAMPLE.test is inside o1's enforced domain", false)
}

// checkerAgreesUnderSSO compares Checker.Check with store.Check for holders on scopes,
// in ssoWorld and under each Auth of ssoAuths.
func (e *env) checkerAgreesUnderSSO(ck store.Checker, holders []rbac.Holder, scopes []rbac.Ref) {
	e.ssoWorld()
	actions := []rbac.Action{rbac.AccountView, rbac.InboxRead, rbac.ProjectView}
	for _, auth := range ssoAuths {
		ctx := withAuth(e.ctx, auth)
		for _, h := range holders {
			for _, s := range scopes {
				for _, a := range actions {
					var want rbac.Decision
					e.read("store.Check", func(_ context.Context, r store.Reader) error {
						var err error
						want, err = store.Check(ctx, r, h, a, s, checkNow)
						return err
					})
					got, err := ck.Check(ctx, h, a, s, checkNow)
					if err != nil || !sameDecision(got, want) {
						e.Errorf("store.go: Checker.Check must decide as store.Check, enforced single sign-on and the user's address included: Check(%v, %v, %v) with Auth %+v = %+v, %v; want %+v",
							h, a, s, auth, got, err, want)
					}
				}
			}
		}
	}
}
