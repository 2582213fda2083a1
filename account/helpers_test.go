package account_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// env is a service on a fresh in-memory store with a fixed clock and readable IDs.
type env struct {
	t   testing.TB
	ctx context.Context
	st  store.Store
	svc *account.Service
	now time.Time
	n   int
}

func newEnv(t testing.TB) *env {
	return newEnvWith(t, account.Options{})
}

// newEnvWith is newEnv with options; Now and NewID are the env's own.
func newEnvWith(t testing.TB, opts account.Options) *env {
	e := &env{t: t, ctx: t.Context(), st: memstore.New(), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts.Now = func() time.Time { return e.now }
	opts.NewID = func(kind string) string { e.n++; return fmt.Sprintf("%s-%d", kind, e.n) }
	e.svc = account.New(e.st, opts)
	return e
}

// do runs op as actor in a transaction of its own and fails the test on error.
func do[R any](e *env, actor rbac.Holder, op account.Op[R]) R {
	e.t.Helper()
	r, err := account.Do(e.ctx, e.svc, actor, op)
	if err != nil {
		e.t.Fatalf("%s as %v: %v", op.Op(), actor, err)
	}
	return r
}

// try runs op as actor and returns its error only.
func try[R any](e *env, actor rbac.Holder, op account.Op[R]) error {
	_, err := account.Do(e.ctx, e.svc, actor, op)
	return err
}

// get answers q as actor and fails the test on error.
func get[R any](e *env, actor rbac.Holder, q account.Query[R]) R {
	e.t.Helper()
	r, err := account.Get(e.ctx, e.svc, actor, q)
	if err != nil {
		e.t.Fatalf("%s as %v: %v", q.Op(), actor, err)
	}
	return r
}

// ask answers q as actor and returns its error only.
func ask[R any](e *env, actor rbac.Holder, q account.Query[R]) error {
	_, err := account.Get(e.ctx, e.svc, actor, q)
	return err
}

// all returns every item of the listing q, through account.All.
func all[T any](e *env, actor rbac.Holder, q account.Lister[T]) ([]T, error) {
	var out []T
	for it, err := range account.All(e.ctx, e.svc, actor, q) {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}

// register makes a user with an account of its own.
func (e *env) register(email string) (rbac.Holder, store.Account) {
	e.t.Helper()
	r := do(e, rbac.Holder{}, profile.Register{Email: email, Name: strings.Split(email, "@")[0]})
	return rbac.User(r.User.ID), r.Account
}

// fixture is the usual setting: an owner's account on the team plan with a project
// holding two inboxes, and a domain.
type fixture struct {
	*env
	owner          rbac.Holder
	acct           rbac.Ref
	proj           rbac.Ref
	inboxA, inboxB rbac.Ref
	domain         rbac.Ref
}

func newFixture(t testing.TB) *fixture {
	e := newEnv(t)
	f := &fixture{env: e}
	var a store.Account
	f.owner, a = e.register("owner@acme.test")
	f.acct = a.Ref
	do(e, f.owner, account.SetPlan{Account: f.acct, Plan: "team"})
	f.proj = do(e, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "Web"}).Ref
	f.inboxA = do(e, f.owner, account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "Inbox A"}).Ref
	f.inboxB = do(e, f.owner, account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "Inbox B"}).Ref
	f.domain = do(e, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindDomain, Name: "mail.acme.test"}).Ref
	return f
}

// join registers email and brings it into the fixture's account with the grants.
func (f *fixture) join(email string, grants ...account.GrantSpec) rbac.Holder {
	f.t.Helper()
	return f.joinTo(f.owner, f.acct, email, grants...)
}

// joinTo registers email and brings it into tenant, invited by inviter, with the
// grants.
func (e *env) joinTo(inviter rbac.Holder, tenant rbac.Ref, email string, grants ...account.GrantSpec) rbac.Holder {
	e.t.Helper()
	u, _ := e.register(email)
	inv := do(e, inviter, account.Invite{Tenant: tenant, Email: email, Grants: grants})
	do(e, u, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	return u
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func grant(s rbac.Ref, l rbac.Level) account.GrantSpec { return account.GrantSpec{Scope: s, Level: l} }

func change(s rbac.Ref, l rbac.Level) []account.PermissionChange {
	return []account.PermissionChange{{Scope: s, Level: l}}
}

// allowed reports whether holder may do action on scope.
func (e *env) allowed(h rbac.Holder, a rbac.Action, s rbac.Ref) bool {
	e.t.Helper()
	d, err := e.svc.Check(e.ctx, h, a, s)
	if err != nil {
		e.t.Fatalf("Check(%v, %v, %v): %v", h, a, s, err)
	}
	return d.Allowed
}

// denied asserts err is a refusal citing rule.
func denied(t testing.TB, err error, rule rbac.Rule) {
	t.Helper()
	var de *rbac.DeniedError
	if !errors.As(err, &de) || !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("err = %v, want a refusal by %s", err, rule)
	}
	if de.Decision.Rule != rule {
		t.Fatalf("refused by %s (%s), want %s", de.Decision.Rule, de.Decision.Reason(), rule)
	}
}

// notFound asserts err answers as for something that does not exist.
func notFound(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, account.ErrNotFound) || errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("err = %v, want ErrNotFound (existence must not leak)", err)
	}
}

// invalid asserts err is an *InvalidError naming field.
func invalid(t testing.TB, err error, field string) {
	t.Helper()
	var ie *account.InvalidError
	if !errors.Is(err, account.ErrInvalid) || !errors.As(err, &ie) || ie.Field != field {
		t.Fatalf("err = %v, want an *InvalidError naming %q", err, field)
	}
}

// snapshot dumps everything the store holds about the given users and tenants, so
// that a test can show that a refused operation changed nothing.
func (e *env) snapshot(users []rbac.Holder, tenants ...rbac.Ref) string {
	e.t.Helper()
	var b strings.Builder
	err := e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		for _, u := range users {
			usr, err := r.User(ctx, u.ID)
			fmt.Fprintf(&b, "user %v %+v %v\n", u, usr, err)
			for m, err := range r.Memberships(ctx, u.ID) {
				fmt.Fprintf(&b, "membership %+v %v\n", m, err)
			}
			if err == nil {
				for inv, err := range r.InvitationsByEmail(ctx, usr.Email) {
					fmt.Fprintf(&b, "invited %+v %v\n", inv, err)
				}
			}
		}
		evs, err := r.Events(ctx, rbac.Ref{}, 0, 1000)
		fmt.Fprintf(&b, "profile events %d %v\n", len(evs), err)
		var walk func(s rbac.Ref, depth int) error
		walk = func(s rbac.Ref, depth int) error {
			for g, err := range r.ScopeGrants(ctx, s, false) {
				if err != nil {
					return err
				}
				fmt.Fprintf(&b, "%*sgrant %v\n", depth, "", g.Grant)
			}
			for c, err := range r.Children(ctx, s) {
				if err != nil {
					return err
				}
				fmt.Fprintf(&b, "%*s%v %s\n", depth, "", c.Ref, c.Name)
				if err := walk(c.Ref, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		for _, tn := range tenants {
			a, err := r.Account(ctx, tn)
			fmt.Fprintf(&b, "%v %+v %v\n", tn, a, err)
			ms, _ := r.Members(ctx, tn, "", 1000)
			fmt.Fprintf(&b, "members %v\n", ms)
			for tm, err := range r.Teams(ctx, tn) {
				if err != nil {
					return err
				}
				var mem []string
				for u := range r.TeamMembers(ctx, tm.ID) {
					mem = append(mem, u)
				}
				fmt.Fprintf(&b, "team %+v %v\n", tm, mem)
			}
			for inv := range r.Invitations(ctx, tn) {
				fmt.Fprintf(&b, "invitation %+v\n", inv)
			}
			for tok := range r.Tokens(ctx, tn) {
				fmt.Fprintf(&b, "token %+v\n", tok)
			}
			evs, _ := r.Events(ctx, tn, 0, 1000)
			fmt.Fprintf(&b, "events %d\n", len(evs))
			if err == nil {
				if err := walk(tn, 1); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return b.String()
}

// unchanged runs op, which must fail, and checks that the store is as it was.
func (f *fixture) unchanged(users []rbac.Holder, op func() error) error {
	f.t.Helper()
	return f.unchangedIn(users, []rbac.Ref{f.acct}, op)
}

// unchangedIn is unchanged over the given tenants.
func (e *env) unchangedIn(users []rbac.Holder, tenants []rbac.Ref, op func() error) error {
	e.t.Helper()
	before := e.snapshot(users, tenants...)
	err := op()
	if err == nil {
		e.t.Fatal("the operation succeeded; it should have been refused")
	}
	if after := e.snapshot(users, tenants...); after != before {
		e.t.Fatalf("a refused operation (%v) changed the store:\nbefore:\n%s\nafter:\n%s", err, before, after)
	}
	return err
}

func holders(as []account.Access) []rbac.Holder {
	var out []rbac.Holder
	for _, a := range as {
		out = append(out, a.Holder)
	}
	slices.SortFunc(out, rbac.Holder.Compare)
	return out
}

// members lists every member and invitation of tenant that actor sees, page after
// page.
func (e *env) members(actor rbac.Holder, tenant rbac.Ref, scopes ...rbac.Ref) ([]rbac.Holder, error) {
	as, err := all(e, actor, account.Members{Tenant: tenant, Scopes: scopes})
	return holders(as), err
}
