package rbac_test

import (
	"testing"

	"github.com/tenantry/tenantry/rbac"
)

type expect struct {
	action rbac.Action
	scope  rbac.Ref
	ok     bool
}

// One table per role paragraph of the user-management seed (002) and the domain,
// templates and campaign roles of the policy table. The holder has the one grant named by
// the role; every line is a sentence of the paragraph.
var roleTable = []struct {
	role  string
	grant rbac.Grant
	want  []expect
}{
	{"AccountOwner", rbac.Grant{Scope: rbac.Account("a"), Level: rbac.Owner}, []expect{
		{rbac.AccountRename, rbac.Account("a"), true},
		{rbac.AccountDelete, rbac.Account("a"), true},
		{rbac.AccountTransfer, rbac.Account("a"), true},
		{rbac.ProjectCreate, rbac.Account("a"), true},
		{rbac.InboxCreate, rbac.Project("p1"), true},
		{rbac.InboxDelete, rbac.Inbox("i1"), true},
		{rbac.AccountMembersInvite, rbac.Account("a"), true},
		{rbac.AccessManage, rbac.Project("p2"), true},
		{rbac.AccountView, rbac.Account("b"), false}, // D2
	}},
	{"AccountAdmin", rbac.Grant{Scope: rbac.Account("a"), Level: rbac.Admin}, []expect{
		{rbac.AccountRename, rbac.Account("a"), true},
		{rbac.AccountDelete, rbac.Account("a"), false},   // except deleting the account
		{rbac.AccountTransfer, rbac.Account("a"), false}, // and transferring its ownership
		{rbac.ProjectCreate, rbac.Account("a"), true},
		{rbac.DomainCreate, rbac.Account("a"), true},
		{rbac.InboxSettingsManage, rbac.Inbox("i3"), true},
		{rbac.AccountMembersInvite, rbac.Account("a"), true},
		{rbac.AccountMembersRemove, rbac.Account("a"), true},
		{rbac.AccessManage, rbac.Account("a"), true},   // admins alter account admins
		{rbac.BillingManage, rbac.Billing("ba"), true}, // C1
		{rbac.AccountTokensManage, rbac.Account("a"), true},
	}},
	{"AccountViewer", rbac.Grant{Scope: rbac.Account("a"), Level: rbac.Viewer}, []expect{
		{rbac.AccountView, rbac.Account("a"), true},
		{rbac.ProjectView, rbac.Project("p1"), true},
		{rbac.InboxRead, rbac.Inbox("i2"), true},
		{rbac.DomainView, rbac.Domain("d1"), true},
		{rbac.BillingView, rbac.Billing("ba"), true},
		{rbac.ProjectCreate, rbac.Account("a"), false},  // can't add new projects
		{rbac.ProjectRename, rbac.Project("p1"), false}, // nor edit existing ones
		{rbac.AccountMembersInvite, rbac.Account("a"), false},
		{rbac.MembersList, rbac.Account("a"), false}, // no user management
		{rbac.BillingManage, rbac.Billing("ba"), false},
	}},
	{"ProjectAdmin", rbac.Grant{Scope: rbac.Project("p1"), Level: rbac.Admin}, []expect{
		{rbac.ProjectRename, rbac.Project("p1"), true},
		{rbac.ProjectDelete, rbac.Project("p1"), true},
		{rbac.InboxCreate, rbac.Project("p1"), true},
		{rbac.InboxDelete, rbac.Inbox("i1"), true},
		{rbac.InboxSettingsManage, rbac.Inbox("i2"), true},
		{rbac.AccessManage, rbac.Project("p1"), true}, // add or remove project team members
		{rbac.MembersList, rbac.Project("p1"), true},
		{rbac.ProjectCreate, rbac.Account("a"), false}, // cannot add new projects (D7)
		{rbac.ProjectView, rbac.Project("p2"), false},  // nothing outside the project
		{rbac.AccountView, rbac.Account("a"), false},
	}},
	{"ProjectViewer", rbac.Grant{Scope: rbac.Project("p1"), Level: rbac.Viewer}, []expect{
		{rbac.ProjectView, rbac.Project("p1"), true},
		{rbac.InboxRead, rbac.Inbox("i1"), true},
		{rbac.InboxRead, rbac.Inbox("i2"), true},
		{rbac.InboxSettingsManage, rbac.Inbox("i1"), false}, // can't edit anything
		{rbac.InboxRename, rbac.Inbox("i1"), false},
		{rbac.AccessManage, rbac.Project("p1"), false}, // can't add or remove teammates
		{rbac.InboxCreate, rbac.Project("p1"), false},
		{rbac.InboxDelete, rbac.Inbox("i1"), false},
	}},
	{"InboxAdmin", rbac.Grant{Scope: rbac.Inbox("i1"), Level: rbac.Admin}, []expect{
		{rbac.InboxRename, rbac.Inbox("i1"), true},
		{rbac.InboxDelete, rbac.Inbox("i1"), true},
		{rbac.InboxCredentialsReset, rbac.Inbox("i1"), true},
		{rbac.InboxSettingsManage, rbac.Inbox("i1"), true},
		{rbac.AccessManage, rbac.Inbox("i1"), true},
		{rbac.MembersList, rbac.Inbox("i1"), true},
		{rbac.InboxCreate, rbac.Project("p1"), false},  // can't add new inboxes
		{rbac.ProjectCreate, rbac.Account("a"), false}, // or projects
		{rbac.InboxRead, rbac.Inbox("i2"), false},
	}},
	{"InboxViewer", rbac.Grant{Scope: rbac.Inbox("i1"), Level: rbac.Viewer}, []expect{
		{rbac.InboxRead, rbac.Inbox("i1"), true},
		{rbac.InboxRename, rbac.Inbox("i1"), false},
		{rbac.InboxSettingsManage, rbac.Inbox("i1"), false},
		{rbac.AccessManage, rbac.Inbox("i1"), false},
		{rbac.InboxCreate, rbac.Project("p1"), false},
	}},
	{"BillingAdmin", rbac.Grant{Scope: rbac.Billing("ba"), Level: rbac.Admin}, []expect{
		{rbac.BillingManage, rbac.Billing("ba"), true},
		{rbac.BillingView, rbac.Billing("ba"), true},
		{rbac.ProjectView, rbac.Project("p1"), false},
	}},
	{"BillingViewer", rbac.Grant{Scope: rbac.Billing("ba"), Level: rbac.Viewer}, []expect{
		{rbac.BillingView, rbac.Billing("ba"), true},
		{rbac.BillingInvoicesOptOut, rbac.Billing("ba"), true},
		{rbac.BillingManage, rbac.Billing("ba"), false},
	}},
	{"DomainAdmin", rbac.Grant{Scope: rbac.Domain("d1"), Level: rbac.Admin}, []expect{
		{rbac.DomainRename, rbac.Domain("d1"), true},
		{rbac.DomainDelete, rbac.Domain("d1"), true},
		{rbac.DomainCredentialsReset, rbac.Domain("d1"), true},
		{rbac.DomainSettingsManage, rbac.Domain("d1"), true},
		{rbac.DomainContentGrant, rbac.Domain("d1"), true},
		{rbac.DomainContentView, rbac.Domain("d1"), true}, // D8: implicit for admins
		{rbac.AccessManage, rbac.Domain("d1"), true},
		{rbac.DomainCreate, rbac.Account("a"), false},
	}},
	{"DomainViewer", rbac.Grant{Scope: rbac.Domain("d1"), Level: rbac.Viewer}, []expect{
		{rbac.DomainView, rbac.Domain("d1"), true},
		{rbac.DomainContentView, rbac.Domain("d1"), false}, // D8: needs the flag
		{rbac.DomainSettingsManage, rbac.Domain("d1"), false},
	}},
	{"DomainViewerWithContent", rbac.Grant{Scope: rbac.Domain("d1"), Level: rbac.Viewer, ViewContent: true}, []expect{
		{rbac.DomainContentView, rbac.Domain("d1"), true},
		{rbac.DomainContentGrant, rbac.Domain("d1"), false},
	}},
	{"TemplatesAdmin", rbac.Grant{Scope: rbac.Templates("ta"), Level: rbac.Admin}, []expect{
		{rbac.TemplatesManage, rbac.Templates("ta"), true},
		{rbac.TemplatesView, rbac.Templates("ta"), true},
	}},
	{"TemplatesViewer", rbac.Grant{Scope: rbac.Templates("ta"), Level: rbac.Viewer}, []expect{
		{rbac.TemplatesView, rbac.Templates("ta"), true},
		{rbac.TemplatesManage, rbac.Templates("ta"), false},
	}},
	{"CampaignsAdmin", rbac.Grant{Scope: rbac.Campaigns("ca"), Level: rbac.Admin}, []expect{
		{rbac.CampaignsManage, rbac.Campaigns("ca"), true},
		{rbac.CampaignsSend, rbac.Campaigns("ca"), true},
	}},
	{"CampaignsViewer", rbac.Grant{Scope: rbac.Campaigns("ca"), Level: rbac.Viewer}, []expect{
		{rbac.CampaignsView, rbac.Campaigns("ca"), true},
		{rbac.CampaignsSend, rbac.Campaigns("ca"), false},
		{rbac.CampaignsManage, rbac.Campaigns("ca"), false},
	}},
	{"OrganizationViewer", rbac.Grant{Scope: rbac.Org("o"), Level: rbac.Viewer}, []expect{
		{rbac.OrgView, rbac.Org("o"), true},
		{rbac.OrgUsersList, rbac.Org("o"), true},
		{rbac.AccountView, rbac.Account("a"), true}, // viewer of every sub-account (D3)
		{rbac.InboxRead, rbac.Inbox("i4"), true},
		{rbac.OrgSubAccountCreate, rbac.Org("o"), false},
		{rbac.AccountView, rbac.Account("b"), false},
	}},
	{"OrganizationAdmin", rbac.Grant{Scope: rbac.Org("o"), Level: rbac.Admin}, []expect{
		{rbac.OrgSubAccountCreate, rbac.Org("o"), true},
		{rbac.OrgUsersManage, rbac.Org("o"), true},
		{rbac.AccountRename, rbac.Account("c"), true}, // admin of every sub-account
		{rbac.OrgDelete, rbac.Org("o"), false},
		{rbac.OrgTransfer, rbac.Org("o"), false},
		{rbac.AccountDelete, rbac.Account("a"), false},
	}},
	{"OrganizationOwner", rbac.Grant{Scope: rbac.Org("o"), Level: rbac.Owner}, []expect{
		{rbac.OrgDelete, rbac.Org("o"), true},
		{rbac.OrgTransfer, rbac.Org("o"), true},
	}},
}

func TestSeedRoles(t *testing.T) {
	for _, role := range roleTable {
		t.Run(role.role, func(t *testing.T) {
			g := role.grant
			g.Holder = rbac.User("u")
			for _, e := range role.want {
				d := rbac.Decide(e.action, pathOf(e.scope), []rbac.Grant{g})
				if d.Allowed != e.ok {
					t.Errorf("%s: %v on %v: allowed=%v, want %v: %s", role.role, e.action, e.scope, d.Allowed, e.ok, d.Reason())
				}
			}
		})
	}
}

// Seed 002: "Nobody can alter the permissions of an Account Owner."
func TestSeed_NobodyCanAlterTheAccountOwner(t *testing.T) {
	for _, l := range []rbac.Level{rbac.Admin, rbac.Owner} {
		d := rbac.DecideChange(rbac.Change{Actor: rbac.User("x"), ActorLevel: l, Target: rbac.User("o"), Scope: rbac.Account("a"), To: rbac.Viewer, TargetIsOwner: true})
		if d.Allowed {
			t.Fatalf("actor at %v altered the owner", l)
		}
	}
}

// Seed 002: "You cannot change your own permissions."
func TestSeed_YouCannotChangeYourOwnPermissions(t *testing.T) {
	d := rbac.DecideChange(rbac.Change{Actor: rbac.User("x"), ActorLevel: rbac.Admin, Target: rbac.User("x"), Scope: rbac.Project("p1"), From: rbac.Viewer, To: rbac.Admin})
	if d.Allowed || d.Rule != rbac.RuleNoSelfChange {
		t.Fatalf("self change: %+v", d)
	}
}

// Seed 002: "Account Owner and other Account Admins can alter the permission of
// Account Admins."
func TestSeed_AdminsCanAlterAdmins(t *testing.T) {
	d := rbac.DecideChange(rbac.Change{Actor: rbac.User("x"), ActorLevel: rbac.Admin, Target: rbac.User("y"), Scope: rbac.Account("a"), From: rbac.Admin, To: rbac.Viewer})
	if !d.Allowed {
		t.Fatal(d.Reason())
	}
}
