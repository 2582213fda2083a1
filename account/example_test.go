package account_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

// Register an owner, invite a teammate as admin of one project, and check what the
// teammate may do.
func Example() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	prof := profile.New(svc)

	ann, acct, _ := prof.Register(ctx, "ann@acme.test", "Acme")
	owner := rbac.User(ann.ID)
	_ = svc.SetPlan(ctx, owner, acct.Ref, "team") // user management needs the team plan (D21)
	web, _ := svc.CreateProject(ctx, owner, acct.Ref.ID, "Web")

	bob, _, _ := prof.Register(ctx, "bob@acme.test", "Bob")
	inv, _ := svc.Invite(ctx, owner, acct.Ref, account.InviteRequest{
		Email:  "bob@acme.test",
		Grants: []account.GrantSpec{{Scope: web.Ref, Level: rbac.Admin}},
	})
	_ = svc.AcceptInvitation(ctx, rbac.User(bob.ID), inv.ID)

	d, _ := svc.Check(ctx, rbac.User(bob.ID), rbac.InboxCreate, web.Ref)
	fmt.Println("bob may create inboxes in Web:", d.Allowed)
	d, _ = svc.Check(ctx, rbac.User(bob.ID), rbac.ProjectCreate, acct.Ref)
	fmt.Println("bob may create projects:", d.Allowed, d.Rule)
	// Output:
	// bob may create inboxes in Web: true
	// bob may create projects: false D7
}

// An inbox admin sees only the members with access to their inbox (D18).
func ExampleService_Members() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	prof := profile.New(svc)
	ann, acct, _ := prof.Register(ctx, "ann@acme.test", "Acme")
	owner := rbac.User(ann.ID)
	_ = svc.SetPlan(ctx, owner, acct.Ref, "team")
	p, _ := svc.CreateProject(ctx, owner, acct.Ref.ID, "Web")
	a, _ := svc.CreateInbox(ctx, owner, p.Ref.ID, "A")
	b, _ := svc.CreateInbox(ctx, owner, p.Ref.ID, "B")

	join := func(email string, scope rbac.Ref, l rbac.Level) rbac.Holder {
		u, _, _ := prof.Register(ctx, email, "")
		inv, _ := svc.Invite(ctx, owner, acct.Ref, account.InviteRequest{Email: email, Grants: []account.GrantSpec{{Scope: scope, Level: l}}})
		_ = svc.AcceptInvitation(ctx, rbac.User(u.ID), inv.ID)
		return rbac.User(u.ID)
	}
	admin := join("admin-a@acme.test", a.Ref, rbac.Admin)
	join("reader-a@acme.test", a.Ref, rbac.Viewer)
	join("reader-b@acme.test", b.Ref, rbac.Viewer)

	list, _ := svc.Members(ctx, admin, acct.Ref, account.MemberFilter{})
	for _, m := range list {
		fmt.Println(m.Email(), m.Owner)
	}
	// Unordered output:
	// ann@acme.test true
	// admin-a@acme.test false
	// reader-a@acme.test false
}

// Only the owner transfers ownership; the previous owner stays as admin (D16, C2).
func ExampleService_TransferOwnership() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	prof := profile.New(svc)
	ann, acct, _ := prof.Register(ctx, "ann@acme.test", "Acme")
	owner := rbac.User(ann.ID)
	_ = svc.SetPlan(ctx, owner, acct.Ref, "team")
	bob, _, _ := prof.Register(ctx, "bob@acme.test", "")
	inv, _ := svc.Invite(ctx, owner, acct.Ref, account.InviteRequest{Email: "bob@acme.test", Grants: []account.GrantSpec{{Scope: acct.Ref, Level: rbac.Admin}}})
	_ = svc.AcceptInvitation(ctx, rbac.User(bob.ID), inv.ID)

	err := svc.TransferOwnership(ctx, rbac.User(bob.ID), acct.Ref, bob.ID)
	var denied *rbac.DeniedError
	if errors.As(err, &denied) {
		fmt.Println("admin refused:", denied.Decision.Rule)
	}
	fmt.Println(svc.TransferOwnership(ctx, owner, acct.Ref, bob.ID))
	d, _ := svc.Check(ctx, owner, rbac.AccountRename, acct.Ref)
	fmt.Println("ann is still admin:", d.Allowed)
	// Output:
	// admin refused: D16
	// <nil>
	// ann is still admin: true
}
