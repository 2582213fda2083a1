package account_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// ssoFixture is a business account with a verified domain and an enforcing connection
// mapping "eng" to viewer and "leads" to admin on the project.
type ssoFixture struct {
	*securityFixture
	conn store.SSOConnection
}

func newSSOFixture(t *testing.T, enforce bool) *ssoFixture {
	f := newSecurityFixture(t)
	do(f.env, f.owner, account.VerifyDomain{Tenant: f.acct, Domain: "Corp.Test"})
	c := do(f.env, f.owner, account.CreateSSOConnection{Tenant: f.acct, Name: "Okta", Enforce: enforce, Mapping: []store.RoleMapping{
		{Group: "eng", Scope: f.proj, Level: rbac.Viewer},
		{Group: "leads", Scope: f.proj, Level: rbac.Admin},
	}})
	return &ssoFixture{securityFixture: f, conn: c}
}

func (f *ssoFixture) signIn(email string, groups ...string) account.SSOSignedIn {
	f.t.Helper()
	return do(f.env, rbac.Holder{}, account.SSOSignIn{Connection: f.conn.ID, Email: email, Groups: groups})
}

func (f *ssoFixture) viaSSO() context.Context {
	return f.as(rbac.Auth{Method: rbac.AuthSSO, Provider: f.conn.ID})
}

// D33: a first sign-in creates the user and the membership (just in time), the
// mapping gives its grants; with SSO enforced, the domain's users must sign in through
// the connection; other users are not affected; an SSO sign-in is not asked for 2FA.
func TestSSOJustInTimeAndEnforcement(t *testing.T) {
	f := newSSOFixture(t, true)
	in := f.signIn("new@corp.test", "eng")
	if !in.Created || !in.Joined || len(in.Mapped) != 1 {
		t.Fatalf("first sign-in: %+v", in)
	}
	u := rbac.User(in.User.ID)
	mine := get(f.env, u, account.MyAccounts{}).Items
	if len(mine) != 2 {
		t.Fatalf("a just-in-time user has %d accounts, want the tenant and a personal one", len(mine))
	}
	if d := f.check(f.viaSSO(), u, rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatal(d.Reason())
	}
	if d := f.check(f.as(rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true}), u, rbac.ProjectView, f.proj); d.Allowed || d.Rule != rbac.RuleSSO {
		t.Fatalf("a password sign-in of an enforced domain: %+v", d)
	}
	if d := f.check(f.ctx, f.viewer, rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatalf("a user of another domain: %s", d.Reason())
	}
	// 2FA required: the SSO sign-in is exempt; the others are not.
	ctx := f.as(rbac.Auth{SecondFactor: true})
	if _, err := account.Do(ctx, f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, Require2FA: f.now}); err != nil {
		t.Fatal(err)
	}
	if d := f.check(f.viaSSO(), u, rbac.ProjectView, f.proj); !d.Allowed {
		t.Fatalf("SSO sign-in under required 2FA: %s", d.Reason())
	}
	if d := f.check(f.ctx, f.viewer, rbac.ProjectView, f.proj); d.Allowed || d.Rule != rbac.RuleRequire2FA {
		t.Fatalf("password sign-in without 2FA: %+v", d)
	}
	// An address outside the verified domains cannot sign in through it.
	invalid(t, try(f.env, rbac.Holder{}, account.SSOSignIn{Connection: f.conn.ID, Email: "x@else.test"}), "email")
	invalid(t, try(f.env, f.owner, account.SSOSignIn{Connection: f.conn.ID, Email: "y@corp.test"}), "actor")
}

// The mapping adds and removes only the grants it gave; hand-given grants and the
// owner are never touched; nothing above the mapping's author.
func TestSSORoleMapping(t *testing.T) {
	f := newSSOFixture(t, false)
	in := f.signIn("dev@corp.test", "eng")
	u := rbac.User(in.User.ID)
	level := func(s rbac.Ref) rbac.Level {
		return get(f.env, f.owner, account.Level{Holder: u, Scope: s})
	}
	// A hand-given grant on an inbox.
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: change(f.inboxB, rbac.Admin)})
	f.signIn("dev@corp.test", "eng", "leads")
	if level(f.proj) != rbac.Admin || level(f.inboxB) != rbac.Admin {
		t.Fatalf("leads: project %v, inbox %v", level(f.proj), level(f.inboxB))
	}
	f.signIn("dev@corp.test")
	if g, err := grantOf(f.env, u, f.proj); err == nil {
		t.Fatalf("the mapping's grant stayed after its group went: %v", g)
	}
	if level(f.inboxB) != rbac.Admin {
		t.Fatal("a hand-given grant was touched")
	}
	// A mapped grant changed by hand is no longer the mapping's.
	f.signIn("dev@corp.test", "eng")
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: change(f.proj, rbac.Admin)})
	f.signIn("dev@corp.test")
	if g, err := grantOf(f.env, u, f.proj); err != nil || g.Level != rbac.Admin {
		t.Fatalf("a grant changed by hand was taken by the mapping: %v %v", g, err)
	}
	// The owner is never touched.
	do(f.env, f.owner, account.VerifyDomain{Tenant: f.acct, Domain: "acme.test"})
	if got := f.signIn("owner@acme.test", "eng", "leads"); len(got.Mapped) != 0 {
		t.Fatalf("the owner got mapped grants %v", got.Mapped)
	}
	if _, err := grantOf(f.env, f.owner, f.proj); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the owner was given a grant: %v", err)
	}
	// The mapping never gives above its author: the author loses admin on the project.
	author := f.join("author@acme.test", grant(f.acct, rbac.Admin))
	do(f.env, f.owner, account.UpdateSSOConnection{Tenant: f.acct, Connection: f.conn.ID, Name: "Okta", Mapping: []store.RoleMapping{{Group: "leads", Scope: f.proj, Level: rbac.Admin}}})
	_ = author
	c2 := do(f.env, author, account.CreateSSOConnection{Tenant: f.acct, Name: "Entra", Mapping: []store.RoleMapping{{Group: "ops", Scope: f.domain, Level: rbac.Admin}}})
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: author, Changes: change(f.acct, rbac.Viewer)})
	other := do(f.env, rbac.Holder{}, account.SSOSignIn{Connection: c2.ID, Email: "ops@corp.test", Groups: []string{"ops"}})
	if len(other.Mapped) != 0 {
		t.Fatalf("the mapping gave %v above its author's access", other.Mapped)
	}
}

// grantOf reads holder's own grant on scope.
func grantOf(e *env, h rbac.Holder, s rbac.Ref) (store.Grant, error) {
	var g store.Grant
	err := e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		g, err = r.Grant(ctx, h, s)
		return err
	})
	return g, err
}

// Just-in-time members count to seats; NoPersonalAccount creates none.
func TestSSOSeatsAndNoPersonalAccount(t *testing.T) {
	e := newEnvWith(t, account.Options{Plans: []account.Plan{{Name: "two", Seats: 2, UserManagement: true, SecurityPolicies: true}}})
	owner, acct := e.register("owner@acme.test")
	do(e, owner, account.VerifyDomain{Tenant: acct.Ref, Domain: "corp.test"})
	c := do(e, owner, account.CreateSSOConnection{Tenant: acct.Ref, Name: "Okta", NoPersonalAccount: true})
	first := do(e, rbac.Holder{}, account.SSOSignIn{Connection: c.ID, Email: "a@corp.test"})
	if got := get(e, rbac.User(first.User.ID), account.MyAccounts{}).Items; len(got) != 1 {
		t.Fatalf("accounts of a user without a personal account: %d", len(got))
	}
	err := try(e, rbac.Holder{}, account.SSOSignIn{Connection: c.ID, Email: "b@corp.test"})
	if !errors.Is(err, account.ErrSeatLimit) {
		t.Fatalf("a third seat: %v", err)
	}
}

// D34: users of a verified domain with capture join on their own; a domain belongs to
// one account.
func TestDomainCapture(t *testing.T) {
	f := newSecurityFixture(t)
	do(f.env, f.owner, account.VerifyDomain{Tenant: f.acct, Domain: "corp.test", Capture: rbac.Viewer})
	dee, other := f.register("dee@corp.test")
	do(f.env, dee, account.JoinByDomain{Tenant: f.acct})
	if !f.allowed(dee, rbac.AccountView, f.acct) || f.allowed(dee, rbac.ProjectCreate, f.acct) {
		t.Fatal("domain capture gave the wrong access")
	}
	if !errors.Is(try(f.env, dee, account.JoinByDomain{Tenant: f.acct}), account.ErrExists) {
		t.Fatal("joined twice")
	}
	eve, _ := f.register("eve@else.test")
	notFound(t, try(f.env, eve, account.JoinByDomain{Tenant: f.acct}))
	do(f.env, dee, account.SetPlan{Account: other.Ref, Plan: "business"})
	if !errors.Is(try(f.env, dee, account.VerifyDomain{Tenant: other.Ref, Domain: "corp.test"}), account.ErrExists) {
		t.Fatal("a second account verified the same domain")
	}
	do(f.env, f.owner, account.VerifyDomain{Tenant: f.acct, Domain: "corp.test"})
	gus, _ := f.register("gus@corp.test")
	notFound(t, try(f.env, gus, account.JoinByDomain{Tenant: f.acct}))
}
