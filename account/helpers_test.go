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
	t    *testing.T
	ctx  context.Context
	st   store.Store
	svc  *account.Service
	prof *profile.Service
	now  time.Time
	n    int
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, ctx: t.Context(), st: memstore.New(), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e.svc = account.New(e.st, account.Options{
		Now:   func() time.Time { return e.now },
		NewID: func(kind string) string { e.n++; return fmt.Sprintf("%s-%d", kind, e.n) },
	})
	e.prof = profile.New(e.svc)
	return e
}

// register makes a user with an account of its own.
func (e *env) register(email string) (rbac.Holder, store.Account) {
	e.t.Helper()
	u, a, err := e.prof.Register(e.ctx, email, strings.Split(email, "@")[0])
	if err != nil {
		e.t.Fatalf("Register(%s): %v", email, err)
	}
	return rbac.User(u.ID), a
}

// team builds the usual fixture: an owner's account on the team plan with a project
// holding two inboxes, and a domain.
type fixture struct {
	*env
	owner          rbac.Holder
	acct           rbac.Ref
	proj           rbac.Ref
	inboxA, inboxB rbac.Ref
	domain         rbac.Ref
}

func newFixture(t *testing.T) *fixture {
	e := newEnv(t)
	f := &fixture{env: e}
	var a store.Account
	f.owner, a = e.register("owner@acme.test")
	f.acct = a.Ref
	e.must(e.svc.SetPlan(e.ctx, f.owner, f.acct, "team"))
	f.proj = e.mustRes(e.svc.CreateProject(e.ctx, f.owner, f.acct.ID, "Web")).Ref
	f.inboxA = e.mustRes(e.svc.CreateInbox(e.ctx, f.owner, f.proj.ID, "Inbox A")).Ref
	f.inboxB = e.mustRes(e.svc.CreateInbox(e.ctx, f.owner, f.proj.ID, "Inbox B")).Ref
	f.domain = e.mustRes(e.svc.CreateDomain(e.ctx, f.owner, f.acct.ID, "mail.acme.test")).Ref
	return f
}

// join registers email and brings it into the fixture's account with the grants.
func (f *fixture) join(email string, grants ...account.GrantSpec) rbac.Holder {
	f.t.Helper()
	u, _ := f.register(email)
	inv, err := f.svc.Invite(f.ctx, f.owner, f.acct, account.InviteRequest{Email: email, Grants: grants})
	if err != nil {
		f.t.Fatalf("Invite(%s): %v", email, err)
	}
	f.must(f.svc.AcceptInvitation(f.ctx, u, inv.ID))
	return u
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) mustRes(r store.Resource, err error) store.Resource {
	e.t.Helper()
	e.must(err)
	return r
}

func grant(s rbac.Ref, l rbac.Level) account.GrantSpec { return account.GrantSpec{Scope: s, Level: l} }

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
func denied(t *testing.T, err error, rule rbac.Rule) {
	t.Helper()
	var de *rbac.DeniedError
	if !errors.As(err, &de) || !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("err = %v, want a refusal by %s", err, rule)
	}
	if de.Decision.Rule != rule {
		t.Fatalf("refused by %s (%s), want %s", de.Decision.Rule, de.Decision.Reason(), rule)
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
		}
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
	before := f.snapshot(users, f.acct)
	err := op()
	if err == nil {
		f.t.Fatal("the operation succeeded; it should have been refused")
	}
	if after := f.snapshot(users, f.acct); after != before {
		f.t.Fatalf("a refused operation (%v) changed the store:\nbefore:\n%s\nafter:\n%s", err, before, after)
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
