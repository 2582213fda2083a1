package rbac

import (
	"errors"
	"fmt"
	"strings"
)

// Action is something a holder may try to do on a scope. Every action is a row of the
// policy table; its zero value is not an action and is always refused (P1).
type Action uint16

// KindSet is a set of scope kinds.
type KindSet uint16

// KindsOf returns the set of the given kinds.
func KindsOf(ks ...Kind) KindSet {
	var s KindSet
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in the set.
func (s KindSet) Has(k Kind) bool { return k.Valid() && s&(1<<k) != 0 }

// Kinds returns the kinds in the set, in tree order.
func (s KindSet) Kinds() []Kind {
	var out []Kind
	for _, k := range Kinds() {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// The actions of the policy table (POLICY.md). Names are "scope.verb"; see the policy table for the kinds
// each applies to and the level each needs.
const (
	_ Action = iota

	// Organization.
	OrgView             // view organization settings and every sub-account
	OrgUsersList        // see the list of organization-level users
	OrgSettingsManage   // manage organization settings
	OrgBillingView      // view the organization's billing
	OrgBillingManage    // manage the organization's billing
	OrgSubAccountsList  // list sub-accounts
	OrgSubAccountCreate // create a sub-account
	OrgUsersManage      // invite, remove and change organization-level users
	OrgDelete           // delete the organization
	OrgTransfer         // transfer the organization's ownership

	// Account.
	AccountView           // view everything in the account
	AccountRename         // rename the account
	AccountDelete         // delete the account
	AccountTransfer       // transfer the account's ownership
	AccountMembersInvite  // invite members
	AccountMembersRemove  // remove members from the account
	AccountTeamsManage    // create, rename, delete teams and change their members
	AccountTokensManage   // list, create, reset and delete API tokens
	AccountAuditView      // read the account's audit log
	AccountSecurityManage // manage the account's security policy: required 2FA, IP allowlist
	ProjectCreate         // create a project in the account
	DomainCreate          // create a sending domain in the account

	// Any scope that has members.
	MembersList  // list the members of a scope (subject to D18)
	AccessManage // give, change or take grants on a scope

	// Project.
	ProjectView   // see the project and all its inboxes
	ProjectRename // rename the project
	ProjectDelete // delete the project
	InboxCreate   // create an inbox in the project

	// Inbox.
	InboxRead             // read the inbox's messages
	InboxRename           // rename the inbox
	InboxDelete           // delete the inbox
	InboxCredentialsReset // reset the inbox's SMTP/POP3 credentials
	InboxSettingsManage   // manage forwarding rules and other inbox settings

	// Domain.
	DomainView             // view settings, reports, stats and email logs without bodies
	DomainRename           // rename the domain
	DomainDelete           // delete the domain
	DomainCredentialsReset // reset the domain's credentials
	DomainSettingsManage   // tracking and footer settings
	DomainContentView      // view email content
	DomainContentGrant     // grant "view email content" to viewers of the domain

	// Billing.
	BillingView           // see the card on file and the subscription
	BillingInvoicesOptOut // opt out of invoice emails
	BillingManage         // manage cards, upgrade, downgrade, cancel

	// Templates.
	TemplatesView   // preview templates, see type, category and update date
	TemplatesManage // create, edit, delete and duplicate templates

	// Campaigns.
	CampaignsView   // view campaigns and reports
	CampaignsManage // create, edit and delete campaigns
	CampaignsSend   // send campaigns

	numActions
)

// special marks a row whose decision needs more than a level comparison.
type special uint8

const (
	specialNone special = iota
	// specialViewContent: admin, or a viewer grant carrying ViewContent on the domain
	// itself (D8).
	specialViewContent
)

// actionInfo is one row of the policy table.
type actionInfo struct {
	name    string
	kinds   KindSet
	need    Level
	rules   []Rule // the rules this row implements; the first is cited on refusal
	special special
	doc     string
}

var (
	orgOnly   = KindsOf(KindOrganization)
	acctOnly  = KindsOf(KindAccount)
	withUsers = KindsOf(KindOrganization, KindAccount, KindProject, KindInbox, KindDomain)
	anyScope  = KindsOf(KindOrganization, KindAccount, KindProject, KindInbox, KindDomain, KindBilling, KindTemplates, KindCampaigns)
)

// policy is the executable policy: for every action, the kinds of scope it applies to
// and the least level it needs there. POLICY.md is generated from this table.
var policy = [numActions]actionInfo{
	OrgView:             {"org.view", orgOnly, Viewer, []Rule{RuleEffective, RuleOrgReach}, specialNone, "View organization settings, and (as viewer) every sub-account."},
	OrgUsersList:        {"org.users.list", orgOnly, Viewer, []Rule{RuleVisibility}, specialNone, "See the list of organization-level users."},
	OrgSettingsManage:   {"org.settings.manage", orgOnly, Admin, []Rule{RuleEffective}, specialNone, "Manage organization settings."},
	OrgBillingView:      {"org.billing.view", orgOnly, Viewer, []Rule{RuleEffective}, specialNone, "View the organization's billing."},
	OrgBillingManage:    {"org.billing.manage", orgOnly, Admin, []Rule{RuleEffective, RuleBillingAdmins}, specialNone, "Manage the organization's billing."},
	OrgSubAccountsList:  {"org.subaccounts.list", orgOnly, Viewer, []Rule{RuleEffective}, specialNone, "List the organization's sub-accounts."},
	OrgSubAccountCreate: {"org.subaccounts.create", orgOnly, Admin, []Rule{RuleCreateChild, RulePlan}, specialNone, "Create a sub-account."},
	OrgUsersManage:      {"org.users.manage", orgOnly, Admin, []Rule{RuleAdminChanges}, specialNone, "Invite, remove and change organization-level users."},
	OrgDelete:           {"org.delete", orgOnly, Owner, []Rule{RuleDeleteAccount}, specialNone, "Delete the organization with every sub-account."},
	OrgTransfer:         {"org.transfer", orgOnly, Owner, []Rule{RuleTransfer}, specialNone, "Transfer the organization's ownership."},

	AccountView:           {"account.view", acctOnly, Viewer, []Rule{RuleEffective}, specialNone, "View everything in the account: projects, inboxes, domains, billing, templates, campaigns."},
	AccountRename:         {"account.rename", acctOnly, Admin, []Rule{RuleEffective}, specialNone, "Rename the account."},
	AccountDelete:         {"account.delete", acctOnly, Owner, []Rule{RuleDeleteAccount}, specialNone, "Delete the account and everything in it."},
	AccountTransfer:       {"account.transfer", acctOnly, Owner, []Rule{RuleTransfer}, specialNone, "Transfer the account's ownership to a member."},
	AccountMembersInvite:  {"account.members.invite", KindsOf(KindOrganization, KindAccount), Admin, []Rule{RuleInvite, RuleAdminChanges}, specialNone, "Invite members by email."},
	AccountMembersRemove:  {"account.members.remove", KindsOf(KindOrganization, KindAccount), Admin, []Rule{RuleRemoveMember}, specialNone, "Remove a member from the account (user management)."},
	AccountTeamsManage:    {"account.teams.manage", KindsOf(KindOrganization, KindAccount), Admin, []Rule{RuleAdminChanges}, specialNone, "Create, rename and delete teams and change their members."},
	AccountTokensManage:   {"account.tokens.manage", KindsOf(KindOrganization, KindAccount), Admin, []Rule{RuleTokenGrants}, specialNone, "List, create, reset and delete API tokens."},
	AccountAuditView:      {"account.audit.view", KindsOf(KindOrganization, KindAccount), Admin, []Rule{RuleAudit}, specialNone, "Read the audit log."},
	AccountSecurityManage: {"account.security.manage", KindsOf(KindOrganization, KindAccount), Admin, []Rule{RuleRequire2FA, RuleIPAllowlist}, specialNone, "Require two-factor authentication and set the IP allowlist of the account (and of its sub-accounts, for an organization)."},
	ProjectCreate:         {"project.create", acctOnly, Admin, []Rule{RuleCreateChild}, specialNone, "Create a project in the account."},
	DomainCreate:          {"domain.create", acctOnly, Admin, []Rule{RuleCreateChild}, specialNone, "Create a sending domain in the account."},

	MembersList:  {"members.list", withUsers, Admin, []Rule{RuleVisibility}, specialNone, "List the members who have access to the scope (D18 filters what an admin of a resource sees)."},
	AccessManage: {"access.manage", anyScope, Admin, []Rule{RuleAdminChanges, RuleNoEscalation}, specialNone, "Give, change or take grants on the scope, or remove a member from it."},

	ProjectView:   {"project.view", KindsOf(KindProject), Viewer, []Rule{RuleEffective}, specialNone, "See the project and all its inboxes."},
	ProjectRename: {"project.rename", KindsOf(KindProject), Admin, []Rule{RuleEffective}, specialNone, "Rename the project."},
	ProjectDelete: {"project.delete", KindsOf(KindProject), Admin, []Rule{RuleEffective}, specialNone, "Delete the project and its inboxes."},
	InboxCreate:   {"inbox.create", KindsOf(KindProject), Admin, []Rule{RuleCreateChild}, specialNone, "Create an inbox in the project."},

	InboxRead:             {"inbox.read", KindsOf(KindInbox), Viewer, []Rule{RuleEffective}, specialNone, "Read the inbox's messages."},
	InboxRename:           {"inbox.rename", KindsOf(KindInbox), Admin, []Rule{RuleEffective}, specialNone, "Rename the inbox."},
	InboxDelete:           {"inbox.delete", KindsOf(KindInbox), Admin, []Rule{RuleEffective}, specialNone, "Delete the inbox."},
	InboxCredentialsReset: {"inbox.credentials.reset", KindsOf(KindInbox), Admin, []Rule{RuleEffective}, specialNone, "Reset the inbox's credentials."},
	InboxSettingsManage:   {"inbox.settings.manage", KindsOf(KindInbox), Admin, []Rule{RuleEffective}, specialNone, "Manage forwarding rules and other inbox settings."},

	DomainView:             {"domain.view", KindsOf(KindDomain), Viewer, []Rule{RuleEffective}, specialNone, "View settings, reports, stats and email logs without message bodies."},
	DomainRename:           {"domain.rename", KindsOf(KindDomain), Admin, []Rule{RuleEffective}, specialNone, "Rename the domain."},
	DomainDelete:           {"domain.delete", KindsOf(KindDomain), Admin, []Rule{RuleEffective}, specialNone, "Delete the domain."},
	DomainCredentialsReset: {"domain.credentials.reset", KindsOf(KindDomain), Admin, []Rule{RuleEffective}, specialNone, "Reset the domain's credentials."},
	DomainSettingsManage:   {"domain.settings.manage", KindsOf(KindDomain), Admin, []Rule{RuleEffective}, specialNone, "Manage tracking and footer settings."},
	DomainContentView:      {"domain.content.view", KindsOf(KindDomain), Admin, []Rule{RuleViewContent}, specialViewContent, "View email content: admin, or viewer with the domain's view-email-content flag."},
	DomainContentGrant:     {"domain.content.grant", KindsOf(KindDomain), Admin, []Rule{RuleViewContent, RuleAdminChanges}, specialNone, "Give viewers of the domain the view-email-content flag."},

	BillingView:           {"billing.view", KindsOf(KindBilling), Viewer, []Rule{RuleEffective}, specialNone, "See the card on file and the subscription."},
	BillingInvoicesOptOut: {"billing.invoices.optout", KindsOf(KindBilling), Viewer, []Rule{RuleEffective}, specialNone, "Opt out of receiving invoice emails."},
	BillingManage:         {"billing.manage", KindsOf(KindBilling), Admin, []Rule{RuleEffective, RuleBillingAdmins}, specialNone, "Manage cards, upgrade, downgrade, cancel the subscription."},

	TemplatesView:   {"templates.view", KindsOf(KindTemplates), Viewer, []Rule{RuleEffective}, specialNone, "Preview templates, see their type, category and update date."},
	TemplatesManage: {"templates.manage", KindsOf(KindTemplates), Admin, []Rule{RuleEffective}, specialNone, "Create, edit, delete and duplicate templates."},

	CampaignsView:   {"campaigns.view", KindsOf(KindCampaigns), Viewer, []Rule{RuleEffective}, specialNone, "View campaigns and their reports."},
	CampaignsManage: {"campaigns.manage", KindsOf(KindCampaigns), Admin, []Rule{RuleEffective}, specialNone, "Create, edit and delete campaigns."},
	CampaignsSend:   {"campaigns.send", KindsOf(KindCampaigns), Admin, []Rule{RuleEffective}, specialNone, "Send campaigns."},
}

// Actions returns every action of the policy table, in table order.
func Actions() []Action {
	out := make([]Action, 0, numActions-1)
	for a := Action(1); a < numActions; a++ {
		out = append(out, a)
	}
	return out
}

// Valid reports whether a is an action of the policy table.
func (a Action) Valid() bool { return a > 0 && a < numActions }

// String returns the action's name ("inbox.rename"), or "Action(N)" for a value that
// is not an action.
func (a Action) String() string {
	if !a.Valid() {
		return fmt.Sprintf("Action(%d)", uint16(a))
	}
	return policy[a].name
}

// Kinds returns the kinds of scope the action applies to.
func (a Action) Kinds() KindSet {
	if !a.Valid() {
		return 0
	}
	return policy[a].kinds
}

// Need returns the least level the action needs on its scope (Owner for owner-only
// actions). For an invalid action it returns a level above Owner, which nothing holds.
func (a Action) Need() Level {
	if !a.Valid() {
		return Owner + 1
	}
	return policy[a].need
}

// Rules returns the rules the action's row implements; the first is the one a refusal
// cites.
func (a Action) Rules() []Rule {
	if !a.Valid() {
		return []Rule{RuleUnknownAction}
	}
	return append([]Rule(nil), policy[a].rules...)
}

// Doc returns a one-sentence description of the action.
func (a Action) Doc() string {
	if !a.Valid() {
		return ""
	}
	return policy[a].doc
}

// MarshalText encodes the action as its name.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, &ActionError{Input: a.String()}
	}
	return []byte(a.String()), nil
}

// UnmarshalText decodes an action from its name, as ParseAction.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ErrUnknownAction is matched (with errors.Is) by the errors ParseAction returns.
var ErrUnknownAction = errors.New("rbac: unknown action")

// ActionError reports an action name that is not in the policy table.
type ActionError struct {
	Input string
}

// Error describes the unknown action.
func (e *ActionError) Error() string { return fmt.Sprintf("rbac: unknown action %q", e.Input) }

// Is reports whether target is ErrUnknownAction.
func (e *ActionError) Is(target error) bool { return target == ErrUnknownAction }

var actionByName = func() map[string]Action {
	m := make(map[string]Action, numActions)
	for a := Action(1); a < numActions; a++ {
		m[policy[a].name] = a
	}
	return m
}()

// ParseAction returns the action with the given name ("inbox.rename"), ignoring case
// and surrounding space, or an *ActionError.
func ParseAction(s string) (Action, error) {
	if a, ok := actionByName[strings.ToLower(strings.TrimSpace(s))]; ok {
		return a, nil
	}
	return 0, &ActionError{Input: s}
}
