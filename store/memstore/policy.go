package memstore

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// clonePrefixes copies an allowlist, nil for an empty one.
func clonePrefixes(l []netip.Prefix) []netip.Prefix {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}

func copyPolicy(p *store.SecurityPolicy) store.SecurityPolicy {
	c := *p
	c.IPAllowlist = clonePrefixes(p.IPAllowlist)
	c.SSO, c.EnforceSSO = cloneStrings(p.SSO), cloneStrings(p.EnforceSSO)
	return c
}

// cloneStrings copies l, nil for an empty one.
func cloneStrings(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}

// setPolicy sets tenant's policy (nil: removes it), logging the inverse.
func (w *writer) setPolicy(tenant rbac.Ref, p *store.SecurityPolicy) {
	st := w.st
	old := st.policies[tenant]
	st.setPolicy(tenant, p)
	w.log(func() { st.setPolicy(tenant, old) })
}

func (s *state) setPolicy(tenant rbac.Ref, p *store.SecurityPolicy) {
	if p == nil {
		delete(s.policies, tenant)
		return
	}
	s.policies[tenant] = p
}

// SecurityPolicy implements store.Reader.
func (r *reader) SecurityPolicy(ctx context.Context, tenant rbac.Ref) (store.SecurityPolicy, error) {
	if err := r.check(ctx); err != nil {
		return store.SecurityPolicy{}, err
	}
	if p, ok := r.st.policies[tenant]; ok {
		return copyPolicy(p), nil
	}
	return store.SecurityPolicy{}, notFoundRef("security policy of ", tenant)
}

// PutSecurityPolicy implements store.Writer.
func (w *writer) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	if err := w.check(ctx); err != nil {
		return err
	}
	if _, err := w.tenant(p.Tenant); err != nil {
		return err
	}
	c := copyPolicy(&p)
	w.setPolicy(p.Tenant, &c)
	return nil
}

// applyPolicies is store.ApplyPolicies over the state, under the caller's read lock:
// map look-ups for the account and organization on path, no allocation.
func (s *state) applyPolicies(ctx context.Context, holder rbac.Holder, path rbac.Path, d rbac.Decision, now time.Time, tokenIPs []netip.Prefix) rbac.Decision {
	if !d.Allowed || len(s.policies) == 0 && len(tokenIPs) == 0 {
		return d
	}
	var pols [2]rbac.Policy
	n := 0
	for _, ref := range path {
		if !ref.Kind.Ownable() || n == len(pols) {
			continue
		}
		if p := s.policies[ref]; p != nil {
			pols[n] = p.Policy()
			n++
		}
	}
	if n == 0 && len(tokenIPs) == 0 {
		return d
	}
	email := ""
	if holder.Kind == rbac.HolderUser && (len(pols[0].EnforceSSO) > 0 || len(pols[1].EnforceSSO) > 0) {
		if u := s.users[holder.ID]; u != nil {
			email = u.Email
		}
	}
	return rbac.ApplyPolicyTo(d, holder, email, store.AuthFrom(ctx), now, tokenIPs, pols[:n]...)
}
