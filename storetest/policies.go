package storetest

import (
	"context"
	"errors"
	"flag"
	"iter"
	"net/netip"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// This file holds the Policies group (store.SecurityPolicy), the clause about
// Token.IPAllowlist, and the security policies and requests that the check clauses
// decide on.

// ---- Policies ----

// policiesClauses are the clauses of the Policies group.
var policiesClauses = []clause{
	{name: "PutAndGet", fn: policiesPutAndGet},
	{name: "CopiesInAndOut", fn: policiesCopies},
	{name: "NotFound", fn: policiesNotFound},
	{name: "DeleteAccountCascades", fn: policiesDeleteAccount},
	{name: "RolledBackLeavesNoTrace", fn: policiesRolledBack},
	{name: "CheckAppliesPolicies", fn: policiesCheck},
}

// The prefixes of the suite's allowlists, IPv4 and IPv6, each list normalized as
// rbac.NormalizeAllowlist leaves it.
var (
	pfx10      = netip.MustParsePrefix("10.0.0.0/8")
	pfx10one   = netip.MustParsePrefix("10.1.0.0/16")
	pfxDoc4    = netip.MustParsePrefix("192.0.2.0/24")
	pfxDoc6    = netip.MustParsePrefix("2001:db8::/32")
	pfxDoc6one = netip.MustParsePrefix("2001:db8:1::/48")
	pfxULA     = netip.MustParsePrefix("fd00::/8")
	pfxHost6   = netip.MustParsePrefix("2001:db8::1/128")
	pfxHost4   = netip.MustParsePrefix("198.51.100.7/32")
)

// newPolicy returns a policy of tenant set by ann at t0.
func newPolicy(tenant rbac.Ref, require2FA time.Time, ips ...netip.Prefix) store.SecurityPolicy {
	return store.SecurityPolicy{Tenant: tenant, Require2FA: require2FA, IPAllowlist: ips, UpdatedBy: uAnn, Updated: t0}
}

func eqPolicy(a, b store.SecurityPolicy) bool {
	return a.Tenant == b.Tenant && a.Require2FA.Equal(b.Require2FA) && slices.Equal(a.IPAllowlist, b.IPAllowlist) &&
		slices.Equal(a.SSO, b.SSO) && slices.Equal(a.EnforceSSO, b.EnforceSSO) && a.UpdatedBy == b.UpdatedBy && a.Updated.Equal(b.Updated)
}

// policy reads tenant's policy: found false on ErrNotFound; any other error stops
// the clause.
func (e *env) policy(tenant rbac.Ref) (p store.SecurityPolicy, found bool) {
	found = e.exists("SecurityPolicy "+tenant.String(), func(ctx context.Context, r store.Reader) error {
		var err error
		p, err = r.SecurityPolicy(ctx, tenant)
		return err
	})
	return p, found
}

// putPolicies puts policies in one Update.
func (e *env) putPolicies(ps ...store.SecurityPolicy) {
	e.do("putting security policies", func(ctx context.Context, w store.Writer) error {
		for _, p := range ps {
			if err := w.PutSecurityPolicy(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func policiesPutAndGet(e *env) {
	e.world()
	zone := time.FixedZone("UTC+9", 9*60*60)
	ps := []store.SecurityPolicy{
		newPolicy(o1, t0.AddDate(0, 1, 0), pfx10, pfxHost4, pfxDoc6, pfxHost6),
		newPolicy(a1, time.Time{}, pfxDoc6one, pfxULA),
		newPolicy(a2, t0.Add(time.Hour).In(zone)),
	}
	ps[2].UpdatedBy, ps[2].Updated = uBob, t0.Add(time.Minute).In(zone)
	e.putPolicies(ps...)
	for _, want := range ps {
		if got, found := e.policy(want.Tenant); !found || !eqPolicy(got, want) {
			e.Errorf("store.go: Reader.SecurityPolicy must return the policy as PutSecurityPolicy set it, IPv4 and IPv6 prefixes in order: got %+v (found %v), want %+v", got, found, want)
		}
	}
	if got, _ := e.policy(a2); len(got.IPAllowlist) != 0 {
		e.Errorf("store.go: a policy without an IP allowlist must read back with an empty one: got %v", got.IPAllowlist)
	}
	if _, found := e.policy(a3); found {
		e.Errorf("store.go: Reader.SecurityPolicy must find no policy for a tenant none was set for (a3)")
	}

	// Put replaces the whole policy: a zero Require2FA and a nil list clear them.
	repl := newPolicy(o1, time.Time{})
	repl.UpdatedBy, repl.Updated = uDee, t0.AddDate(0, 0, 1)
	e.putPolicies(repl)
	if got, found := e.policy(o1); !found || !eqPolicy(got, repl) {
		e.Errorf("store.go: Writer.PutSecurityPolicy must replace the tenant's policy, a zero Require2FA and an empty allowlist included: got %+v (found %v), want %+v", got, found, repl)
	}
	if got, found := e.policy(a1); !found || !eqPolicy(got, ps[1]) {
		e.Errorf("store.go: Writer.PutSecurityPolicy must not touch the policies of other tenants: a1 got %+v (found %v), want %+v", got, found, ps[1])
	}
	again := newPolicy(o1, t0, pfxDoc4)
	e.putPolicies(again)
	if got, _ := e.policy(o1); !eqPolicy(got, again) {
		e.Errorf("store.go: Writer.PutSecurityPolicy must replace the tenant's policy again: got %+v, want %+v", got, again)
	}
}

func policiesCopies(e *env) {
	e.world()
	p := newPolicy(a1, t0, pfx10, pfxDoc6)
	e.putPolicies(p)
	p.IPAllowlist[0] = pfxULA
	got, _ := e.policy(a1)
	if len(got.IPAllowlist) != 2 || got.IPAllowlist[0] != pfx10 {
		e.Fatalf("store.go: stores copy records in: changing the caller's SecurityPolicy.IPAllowlist after PutSecurityPolicy changed the stored policy: got %v", got.IPAllowlist)
	}
	got.IPAllowlist[1] = pfxULA
	if again, _ := e.policy(a1); len(again.IPAllowlist) != 2 || again.IPAllowlist[1] != pfxDoc6 {
		e.Errorf("store.go: stores copy records out: changing a returned SecurityPolicy.IPAllowlist changed the stored policy: got %v", again.IPAllowlist)
	}
}

func policiesNotFound(e *env) {
	e.world()
	e.putPolicies(newPolicy(a1, t0, pfx10))
	cases := []errCase{
		{"Reader.SecurityPolicy of a tenant without a policy", func(ctx context.Context, w store.Writer) error {
			_, err := w.SecurityPolicy(ctx, a2)
			return err
		}},
		{"Reader.SecurityPolicy of a missing tenant", func(ctx context.Context, w store.Writer) error {
			_, err := w.SecurityPolicy(ctx, rbac.Account("nope"))
			return err
		}},
		{"Reader.SecurityPolicy of a resource", func(ctx context.Context, w store.Writer) error {
			_, err := w.SecurityPolicy(ctx, p1)
			return err
		}},
		{"Writer.PutSecurityPolicy for a missing account", func(ctx context.Context, w store.Writer) error {
			return w.PutSecurityPolicy(ctx, newPolicy(rbac.Account("nope"), t0))
		}},
		{"Writer.PutSecurityPolicy for a missing organization", func(ctx context.Context, w store.Writer) error {
			return w.PutSecurityPolicy(ctx, newPolicy(rbac.Org("a1"), t0))
		}},
		{"Writer.PutSecurityPolicy for a resource", func(ctx context.Context, w store.Writer) error {
			return w.PutSecurityPolicy(ctx, newPolicy(p1, t0))
		}},
	}
	e.checkErrs(store.ErrNotFound, "ErrNotFound when there is no policy, or no tenant to set one for", cases)
	for _, ref := range []rbac.Ref{rbac.Account("nope"), rbac.Org("a1"), p1} {
		if _, found := e.policy(ref); found {
			e.Errorf("store.go: a failed Writer.PutSecurityPolicy must leave no policy: %v has one", ref)
		}
	}
	if got, found := e.policy(a1); !found || !eqPolicy(got, newPolicy(a1, t0, pfx10)) {
		e.Errorf("store.go: failed writes must leave other policies as they were: a1 got %+v (found %v)", got, found)
	}
}

func policiesDeleteAccount(e *env) {
	e.world()
	e.putPolicies(newPolicy(o1, t0, pfx10), newPolicy(a1, t0, pfxDoc6), newPolicy(a3, time.Time{}, pfxDoc4), newPolicy(a2, t0))
	e.do("delete a2", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, a2) })
	if _, found := e.policy(a2); found {
		e.Errorf("store.go: Writer.DeleteAccount must delete the account's security policy")
	}
	e.do("delete o1", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, o1) })
	for _, ref := range []rbac.Ref{o1, a1, a3} {
		if _, found := e.policy(ref); found {
			e.Errorf("store.go: Writer.DeleteAccount of an organization must delete its security policy and its sub-accounts': %v still has one", ref)
		}
	}
	// A tenant made again under the same ID starts without a policy.
	e.do("make o1, a1 and a2 again", func(ctx context.Context, w store.Writer) error {
		for _, a := range []store.Account{newAccount(o1, "", uAnn), newAccount(a1, "o1", uAnn), newAccount(a2, "", uBob)} {
			if err := w.InsertAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	for _, ref := range []rbac.Ref{o1, a1, a2} {
		if p, found := e.policy(ref); found {
			e.Errorf("store.go: Writer.DeleteAccount must delete the security policy: %v made again has the old one, %+v", ref, p)
		}
	}
}

func policiesRolledBack(e *env) {
	e.world()
	kept := newPolicy(a1, t0, pfx10, pfxDoc6)
	e.putPolicies(kept)
	e.do("token", func(ctx context.Context, w store.Writer) error {
		t := newToken("k1", a1)
		t.IPAllowlist = []netip.Prefix{pfxDoc4}
		return w.InsertToken(ctx, t)
	})
	err := e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
		if err := w.PutSecurityPolicy(ctx, newPolicy(a2, t0, pfxULA)); err != nil {
			return err
		}
		if err := w.PutSecurityPolicy(ctx, newPolicy(a1, time.Time{}, pfxHost4)); err != nil {
			return err
		}
		t := newToken("k1", a1)
		t.IPAllowlist = []netip.Prefix{pfxHost6}
		if err := w.UpdateToken(ctx, t); err != nil {
			return err
		}
		if err := w.PutSecurityPolicy(ctx, newPolicy(o1, t0, pfx10)); err != nil {
			return err
		}
		if err := w.DeleteAccount(ctx, o1); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		e.Fatalf("store.go: Store.Update must return the closure's error: got %v", err)
	}
	for _, ref := range []rbac.Ref{a2, o1} {
		if p, found := e.policy(ref); found {
			e.Errorf("store.go: a rolled-back PutSecurityPolicy must leave no policy: %v has %+v", ref, p)
		}
	}
	if got, found := e.policy(a1); !found || !eqPolicy(got, kept) {
		e.Errorf("store.go: a rolled-back PutSecurityPolicy and DeleteAccount must leave the policy as it was: got %+v (found %v), want %+v", got, found, kept)
	}
	e.read("token", func(ctx context.Context, r store.Reader) error {
		if t, err := r.Token(ctx, "k1"); err != nil || !slices.Equal(t.IPAllowlist, []netip.Prefix{pfxDoc4}) {
			e.Errorf("store.go: a rolled-back UpdateToken must leave the token's IPAllowlist as it was: got %+v, %v", t, err)
		}
		return nil
	})
}

// ---- Tokens: IPAllowlist ----

func tokensIPAllowlist(e *env) {
	e.world()
	withIPs, without := newToken("k1", a1), newToken("k2", a1)
	withIPs.IPAllowlist = []netip.Prefix{pfx10one, pfxHost4, pfxDoc6one, pfxHost6}
	withIPs.Expires = t0.Add(time.Hour)
	e.do("tokens", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertToken(ctx, withIPs); err != nil {
			return err
		}
		return w.InsertToken(ctx, without)
	})
	check := func(clause string, want ...store.Token) {
		e.read("tokens", func(ctx context.Context, r store.Reader) error {
			for _, w := range want {
				if got, err := r.Token(ctx, w.ID); err != nil || !eqToken(got, w) {
					e.Errorf("store.go: %s: Reader.Token got %+v, %v; want %+v", clause, got, err, w)
				}
			}
			if got, err := collect(r.Tokens(ctx, a1)); err != nil || !slices.EqualFunc(got, want, eqToken) {
				e.Errorf("store.go: %s: Reader.Tokens got %+v, %v; want %+v", clause, got, err, want)
			}
			return nil
		})
	}
	check("InsertToken must store Token.IPAllowlist, IPv4 and IPv6 prefixes in order", withIPs, without)
	if got := list(e, "TokensExpiring", func(ctx context.Context, r store.Reader) iter.Seq2[store.Token, error] {
		return r.TokensExpiring(ctx, t0, t0.AddDate(1, 0, 0))
	}); !slices.EqualFunc(got, []store.Token{withIPs}, eqToken) {
		e.Errorf("store.go: Reader.TokensExpiring must return Token.IPAllowlist as stored: got %+v", got)
	}

	// UpdateToken replaces the list: another one, then none, then one again.
	withIPs.IPAllowlist = []netip.Prefix{pfxDoc4}
	without.IPAllowlist = []netip.Prefix{pfxULA, pfxDoc6}
	e.do("update", func(ctx context.Context, w store.Writer) error {
		if err := w.UpdateToken(ctx, withIPs); err != nil {
			return err
		}
		return w.UpdateToken(ctx, without)
	})
	check("UpdateToken must replace Token.IPAllowlist", withIPs, without)
	withIPs.IPAllowlist = nil
	e.do("clear", func(ctx context.Context, w store.Writer) error { return w.UpdateToken(ctx, withIPs) })
	check("UpdateToken with an empty IPAllowlist must clear it", withIPs, without)

	without.IPAllowlist[0] = pfx10
	e.read("copies", func(ctx context.Context, r store.Reader) error {
		got, err := r.Token(ctx, "k2")
		if err != nil {
			return err
		}
		if len(got.IPAllowlist) != 2 || got.IPAllowlist[0] != pfxULA {
			e.Errorf("store.go: stores copy records in: changing the caller's Token.IPAllowlist after UpdateToken changed the stored token: got %v", got.IPAllowlist)
			return nil
		}
		got.IPAllowlist[1] = pfx10
		if again, err := r.Token(ctx, "k2"); err != nil || len(again.IPAllowlist) != 2 || again.IPAllowlist[1] != pfxDoc6 {
			e.Errorf("store.go: stores copy records out: changing a returned Token.IPAllowlist changed the stored token: got %+v, %v", again, err)
		}
		return nil
	})
}

// ---- Checks under policies ----

// The requests of the check clauses: no Auth in the context, and Auths from inside and
// outside the allowlists of policyWorld, with and without a second factor.
var (
	ipInTen     = netip.MustParseAddr("10.1.2.3")        // in 10.0.0.0/8 and 10.1.0.0/16
	ipInTenOnly = netip.MustParseAddr("10.9.9.9")        // in 10.0.0.0/8 only
	ipDoc4      = netip.MustParseAddr("192.0.2.9")       // in 192.0.2.0/24
	ipDoc6      = netip.MustParseAddr("2001:db8::7")     // in 2001:db8::/32
	ipMapped    = netip.MustParseAddr("::ffff:10.1.2.3") // 10.1.2.3 written as IPv6
	checkAuths  = []*rbac.Auth{
		nil,
		{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: ipInTen},
		{Method: rbac.AuthPassword, ClientIP: ipInTenOnly},
		{Method: rbac.AuthSSO, Provider: "okta", SecondFactor: true, ClientIP: ipDoc6},
		{Method: rbac.AuthOAuth, Provider: "github", SecondFactor: true, ClientIP: ipDoc4},
		{Method: rbac.AuthPassword, ClientIP: ipDoc4},
		{Method: rbac.AuthToken, ClientIP: ipMapped},
		{Method: rbac.AuthPassword, SecondFactor: true}, // no address
	}
)

// withAuth returns ctx carrying a, or ctx itself for nil.
func withAuth(ctx context.Context, a *rbac.Auth) context.Context {
	if a == nil {
		return ctx
	}
	return store.WithAuth(ctx, *a)
}

// policyWorld sets the security policies the check clauses decide on, over the
// standard world with the tokens of tokenWorld:
//
//	o1  allowlist 10.0.0.0/8, 2001:db8::/32
//	a1  two-factor authentication required from a day after checkNow (a notice)
//	a2  two-factor authentication required since an hour before checkNow; allowlist 192.0.2.0/24
//	k-ann (a token of a1) allowlist 10.1.0.0/16
func (e *env) policyWorld() {
	e.putPolicies(
		newPolicy(o1, time.Time{}, pfx10, pfxDoc6),
		newPolicy(a1, checkNow.Add(24*time.Hour)),
		newPolicy(a2, checkNow.Add(-time.Hour), pfxDoc4),
	)
	e.do("k-ann's allowlist", func(ctx context.Context, w store.Writer) error {
		t, err := w.Token(ctx, kAnn.ID)
		if err != nil {
			return err
		}
		t.IPAllowlist = []netip.Prefix{pfx10one}
		return w.UpdateToken(ctx, t)
	})
}

// sameDecision reports whether two decisions agree in every field a caller reads.
func sameDecision(a, b rbac.Decision) bool {
	return a.Allowed == b.Allowed && a.Level == b.Level && a.Rule == b.Rule && a.Need == b.Need &&
		a.Notice == b.Notice && a.NoticeAt.Equal(b.NoticeAt)
}

// policiesCheck: store.Check, over the store's Reader, applies the policies of the
// path's account and organization and a token's own allowlist to the Auth in the
// context; and so does a store.Checker.
func policiesCheck(e *env) {
	e.world()
	e.tokenWorld()
	e.put(grant(rbac.User(uCy), i1, a1, rbac.Viewer))
	e.policyWorld()
	ck, hasChecker := store.CheckerOf(e.s)
	for _, c := range []struct {
		h     rbac.Holder
		scope rbac.Ref
		auth  *rbac.Auth
		allow bool
		rule  rbac.Rule // the refusal's rule, or the notice of an allowed decision
		why   string
	}{
		{rbac.User(uAnn), i1, nil, false, rbac.RuleIPAllowlist, "no address, and the organization has an allowlist"},
		{rbac.User(uAnn), i1, checkAuths[1], true, "", "inside the organization's allowlist, with a second factor"},
		{rbac.User(uAnn), i1, checkAuths[2], true, rbac.RuleRequire2FA, "two-factor authentication required from a later date: a notice"},
		{rbac.User(uCy), i1, checkAuths[3], true, "", "inside the organization's IPv6 range"},
		{rbac.User(uCy), i1, checkAuths[6], true, rbac.RuleRequire2FA, "an IPv4-mapped IPv6 address inside the organization's IPv4 range"},
		{rbac.User(uCy), i1, checkAuths[4], false, rbac.RuleIPAllowlist, "outside the organization's allowlist"},
		{rbac.User(uBob), i2, checkAuths[4], true, "", "inside a2's allowlist, with a second factor"},
		{rbac.User(uBob), i2, checkAuths[5], false, rbac.RuleRequire2FA, "two-factor authentication required since before the check"},
		{rbac.User(uBob), p3, checkAuths[2], true, "", "a3 has no policy of its own, and the request is inside o1's allowlist"},
		{kAnn, i1, checkAuths[1], true, "", "inside the token's own allowlist and the organization's"},
		{kAnn, i1, checkAuths[2], false, rbac.RuleIPAllowlist, "inside the organization's allowlist but outside the token's own"},
		{kAnn, i1, checkAuths[6], true, "", "a token is not asked for a second factor"},
		{kCy, p1, checkAuths[1], false, rbac.RuleTokenCreator, "refused before any policy: the creator has no access"},
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
		ok := d.Allowed == c.allow && (c.allow && d.Notice == c.rule || !c.allow && d.Rule == c.rule)
		if !ok {
			e.Errorf("store.go: store.Check(%v, %v, %v) with Auth %+v over the store's Reader = %+v; want allowed=%v, rule or notice %q (%s): Reader.SecurityPolicy and Token.IPAllowlist must read back as set",
				c.h, action, c.scope, c.auth, d, c.allow, c.rule, c.why)
		}
		if hasChecker {
			got, err := ck.Check(ctx, c.h, action, c.scope, checkNow)
			if err != nil || !sameDecision(got, d) {
				e.Errorf("store.go: Checker.Check must decide as store.Check, security policies included: Check(%v, %v, %v) with Auth %+v = %+v, %v; want %+v (%s)",
					c.h, action, c.scope, c.auth, got, err, d, c.why)
			}
		}
	}
}

// checkerAgreesUnderPolicies compares Checker.Check with store.Check for holders on
// scopes, under the policies of policyWorld and each Auth of checkAuths.
func (e *env) checkerAgreesUnderPolicies(ck store.Checker, holders []rbac.Holder, scopes []rbac.Ref) {
	e.policyWorld()
	actions := []rbac.Action{rbac.AccountView, rbac.InboxRead, rbac.AccountTransfer}
	for _, auth := range checkAuths {
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
						e.Errorf("store.go: Checker.Check must decide as store.Check, the security policies and the Auth of the context included: Check(%v, %v, %v) with Auth %+v = %+v, %v; want %+v",
							h, a, s, auth, got, err, want)
					}
				}
			}
		}
	}
}

// ---- Model: checks in random worlds ----

// modelCheckerAgrees builds, with rapid, random worlds in one Update each —
// organizations and accounts with owners, resources, teams, grants, tokens with their
// own allowlists, users with addresses in and out of the domains that security
// policies enforce single sign-on for, and those policies — and compares, for every
// user, team and token on every scope, Checker.Check with store.Check over the
// store's Reader, for a random action and time, under three random Auths (single
// sign-on through a policy's connection or another included). It is skipped when the store has no store.Checker.
func modelCheckerAgrees(e *env) {
	const checkAuths = 3
	if flag.Lookup("test.short") == nil || !flag.Parsed() {
		e.skipf("pgregory.net/rapid needs the testing package's flags: outside go test, call testing.Init and flag.Parse before Check")
	}
	s := e.fresh()
	if _, ok := store.CheckerOf(s); !ok {
		e.skipf("the store does not implement the optional store.Checker, itself or through store.Unwrapper (%T)", s)
	}
	first := true
	rapid.Check(e.tb, func(rt *rapid.T) {
		if !first {
			var err error
			if s, err = e.newStore(); err != nil || s == nil {
				rt.Fatalf("storetest: newStore failed: %v", err)
			}
		}
		first = false
		ck, _ := store.CheckerOf(s)
		holders, scopes := randomWorld(rt, e.ctx, s)
		actions := []rbac.Action{rbac.OrgView, rbac.AccountView, rbac.AccountTransfer, rbac.ProjectView, rbac.InboxRead, rbac.AccessManage}
		for _, h := range holders {
			for _, sc := range scopes {
				a := rapid.SampledFrom(actions).Draw(rt, "action")
				now := rapid.SampledFrom(recNows).Draw(rt, "now")
				// Several Auths per check: the policies decide on how the holder signed
				// in, and a world is dear to build, a check cheap.
				for range checkAuths {
					auth := drawAuth(rt)
					ctx := withAuth(e.ctx, auth)
					var want rbac.Decision
					var werr error
					if err := s.View(ctx, func(ctx context.Context, r store.Reader) error {
						want, werr = store.Check(ctx, r, h, a, sc, now)
						return nil
					}); err != nil || werr != nil {
						rt.Fatalf("store.Check(%v, %v, %v) in a View: %v, %v", h, a, sc, err, werr)
					}
					got, err := ck.Check(ctx, h, a, sc, now)
					if err != nil || !sameDecision(got, want) {
						rt.Fatalf("store.go: Checker.Check must decide as store.Check, the security policies and the Auth of the context included: Check(%v, %v, %v) at %v with Auth %+v = %+v, %v; want %+v",
							h, a, sc, now, auth, got, err, want)
					}
				}
			}
		}
	})
}

// randomWorld writes a random world to s in one Update and returns its holders and
// scopes.
func randomWorld(t *rapid.T, ctx context.Context, s store.Store) (holders []rbac.Holder, scopes []rbac.Ref) {
	type acct struct {
		a       store.Account
		project rbac.Ref
		inbox   rbac.Ref
	}
	users := recUsers
	var accts []acct
	var tenants []rbac.Ref
	hasOrg := rapid.Bool().Draw(t, "organization")
	if hasOrg {
		tenants = append(tenants, recOrgs[0])
		scopes = append(scopes, recOrgs[0])
	}
	for i, ref := range recAccts[:rapid.IntRange(1, len(recAccts)).Draw(t, "accounts")] {
		a := store.Account{Ref: ref, Name: "n", Owner: rapid.SampledFrom(users).Draw(t, "owner"), Plan: "free", Created: t0}
		if hasOrg && rapid.Bool().Draw(t, "sub-account") {
			a.Org = recOrgs[0].ID
		}
		accts = append(accts, acct{a: a, project: recProjs[i], inbox: recInboxes[i%len(recInboxes)]})
		tenants = append(tenants, ref)
		scopes = append(scopes, ref, recProjs[i])
		if i < len(recInboxes) {
			scopes = append(scopes, recInboxes[i])
		}
	}
	var teams []store.Team
	for i, id := range recTeams[:rapid.IntRange(0, 2).Draw(t, "teams")] {
		teams = append(teams, store.Team{ID: id, Tenant: rapid.SampledFrom(tenants).Draw(t, "team tenant"), Name: recTeamNms[i+2], Created: t0})
	}
	var tokens []store.Token
	for _, id := range recTokens[:rapid.IntRange(0, len(recTokens)).Draw(t, "tokens")] {
		tokens = append(tokens, store.Token{ID: id, Tenant: rapid.SampledFrom(tenants).Draw(t, "token tenant"), Name: "n", Hash: []byte{1},
			Last4: "1234", CreatedBy: rapid.SampledFrom(users).Draw(t, "token creator"), Created: t0,
			Expires: drawTime(t, "token expires"), IPAllowlist: drawAllowlist(t, "token allowlist")})
	}
	for _, u := range users {
		holders = append(holders, rbac.User(u))
	}
	for _, tm := range teams {
		holders = append(holders, rbac.Team(tm.ID))
	}
	for _, tok := range tokens {
		holders = append(holders, rbac.Token(tok.ID))
	}
	var grants []store.Grant
	for range rapid.IntRange(0, 8).Draw(t, "grants") {
		h := rapid.SampledFrom(holders).Draw(t, "grant holder")
		sc := rapid.SampledFrom(scopes).Draw(t, "grant scope")
		grants = append(grants, store.Grant{Grant: rbac.Grant{Holder: h, Scope: sc,
			Level: rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "grant level")}})
	}
	var pols []store.SecurityPolicy
	for _, tn := range tenants {
		if rapid.IntRange(0, 2).Draw(t, "has policy") == 0 {
			continue
		}
		// Each rule is on or off by a coin of its own, so that worlds where one rule
		// alone decides are as common as worlds where several do.
		p := store.SecurityPolicy{Tenant: tn, UpdatedBy: users[0], Updated: t0}
		if rapid.Bool().Draw(t, "requires 2fa") {
			p.Require2FA = drawTime(t, "require 2fa")
		}
		if rapid.Bool().Draw(t, "has allowlist") {
			p.IPAllowlist = drawAllowlist(t, "allowlist")
		}
		if rapid.Bool().Draw(t, "has sso") {
			p.SSO = []string{rapid.SampledFrom(recConnIDs).Draw(t, "sso")}
		}
		if rapid.Bool().Draw(t, "enforces sso") {
			p.EnforceSSO = []string{rapid.SampledFrom(recDomainNames).Draw(t, "enforce sso")}
		}
		pols = append(pols, p)
	}
	// Users' addresses in a domain that policies may enforce single sign-on for (in
	// either case), in another, or with no domain.
	emails := make([]string, len(users))
	for i, u := range users {
		emails[i] = u + rapid.SampledFrom([]string{"@x.test", "@Y.Test", "@w.test", ""}).Draw(t, "email domain")
	}
	err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		for i, u := range users {
			if err := w.InsertUser(ctx, store.User{ID: u, Email: emails[i], Name: "n", Created: t0}); err != nil {
				return err
			}
		}
		if hasOrg {
			if err := w.InsertAccount(ctx, store.Account{Ref: recOrgs[0], Name: "n", Owner: rapid.SampledFrom(users).Draw(t, "org owner"), Plan: "free", Created: t0}); err != nil {
				return err
			}
		}
		for i, a := range accts {
			if err := w.InsertAccount(ctx, a.a); err != nil {
				return err
			}
			if err := w.InsertResource(ctx, store.Resource{Ref: a.project, Parent: a.a.Ref, Account: a.a.Ref.ID, Name: "n", Created: t0}); err != nil {
				return err
			}
			if i < len(recInboxes) {
				if err := w.InsertResource(ctx, store.Resource{Ref: a.inbox, Parent: a.project, Account: a.a.Ref.ID, Name: "n", Created: t0}); err != nil {
					return err
				}
			}
		}
		for _, tm := range teams {
			if err := w.InsertTeam(ctx, tm); err != nil {
				return err
			}
			for _, u := range users {
				if rapid.Bool().Draw(t, "team member") {
					if err := w.InsertTeamMember(ctx, tm.ID, u); err != nil {
						return err
					}
				}
			}
		}
		for _, tok := range tokens {
			if err := w.InsertToken(ctx, tok); err != nil {
				return err
			}
		}
		for _, g := range grants {
			if err := w.PutGrant(ctx, g); err != nil {
				return err
			}
		}
		for _, p := range pols {
			if err := w.PutSecurityPolicy(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("building a random world: %v", err)
	}
	return holders, scopes
}
