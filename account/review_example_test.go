package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

// An access review of an account: every holder's level on every scope, where it comes
// from and the holder's last change, here for one project, then the same review as
// CSV (a host would write it to an HTTP response after Review answered nil).
func ExampleService_Review() {
	ctx := context.Background()
	n := 0
	svc := account.New(memstore.New(), account.Options{
		Now:   func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
		NewID: func(kind string) string { n++; return fmt.Sprintf("%s%d", kind, n) },
	})
	ann := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"}))
	owner, acct := rbac.User(ann.User.ID), ann.Account.Ref
	must(account.Do(ctx, svc, owner, account.SetPlan{Account: acct, Plan: "team"}))
	web := must(account.Do(ctx, svc, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"})).Ref
	bob := must(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test", Name: "Bob"}))
	inv := must(account.Do(ctx, svc, owner, account.Invite{Tenant: acct, Email: "bob@acme.test", Grants: []account.GrantSpec{{Scope: acct, Level: rbac.Viewer}}}))
	must(account.Do(ctx, svc, rbac.User(bob.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))
	must(account.Do(ctx, svc, owner, account.CreateToken{Tenant: acct, Name: "deploy", Grants: []account.GrantSpec{{Scope: web, Level: rbac.Admin}}}))

	// Who may run it is decided here, before anything is written: ErrNotFound for a
	// stranger, a refusal for anyone but an admin of the account.
	rv := must(svc.Review(ctx, owner, acct))
	for row, err := range rv.Rows(ctx) {
		check(err)
		if row.Scope == web {
			fmt.Printf("%-11s %-6s from %-5s %-34s  last change: %s\n", row.Holder, row.Level, row.Source, row.Via, row.LastChange.Action)
		}
	}
	_, err := svc.Review(ctx, rbac.User(bob.User.ID), acct)
	fmt.Println("bob, a viewer, is refused:", errors.Is(err, rbac.ErrDenied))

	var b strings.Builder
	check(rv.WriteCSV(ctx, &b))
	lines := strings.Split(b.String(), "\n")
	fmt.Println(lines[0])
	fmt.Println(lines[1])
	fmt.Println(len(lines)-2, "rows: 3 holders × 5 scopes")
	// Output:
	// user:user1  owner  from owner user:user1 owner on account:acct2   last change: profile.register
	// user:user4  viewer from grant user:user4 viewer on account:acct2  last change: invitation.accept
	// token:tok7  admin  from grant token:tok7 admin on project:proj3   last change: token.create
	// bob, a viewer, is refused: true
	// holder,name,member_of,scope,scope_name,level,source,via_holder,via_scope,via_level,inherited,capped_by,last_change_seq,last_change_at,last_change_action,last_change_by,last_active,two_factor,expires,expired
	// user:user1,ann@acme.test,account:acct2,account:acct2,Ann,owner,owner,user:user1,account:acct2,owner,false,,1,2026-03-01T12:00:00Z,profile.register,user:user1,2026-03-01T12:00:00Z,false,,
	// 15 rows: 3 holders × 5 scopes
}
