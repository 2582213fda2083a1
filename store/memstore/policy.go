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

// setPolicy sets tenant's policy in the policies map and on the tenant's scope, where
// checks read it (addScope reads it from the map for a scope added later).
func (s *state) setPolicy(tenant rbac.Ref, p *store.SecurityPolicy) {
	if sid, ok := s.lookupScope(tenant); ok {
		s.scopes[sid].policy = p
	}
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

// applyPolicies is store.ApplyPolicies over the state, under the caller's read lock,
// for the scope path p (nil: path, whose policies are then looked up by Ref): the
// policies are read from the path's scopes, the authentication from ctx once, and
// nothing is allocated. It changes *d only when a policy applies.
func (s *state) applyPolicies(ctx context.Context, holder rbac.Holder, p *checkPath, path rbac.Path, d *rbac.Decision, now time.Time, tokenIPs []netip.Prefix) {
	if !d.Allowed {
		return
	}
	if p != nil && !p.policies && len(tokenIPs) == 0 {
		return
	}
	s.enforcePolicies(ctx, holder, p, path, d, now, tokenIPs)
}

// enforcePolicies is applyPolicies once a policy may apply.
func (s *state) enforcePolicies(ctx context.Context, holder rbac.Holder, p *checkPath, path rbac.Path, d *rbac.Decision, now time.Time, tokenIPs []netip.Prefix) {
	var pols [2]*store.SecurityPolicy
	n := 0
	if p != nil {
		for i := p.n - 1; i >= 0 && n < len(pols); i-- { // from the root, as path
			if sc := &s.scopes[p.sids[i]]; sc.policy != nil && sc.ref.Kind.Ownable() {
				pols[n] = sc.policy
				n++
			}
		}
	} else if len(s.policies) > 0 {
		for _, ref := range path {
			if sp := s.policies[ref]; sp != nil && ref.Kind.Ownable() && n < len(pols) {
				pols[n] = sp
				n++
			}
		}
	}
	if n == 0 && len(tokenIPs) == 0 {
		return
	}
	auth := store.AuthFrom(ctx)
	if holder.Kind == rbac.HolderUser && len(tokenIPs) == 0 && policiesPass(auth, pols[:n]) {
		return
	}
	email := ""
	if holder.Kind == rbac.HolderUser && (n > 0 && len(pols[0].EnforceSSO) > 0 || n > 1 && len(pols[1].EnforceSSO) > 0) {
		if u := s.users[holder.ID]; u != nil {
			email = u.Email
		}
	}
	var rps [2]rbac.Policy
	for i := range n {
		rps[i] = pols[i].Policy()
	}
	*d = rbac.ApplyPolicyTo(*d, holder, email, auth, now, tokenIPs, rps[:n]...)
}

// policiesPass reports whether rbac.ApplyPolicyTo surely returns an allowed decision
// as it is for a user under pols and auth: no policy enforces single sign-on, every
// allowlist holds the client's address, and two-factor authentication is required by
// none or was passed. When it reports false, ApplyPolicyTo decides.
func policiesPass(auth *rbac.Auth, pols []*store.SecurityPolicy) bool {
	var ip netip.Addr
	second := false
	if auth != nil {
		ip, second = auth.ClientIP, auth.SecondFactor
	}
	for _, p := range pols {
		if len(p.EnforceSSO) > 0 || !p.Require2FA.IsZero() && !second || !rbac.Allows(p.IPAllowlist, ip) {
			return false
		}
	}
	return true
}
