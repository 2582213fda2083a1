package account_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

// D23: a reset keeps the token's expiry unless it asks for another date or never,
// within the limits of creation; a refused expiry changes nothing.
func TestResetTokenExpiry(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := account.New(memstore.New(), account.Options{Now: func() time.Time { return now }})
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	owner, acct := rbac.User(reg.User.ID), reg.Account.Ref
	tok, err := account.Do(ctx, svc, owner, account.CreateToken{Tenant: acct, Name: "CI", Grants: []account.GrantSpec{{Scope: acct, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	reset := func(op account.ResetToken) (account.NewToken, error) {
		op.Tenant, op.Token = acct, rbac.Token(tok.ID)
		nt, err := account.Do(ctx, svc, owner, op)
		if err == nil {
			tok = nt
		}
		return nt, err
	}
	if nt, err := reset(account.ResetToken{}); err != nil || !nt.Expires.Equal(now.Add(account.DefaultTokenLifetime)) {
		t.Fatalf("plain reset: %v, expires %v", err, nt.Expires)
	}
	at := now.Add(30 * 24 * time.Hour)
	if nt, err := reset(account.ResetToken{Expires: at}); err != nil || !nt.Expires.Equal(at) {
		t.Fatalf("reset to a date: %v, expires %v", err, nt.Expires)
	}
	if nt, err := reset(account.ResetToken{NeverExpires: true}); err != nil || !nt.Expires.IsZero() {
		t.Fatalf("reset to never: %v, expires %v", err, nt.Expires)
	}
	for _, op := range []account.ResetToken{
		{Expires: now.Add(-time.Hour)},
		{Expires: now.Add(account.MaxTokenLifetime + time.Hour)},
		{Expires: at, NeverExpires: true},
	} {
		id := tok.ID
		if _, err := reset(op); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", op, err)
		}
		if _, err := svc.Authenticate(ctx, tok.Secret); err != nil || tok.ID != id {
			t.Errorf("a refused reset changed the token: %v", err)
		}
	}
}
