package replica_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/replica"
)

// scenario drives a world through every kind of change, each made on one of the
// instances or on the backing store itself, and compares after each one every check
// of instance B (caught up with the feed) with the backing store's.
type scenario struct {
	t  *testing.T
	in *instances
	// few: compare, on each scope, one action of each level and rules that applies to
	// its kind, instead of every action (for PostgreSQL, where each check of the
	// backing store is a round trip).
	few     bool
	n       int
	holders []rbac.Holder
	scopes  []rbac.Ref
	sso     string // the connection operations sign in through, once there is one
	want    store.Checker
}

// signedIn is the context of the scenario's requests: signed in with a second
// factor from a documentation address, through the SSO connection once there is one.
func (sc *scenario) signedIn() context.Context {
	a := rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: netip.MustParseAddr("192.0.2.7")}
	if sc.sso != "" {
		a.Method, a.Provider = rbac.AuthSSO, sc.sso
	}
	return account.WithAuth(sc.t.Context(), a)
}

// do runs op as actor on the next writer in turn: instance A, instance B, the
// backing store.
func scDo[R any](sc *scenario, actor rbac.Holder, op account.Op[R]) R {
	sc.t.Helper()
	sc.n++
	svc := []*account.Service{sc.in.svcs[0], sc.in.svcs[1], sc.in.host}[sc.n%3]
	out, err := account.Do(sc.signedIn(), svc, actor, op)
	if err != nil {
		sc.t.Fatalf("step %d, %s: %v", sc.n, op.Op(), err)
	}
	sc.compare(op.Op())
	return out
}

// compare checks every holder on every scope for every action, and Reach and Sees,
// on B and on the backing store: as the scenario signs in, with a password and a
// second factor, and with a password alone from another address.
func (sc *scenario) compare(step string) {
	t := sc.t
	t.Helper()
	ctx := t.Context()
	rb := sc.in.reps[1]
	if err := rb.WaitFor(ctx, sc.in.head(t)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	password := account.WithAuth(ctx, rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: netip.MustParseAddr("192.0.2.7")})
	elsewhere := account.WithAuth(ctx, rbac.Auth{Method: rbac.AuthPassword, ClientIP: netip.MustParseAddr("198.51.100.9")})
	fallbacks := rb.Status().Fallbacks
	for _, c := range []context.Context{sc.signedIn(), password, elsewhere} {
		for _, h := range sc.holders {
			for _, s := range sc.scopes {
				for _, a := range sc.actionsOn(s) {
					got, gerr := rb.Check(c, h, a, s, now)
					want, werr := sc.want.Check(c, h, a, s, now)
					if !errors.Is(gerr, store.ErrNotFound) || !errors.Is(werr, store.ErrNotFound) {
						if fmt.Sprint(got, gerr) != fmt.Sprint(want, werr) {
							t.Fatalf("after %s: %s on %s by %s: replica %v, %v; backing store %v, %v", step, a, s, h, got, gerr, want, werr)
						}
					}
				}
				gp, gg, gerr := rb.Reach(c, h, s, nil, nil)
				wp, wg, werr := sc.want.Reach(c, h, s, nil, nil)
				if fmt.Sprint(gp, gg, gerr != nil) != fmt.Sprint(wp, wg, werr != nil) {
					t.Fatalf("after %s: Reach of %s on %s: replica %v %v %v; backing store %v %v %v", step, h, s, gp, gg, gerr, wp, wg, werr)
				}
				gs, _ := rb.Sees(c, h, s)
				ws, _ := sc.want.Sees(c, h, s)
				if gs != ws {
					t.Fatalf("after %s: Sees of %s on %s: replica %v; backing store %v", step, h, s, gs, ws)
				}
			}
		}
	}
	if f := rb.Status().Fallbacks; f != fallbacks {
		t.Fatalf("after %s: %d checks went to the backing store", step, f-fallbacks)
	}
}

func (sc *scenario) register(email string) rbac.Holder {
	r := scDo(sc, rbac.Holder{}, profile.Register{Email: email, Name: email[:3]})
	u := rbac.User(r.User.ID)
	sc.holders = append(sc.holders, u)
	sc.scopes = append(sc.scopes, r.Account.Ref)
	return u
}

func (sc *scenario) join(inviter rbac.Holder, tenant rbac.Ref, email string, grants ...account.GrantSpec) rbac.Holder {
	u := sc.register(email)
	inv := scDo(sc, inviter, account.Invite{Tenant: tenant, Email: email, Grants: grants})
	scDo(sc, u, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	return u
}

func (sc *scenario) resource(actor rbac.Holder, parent rbac.Ref, kind rbac.Kind, name string) rbac.Ref {
	r := scDo(sc, actor, account.CreateResource{Parent: parent, Kind: kind, Name: name}).Ref
	sc.scopes = append(sc.scopes, r)
	return r
}

// TestEveryKindOfChange: every kind of change the feed carries reaches instance B's
// copy as the backing store has it, whichever instance made it.
func TestEveryKindOfChange(t *testing.T) {
	everyKindOfChange(t, newInstances(t, replica.Options{}), false)
}

// actionsOn returns the actions compared on scope s.
func (sc *scenario) actionsOn(s rbac.Ref) []rbac.Action {
	if !sc.few {
		return rbac.Actions()
	}
	seen := map[string]bool{}
	var out []rbac.Action
	for _, a := range rbac.Actions() {
		k := fmt.Sprint(a.Need(), a.Rules())
		if a.Kinds().Has(s.Kind) && !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}

func everyKindOfChange(t *testing.T, in *instances, few bool) {
	sc := &scenario{t: t, in: in, few: few, want: referee{in.backing}}
	if few {
		sc.want, _ = store.CheckerOf(in.backing) // one round trip a check, proved equal to the referee by storetest
	}
	owner := sc.register("olga@acme.test")
	org := scDo(sc, owner, account.CreateOrganization{Name: "Acme", Plan: "enterprise"}).Ref
	sc.scopes = append(sc.scopes, org)
	acct := scDo(sc, owner, account.CreateSubAccount{Org: org, Name: "Mail"}).Ref
	sc.scopes = append(sc.scopes, acct)
	proj := sc.resource(owner, acct, rbac.KindProject, "Web")
	inbox := sc.resource(owner, proj, rbac.KindInbox, "Support")
	other := sc.resource(owner, proj, rbac.KindInbox, "Sales")
	domain := sc.resource(owner, acct, rbac.KindDomain, "mail.acme.test")

	ann := sc.join(owner, acct, "ann@acme.test", account.GrantSpec{Scope: acct, Level: rbac.Admin})
	dan := sc.join(owner, acct, "dan@acme.test", account.GrantSpec{Scope: proj, Level: rbac.Admin})
	bob := sc.join(owner, acct, "bob@acme.test", account.GrantSpec{Scope: inbox, Level: rbac.Viewer})
	cat := sc.join(owner, org, "cat@acme.test", account.GrantSpec{Scope: org, Level: rbac.Viewer})

	team := scDo(sc, owner, account.CreateTeam{Tenant: acct, Name: "Support"})
	th := rbac.Team(team.ID)
	sc.holders = append(sc.holders, th)
	scDo(sc, owner, account.AddTeamMember{Tenant: acct, Team: th, Member: bob})
	scDo(sc, owner, account.SetPermissions{Tenant: acct, Holder: th, Changes: []account.PermissionChange{{Scope: other, Level: rbac.Admin}}})
	scDo(sc, owner, account.SetPermissions{Tenant: acct, Holder: bob, Changes: []account.PermissionChange{{Scope: domain, Level: rbac.Viewer, ViewContent: true}}})

	tok := scDo(sc, ann, account.CreateToken{Tenant: acct, Name: "ci", ExpiresIn: 30 * 24 * time.Hour, Grants: []account.GrantSpec{{Scope: inbox, Level: rbac.Admin}}})
	tk := rbac.Token(tok.ID)
	sc.holders = append(sc.holders, tk)
	scDo(sc, ann, account.SetTokenAllowlist{Tenant: acct, Token: tk, IPAllowlist: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	reset := scDo(sc, ann, account.ResetToken{Tenant: acct, Token: tk, ExpiresIn: 7 * 24 * time.Hour})
	sc.holders = append(sc.holders, rbac.Token(reset.ID))

	scDo(sc, owner, profile.SetTwoFactor{On: true})
	scDo(sc, owner, account.SetSecurityPolicy{Tenant: acct, Require2FA: time.Now().Add(-time.Hour)})
	scDo(sc, owner, account.VerifyDomain{Tenant: acct, Domain: "acme.test"})
	conn := scDo(sc, owner, account.CreateSSOConnection{Tenant: acct, Name: "Okta", Enforce: true})
	sc.sso = conn.ID
	sc.compare("signing in through SSO")
	scDo(sc, bob, profile.ChangeEmail{Email: "robert@other.test"})
	scDo(sc, owner, account.RemoveFromResource{Scope: proj, Member: dan})
	scDo(sc, owner, account.RemoveTeamMember{Tenant: acct, Team: th, Member: bob})
	scDo(sc, owner, account.DeleteTeam{Tenant: acct, Team: th})
	scDo(sc, owner, account.DeleteToken{Tenant: acct, Token: rbac.Token(reset.ID)})
	scDo(sc, owner, account.TransferOwnership{Account: org, To: cat})
	scDo(sc, cat, account.DeleteResource{Resource: other})
	scDo(sc, dan, account.Leave{Account: acct})
	scDo(sc, ann, profile.Delete{Confirm: "ann@acme.test"})
	scDo(sc, cat, account.DeleteAccount{Account: acct})
}

// referee answers checks as the function of package store does over the backing
// store, each in one read transaction: what every store's Checker must answer.
type referee struct{ st store.Store }

func (r referee) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	return store.CheckIn(ctx, r.st, h, a, s, now)
}

func (r referee) Reach(ctx context.Context, h rbac.Holder, s rbac.Ref, p rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	err := r.st.View(ctx, func(ctx context.Context, rd store.Reader) error {
		var err error
		p, gs, err = rd.Reach(ctx, h, s, p, gs)
		return err
	})
	return p, gs, err
}

func (r referee) Sees(ctx context.Context, h rbac.Holder, s rbac.Ref) (bool, error) {
	return store.SeesIn(ctx, r.st, h, s)
}
