package account_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

var (
	office = netip.MustParsePrefix("203.0.113.0/24")
	inside = netip.MustParseAddr("203.0.113.7")
	away   = netip.MustParseAddr("198.51.100.9")
)

// securityFixture is a business account whose owner has 2FA on, with an admin and a
// viewer.
type securityFixture struct {
	*fixture
	admin, viewer rbac.Holder
}

func newSecurityFixture(t *testing.T) *securityFixture {
	f := newFixture(t)
	do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "business"})
	do(f.env, f.owner, profile.SetTwoFactor{On: true})
	return &securityFixture{fixture: f,
		admin:  f.join("admin@acme.test", grant(f.acct, rbac.Admin)),
		viewer: f.join("viewer@acme.test", grant(f.proj, rbac.Viewer)),
	}
}

// as returns the fixture's env's context carrying a.
func (f *securityFixture) as(a rbac.Auth) context.Context { return account.WithAuth(f.ctx, a) }

func (f *securityFixture) check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref) rbac.Decision {
	f.t.Helper()
	d, err := f.svc.Check(ctx, h, a, s)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// D32: required 2FA from a date: before it, allowed with a notice; from it, a user
// without a second factor is refused on every scope of the account with a reason that
// says what to do; tokens are not asked; the one who requires it must have 2FA.
func TestRequire2FA(t *testing.T) {
	f := newSecurityFixture(t)
	strong := rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: inside}
	weak := rbac.Auth{Method: rbac.AuthPassword, ClientIP: inside}
	from := f.now.Add(14 * day)

	// No lockout: the admin without 2FA, and the owner without passing it now, cannot.
	invalid(t, f.unchangedIn([]rbac.Holder{f.owner}, []rbac.Ref{f.acct}, func() error {
		_, err := account.Do(f.as(weak), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: from})
		return err
	}), "require_2fa")
	invalid(t, func() error {
		_, err := account.Do(f.as(strong), f.svc, f.admin, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: from})
		return err
	}(), "require_2fa")
	denied(t, func() error {
		_, err := account.Do(f.as(strong), f.svc, f.viewer, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: from})
		return err
	}(), rbac.RuleRequire2FA)
	if _, err := account.Do(f.as(strong), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: from}); err != nil {
		t.Fatal(err)
	}

	// Before the date: allowed, with the notice.
	d := f.check(f.as(weak), f.viewer, rbac.InboxRead, f.inboxA)
	if !d.Allowed || d.Notice != rbac.RuleRequire2FA || !d.NoticeAt.Equal(from) {
		t.Fatalf("before the date: %+v, want allowed with a D32 notice at %v", d, from)
	}
	// From the date: refused without a second factor, everywhere in the account...
	f.now = from
	for _, s := range []rbac.Ref{f.acct, f.proj, f.inboxA, f.domain} {
		if d := f.check(f.as(weak), f.admin, rbac.ProjectView, s); d.Allowed || d.Rule != rbac.RuleRequire2FA && d.Rule != rbac.RuleWrongKind {
			t.Fatalf("on %v after the date: %s", s, d.Reason())
		}
	}
	d = f.check(f.as(weak), f.viewer, rbac.InboxRead, f.inboxA)
	if d.Allowed || d.Rule != rbac.RuleRequire2FA {
		t.Fatalf("after the date: %+v", d)
	}
	err := f.svc.Authorize(f.as(weak), f.viewer, rbac.InboxRead, f.inboxA)
	var de *rbac.DeniedError
	if !errors.As(err, &de) || de.Decision.Rule != rbac.RuleRequire2FA {
		t.Fatalf("Authorize: %v, want a D32 refusal (403, not 404)", err)
	}
	// ...and in operations and listings, with the same reason; without any Auth too.
	denied(t, func() error {
		_, err := account.Do(f.as(weak), f.svc, f.admin, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "X"})
		return err
	}(), rbac.RuleRequire2FA)
	denied(t, try(f.env, f.admin, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "X"}), rbac.RuleRequire2FA)
	if _, err := account.Get(f.as(weak), f.svc, f.admin, account.Members{Tenant: f.acct}); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("listing without 2FA: %v", err)
	}
	// With a second factor: allowed, no notice.
	if d := f.check(f.as(strong), f.viewer, rbac.InboxRead, f.inboxA); !d.Allowed || d.Notice != "" {
		t.Fatalf("with a second factor: %+v", d)
	}
	// A token is not asked for a second factor.
	tok, err := account.Do(f.as(strong), f.svc, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Viewer)}})
	if err != nil {
		t.Fatal(err)
	}
	if d := f.check(f.as(rbac.Auth{Method: rbac.AuthToken, ClientIP: inside}), rbac.Token(tok.ID), rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatalf("token: %s", d.Reason())
	}
	// Another account of the same user is not affected.
	other, err := account.Do(f.as(weak), f.svc, f.viewer, account.CreateAccount{Name: "Side"})
	if err != nil {
		t.Fatal(err)
	}
	if d := f.check(f.as(weak), f.viewer, rbac.AccountView, other.Ref); !d.Allowed {
		t.Fatalf("the user's own account: %s", d.Reason())
	}
}

// D35: IP allowlists of the account (users and tokens) and of a token; the admin's own
// address must be inside; an organization's reaches its sub-accounts; removal and
// tightening are immediate.
func TestIPAllowlists(t *testing.T) {
	f := newSecurityFixture(t)
	at := func(ip netip.Addr) context.Context { return f.as(rbac.Auth{ClientIP: ip}) }
	invalid(t, func() error {
		_, err := account.Do(at(away), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{office}})
		return err
	}(), "ip_allowlist")
	invalid(t, func() error {
		_, err := account.Do(f.ctx, f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{office}})
		return err
	}(), "ip_allowlist")
	p, err := account.Do(at(inside), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{office, netip.MustParsePrefix("203.0.113.128/25")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.IPAllowlist) != 1 {
		t.Fatalf("stored %v, want it normalized to %v", p.IPAllowlist, office)
	}
	if d := f.check(at(inside), f.viewer, rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatal(d.Reason())
	}
	for _, ctx := range []context.Context{at(away), f.ctx} {
		if d := f.check(ctx, f.viewer, rbac.ProjectView, f.proj); d.Allowed || d.Rule != rbac.RuleIPAllowlist {
			t.Fatalf("from outside: %+v", d)
		}
	}
	// Tokens: the account's list, and their own.
	tok, err := account.Do(at(inside), f.svc, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Viewer)},
		IPAllowlist: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")}})
	if err != nil {
		t.Fatal(err)
	}
	if d := f.check(at(inside), rbac.Token(tok.ID), rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatal(d.Reason())
	}
	if d := f.check(at(netip.MustParseAddr("203.0.113.8")), rbac.Token(tok.ID), rbac.ProjectView, f.proj); d.Allowed || d.Rule != rbac.RuleIPAllowlist {
		t.Fatalf("token outside its own list: %+v", d)
	}
	if _, err := account.Do(at(inside), f.svc, f.owner, account.SetTokenAllowlist{Tenant: f.acct, Token: rbac.Token(tok.ID)}); err != nil {
		t.Fatal(err)
	}
	if d := f.check(at(netip.MustParseAddr("203.0.113.8")), rbac.Token(tok.ID), rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatalf("token after lifting its list: %s", d.Reason())
	}
	// Tightening is immediate: the very next check refuses.
	if _, err := account.Do(at(inside), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")}}); err != nil {
		t.Fatal(err)
	}
	if d := f.check(at(netip.MustParseAddr("203.0.113.8")), f.viewer, rbac.ProjectView, f.proj); d.Allowed {
		t.Fatal("a tightened list still lets an outside address in")
	}
	// The audit log has the change, with the list before and after.
	page, err := account.Get(at(inside), f.svc, f.owner, account.Events{Tenant: f.acct})
	if err != nil {
		t.Fatal(err)
	}
	evs := page.Items
	if last := evs[len(evs)-1]; last.Action != "account.security" || last.After != "2fa=off;ips=203.0.113.7/32" {
		t.Fatalf("last event %+v", last)
	}
	// A plan without security policies cannot set one.
	if _, err := account.Do(at(inside), f.svc, f.owner, account.SetPlan{Account: f.acct, Plan: "team"}); err != nil {
		t.Fatal(err)
	}
	_, err = account.Do(at(netip.MustParseAddr("203.0.113.7")), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct})
	if !errors.Is(err, account.ErrPlan) {
		t.Fatalf("on the team plan: %v", err)
	}
}

// An organization's policy reaches its sub-accounts.
func TestOrganizationPolicyReachesSubAccounts(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("owner@acme.test")
	do(e, owner, profile.SetTwoFactor{On: true})
	org := do(e, owner, account.CreateOrganization{Name: "Group", Plan: "business"})
	sub := do(e, owner, account.CreateSubAccount{Org: org.Ref, Name: "EU"})
	member := e.joinTo(owner, sub.Ref, "m@acme.test", grant(sub.Ref, rbac.Viewer))
	ctx := account.WithAuth(e.ctx, rbac.Auth{SecondFactor: true, ClientIP: inside})
	if _, err := account.Do(ctx, e.svc, owner, account.SetSecurityPolicy{Tenant: org.Ref, Require2FA: e.now}); err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.Check(account.WithAuth(e.ctx, rbac.Auth{ClientIP: inside}), member, rbac.AccountView, sub.Ref)
	if err != nil || d.Allowed || d.Rule != rbac.RuleRequire2FA {
		t.Fatalf("the organization's 2FA in its sub-account: %+v %v", d, err)
	}
}

// Checks with an authentication context and a 2FA-required account allocate nothing.
func TestPolicyCheckAllocatesNothing(t *testing.T) {
	f := newSecurityFixture(t)
	ctx := f.as(rbac.Auth{SecondFactor: true, ClientIP: inside})
	if _, err := account.Do(ctx, f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: f.now, IPAllowlist: []netip.Prefix{office}}); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(200, func() {
		if err := f.svc.Authorize(ctx, f.viewer, rbac.InboxRead, f.inboxA); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per check", n)
	}
}

// Removal and tightening are immediate on the in-memory store: the very next check
// after a removal refuses, with no cache window.
func TestRemovalIsImmediate(t *testing.T) {
	st := memstore.New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := account.New(st, account.Options{Now: func() time.Time { return now }})
	ctx := t.Context()
	ann, _ := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"})
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	if _, err := account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}); err != nil {
		t.Fatal(err)
	}
	bob, _ := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test"})
	inv, _ := account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: "bob@acme.test", Grants: []account.GrantSpec{{Scope: acct, Level: rbac.Viewer}}})
	if _, err := account.Do(ctx, svc, rbac.User(bob.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Authorize(ctx, rbac.User(bob.User.ID), rbac.AccountView, acct); err != nil {
		t.Fatal(err)
	}
	if _, err := account.Do(ctx, svc, owner, account.RemoveMember{Tenant: acct, Member: rbac.User(bob.User.ID)}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Authorize(ctx, rbac.User(bob.User.ID), rbac.AccountView, acct); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the next check after removal: %v", err)
	}
}

// A user refused by one account's policy still lists their accounts, with the refusal,
// so that they learn what to do (D29, D32).
func TestMyAccountsUnderAPolicy(t *testing.T) {
	f := newSecurityFixture(t)
	strong := f.as(rbac.Auth{SecondFactor: true})
	if _, err := account.Do(strong, f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: f.now}); err != nil {
		t.Fatal(err)
	}
	mine, err := account.Get(f.as(rbac.Auth{}), f.svc, f.viewer, account.MyAccounts{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range mine.Items {
		if a.Account.Ref == f.acct {
			found = true
			if a.Policy.Allowed || a.Policy.Rule != rbac.RuleRequire2FA {
				t.Fatalf("policy %+v, want a D32 refusal", a.Policy)
			}
		} else if !a.Policy.Allowed {
			t.Fatalf("%v refused: %s", a.Account.Ref, a.Policy.Reason())
		}
	}
	if !found {
		t.Fatal("the refusing account is not listed")
	}
}

// D37 with D32 and D35: joining through an invite link is judged by the account's
// security policies as a member acting there would be: from outside the IP allowlist,
// or without a second factor once it is required, the join is refused under the
// policy's rule and changes nothing; the same user joins when the policies allow.
func TestJoinByLinkUnderSecurityPolicies(t *testing.T) {
	f := newSecurityFixture(t)
	strong := rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: inside}
	link, err := account.Do(f.as(strong), f.svc, f.owner, account.CreateInviteLink{Tenant: f.acct, Level: rbac.Viewer, Scopes: []rbac.Ref{f.proj}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := account.Do(f.as(strong), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{office}}); err != nil {
		t.Fatal(err)
	}
	dee, _ := f.register("dee@acme.test")
	join := func(a rbac.Auth) error {
		_, err := account.Do(f.as(a), f.svc, dee, account.JoinByLink{Link: link.ID, Secret: link.Secret})
		return err
	}
	denied(t, f.unchangedIn([]rbac.Holder{dee}, []rbac.Ref{f.acct}, func() error {
		return join(rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: away})
	}), rbac.RuleIPAllowlist)

	if _, err := account.Do(f.as(strong), f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{office}, Require2FA: f.now}); err != nil {
		t.Fatal(err)
	}
	denied(t, f.unchangedIn([]rbac.Holder{dee}, []rbac.Ref{f.acct}, func() error {
		return join(rbac.Auth{Method: rbac.AuthPassword, ClientIP: inside})
	}), rbac.RuleRequire2FA)

	if err := join(strong); err != nil {
		t.Fatalf("joining from inside with a second factor: %v", err)
	}
	got, err := account.Get(f.as(strong), f.svc, f.owner, account.InviteLinks{Tenant: f.acct})
	if err != nil || len(got.Items) != 1 || got.Items[0].Joined != 1 {
		t.Fatalf("the refused joins were counted: %+v, %v", got.Items, err)
	}
}
