package account_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// check ends an example on an unexpected error.
func check(err error) {
	if err != nil {
		panic(err)
	}
}

// must returns v, ending an example on an unexpected error.
func must[T any](v T, err error) T {
	check(err)
	return v
}

// Register an owner, invite a teammate as admin of one project, and check what the
// teammate may do.
func Example() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})

	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	// User management needs the team plan (D21).
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}))
	web := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"}))

	bob := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test", Name: "Bob"}))
	inv := must(account.Do(ctx, svc, owner, account.Invite{
		Tenant: acct,
		Email:  "bob@acme.test",
		Grants: []account.GrantSpec{{Scope: web.Ref, Level: rbac.Admin}},
	}))
	must(account.Do(ctx, svc, rbac.User(bob.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))

	d := must(svc.Check(ctx, rbac.User(bob.User.ID), rbac.InboxCreate, web.Ref))
	fmt.Println("bob may create inboxes in Web:", d.Allowed)
	d = must(svc.Check(ctx, rbac.User(bob.User.ID), rbac.ProjectCreate, acct))
	fmt.Println("bob may create projects:", d.Allowed, d.Rule)
	// Output:
	// bob may create inboxes in Web: true
	// bob may create projects: false D7
}

// An inbox admin sees only the members with access to their inbox (D18).
func ExampleMembers() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}))
	p := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"}))
	a := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: p.Ref, Kind: rbac.KindInbox, Name: "A"}))
	b := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: p.Ref, Kind: rbac.KindInbox, Name: "B"}))

	join := func(email string, scope rbac.Ref, l rbac.Level) rbac.Holder {
		u := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email}))
		inv := must(account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: email, Grants: []account.GrantSpec{{Scope: scope, Level: l}}}))
		must(account.Do(ctx, svc, rbac.User(u.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))
		return rbac.User(u.User.ID)
	}
	admin := join("admin-a@acme.test", a.Ref, rbac.Admin)
	join("reader-a@acme.test", a.Ref, rbac.Viewer)
	join("reader-b@acme.test", b.Ref, rbac.Viewer)

	for m, err := range account.All(ctx, svc, admin, account.Members{Tenant: acct}) {
		check(err)
		fmt.Println(m.Email(), m.Owner)
	}
	// Unordered output:
	// ann@acme.test true
	// admin-a@acme.test false
	// reader-a@acme.test false
}

// Only the owner transfers ownership; the previous owner stays as admin (D16, C2).
func ExampleTransferOwnership() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}))
	reg := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test"}))
	bob := rbac.User(reg.User.ID)
	inv := must(account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: "bob@acme.test", Grants: []account.GrantSpec{{Scope: acct, Level: rbac.Admin}}}))
	must(account.Do(ctx, svc, bob, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))

	_, err := account.Do(ctx, svc, bob, account.TransferOwnership{Account: acct, To: bob})
	var denied *rbac.DeniedError
	if errors.As(err, &denied) {
		fmt.Println("admin refused:", denied.Decision.Rule)
	}
	_, err = account.Do(ctx, svc, owner, account.TransferOwnership{Account: acct, To: bob})
	fmt.Println(err)
	d := must(svc.Check(ctx, owner, rbac.AccountRename, acct))
	fmt.Println("ann is still admin:", d.Allowed)
	// Output:
	// admin refused: D16
	// <nil>
	// ann is still admin: true
}

// Several operations in one transaction: they commit together, or not at all.
func ExampleService_Update() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref

	err := svc.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		p, err := account.Run(ctx, tx, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"})
		if err != nil {
			return err
		}
		_, err = account.Run(ctx, tx, owner, account.CreateResource{Parent: p.Ref, Kind: rbac.KindInbox, Name: "Staging"})
		return err
	})
	check(err)
	tree := must(account.Get(ctx, svc, owner, account.Resources{Account: acct}))
	for _, n := range tree[0].Children {
		if n.Ref.Kind == rbac.KindProject {
			fmt.Println(n.Name, "holds", n.Children[0].Name)
		}
	}
	// Output:
	// Web holds Staging
}

// Authorize answers a stranger as if the scope did not exist, and a member who may
// not act with the decision.
func ExampleService_Authorize() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}))
	web := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"}))
	bob := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test"}))
	eve := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "eve@else.test"}))
	inv := must(account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: "bob@acme.test", Grants: []account.GrantSpec{{Scope: web.Ref, Level: rbac.Viewer}}}))
	must(account.Do(ctx, svc, rbac.User(bob.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))

	fmt.Println(svc.Authorize(ctx, owner, rbac.ProjectRename, web.Ref))
	err := svc.Authorize(ctx, rbac.User(bob.User.ID), rbac.ProjectRename, web.Ref)
	fmt.Println(errors.Is(err, rbac.ErrDenied))
	err = svc.Authorize(ctx, rbac.User(eve.User.ID), rbac.ProjectRename, web.Ref)
	fmt.Println(errors.Is(err, account.ErrNotFound), err)
	// Output:
	// <nil>
	// true
	// true account: not found
}

// An admin shares a reusable invite link for viewers of one project; a newcomer joins
// through it, and the seat is counted at that moment (D37).
func ExampleJoinByLink() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}))
	web := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"}))

	link := must(account.Do(ctx, svc, owner, account.CreateInviteLink{Tenant: acct, Level: rbac.Viewer, Scopes: []rbac.Ref{web.Ref}}))
	cy := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "cy@acme.test", Name: "Cy"}))
	must(account.Do(ctx, svc, rbac.User(cy.User.ID), account.JoinByLink{Link: link.ID, Secret: link.Secret}))

	d := must(svc.Check(ctx, rbac.User(cy.User.ID), rbac.ProjectView, web.Ref))
	fmt.Println("cy may view Web:", d.Allowed)
	seats := must(account.Get(ctx, svc, owner, account.Seats{Tenant: acct}))
	fmt.Println("seats used:", seats.Used, "of", seats.Limit)

	must(account.Do(ctx, svc, owner, account.DisableInviteLink{Tenant: acct, Link: link.ID}))
	dee := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "dee@acme.test", Name: "Dee"}))
	_, err := account.Do(ctx, svc, rbac.User(dee.User.ID), account.JoinByLink{Link: link.ID, Secret: link.Secret})
	fmt.Println("after disabling:", errors.Is(err, account.ErrNotFound))
	// Output:
	// cy may view Web: true
	// seats used: 2 of 20
	// after disabling: true
}

// The host's daily job: warn the creators of tokens that expire within 30 days, then
// delete the tokens expired for more than 90 days (D38).
func ExampleSweepTokens() {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	svc := account.New(memstore.New(), account.Options{Now: func() time.Time { return now }})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.CreateToken{Tenant: acct, Name: "deploy", ExpiresIn: 7 * 24 * time.Hour}))
	must(account.Do(ctx, svc, owner, account.CreateToken{Tenant: acct, Name: "backup", ExpiresIn: 365 * 24 * time.Hour}))

	for tok, err := range svc.ExpiringTokens(ctx, now, now.Add(30*24*time.Hour)) {
		check(err)
		fmt.Printf("warn the creator of %q: expires %s\n", tok.Name, tok.Expires.Format(time.DateOnly))
	}
	now = now.Add(100 * 24 * time.Hour)
	n := must(account.Do(ctx, svc, rbac.Holder{}, account.SweepTokens{}))
	fmt.Println("swept:", n)
	// Output:
	// warn the creator of "deploy": expires 2026-05-08
	// swept: 1
}

// An account enforces single sign-on for its domain: the first sign-in through its
// connection creates the user and the membership, and the connection's role mapping
// gives the grants of the user's groups (D33).
func ExampleSSOSignIn() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Acme"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "business"}))
	web := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"}))
	must(account.Do(ctx, svc, owner, account.VerifyDomain{Tenant: acct, Domain: "acme.test"}))
	okta := must(account.Do(ctx, svc, owner, account.CreateSSOConnection{
		Tenant: acct, Name: "Okta", Enforce: true,
		Mapping: []store.RoleMapping{{Group: "engineering", Scope: web.Ref, Level: rbac.Viewer}},
	}))

	// The host verified the SAML response; it reports the sign-in as the service.
	in := must(account.Do(ctx, svc, rbac.Holder{}, account.SSOSignIn{Connection: okta.ID, Email: "dev@acme.test", Groups: []string{"engineering"}}))
	dev := rbac.User(in.User.ID)
	fmt.Println("created:", in.Created, "joined:", in.Joined)

	viaSSO := account.WithAuth(ctx, rbac.Auth{Method: rbac.AuthSSO, Provider: okta.ID})
	d := must(svc.Check(viaSSO, dev, rbac.ProjectView, web.Ref))
	fmt.Println("through Okta:", d.Allowed)
	withPassword := account.WithAuth(ctx, rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true})
	d = must(svc.Check(withPassword, dev, rbac.ProjectView, web.Ref))
	fmt.Println("with a password:", d.Allowed, d.Rule)
	// Output:
	// created: true joined: true
	// through Okta: true
	// with a password: false D33
}
