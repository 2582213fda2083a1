package sqlitestore_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// BenchmarkCheckPolicies measures Store.Check of inbox.read in the world of
// BenchmarkCheck with 1k grants, for its user and for a token of the user's account
// (made by the owner, with an admin grant on the inbox's project; a read transaction
// of three statements, never cached), first with no security policy, then with the
// policies of the account's organization (an IPv4 and an IPv6 range) and of the
// account (two-factor authentication required from a later date), an allowlist of the
// token's own, and an Auth in the context that they all allow; then with the
// organization's policy also enforcing single sign-on for the user's domain, and the
// user signed in through its connection (the statement then also reads the user's
// address): from the check cache and with the cache off.
func BenchmarkCheckPolicies(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	const n = 1_000
	s := openStoreAt(b, path, testOptions, true)
	loadWorld(b, s, n)
	h, inbox := benchHolder(n)
	acct, org := rbac.Account("a5"), rbac.Org("o0")
	update(b, s, func(ctx context.Context, w store.Writer) error {
		must(b, w.InsertToken(ctx, store.Token{ID: "k1", Tenant: acct, Name: "ci", Hash: []byte{1}, Last4: "abcd", CreatedBy: "owner"}))
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.Token("k1"), Scope: rbac.Project("p5.0"), Level: rbac.Admin}, Tenant: acct})
	})
	now := time.Now()
	ctx := store.WithAuth(context.Background(), rbac.Auth{Method: rbac.AuthPassword, ClientIP: netip.MustParseAddr("10.1.2.3")})
	uncached := testOptions
	uncached.CheckCacheSize = -1
	run := func(name string, notice rbac.Rule) {
		for _, c := range []struct {
			name   string
			holder rbac.Holder
			cached bool
		}{{"user/cached", h, true}, {"user/uncached", h, false}, {"token", rbac.Token("k1"), false}} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				opts := testOptions
				if !c.cached {
					opts = uncached
				}
				s := openStoreAt(b, path, opts, false)
				want := notice
				if c.holder.Kind == rbac.HolderToken {
					want = "" // tokens are not asked for a second factor
				}
				b.ReportAllocs()
				for b.Loop() {
					d, err := s.Check(ctx, c.holder, rbac.InboxRead, inbox, now)
					if err != nil || !d.Allowed || d.Notice != want {
						b.Fatalf("Check = %+v, %v", d, err)
					}
				}
			})
		}
	}
	run("policies=none", "")
	update(b, s, func(ctx context.Context, w store.Writer) error {
		must(b, w.PutSecurityPolicy(ctx, store.SecurityPolicy{Tenant: org, UpdatedBy: "owner", Updated: now,
			IPAllowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}}))
		must(b, w.PutSecurityPolicy(ctx, store.SecurityPolicy{Tenant: acct, UpdatedBy: "owner", Updated: now, Require2FA: now.Add(30 * 24 * time.Hour)}))
		t, err := w.Token(ctx, "k1")
		must(b, err)
		t.IPAllowlist = []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
		return w.UpdateToken(ctx, t)
	})
	run("policies=org+account", rbac.RuleRequire2FA)
	update(b, s, func(ctx context.Context, w store.Writer) error {
		// The world's holder has no user record: it gets one, with an address.
		must(b, w.InsertUser(ctx, store.User{ID: h.ID, Email: h.ID + "@load.test", Name: "n", Created: now}))
		p, err := w.SecurityPolicy(ctx, org)
		must(b, err)
		p.SSO, p.EnforceSSO = []string{"okta"}, []string{"load.test"}
		return w.PutSecurityPolicy(ctx, p)
	})
	ctx = store.WithAuth(context.Background(), rbac.Auth{Method: rbac.AuthSSO, Provider: "okta", ClientIP: netip.MustParseAddr("10.1.2.3")})
	run("policies=org+account+enforce-sso", rbac.RuleRequire2FA)
}
