package rbac

import "slices"

// Rule identifies a rule of the domain specification (D1…D31), a recorded choice where
// the sources disagree (C1…C4), or a rule of the policy engine itself (P1…P4). Every
// Decision names the rule that allowed or refused it.
type Rule string

// The rules that decisions cite.
const (
	RuleInherit        Rule = "D1"  // access on a scope reaches every scope below it
	RuleTenantBoundary Rule = "D2"  // access in one account never reaches another
	RuleOrgReach       Rule = "D3"  // organization access reaches every sub-account
	RuleOwnerNotGrant  Rule = "D4"  // the owner level is never granted
	RuleEffective      Rule = "D5"  // effective level: the highest grant on the scope and its ancestors
	RuleDenyDefault    Rule = "D6"  // no grant, no access
	RuleCreateChild    Rule = "D7"  // creating a child needs admin on the parent
	RuleViewContent    Rule = "D8"  // view email content: admin, or a viewer with the domain flag
	RuleOwnerImmutable Rule = "D9"  // nobody alters the owner's access
	RuleNoSelfChange   Rule = "D10" // nobody changes their own access
	RuleAdminChanges   Rule = "D11" // changing grants on S needs admin on S
	RuleNoEscalation   Rule = "D12" // nobody grants more than they hold
	RuleRemoveMember   Rule = "D13" // removal from the account
	RuleRemoveResource Rule = "D14" // removal from a project, inbox or domain
	RuleLeave          Rule = "D15" // any member but the owner may leave
	RuleTransfer       Rule = "D16" // only the owner transfers ownership, to a member
	RuleDeleteAccount  Rule = "D17" // only the owner deletes the account
	RuleVisibility     Rule = "D18" // who sees which members
	RuleInvite         Rule = "D19" // invitations
	RuleSeats          Rule = "D20" // seat limits
	RulePlan           Rule = "D21" // plan gating
	RuleTokenGrants    Rule = "D22" // tokens hold grants, never owner, never above their creator
	RuleTokenSecret    Rule = "D23" // token secrets and expiry
	RuleTokenSelf      Rule = "D24" // a token acts as itself and cannot change its own grants
	RuleEmailIdentity  Rule = "D25" // a user is an email address, unique ignoring case
	RuleProfile        Rule = "D26" // a profile's fields
	RuleChangeEmail    Rule = "D27" // changing the email moves the whole profile
	RuleCreateAccount  Rule = "D28" // any user may create an account and owns it
	RuleMyAccounts     Rule = "D29" // a user sees every account they belong to with their level
	RuleDeleteProfile  Rule = "D30" // deleting a profile is irreversible and cascades
	RuleAudit          Rule = "D31" // every change writes exactly one audit event
	RuleRequire2FA     Rule = "D32" // an account may require two-factor authentication from a date
	RuleSSO            Rule = "D33" // SSO connections, verified domains, enforced SSO, just-in-time members
	RuleDomainCapture  Rule = "D34" // users of a verified domain join on their own
	RuleIPAllowlist    Rule = "D35" // account and token IP allowlists
	RuleInviteExpiry   Rule = "D36" // invitations expire; resend renews, the invitee may decline
	RuleInviteLink     Rule = "D37" // reusable invite links
	RuleTokenExpiry    Rule = "D38" // token expiry choices, the reset grace period, the sweep
	RuleActivity       Rule = "D39" // last activity, recorded at most once a minute
	RuleTokenCreator   Rule = "D40" // a token never acts above its creator's current access
	RuleBillingAdmins  Rule = "C1"  // account admins manage billing
	RuleFormerOwner    Rule = "C2"  // the previous owner stays as account admin
	RuleInviteSeats    Rule = "C3"  // pending invitations count to seats
	RuleSubOwnership   Rule = "C4"  // a sub-account's ownership follows its organization
	RuleUnknownAction  Rule = "P1"  // an unknown action is refused
	RuleWrongKind      Rule = "P2"  // the action does not apply to this kind of scope
	RuleInvalidScope   Rule = "P3"  // the scope or its path is malformed
	RuleInvalidLevel   Rule = "P4"  // the level is not a valid level
)

// ruleText is the rule book: the text of every rule, as POLICY.md prints it.
var ruleText = map[Rule]string{
	RuleInherit:        "Access granted on a scope is inherited by every scope below it.",
	RuleTenantBoundary: "Access in one account never reaches another account.",
	RuleOrgReach:       "Organization-level access reaches every current and future sub-account of that organization.",
	RuleOwnerNotGrant:  "The owner level exists only on accounts and organizations; it is never granted, only held by registering or creating, or by transfer.",
	RuleEffective:      "A holder's effective level on a scope is the highest level among its grants on that scope and its ancestors, its teams' grants included.",
	RuleDenyDefault:    "No grant means no access (deny by default).",
	RuleCreateChild:    "Creating a child scope needs admin on the parent: a project admin cannot create projects; an inbox admin cannot create inboxes or projects.",
	RuleViewContent:    "Viewing email content on a domain needs admin there, or viewer access with the domain's view-email-content flag.",
	RuleOwnerImmutable: "Nobody can alter the owner's access: no grant, revoke, removal or team change targets the owner of the account or organization.",
	RuleNoSelfChange:   "Nobody can change their own access (leaving is not a change of access); this includes a team the actor belongs to.",
	RuleAdminChanges:   "To give, change or take a grant on a scope, the actor needs admin on that scope.",
	RuleNoEscalation:   "A grant given is at most the actor's own effective level on that scope, and never owner.",
	RuleRemoveMember:   "Removing a member from the account needs account admin; the member loses every grant and team place in the account, stays a user, and no longer counts to seats.",
	RuleRemoveResource: "Removing a member from a project, inbox or domain deletes their grants there and below; they stay in the account and keep counting to seats.",
	RuleLeave:          "Any member but the owner may leave an account; the owner must transfer ownership first.",
	RuleTransfer:       "Only the owner transfers ownership, only to a member of the account, atomically.",
	RuleDeleteAccount:  "Only the owner deletes the account, and everything in it goes; users stay.",
	RuleVisibility:     "Account owner and admins (and organization users for sub-accounts) see every member; a project, inbox or domain admin sees only members with access to a resource they administer; members without an admin role see none.",
	RuleInvite:         "An invitation by email is a grant holder until accepted; accepting turns it into a membership with its grants; inviting an existing member is an error.",
	RuleSeats:          "Every member counts to seats, zero-access members included; under an organization the pool is shared and a user counts once. An invitation past the seat limit is refused.",
	RulePlan:           "Plans gate features: user management needs a plan that has it; sub-accounts need a plan that has organizations.",
	RuleTokenGrants:    "An API token belongs to one account or organization and holds grants like a user: viewer or admin, never owner, never more than its creator holds.",
	RuleTokenSecret:    "A token's secret is shown once; only a hash and the last four characters are stored; expiry defaults to one year, may be never, and may not be past or more than five years ahead; an expired or already reset token cannot be reset.",
	RuleTokenSelf:      "A token authenticates as itself: its checks use its own grants, and it cannot change its own grants.",
	RuleEmailIdentity:  "A user is identified by an email address, unique without regard to case. Registering creates the profile and a free account the user owns, named after the user's name when known, else the email.",
	RuleProfile:        "A profile has a name, an email, an IANA time zone, linked OAuth providers (provider and subject, unique) and whether two-factor authentication is on.",
	RuleChangeEmail:    "Changing the email address moves the whole profile to the new address, which must be free.",
	RuleCreateAccount:  "A user may create a new account at any time and becomes its owner.",
	RuleMyAccounts:     "A user's settings list every account the user belongs to with their level there.",
	RuleDeleteProfile:  "Deleting a profile is irreversible: accounts the user owns are deleted, every other membership, team place and invitation is removed, and the audit log keeps only opaque IDs.",
	RuleAudit:          "Every successful change writes exactly one audit event in the same transaction; a refused or failed operation writes none.",
	RuleRequire2FA:     "An owner or account admin who uses two-factor authentication may require it of every user of the account (an organization's requirement reaches its sub-accounts) from a date: before it, access is allowed with a notice; from it, a user who has not passed a second factor in the request's sign-in is refused on every scope of the account until they do.",
	RuleSSO:            "An account records its single sign-on connections and the email domains it verified (who verified, when; the verification itself is the host's). With SSO enforced, a user whose address is in a verified domain is refused unless signed in through one of the account's connections; a user signed in through one is not asked for a second factor. A first sign-in through a connection of an unknown address creates the user (with or without a personal free account, as the connection says) and the membership; the connection's role mapping (identity-provider group to grants) is applied on every sign-in, adding and removing only the grants it gave, never above what its author may give now, never the owner's, within the seats and plan.",
	RuleDomainCapture:  "An account that verified an email domain may let that domain's users join it on their own at a chosen level on the account, within the seats and plan.",
	RuleIPAllowlist:    "An account (and an organization, for its sub-accounts) and an API token may each have an IP allowlist of IPv4 and IPv6 CIDR ranges; a request of a user or token of the account from an address outside every list that applies is refused, as is one whose address is unknown. An empty list restricts nothing; an admin cannot save a list that excludes the address they save it from.",
	RuleInviteExpiry:   "An invitation expires, 7 days after it was sent unless its inviter chose another time within the service's limits: from then on it cannot be accepted, is listed as expired and holds no seat. Resending it (admin, as revoking) renews its expiry with a new secret; its invitee may decline it.",
	RuleInviteLink:     "An account admin may create a reusable invite link for one level (viewer or admin) on the account or scopes within it, never above what they hold, and disable or rotate it. A signed-in user holding its secret joins as an accepted invitation would, within the plan and the seats counted at the moment of joining and as the account's security policies allow a member acting there, while the link is enabled and its creator may still give that access.",
	RuleTokenExpiry:    "A token expires after 1, 7, 30, 90, 180 or 365 days, at a chosen date at most five years ahead, or never. A reset keeps the old secret working for a grace period (12 hours unless the service is configured otherwise). Tokens expired for more than 90 days are deleted by the sweep, audited.",
	RuleActivity:       "A user's last activity in an account and a token's last use are recorded by operations and authentication, at most once a minute per holder and account; a check records nothing.",
	RuleTokenCreator:   "A token never acts above its creator's current access: its effective level on a scope is at most its creator's there, so a token whose creator left the account, or lost access, acts as nothing beyond what the creator still holds.",
	RuleBillingAdmins:  "Account admins manage billing (the platform's help pages overrule the generic role list of seed 001).",
	RuleFormerOwner:    "After a transfer of ownership the previous owner stays in the account as account admin.",
	RuleInviteSeats:    "Pending invitations count to seats.",
	RuleSubOwnership:   "A sub-account is owned by its organization's owner; its ownership moves only with the organization's.",
	RuleUnknownAction:  "An action that is not in the policy table is refused.",
	RuleWrongKind:      "An action is refused on a kind of scope it does not apply to.",
	RuleInvalidScope:   "A malformed scope or scope path is refused.",
	RuleInvalidLevel:   "A level that is not viewer, admin or owner is refused.",
}

// ruleNames are the Go names of the rules, as POLICY.md prints them.
var ruleNames = map[Rule]string{
	RuleInherit:        "RuleInherit",
	RuleTenantBoundary: "RuleTenantBoundary",
	RuleOrgReach:       "RuleOrgReach",
	RuleOwnerNotGrant:  "RuleOwnerNotGrant",
	RuleEffective:      "RuleEffective",
	RuleDenyDefault:    "RuleDenyDefault",
	RuleCreateChild:    "RuleCreateChild",
	RuleViewContent:    "RuleViewContent",
	RuleOwnerImmutable: "RuleOwnerImmutable",
	RuleNoSelfChange:   "RuleNoSelfChange",
	RuleAdminChanges:   "RuleAdminChanges",
	RuleNoEscalation:   "RuleNoEscalation",
	RuleRemoveMember:   "RuleRemoveMember",
	RuleRemoveResource: "RuleRemoveResource",
	RuleLeave:          "RuleLeave",
	RuleTransfer:       "RuleTransfer",
	RuleDeleteAccount:  "RuleDeleteAccount",
	RuleVisibility:     "RuleVisibility",
	RuleInvite:         "RuleInvite",
	RuleSeats:          "RuleSeats",
	RulePlan:           "RulePlan",
	RuleTokenGrants:    "RuleTokenGrants",
	RuleTokenSecret:    "RuleTokenSecret",
	RuleTokenSelf:      "RuleTokenSelf",
	RuleEmailIdentity:  "RuleEmailIdentity",
	RuleProfile:        "RuleProfile",
	RuleChangeEmail:    "RuleChangeEmail",
	RuleCreateAccount:  "RuleCreateAccount",
	RuleMyAccounts:     "RuleMyAccounts",
	RuleDeleteProfile:  "RuleDeleteProfile",
	RuleAudit:          "RuleAudit",
	RuleRequire2FA:     "RuleRequire2FA",
	RuleSSO:            "RuleSSO",
	RuleDomainCapture:  "RuleDomainCapture",
	RuleIPAllowlist:    "RuleIPAllowlist",
	RuleInviteExpiry:   "RuleInviteExpiry",
	RuleInviteLink:     "RuleInviteLink",
	RuleTokenExpiry:    "RuleTokenExpiry",
	RuleActivity:       "RuleActivity",
	RuleTokenCreator:   "RuleTokenCreator",
	RuleBillingAdmins:  "RuleBillingAdmins",
	RuleFormerOwner:    "RuleFormerOwner",
	RuleInviteSeats:    "RuleInviteSeats",
	RuleSubOwnership:   "RuleSubOwnership",
	RuleUnknownAction:  "RuleUnknownAction",
	RuleWrongKind:      "RuleWrongKind",
	RuleInvalidScope:   "RuleInvalidScope",
	RuleInvalidLevel:   "RuleInvalidLevel",
}

// GoName returns the name of the rule's constant in this package ("RuleNoEscalation"
// for D12), or "" for an unknown rule.
func (r Rule) GoName() string { return ruleNames[r] }

// Text returns the rule's text, or "" for an unknown rule.
func (r Rule) Text() string { return ruleText[r] }

// Rules returns every rule, in order: D1…, then C1…, then P1….
func Rules() []Rule {
	out := make([]Rule, 0, len(ruleText))
	for r := range ruleText {
		out = append(out, r)
	}
	slices.SortFunc(out, compareRules)
	return out
}

func compareRules(a, b Rule) int {
	order := func(r Rule) (int, int) {
		n := 0
		for _, c := range r[1:] {
			n = n*10 + int(c-'0')
		}
		switch r[0] {
		case 'D':
			return 0, n
		case 'C':
			return 1, n
		}
		return 2, n
	}
	ga, na := order(a)
	gb, nb := order(b)
	if ga != gb {
		return ga - gb
	}
	return na - nb
}
