package accounttest

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Immediate checks that removals and tightened policies take effect at the very next
// check, with no cache window (D13, D32, D35): a member allowed, then removed, is
// refused; a member allowed, then outside a new IP allowlist, is refused; back inside
// it, allowed; then a 2FA requirement from now refuses a sign-in without a second
// factor.
func Immediate(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	st := newStore(t)
	defer release(st)
	svc := account.New(st, account.Options{})
	reg := func(email string) (rbac.Holder, rbac.Ref) {
		r, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email})
		if err != nil {
			t.Fatalf("Register(%s): %v", email, err)
		}
		return rbac.User(r.User.ID), r.Account.Ref
	}
	owner, acct := reg("owner@immediate.test")
	inside := account.WithAuth(ctx, rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("10.0.0.1")})
	outside := account.WithAuth(ctx, rbac.Auth{ClientIP: netip.MustParseAddr("192.0.2.1")})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "business"})
	must(err)
	_, err = account.Do(ctx, svc, owner, profile.SetTwoFactor{On: true})
	must(err)
	join := func(email string) rbac.Holder {
		u, _ := reg(email)
		inv, err := account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: email, Grants: []account.GrantSpec{{Scope: acct, Level: rbac.Viewer}}})
		must(err)
		_, err = account.Do(ctx, svc, u, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
		must(err)
		return u
	}
	gone, stays := join("gone@immediate.test"), join("stays@immediate.test")
	must(svc.Authorize(ctx, gone, rbac.AccountView, acct))
	_, err = account.Do(ctx, svc, owner, account.RemoveMember{Tenant: acct, Member: gone})
	must(err)
	if err := svc.Authorize(ctx, gone, rbac.AccountView, acct); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("the next check after the removal: %v, want ErrNotFound", err)
	}

	must(svc.Authorize(outside, stays, rbac.AccountView, acct))
	_, err = account.Do(inside, svc, owner, account.SetSecurityPolicy{Tenant: acct, IPAllowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	must(err)
	var de *rbac.DeniedError
	if err := svc.Authorize(outside, stays, rbac.AccountView, acct); !errors.As(err, &de) || de.Decision.Rule != rbac.RuleIPAllowlist {
		t.Fatalf("the next check from outside the new allowlist: %v, want a D35 refusal", err)
	}
	insideWeak := account.WithAuth(ctx, rbac.Auth{ClientIP: netip.MustParseAddr("10.0.0.2")})
	must(svc.Authorize(insideWeak, stays, rbac.AccountView, acct))
	_, err = account.Do(inside, svc, owner, account.SetSecurityPolicy{Tenant: acct, Require2FA: svcNow(), IPAllowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	must(err)
	if err := svc.Authorize(insideWeak, stays, rbac.AccountView, acct); !errors.As(err, &de) || de.Decision.Rule != rbac.RuleRequire2FA {
		t.Fatalf("the next check without a second factor: %v, want a D32 refusal", err)
	}
	must(svc.Authorize(inside, stays, rbac.AccountView, acct))
}

// svcNow is the service's clock of Immediate: the real one, a second back, so that
// a requirement "from now" is already due at the next check.
func svcNow() time.Time { return time.Now().Add(-time.Second) }
