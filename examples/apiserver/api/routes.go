package api

import (
	"net/http"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// AuthKind is who may call a route.
type AuthKind string

// The kinds of authentication a route takes.
const (
	AuthAny     AuthKind = "token or session" // an API token or a signed-in user's session
	AuthSession AuthKind = "session"          // a signed-in user's session only
	AuthPublic  AuthKind = "public"           // anyone
)

// Route is one route of the API: what the mux serves and what /openapi.json
// documents, from the same table.
type Route struct {
	Method, Path string
	Summary      string
	Tag          string
	Auth         AuthKind
	// Action, when set, authorizes the route before its handler: Action on the scope
	// of kind ScopeKind whose ID is the path value ScopeParam (web.Server.Authorize).
	// Without it, the library's operation decides, with the same answers.
	Action     rbac.Action
	ScopeKind  rbac.Kind
	ScopeParam string
	Query      []string // query parameters
	Body       string   // the schema of the request body (components.schemas), if any
	BodyOpt    bool     // the body may be absent
	Status     int      // the status of success
	Response   string   // the schema of the response to success
	fn         web.HandlerFunc
}

// Routes returns every route of the API.
func Routes() []Route { return (&handler{}).routes() }

func (h *handler) routes() []Route {
	const (
		platform = "Account access (the platform's API)"
		seed     = "Seed 001"
		members  = "User management"
		teams    = "Teams"
		me       = "My profile"
	)
	acct := func(a rbac.Action) (rbac.Action, rbac.Kind, string) { return a, rbac.KindAccount, "account_id" }
	tokens, tk, tp := acct(rbac.AccountTokensManage)
	teamsA, tmk, tmp := acct(rbac.AccountTeamsManage)
	audit, ak, ap := acct(rbac.AccountAuditView)
	inviteA, ik, ip := acct(rbac.AccountMembersInvite)
	filters := []string{"project_ids[]", "inbox_ids[]", "domain_uuids[]", "domain_ids[]"}
	page := []string{"cursor", "limit"}
	tenant := []string{"account_id"}
	ok, created := http.StatusOK, http.StatusCreated
	return []Route{
		{Method: "GET", Path: "/openapi.json", Summary: "This document", Tag: "Meta", Auth: AuthPublic, Status: ok, Response: "OpenAPI", fn: h.openAPI},

		{Method: "GET", Path: "/api/accounts", Summary: "The accounts the caller belongs to, with its levels there (D29)", Tag: platform, Auth: AuthAny, Status: ok, Response: "AccountList", fn: h.listAccounts},
		{Method: "GET", Path: "/api/accounts/{account_id}/account_accesses", Summary: "The users and invitations the caller may see (D18)", Tag: platform, Auth: AuthAny, Query: filters, Status: ok, Response: "AccessList", fn: h.listAccesses},
		{Method: "DELETE", Path: "/api/accounts/{account_id}/account_accesses/{access_id}", Summary: "Remove a user (D13), revoke an invitation or delete a token", Tag: platform, Auth: AuthAny, Status: ok, Response: "IDObject", fn: h.deleteAccess},
		{Method: "PUT", Path: "/api/accounts/{account_id}/account_accesses/{access_id}/permissions/bulk", Summary: "Create, update or remove grants, all or nothing (D9–D12)", Tag: platform, Auth: AuthAny, Body: "BulkPermissions", Status: ok, Response: "Message", fn: h.bulkPermissions},
		{Method: "GET", Path: "/api/accounts/{account_id}/permissions/resources", Summary: "The tree of resources the caller administers", Tag: platform, Auth: AuthAny, Status: ok, Response: "NodeList", fn: h.resources},
		{Method: "GET", Path: "/api/accounts/{account_id}/api_tokens", Summary: "The account's API tokens", Tag: platform, Auth: AuthAny, Action: tokens, ScopeKind: tk, ScopeParam: tp, Status: ok, Response: "TokenList", fn: h.listTokens},
		{Method: "POST", Path: "/api/accounts/{account_id}/api_tokens", Summary: "Create an API token (D22, D23); its secret is shown once", Tag: platform, Auth: AuthAny, Action: tokens, ScopeKind: tk, ScopeParam: tp, Body: "CreateToken", Status: created, Response: "Token", fn: h.createToken},
		{Method: "GET", Path: "/api/accounts/{account_id}/api_tokens/{token_id}", Summary: "An API token", Tag: platform, Auth: AuthAny, Status: ok, Response: "Token", fn: h.getToken},
		{Method: "DELETE", Path: "/api/accounts/{account_id}/api_tokens/{token_id}", Summary: "Delete an API token", Tag: platform, Auth: AuthAny, Status: ok, Response: "IDObject", fn: h.deleteToken},
		{Method: "POST", Path: "/api/accounts/{account_id}/api_tokens/{token_id}/reset", Summary: "Reset an API token: a new secret, the same grants (D23)", Tag: platform, Auth: AuthAny, Body: "ResetToken", BodyOpt: true, Status: ok, Response: "Token", fn: h.resetToken},
		{Method: "GET", Path: "/api/organizations/{organization_id}/sub_accounts", Summary: "The organization's sub-accounts", Tag: platform, Auth: AuthAny, Action: rbac.OrgSubAccountsList, ScopeKind: rbac.KindOrganization, ScopeParam: "organization_id", Status: ok, Response: "SubAccountList", fn: h.listSubAccounts},
		{Method: "POST", Path: "/api/organizations/{organization_id}/sub_accounts", Summary: "Create a sub-account (D3, C4)", Tag: platform, Auth: AuthAny, Action: rbac.OrgSubAccountCreate, ScopeKind: rbac.KindOrganization, ScopeParam: "organization_id", Body: "CreateSubAccount", Status: created, Response: "SubAccount", fn: h.createSubAccount},

		{Method: "POST", Path: "/api/team/invite", Summary: "Invite with a role, teams, projects and feature permissions (C5)", Tag: seed, Auth: AuthAny, Query: tenant, Body: "TeamInvite", Status: created, Response: "Invitation", fn: h.teamInvite},
		{Method: "PATCH", Path: "/api/users/{user_id}", Summary: "Change a member's role and feature permissions (C5)", Tag: seed, Auth: AuthAny, Query: tenant, Body: "UpdateUser", Status: ok, Response: "User", fn: h.updateUser},
		{Method: "DELETE", Path: "/api/users/{user_id}", Summary: "Remove a member (D13), transferring ownership first (D16)", Tag: seed, Auth: AuthAny, Query: tenant, Body: "RemoveUser", BodyOpt: true, Status: ok, Response: "Removed", fn: h.removeUser},

		{Method: "POST", Path: "/api/accounts/{account_id}/invitations", Summary: "Invite an address with grants and teams (D19)", Tag: members, Auth: AuthAny, Action: inviteA, ScopeKind: ik, ScopeParam: ip, Body: "Invite", Status: created, Response: "Invitation", fn: h.invite},
		{Method: "POST", Path: "/api/accounts/{account_id}/invitations/{invitation_id}/resend", Summary: "Send an invitation again (the host's mailer)", Tag: members, Auth: AuthAny, Status: http.StatusAccepted, Response: "Invitation", fn: h.resendInvitation},
		{Method: "DELETE", Path: "/api/accounts/{account_id}/invitations/{invitation_id}", Summary: "Revoke an invitation", Tag: members, Auth: AuthAny, Status: ok, Response: "IDObject", fn: h.revokeInvitation},
		{Method: "GET", Path: "/api/invitations", Summary: "The signed-in user's pending invitations", Tag: members, Auth: AuthSession, Query: page, Status: ok, Response: "MyInvitationPage", fn: h.myInvitations},
		{Method: "POST", Path: "/api/invitations/{invitation_id}/accept", Summary: "Accept an invitation with its secret (D19)", Tag: members, Auth: AuthSession, Status: ok, Body: "Accept", Response: "Message", fn: h.acceptInvitation},
		{Method: "POST", Path: "/api/accounts/{account_id}/leave", Summary: "Leave the account (D15)", Tag: members, Auth: AuthSession, Status: ok, Response: "IDObject", fn: h.leave},
		{Method: "POST", Path: "/api/accounts/{account_id}/transfer", Summary: "Transfer the account's ownership (D16, C2)", Tag: members, Auth: AuthSession, Body: "Transfer", Status: ok, Response: "Message", fn: h.transfer},
		{Method: "GET", Path: "/api/accounts/{account_id}/seats", Summary: "Seats used and the limit (D20)", Tag: members, Auth: AuthAny, Status: ok, Response: "Seats", fn: h.seats},
		{Method: "GET", Path: "/api/accounts/{account_id}/events", Summary: "The audit log, a page at a time (D31)", Tag: members, Auth: AuthAny, Action: audit, ScopeKind: ak, ScopeParam: ap, Query: page, Status: ok, Response: "EventPage", fn: h.events},

		{Method: "GET", Path: "/api/accounts/{account_id}/teams", Summary: "The account's teams", Tag: teams, Auth: AuthAny, Action: teamsA, ScopeKind: tmk, ScopeParam: tmp, Query: page, Status: ok, Response: "TeamPage", fn: h.listTeams},
		{Method: "POST", Path: "/api/accounts/{account_id}/teams", Summary: "Create a team", Tag: teams, Auth: AuthAny, Action: teamsA, ScopeKind: tmk, ScopeParam: tmp, Body: "Name", Status: created, Response: "Team", fn: h.createTeam},
		{Method: "PATCH", Path: "/api/accounts/{account_id}/teams/{team_id}", Summary: "Rename a team", Tag: teams, Auth: AuthAny, Body: "Name", Status: ok, Response: "Team", fn: h.renameTeam},
		{Method: "DELETE", Path: "/api/accounts/{account_id}/teams/{team_id}", Summary: "Delete a team with its grants", Tag: teams, Auth: AuthAny, Status: ok, Response: "IDObject", fn: h.deleteTeam},
		{Method: "GET", Path: "/api/accounts/{account_id}/teams/{team_id}/members", Summary: "A team's members", Tag: teams, Auth: AuthAny, Query: page, Status: ok, Response: "IDPage", fn: h.teamMembers},
		{Method: "PUT", Path: "/api/accounts/{account_id}/teams/{team_id}/members/{user_id}", Summary: "Add a member to a team", Tag: teams, Auth: AuthAny, Status: ok, Response: "IDObject", fn: h.addTeamMember},
		{Method: "DELETE", Path: "/api/accounts/{account_id}/teams/{team_id}/members/{user_id}", Summary: "Remove a member from a team", Tag: teams, Auth: AuthAny, Status: ok, Response: "IDObject", fn: h.removeTeamMember},

		{Method: "GET", Path: "/api/me", Summary: "The signed-in user's profile", Tag: me, Auth: AuthSession, Status: ok, Response: "Profile", fn: h.getProfile},
		{Method: "PATCH", Path: "/api/me", Summary: "Rename, set the time zone", Tag: me, Auth: AuthSession, Body: "UpdateProfile", Status: ok, Response: "Profile", fn: h.updateProfile},
		{Method: "PUT", Path: "/api/me/email", Summary: "Change the email address (D27)", Tag: me, Auth: AuthSession, Body: "Email", Status: ok, Response: "Profile", fn: h.changeEmail},
		{Method: "POST", Path: "/api/me/oauth", Summary: "Link an OAuth identity (D26)", Tag: me, Auth: AuthSession, Body: "OAuth", Status: ok, Response: "Profile", fn: h.linkOAuth},
		{Method: "DELETE", Path: "/api/me/oauth/{provider}/{subject}", Summary: "Unlink an OAuth identity", Tag: me, Auth: AuthSession, Status: ok, Response: "Profile", fn: h.unlinkOAuth},
		{Method: "DELETE", Path: "/api/me", Summary: "Delete the profile, irreversibly (D30)", Tag: me, Auth: AuthSession, Body: "DeleteProfile", Status: ok, Response: "IDObject", fn: h.deleteProfile},
	}
}
