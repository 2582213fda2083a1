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
	_, err := e.svc.Invite(e.ctx, owner, a.Ref, account.InviteRequest{Email: "x@acme.test"})
	if !errors.Is(err, account.ErrPlan) {
		t.Fatalf("invite on the free plan: %v, want ErrPlan (D21)", err)
	}
	e.must(e.svc.SetPlan(e.ctx, owner, a.Ref, "team"))
	if _, err := e.svc.Invite(e.ctx, owner, a.Ref, account.InviteRequest{Email: "x@acme.test"}); err != nil {
		t.Fatal(err)
	}
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
		_, err := f.svc.Members(f.ctx, u, f.acct, account.MemberFilter{})
		if (err == nil) != c.want {
			t.Errorf("%s lists members: err = %v, want access %v", c.who, err, c.want)
		}
		if err != nil {
			denied(t, err, rbac.RuleVisibility)
		}
	}
	if _, err := f.svc.Members(f.ctx, f.owner, f.acct, account.MemberFilter{}); err != nil {
		t.Errorf("the owner cannot list members: %v", err)
	}
}

// 002: "you have 50 team members in your account and 10 of them have access to
// 'Inbox A'. Account Owner and Account Admin will see all 50 team members. However,
// Inbox A admin(s) will only see 10 people on the list."
func TestSeed002_InboxAdminSeesOnlyMembersOfTheirInbox(t *testing.T) {
	f := newFixture(t)
	f.must(f.svc.SetPlan(f.ctx, f.owner, f.acct, "enterprise"))
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
		got, err := f.svc.Members(f.ctx, who, f.acct, account.MemberFilter{})
		if err != nil || !slices.Equal(holders(got), everyone) {
			t.Fatalf("%v sees %d members (%v), want all 50", who, len(got), err)
		}
	}
	got, err := f.svc.Members(f.ctx, inboxAdmin, f.acct, account.MemberFilter{})
	if err != nil || !slices.Equal(holders(got), withA) {
		t.Fatalf("Inbox A admin sees %v (%v), want the 10 with access to Inbox A", holders(got), err)
	}
}

// 002: "Nobody can alter the permissions of an Account Owner."
func TestSeed002_NobodyCanAlterTheAccountOwner(t *testing.T) {
	f := newFixture(t)
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	err := f.unchanged([]rbac.Holder{f.owner}, func() error {
		return f.svc.SetPermissions(f.ctx, admin, f.acct, f.owner, []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}})
	})
	denied(t, err, rbac.RuleOwnerImmutable)
	err = f.unchanged([]rbac.Holder{f.owner}, func() error { return f.svc.RemoveMember(f.ctx, admin, f.acct, f.owner.ID) })
	denied(t, err, rbac.RuleOwnerImmutable)
}

// 002: "Account Admin has the same permissions as Account Owner, with the exception
// of deleting an account and transferring its ownership."
func TestSeed002_AdminCannotDeleteOrTransfer(t *testing.T) {
	f := newFixture(t)
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	denied(t, f.unchanged(nil, func() error { return f.svc.Delete(f.ctx, admin, f.acct) }), rbac.RuleDeleteAccount)
	denied(t, f.unchanged(nil, func() error { return f.svc.TransferOwnership(f.ctx, admin, f.acct, admin.ID) }), rbac.RuleTransfer)
	f.must(f.svc.Rename(f.ctx, admin, f.acct, "Acme Inc"))
	f.mustRes(f.svc.CreateProject(f.ctx, admin, f.acct.ID, "API"))
	if _, err := f.svc.Invite(f.ctx, admin, f.acct, account.InviteRequest{Email: "new@acme.test", Grants: []account.GrantSpec{grant(f.proj, rbac.Admin)}}); err != nil {
		t.Fatal(err)
	}
}

// 002: "Account Owner and other Account Admins can alter the permission of Account
// Admins."
func TestSeed002_AdminsAlterAdmins(t *testing.T) {
	f := newFixture(t)
	a1 := f.join("a1@acme.test", grant(f.acct, rbac.Admin))
	a2 := f.join("a2@acme.test", grant(f.acct, rbac.Admin))
	f.must(f.svc.SetPermissions(f.ctx, a1, f.acct, a2, []account.PermissionChange{{Scope: f.acct, Level: rbac.Viewer}}))
	if f.allowed(a2, rbac.AccountRename, f.acct) {
		t.Fatal("a2 is still admin")
	}
	f.must(f.svc.SetPermissions(f.ctx, f.owner, f.acct, a2, []account.PermissionChange{{Scope: f.acct, Level: rbac.Admin}}))
}

// 002: "Account Viewer has access to all the entities in the account ... but can't
// add, edit or remove anything."
func TestSeed002_AccountViewerSeesAllChangesNothing(t *testing.T) {
	f := newFixture(t)
	v := f.join("viewer@acme.test", grant(f.acct, rbac.Viewer))
	for _, s := range []rbac.Ref{f.proj, f.inboxA, f.inboxB} {
		if !f.allowed(v, rbac.ProjectView, f.proj) || !f.allowed(v, rbac.InboxRead, f.inboxA) || !f.allowed(v, rbac.DomainView, f.domain) || !f.allowed(v, rbac.BillingView, rbac.Billing(f.acct.ID)) {
			t.Fatalf("viewer cannot see %v", s)
		}
	}
	denied(t, f.unchanged(nil, func() error { _, err := f.svc.CreateProject(f.ctx, v, f.acct.ID, "X"); return err }), rbac.RuleCreateChild)
	denied(t, f.unchanged(nil, func() error { return f.svc.RenameResource(f.ctx, v, f.proj, "X") }), rbac.RuleEffective)
	denied(t, f.unchanged(nil, func() error { return f.svc.DeleteResource(f.ctx, v, f.inboxA) }), rbac.RuleEffective)
}

// 002: "Project Admin can rename and delete a project, fully manage all its inboxes
// (add new or delete existing ones) and add or remove project team members. They
// cannot add new projects in the account."
func TestSeed002_ProjectAdmin(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	mate, _ := f.register("mate@acme.test")
	inv, err := f.svc.Invite(f.ctx, f.owner, f.acct, account.InviteRequest{Email: "mate@acme.test"})
	f.must(err)
	f.must(f.svc.AcceptInvitation(f.ctx, mate, inv.ID))
	f.must(f.svc.RenameResource(f.ctx, pa, f.proj, "Website"))
	c := f.mustRes(f.svc.CreateInbox(f.ctx, pa, f.proj.ID, "Inbox C"))
	f.must(f.svc.DeleteResource(f.ctx, pa, c.Ref))
	f.must(f.svc.SetPermissions(f.ctx, pa, f.acct, mate, []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}}))
	f.must(f.svc.RemoveFromResource(f.ctx, pa, mate, f.proj))
	denied(t, f.unchanged(nil, func() error { _, err := f.svc.CreateProject(f.ctx, pa, f.acct.ID, "X"); return err }), rbac.RuleCreateChild)
	f.must(f.svc.DeleteResource(f.ctx, pa, f.proj))
}

// 002: "Project Viewer can see all the inboxes in the project, but can't edit
// anything ... They also can't add or remove team mates, projects or inboxes."
func TestSeed002_ProjectViewer(t *testing.T) {
	f := newFixture(t)
	pv := f.join("pv@acme.test", grant(f.proj, rbac.Viewer))
	other := f.join("other@acme.test")
	if !f.allowed(pv, rbac.InboxRead, f.inboxA) || !f.allowed(pv, rbac.InboxRead, f.inboxB) {
		t.Fatal("project viewer cannot read the project's inboxes")
	}
	denied(t, f.unchanged(nil, func() error { return f.svc.RenameResource(f.ctx, pv, f.inboxA, "X") }), rbac.RuleEffective)
	denied(t, f.unchanged(nil, func() error { _, err := f.svc.CreateInbox(f.ctx, pv, f.proj.ID, "X"); return err }), rbac.RuleCreateChild)
	denied(t, f.unchanged(nil, func() error {
		return f.svc.SetPermissions(f.ctx, pv, f.acct, other, []account.PermissionChange{{Scope: f.inboxA, Level: rbac.Viewer}})
	}), rbac.RuleAdminChanges)
}

// 002: "Inbox Admin can rename and delete an inbox, manage inbox settings ... as well
// as add/remove inbox team members. They can't add new inboxes or projects."
func TestSeed002_InboxAdmin(t *testing.T) {
	f := newFixture(t)
	ia := f.join("ia@acme.test", grant(f.inboxA, rbac.Admin))
	other := f.join("other@acme.test")
	if !f.allowed(ia, rbac.InboxCredentialsReset, f.inboxA) || !f.allowed(ia, rbac.InboxSettingsManage, f.inboxA) {
		t.Fatal("inbox admin cannot manage the inbox's settings")
	}
	f.must(f.svc.RenameResource(f.ctx, ia, f.inboxA, "Staging"))
	f.must(f.svc.SetPermissions(f.ctx, ia, f.acct, other, []account.PermissionChange{{Scope: f.inboxA, Level: rbac.Viewer}}))
	f.must(f.svc.RemoveFromResource(f.ctx, ia, other, f.inboxA))
	denied(t, f.unchanged(nil, func() error { _, err := f.svc.CreateInbox(f.ctx, ia, f.proj.ID, "X"); return err }), rbac.RuleCreateChild)
	denied(t, f.unchanged(nil, func() error { _, err := f.svc.CreateProject(f.ctx, ia, f.acct.ID, "X"); return err }), rbac.RuleCreateChild)
	// The inbox admin does not see the project or the other inbox as admin.
	if f.allowed(ia, rbac.InboxRead, f.inboxB) {
		t.Fatal("inbox admin reads another inbox")
	}
	f.must(f.svc.DeleteResource(f.ctx, ia, f.inboxA))
}

// 002: "Inbox Viewer can see all the inbox messages, but can't edit anything."
func TestSeed002_InboxViewer(t *testing.T) {
	f := newFixture(t)
	iv := f.join("iv@acme.test", grant(f.inboxA, rbac.Viewer))
	if !f.allowed(iv, rbac.InboxRead, f.inboxA) || f.allowed(iv, rbac.InboxSettingsManage, f.inboxA) {
		t.Fatal("inbox viewer: wrong access")
	}
	denied(t, f.unchanged(nil, func() error { return f.svc.RenameResource(f.ctx, iv, f.inboxA, "X") }), rbac.RuleEffective)
}

// 002: "Billing Admin permission allows user to manage the Billing settings ...
// upgrade and downgrade the account and cancel the subscription." "Billing Viewer
// can only see the credit card on file, details of the current subscription".
func TestSeed002_BillingAdminAndViewer(t *testing.T) {
	f := newFixture(t)
	billing := rbac.Billing(f.acct.ID)
	ba := f.join("ba@acme.test", grant(billing, rbac.Admin))
	bv := f.join("bv@acme.test", grant(billing, rbac.Viewer))
	f.must(f.svc.SetPlan(f.ctx, ba, f.acct, "business"))
	if !f.allowed(bv, rbac.BillingView, billing) || !f.allowed(bv, rbac.BillingInvoicesOptOut, billing) {
		t.Fatal("billing viewer cannot see billing")
	}
	denied(t, f.unchanged(nil, func() error { return f.svc.SetPlan(f.ctx, bv, f.acct, "team") }), rbac.RuleEffective)
	if f.allowed(ba, rbac.ProjectView, f.proj) {
		t.Fatal("billing admin sees projects")
	}
}

// 002: "When you remove a user on the User Management page, they immediately lose
// access to your account, but stay in the system as Mailtrap users."
func TestSeed002_RemovedUserLosesAccessStaysUser(t *testing.T) {
	f := newFixture(t)
	u := f.join("gone@acme.test", grant(f.acct, rbac.Admin))
	f.must(f.svc.RemoveMember(f.ctx, f.owner, f.acct, u.ID))
	if f.allowed(u, rbac.AccountView, f.acct) || f.allowed(u, rbac.InboxRead, f.inboxA) {
		t.Fatal("a removed member kept access")
	}
	if _, err := f.prof.Get(f.ctx, u); err != nil {
		t.Fatalf("the removed member is no longer a user: %v", err)
	}
	used, _, err := f.svc.Seats(f.ctx, f.owner, f.acct)
	if err != nil || used != 1 {
		t.Fatalf("seats after removal: %d (%v), want 1 (D13)", used, err)
	}
}

// 002: "If you remove a person from an Inbox or a Project, they remain in your
// account but lose access to an inbox or a project in question." and "users with zero
// access but still present on your account will be counted towards your account
// limits."
func TestSeed002_RemovedFromProjectStaysAndCountsToSeats(t *testing.T) {
	f := newFixture(t)
	u := f.join("dev@acme.test", grant(f.proj, rbac.Admin))
	f.must(f.svc.RemoveFromResource(f.ctx, f.owner, u, f.proj))
	if f.allowed(u, rbac.ProjectView, f.proj) {
		t.Fatal("still has access to the project")
	}
	got, err := f.svc.Members(f.ctx, f.owner, f.acct, account.MemberFilter{})
	if err != nil || !slices.Contains(holders(got), u) {
		t.Fatalf("the member left the account: %v %v", holders(got), err)
	}
	used, _, err := f.svc.Seats(f.ctx, f.owner, f.acct)
	if err != nil || used != 2 {
		t.Fatalf("seats: %d (%v), want 2: zero-access members count (D20)", used, err)
	}
}

// 002: "You cannot change your own permissions."
func TestSeed002_YouCannotChangeYourOwnPermissions(t *testing.T) {
	f := newFixture(t)
	a := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	denied(t, f.unchanged([]rbac.Holder{a}, func() error {
		return f.svc.SetPermissions(f.ctx, a, f.acct, a, []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}})
	}), rbac.RuleNoSelfChange)
	denied(t, f.unchanged([]rbac.Holder{a}, func() error { return f.svc.RemoveFromResource(f.ctx, a, a, f.proj) }), rbac.RuleNoSelfChange)
}

// 001: "Cannot invite user: Check plan limits".
func TestSeed001_InvitePastSeatLimitIsRefused(t *testing.T) {
	e := newEnv(t)
	e.svc = account.New(e.st, account.Options{Plans: []account.Plan{{Name: "small", Seats: 2, UserManagement: true}}})
	e.prof = profile.New(e.svc)
	owner, a := e.register("o@acme.test")
	if _, err := e.svc.Invite(e.ctx, owner, a.Ref, account.InviteRequest{Email: "one@acme.test"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Invite(e.ctx, owner, a.Ref, account.InviteRequest{Email: "two@acme.test"})
	if !errors.Is(err, account.ErrSeatLimit) {
		t.Fatalf("third seat: %v, want ErrSeatLimit (D20, C3)", err)
	}
}

// 001: Organization Owner "Cannot be removed".
func TestSeed001_OrganizationOwnerCannotBeRemoved(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("o@acme.test")
	org, err := e.svc.CreateOrganization(e.ctx, owner, "Group", "business")
	e.must(err)
	admin, _ := e.register("a@acme.test")
	inv, err := e.svc.Invite(e.ctx, owner, org.Ref, account.InviteRequest{Email: "a@acme.test", Grants: []account.GrantSpec{grant(org.Ref, rbac.Admin)}})
	e.must(err)
	e.must(e.svc.AcceptInvitation(e.ctx, admin, inv.ID))
	denied(t, e.svc.RemoveMember(e.ctx, admin, org.Ref, owner.ID), rbac.RuleOwnerImmutable)
}
