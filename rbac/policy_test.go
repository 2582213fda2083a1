package rbac_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"pgregory.net/rapid"
)

var (
	policyNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	addrs     = []netip.Addr{{}, netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.0.0.8")}
	prefixes  = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/30"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("::ffff:192.0.2.0/120")}
)

func drawPolicy(t *rapid.T, label string) rbac.Policy {
	var p rbac.Policy
	switch rapid.IntRange(0, 2).Draw(t, label+"2fa") {
	case 1:
		p.Require2FA = policyNow.Add(-time.Hour)
	case 2:
		p.Require2FA = policyNow.Add(time.Duration(rapid.IntRange(1, 100).Draw(t, label+"ahead")) * time.Hour)
	}
	p.IPAllowlist = rbac.NormalizeAllowlist(rapid.SliceOfDistinct(rapid.SampledFrom(prefixes), netip.Prefix.String).Draw(t, label+"ips"))
	p.SSO = rapid.SliceOfDistinct(rapid.SampledFrom([]string{"okta", "entra"}), rapid.ID[string]).Draw(t, label+"sso")
	if len(p.SSO) > 0 {
		p.EnforceSSO = rapid.SliceOfDistinct(rapid.SampledFrom([]string{"acme.test", "corp.test"}), rapid.ID[string]).Draw(t, label+"enforce")
	}
	return p
}

// ApplyPolicy's laws: it never allows what was refused; it refuses exactly when an
// allowlist excludes the address or a due 2FA requirement meets a user without a
// second factor; tokens are never asked for a second factor; a notice is given only
// on an allowed decision, for the earliest requirement still ahead.
func TestApplyPolicyLaws(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		holder := rapid.SampledFrom([]rbac.Holder{rbac.User("u"), rbac.Token("t"), rbac.Team("x")}).Draw(t, "holder")
		d := rbac.Decision{Allowed: rapid.Bool().Draw(t, "allowed"), Action: rbac.ProjectView, Scope: rbac.Project("p"), Need: rbac.Viewer, Level: rbac.Admin, Rule: rbac.RuleEffective}
		var auth *rbac.Auth
		if rapid.Bool().Draw(t, "withAuth") {
			auth = &rbac.Auth{SecondFactor: rapid.Bool().Draw(t, "2fa"), ClientIP: rapid.SampledFrom(addrs).Draw(t, "ip")}
			if rapid.Bool().Draw(t, "viaSSO") {
				auth.Method, auth.Provider = rbac.AuthSSO, rapid.SampledFrom([]string{"okta", "entra", "other"}).Draw(t, "provider")
			}
		}
		email := rapid.SampledFrom([]string{"", "ann@acme.test", "bob@CORP.test", "cy@else.test"}).Draw(t, "email")
		pols := []rbac.Policy{drawPolicy(t, "acct"), drawPolicy(t, "org")}[:rapid.IntRange(0, 2).Draw(t, "n")]
		tokIPs := rbac.NormalizeAllowlist(rapid.SliceOfDistinct(rapid.SampledFrom(prefixes), netip.Prefix.String).Draw(t, "tokenIPs"))

		got := rbac.ApplyPolicyTo(d, holder, email, auth, policyNow, tokIPs, pols...)
		if !d.Allowed || holder.Kind == rbac.HolderTeam {
			if got != d {
				t.Fatalf("ApplyPolicy changed %+v into %+v", d, got)
			}
			return
		}
		var ip netip.Addr
		second := false
		provider := ""
		if auth != nil {
			ip, second = auth.ClientIP, auth.SecondFactor
			if auth.Method == rbac.AuthSSO {
				provider = auth.Provider
			}
		}
		via := func(p rbac.Policy) bool {
			for _, c := range p.SSO {
				if c == provider {
					return true
				}
			}
			return false
		}
		domain := ""
		if i := strings.LastIndexByte(email, '@'); i >= 0 {
			domain = strings.ToLower(email[i+1:])
		}
		in := func(list []netip.Prefix) bool {
			if len(list) == 0 {
				return true
			}
			for _, p := range list {
				if ip.IsValid() && p.Contains(ip.Unmap()) {
					return true
				}
			}
			return false
		}
		wantRule := rbac.Rule("")
		if holder.Kind == rbac.HolderToken && !in(tokIPs) {
			wantRule = rbac.RuleIPAllowlist
		}
		var notice time.Time
		for _, p := range pols {
			if !in(p.IPAllowlist) {
				wantRule = rbac.RuleIPAllowlist
			}
		}
		if wantRule == "" && holder.Kind == rbac.HolderUser {
			for _, p := range pols {
				if len(p.EnforceSSO) > 0 && (domain == "" || slices.Contains(p.EnforceSSO, domain)) && !via(p) {
					wantRule = rbac.RuleSSO
				}
			}
		}
		if wantRule == "" && holder.Kind == rbac.HolderUser && !second {
			for _, p := range pols {
				switch {
				case p.Require2FA.IsZero(), via(p):
				case !policyNow.Before(p.Require2FA):
					wantRule = rbac.RuleRequire2FA
				case notice.IsZero() || p.Require2FA.Before(notice):
					notice = p.Require2FA
				}
			}
		}
		switch {
		case wantRule != "":
			if got.Allowed || got.Rule != wantRule || got.Notice != "" {
				t.Fatalf("got %+v, want a refusal by %s", got, wantRule)
			}
		case got.Allowed != true || got.Rule != d.Rule:
			t.Fatalf("got %+v, want allowed as %+v", got, d)
		case notice.IsZero() != (got.Notice == "") || !notice.IsZero() && (!got.NoticeAt.Equal(notice) || got.Notice != rbac.RuleRequire2FA):
			t.Fatalf("notice %s at %v, want at %v", got.Notice, got.NoticeAt, notice)
		}
	})
}

// A check with an authentication context and a policy allocates nothing.
func TestApplyPolicyAllocatesNothing(t *testing.T) {
	d := rbac.Decision{Allowed: true, Action: rbac.ProjectView, Scope: rbac.Project("p"), Need: rbac.Viewer, Level: rbac.Admin}
	auth := &rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("10.1.2.3")}
	p := rbac.Policy{Require2FA: policyNow, IPAllowlist: rbac.NormalizeAllowlist(prefixes)}
	if n := testing.AllocsPerRun(100, func() {
		if got := rbac.ApplyPolicy(d, rbac.User("u"), auth, policyNow, nil, p, p); !got.Allowed {
			t.Fatal(got.Reason())
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func BenchmarkApplyPolicy(b *testing.B) {
	d := rbac.Decision{Allowed: true, Action: rbac.ProjectView, Scope: rbac.Project("p"), Need: rbac.Viewer, Level: rbac.Admin}
	auth := &rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("203.0.113.9")}
	var hundred []netip.Prefix
	for i := range 100 {
		hundred = append(hundred, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16))
	}
	hundred = rbac.NormalizeAllowlist(append(hundred, netip.MustParsePrefix("203.0.113.0/24")))
	for _, c := range []struct {
		name string
		p    rbac.Policy
	}{{"none", rbac.Policy{}}, {"2fa", rbac.Policy{Require2FA: policyNow}}, {"2fa+100cidrs", rbac.Policy{Require2FA: policyNow, IPAllowlist: hundred}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rbac.ApplyPolicy(d, rbac.User("u"), auth, policyNow, nil, c.p)
			}
		})
	}
}

// Allows on a normalized list answers as a linear scan of the list as given.
func TestAllowsAgreesWithAScan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var list []netip.Prefix
		for range rapid.IntRange(0, 12).Draw(t, "n") {
			if rapid.Bool().Draw(t, "v6") {
				var a [16]byte
				a[0], a[1], a[15] = 0x20, 0x01, rapid.Byte().Draw(t, "b")
				list = append(list, netip.PrefixFrom(netip.AddrFrom16(a), rapid.IntRange(112, 128).Draw(t, "bits6")))
			} else {
				list = append(list, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, rapid.Byte().Draw(t, "c"), rapid.Byte().Draw(t, "d")}), rapid.IntRange(16, 32).Draw(t, "bits")))
			}
		}
		var addr netip.Addr
		if rapid.Bool().Draw(t, "v6addr") {
			var a [16]byte
			a[0], a[1], a[15] = 0x20, 0x01, rapid.Byte().Draw(t, "ab")
			addr = netip.AddrFrom16(a)
		} else {
			addr = netip.AddrFrom4([4]byte{10, 0, rapid.Byte().Draw(t, "ac"), rapid.Byte().Draw(t, "ad")})
			if rapid.Bool().Draw(t, "mapped") {
				addr = netip.AddrFrom16(addr.As16())
			}
		}
		scan := len(list) == 0
		for _, p := range list {
			if p.Contains(addr.Unmap()) {
				scan = true
			}
		}
		if got := rbac.Allows(rbac.NormalizeAllowlist(list), addr); got != scan {
			t.Fatalf("Allows(%v, %v) = %v, a scan says %v", rbac.NormalizeAllowlist(list), addr, got, scan)
		}
	})
}
