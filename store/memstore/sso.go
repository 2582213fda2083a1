package memstore

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// copyMember copies m with its own Mapped, nil when empty.
func copyMember(m store.Member) store.Member {
	if len(m.Mapped) == 0 {
		m.Mapped = nil
	} else {
		m.Mapped = slices.Clone(m.Mapped)
	}
	return m
}

func copyConnection(c *store.SSOConnection) store.SSOConnection {
	out := *c
	out.Mapping = nil
	if len(c.Mapping) > 0 {
		out.Mapping = slices.Clone(c.Mapping)
	}
	return out
}

// SetMapped implements store.Writer.
func (w *writer) SetMapped(ctx context.Context, tenant rbac.Ref, user string, mapped []store.MappedGrant) error {
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
	c.Mapped = mapped
	w.setMember(copyMember(c))
	return nil
}

// setConnection sets the connection with id (nil: removes it), logging the inverse.
func (w *writer) setConnection(id string, c *store.SSOConnection) {
	st := w.st
	old := st.connections[id]
	st.setConnection(id, c)
	w.log(func() { st.setConnection(id, old) })
}

func (s *state) setConnection(id string, c *store.SSOConnection) {
	if old := s.connections[id]; old != nil {
		s.tenantConnections[old.Tenant] = removeSorted(s.tenantConnections[old.Tenant], id)
		if len(s.tenantConnections[old.Tenant]) == 0 {
			delete(s.tenantConnections, old.Tenant)
		}
		delete(s.connections, id)
	}
	if c != nil {
		s.connections[id] = c
		s.tenantConnections[c.Tenant] = insertSorted(s.tenantConnections[c.Tenant], id)
	}
}

// setDomain sets the domain name (nil: removes it), logging the inverse.
func (w *writer) setDomain(name string, d *store.Domain) {
	st := w.st
	old := st.domains[name]
	st.setDomain(name, d)
	w.log(func() { st.setDomain(name, old) })
}

func (s *state) setDomain(name string, d *store.Domain) {
	if old := s.domains[name]; old != nil {
		s.tenantDomains[old.Tenant] = removeSorted(s.tenantDomains[old.Tenant], name)
		if len(s.tenantDomains[old.Tenant]) == 0 {
			delete(s.tenantDomains, old.Tenant)
		}
		delete(s.domains, name)
	}
	if d != nil {
		s.domains[name] = d
		s.tenantDomains[d.Tenant] = insertSorted(s.tenantDomains[d.Tenant], name)
	}
}

// deleteSSO removes the connections and domains of tenant.
func (w *writer) deleteSSO(tenant rbac.Ref) {
	for _, id := range slices.Clone(w.st.tenantConnections[tenant]) {
		w.setConnection(id, nil)
	}
	for _, name := range slices.Clone(w.st.tenantDomains[tenant]) {
		w.setDomain(name, nil)
	}
}

// SSOConnection implements store.Reader.
func (r *reader) SSOConnection(ctx context.Context, id string) (store.SSOConnection, error) {
	if err := r.check(ctx); err != nil {
		return store.SSOConnection{}, err
	}
	if c, ok := r.st.connections[id]; ok {
		return copyConnection(c), nil
	}
	return store.SSOConnection{}, notFound("SSO connection " + id)
}

// SSOConnections implements store.Reader.
func (r *reader) SSOConnections(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.SSOConnection, error] {
	return list(r, ctx, func() []store.SSOConnection {
		ids := r.st.tenantConnections[tenant]
		out := make([]store.SSOConnection, len(ids))
		for i, id := range ids {
			out[i] = copyConnection(r.st.connections[id])
		}
		return out
	})
}

// Domain implements store.Reader.
func (r *reader) Domain(ctx context.Context, name string) (store.Domain, error) {
	if err := r.check(ctx); err != nil {
		return store.Domain{}, err
	}
	if d, ok := r.st.domains[strings.ToLower(name)]; ok {
		return *d, nil
	}
	return store.Domain{}, notFound("domain " + name)
}

// Domains implements store.Reader.
func (r *reader) Domains(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Domain, error] {
	return list(r, ctx, func() []store.Domain {
		names := r.st.tenantDomains[tenant]
		out := make([]store.Domain, len(names))
		for i, n := range names {
			out[i] = *r.st.domains[n]
		}
		return out
	})
}

// PutSSOConnection implements store.Writer.
func (w *writer) PutSSOConnection(ctx context.Context, c store.SSOConnection) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if old, ok := w.st.connections[c.ID]; ok {
		c.Tenant = old.Tenant
	} else if _, err := w.tenant(c.Tenant); err != nil {
		return err
	}
	cc := copyConnection(&c)
	w.setConnection(c.ID, &cc)
	return nil
}

// DeleteSSOConnection implements store.Writer.
func (w *writer) DeleteSSOConnection(ctx context.Context, id string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, ok := w.st.connections[id]; !ok {
		return notFound("SSO connection " + id)
	}
	w.setConnection(id, nil)
	return nil
}

// PutDomain implements store.Writer.
func (w *writer) PutDomain(ctx context.Context, d store.Domain) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	d.Name = strings.ToLower(d.Name)
	if old, ok := w.st.domains[d.Name]; ok && old.Tenant != d.Tenant {
		return exists("domain " + d.Name)
	}
	if _, err := w.tenant(d.Tenant); err != nil {
		return err
	}
	w.setDomain(d.Name, &d)
	return nil
}

// DeleteDomain implements store.Writer.
func (w *writer) DeleteDomain(ctx context.Context, name string) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	name = strings.ToLower(name)
	if _, ok := w.st.domains[name]; !ok {
		return notFound("domain " + name)
	}
	w.setDomain(name, nil)
	return nil
}
