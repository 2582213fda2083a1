package accounttest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

var (
	opsAddrs    = []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.0.2.5"), netip.MustParseAddr("2001:db8::5")}
	opsPrefixes = [][]netip.Prefix{
		nil,
		{netip.MustParsePrefix("10.0.0.0/8")},
		{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")},
	}
)

// drawAuth draws how the following steps' requests authenticate (D32, D35): mostly
// with a second factor from the office network, sometimes without, from elsewhere, or
// without saying.
func (w *machine) drawAuth(t *rapid.T) {
	if rapid.IntRange(0, 4).Draw(t, "noAuth?") == 0 {
		w.m.auth, w.ctx = nil, w.base
		return
	}
	a := rbac.Auth{
		Method:       rbac.AuthPassword,
		SecondFactor: rapid.IntRange(0, 2).Draw(t, "secondFactor") > 0,
		ClientIP:     rapid.SampledFrom(opsAddrs).Draw(t, "clientIP"),
	}
	if ids := slices.Sorted(maps.Keys(w.m.conns)); len(ids) > 0 && rapid.IntRange(0, 2).Draw(t, "viaSSO?") == 0 {
		a.Method, a.Provider = rbac.AuthSSO, rapid.SampledFrom(append(ids, "sso-none")).Draw(t, "provider")
	}
	w.m.auth, w.ctx = &a, account.WithAuth(w.base, a)
}

// setTwoFactor turns a user's two-factor authentication on or off (D26).
func (w *machine) setTwoFactor(t *rapid.T) {
	actor := w.drawActor(t)
	on := rapid.Bool().Draw(t, "on")
	want := actor.Kind == rbac.HolderUser && w.m.live(actor)
	if w.do(t, "TwoFactor", want, rbac.Ref{}, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, profile.SetTwoFactor{On: on}))
	}) {
		w.m.twoFactor[actor.ID] = on
	}
}

// setPolicy sets a tenant's security policy (D32, D35): an admin on a plan that has
// them, with 2FA on and passed to require it, from inside the list it saves.
func (w *machine) setPolicy(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	var req time.Time
	switch rapid.IntRange(0, 3).Draw(t, "require2FA") {
	case 1:
		req = w.now.Add(-time.Hour)
	case 2:
		req = w.now.Add(3 * 24 * time.Hour)
	}
	ips := rapid.SampledFrom(opsPrefixes).Draw(t, "ipAllowlist")
	tn := w.m.tenants[tenant]
	want := w.m.live(actor) && tn != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin && actor.Kind == rbac.HolderUser &&
		planOf(w.rootPlan(tenant)).SecurityPolicies
	if want && !req.IsZero() {
		want = w.m.twoFactor[actor.ID] && w.m.auth != nil && w.m.auth.SecondFactor
	}
	if want && len(ips) > 0 {
		want = w.m.auth != nil && rbac.Allows(rbac.NormalizeAllowlist(ips), w.m.auth.ClientIP)
	}
	var touched []rbac.Ref
	if tn != nil {
		touched = w.m.withSubs(tenant)
	} else {
		touched = []rbac.Ref{tenant}
	}
	if w.doIn(t, "SetPolicy", want, touched, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.SetSecurityPolicy{Tenant: tenant, Require2FA: req, IPAllowlist: ips}))
	}) {
		w.m.policies[tenant] = rbac.Policy{Require2FA: req, IPAllowlist: rbac.NormalizeAllowlist(ips)}
	}
}

// tokenAllowlist sets a token's own IP allowlist (admin, D35).
func (w *machine) tokenAllowlist(t *rapid.T) {
	id := w.drawToken(t)
	tok := w.m.tokens[id]
	var tenant rbac.Ref
	if tok != nil {
		tenant = tok.tenant
	}
	actor := w.drawActorIn(t, tenant)
	ips := rapid.SampledFrom(opsPrefixes).Draw(t, "ipAllowlist")
	want := w.m.live(actor) && tok != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin
	if w.do(t, "TokenAllowlist", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.SetTokenAllowlist{Tenant: tenant, Token: rbac.Token(id), IPAllowlist: ips}))
	}) {
		tok.ips = rbac.NormalizeAllowlist(ips)
	}
}

// comparePolicies checks the tenants' security policies and the tokens' allowlists
// against the model, both ways.
func (w *machine) comparePolicies(ctx context.Context, r store.Reader) error {
	for _, ref := range w.m.everTenants {
		p, err := r.SecurityPolicy(ctx, ref)
		mp, ok := w.m.policyOf(ref)
		switch {
		case ok != (err == nil):
			if ok || !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("security policy of %v: store err %v, model has one: %v", ref, err, ok)
			}
		case ok && (!p.Require2FA.Equal(mp.Require2FA) || !slices.Equal(p.IPAllowlist, mp.IPAllowlist) ||
			!slices.Equal(p.SSO, mp.SSO) || !slices.Equal(p.EnforceSSO, mp.EnforceSSO)):
			return fmt.Errorf("security policy of %v: %+v, model %+v", ref, p, mp)
		}
	}
	if err := w.compareSSO(ctx, r); err != nil {
		return err
	}
	for _, id := range w.m.everTokens {
		mt := w.m.tokens[id]
		if mt == nil {
			continue
		}
		tok, err := r.Token(ctx, id)
		if err != nil {
			return err
		}
		if !slices.Equal(tok.IPAllowlist, mt.ips) {
			return fmt.Errorf("token %s allowlist %v, model %v", id, tok.IPAllowlist, mt.ips)
		}
	}
	return nil
}
