package sqlitestore

// query identifies one SQL statement of the store; its text is in queryText.
type query int

const (
	qAccount query = iota
	qSubAccounts
	qResource
	qChildren
	qPath
	qReach
	qCheck
	qScopeTenant
	qScopeExists
	qInsertScope
	qInsertPath
	qUpdateAccount
	qUpdateResource
	qDeleteAccount
	qDeleteResource

	qUser
	qUserByEmail
	qUserByOAuth
	qUserExists
	qEmailOwner
	qLinkOwner
	qInsertUser
	qInsertLink
	qUpdateUser
	qDeleteLinks
	qDeleteUser

	qMember
	qMembers
	qCountMembers
	qMemberships
	qInsertMember
	qDeleteMember
	qDeleteMemberGrants
	qDeleteMemberTeams
	qTouchMember
	qSetMapped

	qGrant
	qHolderGrants
	qScopeGrants
	qScopeGrantsSubtree
	qPutGrant
	qDeleteGrant

	qTeam
	qTeams
	qTeamMembers
	qUserTeams
	qInsertTeam
	qUpdateTeam
	qTeamExists
	qDeleteTeam
	qInsertTeamMember
	qDeleteTeamMember

	qInvitation
	qInvitations
	qInvitationsByEmail
	qInsertInvitation
	qUpdateInvitation
	qDeleteInvitation

	qInviteLink
	qInviteLinks
	qInsertInviteLink
	qUpdateInviteLink
	qDeleteInviteLink

	qToken
	qTokens
	qTokensExpiring
	qInsertToken
	qUpdateToken
	qDeleteToken

	qSecurityPolicy
	qPutSecurityPolicy

	qSSOConnection
	qSSOConnections
	qConnectionExists
	qInsertSSOConnection
	qUpdateSSOConnection
	qDeleteSSOConnection
	qDomain
	qDomains
	qDomainTenant
	qPutDomain
	qDeleteDomain

	qTenantExists
	qAppendEvent
	qEvents

	numQueries
)

const (
	accountCols  = `kind, id, coalesce(parent_id, ''), name, coalesce(owner_id, ''), coalesce(plan, ''), created`
	resourceCols = `kind, id, parent_kind, parent_id, tenant_id, name, created`
	// userCols ends with the user's OAuth links as a JSON array of [provider, subject]
	// pairs, in the order they were given.
	userCols = `u.id, u.email, u.name, u.time_zone, u.two_factor, u.created,
	(SELECT json_group_array(json_array(o.provider, o.subject) ORDER BY o.pos) FROM oauth_links o WHERE o.user_id = u.id)`
	grantCols      = `holder_kind, holder_id, scope_kind, scope_id, level, view_content, tenant_kind, tenant_id`
	teamCols       = `t.id, t.tenant_kind, t.tenant_id, t.name, t.created`
	memberCols     = `tenant_kind, tenant_id, user_id, created, last_active, mapped`
	invitationCols = `id, tenant_kind, tenant_id, email, invited_by_kind, invited_by_id, teams, hash, created, expires`
	inviteLinkCols = `id, tenant_kind, tenant_id, level, scopes, created_by, hash, created, disabled, joined`
	tokenCols      = `id, tenant_kind, tenant_id, name, hash, last4, created_by, created, expires, reset_to, last_used, ip_allowlist`
	policyCols     = `tenant_kind, tenant_id, require_2fa, ip_allowlist, updated_by, updated, sso, enforce_sso`
	connectionCols = `id, tenant_kind, tenant_id, name, enforce, no_personal_account, mapping, created_by, created`
	domainCols     = `name, tenant_kind, tenant_id, verified_by, verified, capture`
	eventCols      = `seq, time, tenant_kind, tenant_id, actor_kind, actor_id, action, target, before, after, auth, client_ip, changes`
	// kinds of accounts and organizations (rbac.KindOrganization, rbac.KindAccount)
	tenantKinds = `(1, 2)`
)

var queryText = [numQueries]string{
	qAccount: `SELECT ` + accountCols + ` FROM scopes
		WHERE kind = ?1 AND id = ?2 AND kind IN ` + tenantKinds,
	qSubAccounts: `SELECT ` + accountCols + ` FROM scopes
		WHERE parent_kind = 1 AND parent_id = ?1 AND kind = 2 ORDER BY id`,
	qResource: `SELECT ` + resourceCols + ` FROM scopes
		WHERE kind = ?1 AND id = ?2 AND kind NOT IN ` + tenantKinds,
	qChildren: `SELECT ` + resourceCols + ` FROM scopes
		WHERE parent_kind = ?1 AND parent_id = ?2 AND kind NOT IN ` + tenantKinds + ` ORDER BY kind, id`,
	qPath: `SELECT anc_kind, anc_id FROM scope_paths WHERE kind = ?1 AND id = ?2 ORDER BY depth`,

	qReach: reachSQL(false),
	qCheck: reachSQL(true),

	// qScopeTenant returns the tenant of a scope.
	qScopeTenant: `SELECT tenant_kind, tenant_id FROM scopes WHERE kind = ?1 AND id = ?2`,
	qScopeExists: `SELECT EXISTS (SELECT 1 FROM scopes WHERE kind = ?1 AND id = ?2)`,
	qInsertScope: `INSERT INTO scopes
		(kind, id, parent_kind, parent_id, tenant_kind, tenant_id, name, owner_id, plan, created)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
	ON CONFLICT DO NOTHING`,
	// qInsertPath writes the path of scope (?1, ?2): its parent's (?3, ?4), if any,
	// and itself below it.
	qInsertPath: `INSERT INTO scope_paths (kind, id, depth, anc_kind, anc_id)
	SELECT ?1, ?2, depth, anc_kind, anc_id FROM scope_paths WHERE kind = ?3 AND id = ?4
	UNION ALL
	SELECT ?1, ?2, 1 + (SELECT count(*) FROM scope_paths WHERE kind = ?3 AND id = ?4), ?1, ?2`,
	qUpdateAccount: `UPDATE scopes SET name = ?3, owner_id = ?4, plan = ?5
		WHERE kind = ?1 AND id = ?2 AND kind IN ` + tenantKinds,
	qUpdateResource: `UPDATE scopes SET name = ?3
		WHERE kind = ?1 AND id = ?2 AND kind NOT IN ` + tenantKinds,
	qDeleteAccount:  `DELETE FROM scopes WHERE kind = ?1 AND id = ?2 AND kind IN ` + tenantKinds,
	qDeleteResource: `DELETE FROM scopes WHERE kind = ?1 AND id = ?2 AND kind NOT IN ` + tenantKinds,

	qUser:        `SELECT ` + userCols + ` FROM users u WHERE u.id = ?1`,
	qUserByEmail: `SELECT ` + userCols + ` FROM users u WHERE u.email_fold = ?1`,
	qUserByOAuth: `SELECT ` + userCols + ` FROM users u
		WHERE u.id = (SELECT user_id FROM oauth_links WHERE provider = ?1 AND subject = ?2)`,
	qUserExists: `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)`,
	// qEmailOwner and qLinkOwner return the ID of the user who has an email (by its
	// fold key) or an OAuth link.
	qEmailOwner: `SELECT id FROM users WHERE email_fold = ?1`,
	qLinkOwner:  `SELECT user_id FROM oauth_links WHERE provider = ?1 AND subject = ?2`,
	qInsertUser: `INSERT INTO users (id, email, email_fold, name, time_zone, two_factor, created)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
	ON CONFLICT DO NOTHING`,
	qInsertLink: `INSERT INTO oauth_links (provider, subject, user_id, pos) VALUES (?1, ?2, ?3, ?4)`,
	qUpdateUser: `UPDATE users SET email = ?2, email_fold = ?3, name = ?4, time_zone = ?5, two_factor = ?6
		WHERE id = ?1`,
	qDeleteLinks: `DELETE FROM oauth_links WHERE user_id = ?1`,
	qDeleteUser:  `DELETE FROM users WHERE id = ?1`,

	qMember: `SELECT ` + memberCols + ` FROM members
		WHERE tenant_kind = ?1 AND tenant_id = ?2 AND user_id = ?3`,
	qMembers: `SELECT ` + memberCols + ` FROM members
		WHERE tenant_kind = ?1 AND tenant_id = ?2 AND user_id > ?3 ORDER BY user_id LIMIT ?4`,
	qCountMembers: `SELECT count(*) FROM members WHERE tenant_kind = ?1 AND tenant_id = ?2`,
	qMemberships: `SELECT ` + memberCols + ` FROM members
		WHERE user_id = ?1 ORDER BY tenant_kind, tenant_id`,
	qInsertMember: `INSERT INTO members (tenant_kind, tenant_id, user_id, created, last_active, mapped)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6)
	ON CONFLICT DO NOTHING`,
	qDeleteMember: `DELETE FROM members WHERE tenant_kind = ?1 AND tenant_id = ?2 AND user_id = ?3`,
	qDeleteMemberGrants: `DELETE FROM grants
		WHERE holder_kind = 1 AND holder_id = ?3 AND tenant_kind = ?1 AND tenant_id = ?2`,
	qDeleteMemberTeams: `DELETE FROM team_members
		WHERE user_id = ?3 AND team_id IN (SELECT id FROM teams WHERE tenant_kind = ?1 AND tenant_id = ?2)`,
	qTouchMember: `UPDATE members SET last_active = ?4 WHERE tenant_kind = ?1 AND tenant_id = ?2 AND user_id = ?3`,
	qSetMapped:   `UPDATE members SET mapped = ?4 WHERE tenant_kind = ?1 AND tenant_id = ?2 AND user_id = ?3`,

	qGrant: `SELECT ` + grantCols + ` FROM grants
		WHERE holder_kind = ?1 AND holder_id = ?2 AND scope_kind = ?3 AND scope_id = ?4`,
	qHolderGrants: `SELECT ` + grantCols + ` FROM grants
		WHERE holder_kind = ?1 AND holder_id = ?2 AND tenant_kind = ?3 AND tenant_id = ?4
		ORDER BY scope_kind, scope_id`,
	qScopeGrants: `SELECT ` + grantCols + ` FROM grants
		WHERE scope_kind = ?1 AND scope_id = ?2 ORDER BY holder_kind, holder_id`,
	// The scopes of the subtree are those whose path goes through the scope.
	qScopeGrantsSubtree: `SELECT ` + grantCols + ` FROM scope_paths p CROSS JOIN grants g
	WHERE p.anc_kind = ?1 AND p.anc_id = ?2 AND g.scope_kind = p.kind AND g.scope_id = p.id
	ORDER BY scope_kind, scope_id, holder_kind, holder_id`,
	qPutGrant: `INSERT INTO grants (` + grantCols + `)
	SELECT ?1, ?2, s.kind, s.id, ?5, ?6, s.tenant_kind, s.tenant_id
	FROM scopes s WHERE s.kind = ?3 AND s.id = ?4
	ON CONFLICT (holder_kind, holder_id, scope_kind, scope_id)
		DO UPDATE SET level = excluded.level, view_content = excluded.view_content`,
	qDeleteGrant: `DELETE FROM grants
		WHERE holder_kind = ?1 AND holder_id = ?2 AND scope_kind = ?3 AND scope_id = ?4`,

	qTeam:        `SELECT ` + teamCols + ` FROM teams t WHERE t.id = ?1`,
	qTeams:       `SELECT ` + teamCols + ` FROM teams t WHERE t.tenant_kind = ?1 AND t.tenant_id = ?2 ORDER BY t.id`,
	qTeamMembers: `SELECT user_id FROM team_members WHERE team_id = ?1 ORDER BY user_id`,
	qUserTeams: `SELECT ` + teamCols + ` FROM team_members tm JOIN teams t ON t.id = tm.team_id
		WHERE tm.user_id = ?1 AND t.tenant_kind = ?2 AND t.tenant_id = ?3 ORDER BY t.id`,
	qInsertTeam: `INSERT INTO teams (id, tenant_kind, tenant_id, name, name_fold, created)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6)
	ON CONFLICT DO NOTHING`,
	qUpdateTeam: `UPDATE teams SET name = ?2, name_fold = ?3
	WHERE id = ?1 AND NOT EXISTS (
		SELECT 1 FROM teams o
		WHERE o.tenant_kind = teams.tenant_kind AND o.tenant_id = teams.tenant_id AND o.name_fold = ?3 AND o.id <> ?1)`,
	qTeamExists: `SELECT EXISTS (SELECT 1 FROM teams WHERE id = ?1)`,
	qDeleteTeam: `DELETE FROM teams WHERE id = ?1`,
	qInsertTeamMember: `INSERT INTO team_members (team_id, user_id) VALUES (?1, ?2)
	ON CONFLICT DO NOTHING`,
	qDeleteTeamMember: `DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2`,

	qInvitation: `SELECT ` + invitationCols + ` FROM invitations WHERE id = ?1`,
	qInvitations: `SELECT ` + invitationCols + ` FROM invitations
		WHERE tenant_kind = ?1 AND tenant_id = ?2 ORDER BY id`,
	qInvitationsByEmail: `SELECT ` + invitationCols + ` FROM invitations WHERE email_fold = ?1 ORDER BY id`,
	qInsertInvitation: `INSERT INTO invitations
		(id, tenant_kind, tenant_id, email, email_fold, invited_by_kind, invited_by_id, teams, hash, created, expires)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
	ON CONFLICT DO NOTHING`,
	qUpdateInvitation: `UPDATE invitations SET hash = ?2, expires = ?3 WHERE id = ?1`,
	qDeleteInvitation: `DELETE FROM invitations WHERE id = ?1`,

	qInviteLink: `SELECT ` + inviteLinkCols + ` FROM invite_links WHERE id = ?1`,
	qInviteLinks: `SELECT ` + inviteLinkCols + ` FROM invite_links
		WHERE tenant_kind = ?1 AND tenant_id = ?2 ORDER BY id`,
	qInsertInviteLink: `INSERT INTO invite_links (` + inviteLinkCols + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
	ON CONFLICT DO NOTHING`,
	qUpdateInviteLink: `UPDATE invite_links SET hash = ?2, disabled = ?3, joined = ?4 WHERE id = ?1`,
	qDeleteInviteLink: `DELETE FROM invite_links WHERE id = ?1`,

	qToken:  `SELECT ` + tokenCols + ` FROM tokens WHERE id = ?1`,
	qTokens: `SELECT ` + tokenCols + ` FROM tokens WHERE tenant_kind = ?1 AND tenant_id = ?2 ORDER BY id`,
	// qTokensExpiring reads the partial index tokens_expires; ?1 and ?2 are expiry
	// keys (see expiryKey).
	qTokensExpiring: `SELECT ` + tokenCols + ` FROM tokens
		WHERE expires_key IS NOT NULL AND expires_key >= ?1 AND expires_key < ?2 ORDER BY expires_key, id`,
	qInsertToken: `INSERT INTO tokens (` + tokenCols + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
	ON CONFLICT DO NOTHING`,
	qUpdateToken: `UPDATE tokens SET name = ?2, hash = ?3, last4 = ?4, expires = ?5, reset_to = ?6,
		created_by = ?7, last_used = ?8, ip_allowlist = ?9 WHERE id = ?1`,
	qDeleteToken: `DELETE FROM tokens WHERE id = ?1`,

	qSecurityPolicy: `SELECT ` + policyCols + ` FROM security_policies WHERE tenant_kind = ?1 AND tenant_id = ?2`,
	qPutSecurityPolicy: `INSERT INTO security_policies (` + policyCols + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
	ON CONFLICT (tenant_kind, tenant_id) DO UPDATE SET require_2fa = excluded.require_2fa,
		ip_allowlist = excluded.ip_allowlist, updated_by = excluded.updated_by, updated = excluded.updated,
		sso = excluded.sso, enforce_sso = excluded.enforce_sso`,

	qSSOConnection: `SELECT ` + connectionCols + ` FROM sso_connections WHERE id = ?1`,
	qSSOConnections: `SELECT ` + connectionCols + ` FROM sso_connections
		WHERE tenant_kind = ?1 AND tenant_id = ?2 ORDER BY id`,
	qConnectionExists:    `SELECT EXISTS (SELECT 1 FROM sso_connections WHERE id = ?1)`,
	qInsertSSOConnection: `INSERT INTO sso_connections (` + connectionCols + `) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
	// qUpdateSSOConnection replaces the connection but its tenant.
	qUpdateSSOConnection: `UPDATE sso_connections SET name = ?2, enforce = ?3, no_personal_account = ?4, mapping = ?5,
		created_by = ?6, created = ?7 WHERE id = ?1`,
	qDeleteSSOConnection: `DELETE FROM sso_connections WHERE id = ?1`,
	qDomain:              `SELECT ` + domainCols + ` FROM domains WHERE name = ?1`,
	qDomains: `SELECT ` + domainCols + ` FROM domains
		WHERE tenant_kind = ?1 AND tenant_id = ?2 ORDER BY name`,
	qDomainTenant: `SELECT tenant_kind, tenant_id FROM domains WHERE name = ?1`,
	qPutDomain: `INSERT INTO domains (` + domainCols + `) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
	ON CONFLICT (name) DO UPDATE SET verified_by = excluded.verified_by, verified = excluded.verified,
		capture = excluded.capture`,
	qDeleteDomain: `DELETE FROM domains WHERE name = ?1`,

	qTenantExists: `SELECT EXISTS (SELECT 1 FROM scopes WHERE kind = ?1 AND id = ?2 AND kind IN ` + tenantKinds + `)`,
	qAppendEvent: `INSERT INTO events (time, tenant_kind, tenant_id, actor_kind, actor_id, action, target, before, after, auth, client_ip, changes)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
	RETURNING seq`,
	qEvents: `SELECT ` + eventCols + ` FROM events
		WHERE tenant_kind = ?1 AND tenant_id = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4`,
}

// reachSQL returns the text of qReach, or with policies that of qCheck.
//
// qReach returns, in one statement, rows of (tag, holder kind, holder ID, scope kind,
// scope ID, level or depth, view content): tag 0 for each element of the path (its
// depth from 1 in the level column), 1 for the holder's own grants on the path, 2 for
// the grants of the teams a user holder belongs to in the tenants on the path, 3 for
// the accounts and organizations on the path a user holder owns. No row: the scope
// does not exist. CROSS JOIN fixes the order of the joins: from the user's team
// places, which are few, rather than from every team of a tenant.
//
// qCheck, the Checker's statement, adds five columns, require_2fa, ip_allowlist, sso,
// enforce_sso and email (NULL in the rows above), and tag 4 for the security policy
// of each account or organization on the path (its depth in the level column): one
// look-up of the primary key of security_policies per tenant of the path, in the same
// statement. email is the user holder's address, read (by the primary key of users)
// only in the row of a policy that enforces single sign-on, which needs it.
func reachSQL(policies bool) string {
	cols := ""
	if policies {
		cols = ", NULL, NULL, NULL, NULL, NULL"
	}
	q := `WITH p (k, i, d) AS MATERIALIZED (
		SELECT anc_kind, anc_id, depth FROM scope_paths WHERE kind = ?1 AND id = ?2
	)
	SELECT 0, 0, '', k, i, d, 0` + cols + ` FROM p
	UNION ALL
	SELECT 1, g.holder_kind, g.holder_id, g.scope_kind, g.scope_id, g.level, g.view_content` + cols + `
	FROM p CROSS JOIN grants g
	WHERE g.holder_kind = ?3 AND g.holder_id = ?4 AND g.scope_kind = p.k AND g.scope_id = p.i
	UNION ALL
	SELECT 2, g.holder_kind, g.holder_id, g.scope_kind, g.scope_id, g.level, g.view_content` + cols + `
	FROM team_members tm CROSS JOIN teams t CROSS JOIN p pt CROSS JOIN p CROSS JOIN grants g
	WHERE ?3 = 1 AND tm.user_id = ?4 AND t.id = tm.team_id
		AND pt.k = t.tenant_kind AND pt.i = t.tenant_id AND pt.k IN ` + tenantKinds + `
		AND g.holder_kind = 2 AND g.holder_id = t.id AND g.scope_kind = p.k AND g.scope_id = p.i
	UNION ALL
	SELECT 3, ?3, ?4, s.kind, s.id, 1000, 0` + cols + `
	FROM p CROSS JOIN scopes s
	WHERE ?3 = 1 AND s.kind = p.k AND s.id = p.i AND s.kind IN ` + tenantKinds + ` AND s.owner_id = ?4`
	if policies {
		q += `
	UNION ALL
	SELECT 4, 0, '', sp.tenant_kind, sp.tenant_id, p.d, 0, sp.require_2fa, sp.ip_allowlist, sp.sso, sp.enforce_sso,
		CASE WHEN ?3 = 1 AND sp.enforce_sso IS NOT NULL THEN (SELECT u.email FROM users u WHERE u.id = ?4) END
	FROM p CROSS JOIN security_policies sp
	WHERE p.k IN ` + tenantKinds + ` AND sp.tenant_kind = p.k AND sp.tenant_id = p.i`
	}
	return q
}
