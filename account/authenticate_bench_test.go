package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// BenchmarkAuthenticate compares the work Authenticate does for a secret whose token
// ID does not exist with the work for a known ID with a wrong secret: the two must
// take the same time (within noise), so that timing does not tell an attacker which
// token IDs exist. A valid secret is measured for reference.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b)
	owner, acct := e.register("owner@acme.test")
	do(e, owner, account.SetPlan{Account: acct.Ref, Plan: "enterprise"})
	for range 200 {
		do(e, owner, account.CreateToken{Tenant: acct.Ref, Name: "ci"})
	}
	tok := do(e, owner, account.CreateToken{Tenant: acct.Ref, Name: "probe"})
	dot := strings.LastIndexByte(tok.Secret, '.')
	wrong := tok.Secret[:dot+1] + strings.Repeat("0", len(tok.Secret)-dot-1)
	unknown := "tok-999999" + tok.Secret[dot:]
	for _, c := range []struct {
		name   string
		secret string
		ok     bool
	}{{"unknown-id", unknown, false}, {"wrong-secret", wrong, false}, {"valid", tok.Secret, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h, err := e.svc.Authenticate(e.ctx, c.secret)
				if c.ok != (err == nil) || !c.ok && !errors.Is(err, account.ErrUnauthenticated) || c.ok && h != rbac.Token(tok.ID) {
					b.Fatal(h, err)
				}
			}
		})
	}
}
