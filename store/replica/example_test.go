package replica_test

import (
	"context"
	"fmt"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/replica"
)

// Two instances of a service share one database (here an in-memory store stands in
// for PostgreSQL); each answers checks from its replica. A member removed on one
// instance is refused on the other by a check that carries the removal's revision.
func Example() {
	ctx := context.Background()
	db := memstore.New() // pgstore.Open(ctx, dsn, pgstore.Options{}) in production

	a, _ := replica.Open(ctx, db, replica.Options{})
	defer a.Close()
	b, _ := replica.Open(ctx, db, replica.Options{})
	defer b.Close()
	svcA, svcB := account.New(a, account.Options{}), account.New(b, account.Options{})

	reg, _ := account.Do(ctx, svcA, rbac.Holder{}, profile.Register{Email: "olga@acme.test", Name: "Olga"})
	owner, acct := rbac.User(reg.User.ID), reg.Account.Ref
	account.Do(ctx, svcA, owner, account.SetPlan{Account: acct, Plan: "team"})
	bob, _ := account.Do(ctx, svcA, rbac.Holder{}, profile.Register{Email: "bob@acme.test", Name: "Bob"})
	inv, _ := account.Do(ctx, svcA, owner, account.Invite{Tenant: acct, Email: "bob@acme.test",
		Grants: []account.GrantSpec{{Scope: acct, Level: rbac.Viewer}}})
	account.Do(ctx, svcA, rbac.User(bob.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})

	// On instance A: remove Bob, and keep the revision of that write.
	_, rev, err := account.DoRevision(ctx, svcA, owner, account.RemoveMember{Tenant: acct, Member: rbac.User(bob.User.ID)})
	if err != nil {
		fmt.Println(err)
		return
	}
	// On instance B, with A's revision: at least as fresh as the removal.
	err = svcB.Authorize(account.WithRevision(ctx, rev), rbac.User(bob.User.ID), rbac.AccountView, acct)
	fmt.Println("Bob on B:", err != nil)
	fmt.Println("B's copy holds the removal:", b.Status().Revision >= rev)
	// Output:
	// Bob on B: true
	// B's copy holds the removal: true
}
