package memstore_test

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// BenchmarkCheckPolicy measures an allowed check of BenchmarkCheck's user among 100k
// grants, side by side in one run: on a store with no security policy and no
// authentication context ("none"); with an authentication context and its account
// requiring 2FA ("2fa"); and with, besides, an IP allowlist of 100 ranges on the
// account and 100 on its organization ("2fa+ip100"). Besides ns/op, it reports the
// median of the times per check of its batches of 1000 checks (median-ns), which
// time during which other work held the CPUs inflates less.
func BenchmarkCheckPolicy(b *testing.B) {
	const n = 100_000
	base := memstore.New()
	loadGrants(b, base, n)
	h, inbox := benchHolder(n)
	acct := rbac.Account("a" + strconv.Itoa(accountsFor(n)/2))
	org := rbac.Org("o" + strconv.Itoa(accountsFor(n)/2/accountsPerOrg))
	now := time.Now()
	var hundred []netip.Prefix
	for i := range 99 {
		hundred = append(hundred, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16))
	}
	hundred = rbac.NormalizeAllowlist(append(hundred, netip.MustParsePrefix("203.0.113.0/24")))
	put := func(ps ...store.SecurityPolicy) {
		err := base.Update(context.Background(), func(ctx context.Context, w store.Writer) error {
			for _, p := range ps {
				if err := w.PutSecurityPolicy(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	withAuth := store.WithAuth(context.Background(), rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("203.0.113.9")})
	cases := []struct {
		name  string
		ctx   context.Context
		setup func()
	}{
		{"none", context.Background(), func() {}},
		{"2fa", withAuth, func() { put(store.SecurityPolicy{Tenant: acct, Require2FA: now.Add(-time.Hour)}) }},
		{"2fa+ip100", withAuth, func() {
			put(store.SecurityPolicy{Tenant: acct, Require2FA: now.Add(-time.Hour), IPAllowlist: hundred},
				store.SecurityPolicy{Tenant: org, IPAllowlist: hundred})
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.setup()
			var d rbac.Decision
			var err error
			const batch = 1000
			batches := make([]float64, 0, 1<<16)
			i := 0
			b.ReportAllocs()
			t0 := time.Now()
			for b.Loop() {
				d, err = base.Check(c.ctx, h, rbac.InboxRead, inbox, now)
				if i++; i%batch == 0 && len(batches) < cap(batches) {
					t := time.Now()
					batches = append(batches, float64(t.Sub(t0).Nanoseconds())/batch)
					t0 = t
				}
			}
			if err != nil || !d.Allowed {
				b.Fatalf("Check = %+v, %v", d, err)
			}
			if len(batches) > 0 {
				b.ReportMetric(median(batches), "median-ns")
			}
		})
	}
}
