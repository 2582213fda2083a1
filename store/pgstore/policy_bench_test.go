package pgstore_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
)

// BenchmarkCheckPolicies measures Store.Check of inbox.read on i1 on one warmed
// connection, on the fixture of BenchmarkCheckRoundTrip plus token k1 of account a1
// (made by bob, its owner) with an admin grant on p1: for dave, a user (one
// statement), and for k1 (a read transaction of three statements), first with no
// security policy, then with the policies of organization o1 (an IPv4 and an IPv6
// range) and account a1 (two-factor authentication required from a later date), an
// allowlist of the token's own, and an Auth in the context that they all allow; then
// with o1's policy also enforcing single sign-on for dave's domain, and dave signed in
// through its connection (the statement then also reads dave's address); and, beside,
// the same checks through store.CheckIn.
func BenchmarkCheckPolicies(b *testing.B) {
	s := openStore(b, pgstore.Options{}, "pool_max_conns=1")
	checkFixture(b, s)
	update(b, s, func(ctx context.Context, w store.Writer) error {
		must(b, w.InsertToken(ctx, store.Token{ID: "k1", Tenant: rbac.Account("a1"), Name: "ci", Hash: []byte{1}, Last4: "abcd", CreatedBy: "bob", Created: t0}))
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.Token("k1"), Scope: rbac.Project("p1"), Level: rbac.Admin}})
	})
	now := time.Now()
	ctx := store.WithAuth(b.Context(), rbac.Auth{Method: rbac.AuthPassword, ClientIP: netip.MustParseAddr("10.1.2.3")})
	check := s.Check
	inView := func(ctx context.Context, h rbac.Holder, a rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
		return store.CheckIn(ctx, s, h, a, scope, now)
	}
	run := func(h rbac.Holder, notice rbac.Rule) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := check(ctx, h, rbac.InboxRead, rbac.Inbox("i1"), now)
				if err != nil || !d.Allowed || d.Notice != notice {
					b.Fatalf("Check = %+v, %v", d, err)
				}
			}
		}
	}
	b.Run("policies=none/user", run(rbac.User("dave"), ""))
	b.Run("policies=none/token", run(rbac.Token("k1"), ""))
	update(b, s, func(ctx context.Context, w store.Writer) error {
		must(b, w.PutSecurityPolicy(ctx, store.SecurityPolicy{Tenant: rbac.Org("o1"), UpdatedBy: "alice", Updated: t0,
			IPAllowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}))
		must(b, w.PutSecurityPolicy(ctx, store.SecurityPolicy{Tenant: rbac.Account("a1"), UpdatedBy: "bob", Updated: t0,
			Require2FA: now.Add(30 * 24 * time.Hour)}))
		t, err := w.Token(ctx, "k1")
		must(b, err)
		t.IPAllowlist = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
		return w.UpdateToken(ctx, t)
	})
	b.Run("policies=org+account/user", run(rbac.User("dave"), rbac.RuleRequire2FA))
	b.Run("policies=org+account/token", run(rbac.Token("k1"), ""))
	// The organization also enforces single sign-on for dave's domain, and dave signed
	// in through its connection: the statement also reads dave's address.
	update(b, s, func(ctx context.Context, w store.Writer) error {
		u, err := w.User(ctx, "dave")
		must(b, err)
		p, err := w.SecurityPolicy(ctx, rbac.Org("o1"))
		must(b, err)
		p.SSO, p.EnforceSSO = []string{"okta"}, []string{rbac.EmailDomain(u.Email)}
		return w.PutSecurityPolicy(ctx, p)
	})
	password := ctx
	ctx = store.WithAuth(b.Context(), rbac.Auth{Method: rbac.AuthSSO, Provider: "okta", ClientIP: netip.MustParseAddr("10.1.2.3")})
	b.Run("policies=org+account+enforce-sso/user", run(rbac.User("dave"), rbac.RuleRequire2FA))
	b.Run("policies=org+account+enforce-sso/token", run(rbac.Token("k1"), ""))
	// The same through store.CheckIn, the reference check in a View: one statement
	// per Reader call, each policy read on its own.
	check = inView
	b.Run("policies=org+account+enforce-sso/user/store.CheckIn", run(rbac.User("dave"), rbac.RuleRequire2FA))
	update(b, s, func(ctx context.Context, w store.Writer) error {
		p, err := w.SecurityPolicy(ctx, rbac.Org("o1"))
		must(b, err)
		p.SSO, p.EnforceSSO = nil, nil
		return w.PutSecurityPolicy(ctx, p)
	})
	ctx = password
	b.Run("policies=org+account/user/store.CheckIn", run(rbac.User("dave"), rbac.RuleRequire2FA))
	b.Run("policies=org+account/token/store.CheckIn", run(rbac.Token("k1"), ""))
}
