package account_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
)

// Each test is named after a sentence of the seeds (000: User Profile, 001: User
// Management overview, 002: User Management) that states a rule.

// 002: "It is available from the Team plan and higher."
func TestSeed002_UserManagementNeedsTeamPlan(t *testing.T) {
	e := newEnv(t)
	owner, a := e.register("solo@acme.test")
	err := e.unchangedIn([]rbac.Holder{owner}, []rbac.Ref{a.Ref}, func() error {
		return try(e, owner, account.Invite{Tenant: a.Ref, Email: "x@acme.test"})
	})
	if !errors.Is(err, account.ErrPlan) {
		t.Fatalf("invite on the free plan: %v, want ErrPlan (D21)", err)
	}
	do(e, owner, account.SetPlan{Account: a.Ref, Plan: "team"})
	do(e, owner, account.Invite{Tenant: a.Ref, Email: "x@acme.test"})
}

// 002: "Everyone in your account with Inbox Admin, Project Admin, Account Admin, or
// Account Owner permission level can access User Management. Not everyone with a
// Viewer role will have access to it."
func TestSeed002_AdminsAccessUserManagementViewersDoNot(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		who  string
		g    account.GrantSpec
		want bool
	}{
		{"inbox admin", grant(f.inboxA, rbac.Admin), true},
		{"project admin", grant(f.proj, rbac.Admin), true},
		{"account admin", grant(f.acct, rbac.Admin), true},
		{"account viewer", grant(f.acct, rbac.Viewer), false},
		{"inbox viewer", grant(f.inboxB, rbac.Viewer), false},
	} {
		u := f.join(c.who[:5]+"-"+c.who[len(c.who)-5:]+"@acme.test", c.g)
		err := ask(f.env, u, account.Members{Tenant: f.acct})
		if (err == nil) != c.want {
			t.Errorf("%s lists members: err = %v, want access %v", c.who, err, c.want)
		}
		if err != nil {
			denied(t, err, rbac.RuleVisibility)
		}
	}
	if err := ask(f.env, f.owner, account.Members{Tenant: f.acct}); err != nil {
		t.Errorf("the owner cannot list members: %v", err)
	}
}

// 002: "you have 50 team members in your account and 10 of them have access to
// 'Inbox A'. Account Owner and Account Admin will see all 50 team members. However,
// Inbox A admin(s) will only see 10 people on the list."
func TestSeed002_InboxAdminSeesOnlyMembersOfTheirInbox(t *testing.T) {
	f := newFixture(t)
	do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "enterprise"})
	inboxAdmin := f.join("admin-a@acme.test", grant(f.inboxA, rbac.Admin))
	accountAdmin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	withA := []rbac.Holder{f.owner, inboxAdmin, accountAdmin}
	for i := range 7 {
		withA = append(withA, f.join("a"+string(rune('0'+i))+"@acme.test", grant(f.inboxA, rbac.Viewer)))
	}
	everyone := slices.Clone(withA)
	for i := range 40 {
		everyone = append(everyone, f.join("b"+string(rune('a'+i%26))+string(rune('0'+i/26))+"@acme.test", grant(f.inboxB, rbac.Viewer)))
	}
	slices.SortFunc(withA, rbac.Holder.Compare)
	slices.SortFunc(everyone, rbac.Holder.Compare)
	if len(everyone) != 50 || len(withA) != 10 {
		t.Fatalf("fixture: %d members, %d with access to Inbox A", len(everyone), len(withA))
	}
	for _, who := range []rbac.Holder{f.owner, accountAdmin} {
		got, err := f.members(who, f.acct)
		if err != nil || !slices.Equal(got, everyone) {
			t.Fatalf("%v sees %d members (%v), want all 50", who, len(got), err)
		}
	}
	got, err := f.members(inboxAdmin, f.acct)
	if err != nil || !slices.Equal(got, withA) {
		t.Fatalf("Inbox A admin sees %v (%v), want the 10 with access to Inbox A", got, err)
	}
	// The same, one small page at a time.
	var paged []rbac.Holder
	q := account.Members{Tenant: f.acct, Page: account.PageRequest{Limit: 3}}
	for {
		p := get(f.env, inboxAdmin, q)
		paged = append(paged, holders(p.Items)...)
		if p.Next == "" {
			break
		}
		q.Page.After = p.Next
	}
	if !slices.Equal(paged, withA) {
		t.Fatalf("Inbox A admin pages through %v, want %v", paged, withA)
	}
}

// 002: "Nobody can alter the permissions of an Account Owner."
func TestSeed002_NobodyCanAlterTheAccountOwner(t *testing.T) {
	f := newFixture(t)
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	err := f.unchanged([]rbac.Holder{f.owner}, func() error {
		return try(f.env, admin, account.SetPermissions{Tenant: f.acct, Holder: f.owner, Changes: change(f.proj, rbac.Viewer)})
	})
	denied(t, err, rbac.RuleOwnerImmutable)
	err = f.unchanged([]rbac.Holder{f.owner}, func() error {
		return try(f.env, admin, account.RemoveMember{Tenant: f.acct, Member: f.owner})
	})
	denied(t, err, rbac.RuleOwnerImmutable)
	err = f.unchanged([]rbac.Holder{f.owner}, func() error {
		return try(f.env, admin, account.RemoveFromResource{Scope: f.proj, Member: f.owner})
	})
	denied(t, err, rbac.RuleOwnerImmutable)
}

// 002: "Account Admin has the same permissions as Account Owner, with the exception
// of deleting an account and transferring its ownership."
func TestSeed002_AdminCannotDeleteOrTransfer(t *testing.T) {
	f := newFixture(t)
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	denied(t, f.unchanged(nil, func() error { return try(f.env, admin, account.DeleteAccount{Account: f.acct}) }), rbac.RuleDeleteAccount)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, admin, account.TransferOwnership{Account: f.acct, To: admin})
	}), rbac.RuleTransfer)
	do(f.env, admin, account.RenameAccount{Account: f.acct, Name: "Acme Inc"})
	do(f.env, admin, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "API"})
	do(f.env, admin, account.Invite{Tenant: f.acct, Email: "new@acme.test", Grants: []account.GrantSpec{grant(f.proj, rbac.Admin)}})
}

// 002: "Account Owner and other Account Admins can alter the permission of Account
// Admins."
func TestSeed002_AdminsAlterAdmins(t *testing.T) {
	f := newFixture(t)
	a1 := f.join("a1@acme.test", grant(f.acct, rbac.Admin))
	a2 := f.join("a2@acme.test", grant(f.acct, rbac.Admin))
	do(f.env, a1, account.SetPermissions{Tenant: f.acct, Holder: a2, Changes: change(f.acct, rbac.Viewer)})
	if f.allowed(a2, rbac.AccountRename, f.acct) {
		t.Fatal("a2 is still admin")
	}
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: a2, Changes: change(f.acct, rbac.Admin)})
}

// 002: "Account Viewer has access to all the entities in the account ... but can't
// add, edit or remove anything."
func TestSeed002_AccountViewerSeesAllChangesNothing(t *testing.T) {
	f := newFixture(t)
	v := f.join("viewer@acme.test", grant(f.acct, rbac.Viewer))
	if !f.allowed(v, rbac.ProjectView, f.proj) || !f.allowed(v, rbac.InboxRead, f.inboxA) || !f.allowed(v, rbac.InboxRead, f.inboxB) ||
		!f.allowed(v, rbac.DomainView, f.domain) || !f.allowed(v, rbac.BillingView, rbac.Billing(f.acct.ID)) {
		t.Fatal("viewer cannot see everything")
	}
	for _, s := range []rbac.Ref{f.proj, f.inboxA, f.inboxB, f.domain} {
		if r := get(f.env, v, account.Resource{Resource: s}); r.Level != rbac.Viewer {
			t.Fatalf("viewer's level on %v: %v", s, r.Level)
		}
	}
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, v, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "X"})
	}), rbac.RuleCreateChild)
	denied(t, f.unchanged(nil, func() error { return try(f.env, v, account.RenameResource{Resource: f.proj, Name: "X"}) }), rbac.RuleEffective)
	denied(t, f.unchanged(nil, func() error { return try(f.env, v, account.DeleteResource{Resource: f.inboxA}) }), rbac.RuleEffective)
}

// 002: "Project Admin can rename and delete a project, fully manage all its inboxes
// (add new or delete existing ones) and add or remove project team members. They
// cannot add new projects in the account."
func TestSeed002_ProjectAdmin(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	// A teammate the project admin can see (D18): one with access to the project.
	mate := f.join("mate@acme.test", grant(f.inboxA, rbac.Viewer))
	do(f.env, pa, account.RenameResource{Resource: f.proj, Name: "Website"})
	c := do(f.env, pa, account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "Inbox C"})
	do(f.env, pa, account.DeleteResource{Resource: c.Ref})
	do(f.env, pa, account.SetPermissions{Tenant: f.acct, Holder: mate, Changes: change(f.proj, rbac.Viewer)})
	if !f.allowed(mate, rbac.InboxRead, f.inboxB) {
		t.Fatal("the project grant does not reach the project's inboxes")
	}
	do(f.env, pa, account.RemoveFromResource{Scope: f.proj, Member: mate})
	if f.allowed(mate, rbac.InboxRead, f.inboxA) || f.allowed(mate, rbac.ProjectView, f.proj) {
		t.Fatal("the teammate kept access to the project")
	}
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pa, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "X"})
	}), rbac.RuleCreateChild)
	do(f.env, pa, account.DeleteResource{Resource: f.proj})
}

// 002: "Project Viewer can see all the inboxes in the project, but can't edit
// anything ... They also can't add or remove team mates, projects or inboxes."
func TestSeed002_ProjectViewer(t *testing.T) {
	f := newFixture(t)
	pv := f.join("pv@acme.test", grant(f.proj, rbac.Viewer))
	other := f.join("other@acme.test", grant(f.inboxA, rbac.Viewer))
	if !f.allowed(pv, rbac.InboxRead, f.inboxA) || !f.allowed(pv, rbac.InboxRead, f.inboxB) {
		t.Fatal("project viewer cannot read the project's inboxes")
	}
	denied(t, f.unchanged(nil, func() error { return try(f.env, pv, account.RenameResource{Resource: f.inboxA, Name: "X"}) }), rbac.RuleEffective)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pv, account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "X"})
	}), rbac.RuleCreateChild)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pv, account.DeleteResource{Resource: f.inboxB})
	}), rbac.RuleEffective)
	// A viewer administers nothing, so it sees no teammate to add or remove (D18).
	notFound(t, f.unchanged(nil, func() error {
		return try(f.env, pv, account.SetPermissions{Tenant: f.acct, Holder: other, Changes: change(f.inboxA, rbac.Admin)})
	}))
	// Removing anyone from an inbox it only views is refused on the inbox (D11), before
	// any member is looked at.
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pv, account.RemoveFromResource{Scope: f.inboxA, Member: other})
	}), rbac.RuleAdminChanges)
	// Changing its own access is refused as such (D10).
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pv, account.SetPermissions{Tenant: f.acct, Holder: pv, Changes: change(f.inboxA, rbac.Admin)})
	}), rbac.RuleNoSelfChange)
}

// 002: "Inbox Admin can rename and delete an inbox, manage inbox settings ... as well
// as add/remove inbox team members. They can't add new inboxes or projects."
func TestSeed002_InboxAdmin(t *testing.T) {
	f := newFixture(t)
	ia := f.join("ia@acme.test", grant(f.inboxA, rbac.Admin))
	// A teammate the inbox admin can see (D18): one with access to Inbox A, here
	// through the project.
	other := f.join("other@acme.test", grant(f.proj, rbac.Viewer))
	if !f.allowed(ia, rbac.InboxCredentialsReset, f.inboxA) || !f.allowed(ia, rbac.InboxSettingsManage, f.inboxA) {
		t.Fatal("inbox admin cannot manage the inbox's settings")
	}
	do(f.env, ia, account.RenameResource{Resource: f.inboxA, Name: "Staging"})
	do(f.env, ia, account.SetPermissions{Tenant: f.acct, Holder: other, Changes: change(f.inboxA, rbac.Admin)})
	if !f.allowed(other, rbac.InboxRename, f.inboxA) {
		t.Fatal("the inbox admin did not make the teammate an inbox admin")
	}
	do(f.env, ia, account.RemoveFromResource{Scope: f.inboxA, Member: other})
	if f.allowed(other, rbac.InboxRename, f.inboxA) || !f.allowed(other, rbac.InboxRead, f.inboxA) {
		t.Fatal("removal from the inbox took the wrong grants")
	}
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, ia, account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "X"})
	}), rbac.RuleCreateChild)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, ia, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "X"})
	}), rbac.RuleCreateChild)
	// The inbox admin does not see the project or the other inbox as admin.
	if f.allowed(ia, rbac.InboxRead, f.inboxB) {
		t.Fatal("inbox admin reads another inbox")
	}
	notFound(t, ask(f.env, ia, account.Resource{Resource: f.inboxB}))
	do(f.env, ia, account.DeleteResource{Resource: f.inboxA})
}

// 002: "Inbox Viewer can see all the inbox messages, but can't edit anything."
func TestSeed002_InboxViewer(t *testing.T) {
	f := newFixture(t)
	iv := f.join("iv@acme.test", grant(f.inboxA, rbac.Viewer))
	if !f.allowed(iv, rbac.InboxRead, f.inboxA) || f.allowed(iv, rbac.InboxSettingsManage, f.inboxA) {
		t.Fatal("inbox viewer: wrong access")
	}
	denied(t, f.unchanged(nil, func() error { return try(f.env, iv, account.RenameResource{Resource: f.inboxA, Name: "X"}) }), rbac.RuleEffective)
}

// 002: "Billing Admin permission allows user to manage the Billing settings ...
// upgrade and downgrade the account and cancel the subscription." "Billing Viewer
// can only see the credit card on file, details of the current subscription".
func TestSeed002_BillingAdminAndViewer(t *testing.T) {
	f := newFixture(t)
	billing := rbac.Billing(f.acct.ID)
	ba := f.join("ba@acme.test", grant(billing, rbac.Admin))
	bv := f.join("bv@acme.test", grant(billing, rbac.Viewer))
	do(f.env, ba, account.SetPlan{Account: f.acct, Plan: "business"})
	if !f.allowed(bv, rbac.BillingView, billing) || !f.allowed(bv, rbac.BillingInvoicesOptOut, billing) {
		t.Fatal("billing viewer cannot see billing")
	}
	denied(t, f.unchanged(nil, func() error { return try(f.env, bv, account.SetPlan{Account: f.acct, Plan: "team"}) }), rbac.RuleEffective)
	if f.allowed(ba, rbac.ProjectView, f.proj) {
		t.Fatal("billing admin sees projects")
	}
}

// 002: "When you remove a user on the User Management page, they immediately lose
// access to your account, but stay in the system as Mailtrap users."
func TestSeed002_RemovedUserLosesAccessStaysUser(t *testing.T) {
	f := newFixture(t)
	u := f.join("gone@acme.test", grant(f.acct, rbac.Admin))
	do(f.env, f.owner, account.RemoveMember{Tenant: f.acct, Member: u})
	if f.allowed(u, rbac.AccountView, f.acct) || f.allowed(u, rbac.InboxRead, f.inboxA) {
		t.Fatal("a removed member kept access")
	}
	if _, err := account.Get(f.ctx, f.svc, u, profile.Get{}); err != nil {
		t.Fatalf("the removed member is no longer a user: %v", err)
	}
	if seats := get(f.env, f.owner, account.Seats{Tenant: f.acct}); seats.Used != 1 {
		t.Fatalf("seats after removal: %+v, want 1 used (D13)", seats)
	}
	// The removed user no longer sees the account at all.
	notFound(t, ask(f.env, u, account.Account{Account: f.acct}))
}

// 002: "If you remove a person from an Inbox or a Project, they remain in your
// account but lose access to an inbox or a project in question." and "users with zero
// access but still present on your account will be counted towards your account
// limits."
func TestSeed002_RemovedFromProjectStaysAndCountsToSeats(t *testing.T) {
	f := newFixture(t)
	u := f.join("dev@acme.test", grant(f.proj, rbac.Admin))
	do(f.env, f.owner, account.RemoveFromResource{Scope: f.proj, Member: u})
	if f.allowed(u, rbac.ProjectView, f.proj) {
		t.Fatal("still has access to the project")
	}
	got, err := f.members(f.owner, f.acct)
	if err != nil || !slices.Contains(got, u) {
		t.Fatalf("the member left the account: %v %v", got, err)
	}
	if seats := get(f.env, f.owner, account.Seats{Tenant: f.acct}); seats.Used != 2 || seats.Limit != 20 {
		t.Fatalf("seats: %+v, want 2 of 20: zero-access members count (D20)", seats)
	}
}

// 002: "You cannot change your own permissions."
func TestSeed002_YouCannotChangeYourOwnPermissions(t *testing.T) {
	f := newFixture(t)
	a := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	denied(t, f.unchanged([]rbac.Holder{a}, func() error {
		return try(f.env, a, account.SetPermissions{Tenant: f.acct, Holder: a, Changes: change(f.proj, rbac.Viewer)})
	}), rbac.RuleNoSelfChange)
	denied(t, f.unchanged([]rbac.Holder{a}, func() error {
		return try(f.env, a, account.RemoveFromResource{Scope: f.proj, Member: a})
	}), rbac.RuleNoSelfChange)
	denied(t, f.unchanged([]rbac.Holder{a}, func() error {
		return try(f.env, a, account.RemoveMember{Tenant: f.acct, Member: a})
	}), rbac.RuleNoSelfChange)
}

// 001: "Cannot invite user: Check plan limits".
func TestSeed001_InvitePastSeatLimitIsRefused(t *testing.T) {
	e := newEnvWith(t, account.Options{Plans: []account.Plan{{Name: "small", Seats: 2, UserManagement: true}}})
	owner, a := e.register("o@acme.test")
	do(e, owner, account.Invite{Tenant: a.Ref, Email: "one@acme.test"})
	err := e.unchangedIn([]rbac.Holder{owner}, []rbac.Ref{a.Ref}, func() error {
		return try(e, owner, account.Invite{Tenant: a.Ref, Email: "two@acme.test"})
	})
	if !errors.Is(err, account.ErrSeatLimit) {
		t.Fatalf("third seat: %v, want ErrSeatLimit (D20, C3)", err)
	}
	if seats := get(e, owner, account.Seats{Tenant: a.Ref}); seats != (account.SeatCount{Used: 2, Limit: 2}) {
		t.Fatalf("seats = %+v, want 2 of 2 (a pending invitation counts, C3)", seats)
	}
}

// 001: Organization Owner "Cannot be removed".
func TestSeed001_OrganizationOwnerCannotBeRemoved(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("o@acme.test")
	org := do(e, owner, account.CreateOrganization{Name: "Group", Plan: "business"})
	admin := e.joinTo(owner, org.Ref, "a@acme.test", grant(org.Ref, rbac.Admin))
	denied(t, e.unchangedIn([]rbac.Holder{owner}, []rbac.Ref{org.Ref}, func() error {
		return try(e, admin, account.RemoveMember{Tenant: org.Ref, Member: owner})
	}), rbac.RuleOwnerImmutable)
}
