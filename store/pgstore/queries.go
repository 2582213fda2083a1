package pgstore

// Query identifies one SQL statement of the store. Its text is in queryText, with
// "$schema." where the schema's name goes; New replaces it once.
type query int

const (
	qAccount query = iota
	qSubAccounts
	qResource
	qChildren
	qPath
	qAnyScope
	qReach
	qCheck
	qScopeState
	qInsertScope
	qInsertRoot
	qUpdateAccount
	qUpdateResource
	qDeleteAccount
	qDeleteResource

	qUser
	qUserByEmail
	qUserByOAuth
	qInsertUser
	qUpdateUser
	qDeleteUser

	qMember
	qMembers
	qCountMembers
	qMemberships
	qInsertMember
	qMemberParents
	qDeleteMember
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
	qTeamMemberParents
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
	qPutSSOConnection
	qDeleteSSOConnection
	qDomain
	qDomains
	qPutDomain
	qDomainExists
	qDeleteDomain

	qTenantExists
	qAppendEvent
	qEvents

	numQueries
)

const (
	accountCols  = `kind, id, coalesce(parent_id, ''), name, coalesce(owner_id, ''), coalesce(plan, ''), created`
	resourceCols = `kind, id, parent_kind, parent_id, tenant_id, name, created`
	userCols     = `u.id, u.email, u.name, u.time_zone, u.two_factor, u.created,
	ARRAY(SELECT o.provider FROM $schema.oauth_links o WHERE o.user_id = u.id ORDER BY o.pos),
	ARRAY(SELECT o.subject FROM $schema.oauth_links o WHERE o.user_id = u.id ORDER BY o.pos)`
	grantCols      = `holder_kind, holder_id, scope_kind, scope_id, level, view_content, tenant_kind, tenant_id`
	teamCols       = `t.id, t.tenant_kind, t.tenant_id, t.name, t.created`
	memberCols     = `tenant_kind, tenant_id, user_id, created, last_active, mapped`
	invitationCols = `id, tenant_kind, tenant_id, email, invited_by_kind, invited_by_id, teams, hash, created, expires`
	inviteLinkCols = `id, tenant_kind, tenant_id, level, scope_kinds, scope_ids, created_by, hash, created, disabled, joined`
	tokenCols      = `id, tenant_kind, tenant_id, name, hash, last4, created_by, created, expires, reset_to, last_used, ip_allowlist`
	policyCols     = `tenant_kind, tenant_id, require_2fa, ip_allowlist, updated_by, updated, sso, enforce_sso`
	connectionCols = `id, tenant_kind, tenant_id, name, enforce, no_personal_account, mapping, created_by, created`
	domainCols     = `name, tenant_kind, tenant_id, verified_by, verified, capture`
	eventCols      = `seq, time, tenant_kind, tenant_id, actor_kind, actor_id, action, target, before, after, auth, client_ip, changes`
	// kinds of accounts and organizations (rbac.KindOrganization, rbac.KindAccount)
	tenantKinds = `(1, 2)`
)

var queryText = [numQueries]string{
	qAccount: `SELECT ` + accountCols + ` FROM $schema.scopes
		WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds,
	qSubAccounts: `SELECT ` + accountCols + ` FROM $schema.scopes
		WHERE parent_kind = 1 AND parent_id = $1 AND kind = 2 ORDER BY id`,
	qResource: `SELECT ` + resourceCols + ` FROM $schema.scopes
		WHERE kind = $1 AND id = $2 AND kind NOT IN ` + tenantKinds,
	qChildren: `SELECT ` + resourceCols + ` FROM $schema.scopes
		WHERE parent_kind = $1 AND parent_id = $2 AND kind NOT IN ` + tenantKinds + ` ORDER BY kind, id`,
	qPath: `SELECT path_kinds, path_ids FROM $schema.scopes WHERE kind = $1 AND id = $2`,
	// qAnyScope returns a scope and a user for PrepareConn: the scope of a team's
	// grant and a member of the team if one of a few team grants has one, so that a
	// check of the user on the scope finds rows in each part of qCheck that reads
	// grants, or else any scope and no user.
	qAnyScope: `(SELECT g.scope_kind, g.scope_id, tm.user_id
		FROM (SELECT scope_kind, scope_id, holder_id FROM $schema.grants WHERE holder_kind = 2 LIMIT 16) g
		JOIN $schema.team_members tm ON tm.team_id = g.holder_id
		LIMIT 1)
	UNION ALL
	(SELECT kind, id, '' FROM $schema.scopes LIMIT 1)
	LIMIT 1`,

	qReach: reachSQL(false),
	qCheck: reachSQL(true),

	// qScopeState tells whether a scope ($1, $2) and its parent ($3, $4) exist.
	qScopeState: `SELECT
		EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $1 AND id = $2),
		EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $3 AND id = $4)`,
	// qInsertScope inserts scope ($1, $2) below parent ($3, $4). An account or
	// organization is its own tenant; a resource has its parent's.
	qInsertScope: `INSERT INTO $schema.scopes
		(kind, id, parent_kind, parent_id, tenant_kind, tenant_id, name, owner_id, plan, created, path_kinds, path_ids)
	SELECT $1::smallint, $2::text, p.kind, p.id,
		CASE WHEN $1::smallint IN ` + tenantKinds + ` THEN $1::smallint ELSE p.tenant_kind END,
		CASE WHEN $1::smallint IN ` + tenantKinds + ` THEN $2::text ELSE p.tenant_id END,
		$5::text, $6::text, $7::text, $8::timestamptz, p.path_kinds || $1::smallint, p.path_ids || $2::text
	FROM $schema.scopes p WHERE p.kind = $3 AND p.id = $4
	ON CONFLICT DO NOTHING`,
	qInsertRoot: `INSERT INTO $schema.scopes
		(kind, id, tenant_kind, tenant_id, name, owner_id, plan, created, path_kinds, path_ids)
	VALUES ($1, $2, $1, $2, $3, $4, $5, $6, ARRAY[$1::smallint], ARRAY[$2::text])
	ON CONFLICT DO NOTHING`,
	qUpdateAccount: `UPDATE $schema.scopes SET name = $3, owner_id = $4, plan = $5
		WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds,
	qUpdateResource: `UPDATE $schema.scopes SET name = $3
		WHERE kind = $1 AND id = $2 AND kind NOT IN ` + tenantKinds,
	qDeleteAccount:  `DELETE FROM $schema.scopes WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds,
	qDeleteResource: `DELETE FROM $schema.scopes WHERE kind = $1 AND id = $2 AND kind NOT IN ` + tenantKinds,

	qUser:        `SELECT ` + userCols + ` FROM $schema.users u WHERE u.id = $1`,
	qUserByEmail: `SELECT ` + userCols + ` FROM $schema.users u WHERE u.email_fold = $1`,
	qUserByOAuth: `SELECT ` + userCols + ` FROM $schema.users u
		WHERE u.id = (SELECT user_id FROM $schema.oauth_links WHERE provider = $1 AND subject = $2)`,
	// qInsertUser inserts the user unless one of its OAuth links ($8, $9) is taken,
	// then its links; it returns the number of users inserted.
	qInsertUser: `WITH ins AS (
		INSERT INTO $schema.users (id, email, email_fold, name, time_zone, two_factor, created)
		SELECT $1, $2, $3, $4, $5, $6, $7
		WHERE NOT EXISTS (
			SELECT 1 FROM $schema.oauth_links o, unnest($8::text[], $9::text[]) AS l(p, s)
			WHERE o.provider = l.p AND o.subject = l.s)
		ON CONFLICT DO NOTHING
		RETURNING id
	), links AS (
		INSERT INTO $schema.oauth_links (provider, subject, user_id, pos)
		SELECT l.p, l.s, ins.id, l.ord
		FROM ins, unnest($8::text[], $9::text[]) WITH ORDINALITY AS l(p, s, ord)
		ON CONFLICT DO NOTHING
	)
	SELECT count(*) FROM ins`,
	// qUpdateUser updates the user unless its new email or one of its links belongs
	// to another user, and replaces its links; it returns whether the user exists and
	// whether a value was taken.
	qUpdateUser: `WITH chk AS (
		SELECT EXISTS (SELECT 1 FROM $schema.users WHERE email_fold = $3 AND id <> $1)
			OR EXISTS (
				SELECT 1 FROM $schema.oauth_links o, unnest($7::text[], $8::text[]) AS l(p, s)
				WHERE o.provider = l.p AND o.subject = l.s AND o.user_id <> $1) AS taken
	), upd AS (
		UPDATE $schema.users SET email = $2, email_fold = $3, name = $4, time_zone = $5, two_factor = $6
		WHERE id = $1 AND NOT (SELECT taken FROM chk)
		RETURNING id
	), del AS (
		DELETE FROM $schema.oauth_links
		WHERE user_id IN (SELECT id FROM upd)
			AND (provider, subject) NOT IN (SELECT l.p, l.s FROM unnest($7::text[], $8::text[]) AS l(p, s))
	), links AS (
		INSERT INTO $schema.oauth_links (provider, subject, user_id, pos)
		SELECT l.p, l.s, upd.id, l.ord
		FROM upd, unnest($7::text[], $8::text[]) WITH ORDINALITY AS l(p, s, ord)
		ON CONFLICT (provider, subject) DO UPDATE SET pos = EXCLUDED.pos
	)
	SELECT EXISTS (SELECT 1 FROM $schema.users WHERE id = $1), (SELECT taken FROM chk)`,
	qDeleteUser: `DELETE FROM $schema.users WHERE id = $1`,

	qMember: `SELECT ` + memberCols + ` FROM $schema.members
		WHERE tenant_kind = $1 AND tenant_id = $2 AND user_id = $3`,
	qMembers: `SELECT ` + memberCols + ` FROM $schema.members
		WHERE tenant_kind = $1 AND tenant_id = $2 AND user_id > $3 ORDER BY user_id LIMIT $4`,
	qCountMembers: `SELECT count(*) FROM $schema.members WHERE tenant_kind = $1 AND tenant_id = $2`,
	qMemberships: `SELECT ` + memberCols + ` FROM $schema.members
		WHERE user_id = $1 ORDER BY tenant_kind, tenant_id`,
	qInsertMember: `INSERT INTO $schema.members (tenant_kind, tenant_id, user_id, created, last_active, mapped)
	SELECT $1, $2, $3, $4, $5, $6::jsonb
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds + `)
		AND EXISTS (SELECT 1 FROM $schema.users WHERE id = $3)
	ON CONFLICT DO NOTHING`,
	qMemberParents: `SELECT
		EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds + `)
		AND EXISTS (SELECT 1 FROM $schema.users WHERE id = $3)`,
	// qDeleteMember deletes the membership and, when there was one, the user's grants
	// in the tenant and places in the tenant's teams.
	qDeleteMember: `WITH m AS (
		DELETE FROM $schema.members WHERE tenant_kind = $1 AND tenant_id = $2 AND user_id = $3
		RETURNING 1
	), g AS (
		DELETE FROM $schema.grants
		WHERE holder_kind = 1 AND holder_id = $3 AND tenant_kind = $1 AND tenant_id = $2
			AND EXISTS (SELECT 1 FROM m)
	), tm AS (
		DELETE FROM $schema.team_members tm USING $schema.teams t
		WHERE tm.team_id = t.id AND tm.user_id = $3 AND t.tenant_kind = $1 AND t.tenant_id = $2
			AND EXISTS (SELECT 1 FROM m)
	)
	SELECT count(*) FROM m`,
	qTouchMember: `UPDATE $schema.members SET last_active = $4
		WHERE tenant_kind = $1 AND tenant_id = $2 AND user_id = $3`,
	qSetMapped: `UPDATE $schema.members SET mapped = $4::jsonb
		WHERE tenant_kind = $1 AND tenant_id = $2 AND user_id = $3`,

	qGrant: `SELECT ` + grantCols + ` FROM $schema.grants
		WHERE holder_kind = $1 AND holder_id = $2 AND scope_kind = $3 AND scope_id = $4`,
	qHolderGrants: `SELECT ` + grantCols + ` FROM $schema.grants
		WHERE holder_kind = $1 AND holder_id = $2 AND tenant_kind = $3 AND tenant_id = $4
		ORDER BY scope_kind, scope_id`,
	qScopeGrants: `SELECT ` + grantCols + ` FROM $schema.grants
		WHERE scope_kind = $1 AND scope_id = $2 ORDER BY holder_kind, holder_id`,
	qScopeGrantsSubtree: `WITH RECURSIVE sub (kind, id) AS (
		SELECT $1::smallint, $2::text COLLATE "C"
		UNION ALL
		SELECT s.kind, s.id FROM $schema.scopes s JOIN sub ON s.parent_kind = sub.kind AND s.parent_id = sub.id
	)
	SELECT ` + grantCols + ` FROM $schema.grants g JOIN sub ON g.scope_kind = sub.kind AND g.scope_id = sub.id
	ORDER BY scope_kind, scope_id, holder_kind, holder_id`,
	qPutGrant: `INSERT INTO $schema.grants (` + grantCols + `)
	SELECT $1, $2, s.kind, s.id, $5, $6, s.tenant_kind, s.tenant_id
	FROM $schema.scopes s WHERE s.kind = $3 AND s.id = $4
	ON CONFLICT (holder_kind, holder_id, scope_kind, scope_id)
		DO UPDATE SET level = EXCLUDED.level, view_content = EXCLUDED.view_content`,
	qDeleteGrant: `DELETE FROM $schema.grants
		WHERE holder_kind = $1 AND holder_id = $2 AND scope_kind = $3 AND scope_id = $4`,

	qTeam:        `SELECT ` + teamCols + ` FROM $schema.teams t WHERE t.id = $1`,
	qTeams:       `SELECT ` + teamCols + ` FROM $schema.teams t WHERE t.tenant_kind = $1 AND t.tenant_id = $2 ORDER BY t.id`,
	qTeamMembers: `SELECT user_id FROM $schema.team_members WHERE team_id = $1 ORDER BY user_id`,
	qUserTeams: `SELECT ` + teamCols + ` FROM $schema.team_members tm JOIN $schema.teams t ON t.id = tm.team_id
		WHERE tm.user_id = $1 AND t.tenant_kind = $2 AND t.tenant_id = $3 ORDER BY t.id`,
	qInsertTeam: `INSERT INTO $schema.teams (id, tenant_kind, tenant_id, name, name_fold, created)
	SELECT $1, $2, $3, $4, $5, $6
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $2 AND id = $3 AND kind IN ` + tenantKinds + `)
	ON CONFLICT DO NOTHING`,
	qUpdateTeam: `UPDATE $schema.teams t SET name = $2, name_fold = $3
	WHERE t.id = $1 AND NOT EXISTS (
		SELECT 1 FROM $schema.teams o
		WHERE o.tenant_kind = t.tenant_kind AND o.tenant_id = t.tenant_id AND o.name_fold = $3 AND o.id <> $1)`,
	qTeamExists: `SELECT EXISTS (SELECT 1 FROM $schema.teams WHERE id = $1)`,
	qDeleteTeam: `DELETE FROM $schema.teams WHERE id = $1`,
	qInsertTeamMember: `INSERT INTO $schema.team_members (team_id, user_id)
	SELECT $1, $2
	WHERE EXISTS (SELECT 1 FROM $schema.teams WHERE id = $1) AND EXISTS (SELECT 1 FROM $schema.users WHERE id = $2)
	ON CONFLICT DO NOTHING`,
	qTeamMemberParents: `SELECT EXISTS (SELECT 1 FROM $schema.teams WHERE id = $1)
		AND EXISTS (SELECT 1 FROM $schema.users WHERE id = $2)`,
	qDeleteTeamMember: `DELETE FROM $schema.team_members WHERE team_id = $1 AND user_id = $2`,

	qInvitation: `SELECT ` + invitationCols + ` FROM $schema.invitations WHERE id = $1`,
	qInvitations: `SELECT ` + invitationCols + ` FROM $schema.invitations
		WHERE tenant_kind = $1 AND tenant_id = $2 ORDER BY id`,
	qInvitationsByEmail: `SELECT ` + invitationCols + ` FROM $schema.invitations WHERE email_fold = $1 ORDER BY id`,
	qInsertInvitation: `INSERT INTO $schema.invitations
		(id, tenant_kind, tenant_id, email, email_fold, invited_by_kind, invited_by_id, teams, hash, created, expires)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $2 AND id = $3 AND kind IN ` + tenantKinds + `)
	ON CONFLICT DO NOTHING`,
	qUpdateInvitation: `UPDATE $schema.invitations SET hash = $2, expires = $3 WHERE id = $1`,
	qDeleteInvitation: `DELETE FROM $schema.invitations WHERE id = $1`,

	qInviteLink: `SELECT ` + inviteLinkCols + ` FROM $schema.invite_links WHERE id = $1`,
	qInviteLinks: `SELECT ` + inviteLinkCols + ` FROM $schema.invite_links
		WHERE tenant_kind = $1 AND tenant_id = $2 ORDER BY id`,
	qInsertInviteLink: `INSERT INTO $schema.invite_links (` + inviteLinkCols + `)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $2 AND id = $3 AND kind IN ` + tenantKinds + `)
	ON CONFLICT DO NOTHING`,
	qUpdateInviteLink: `UPDATE $schema.invite_links SET hash = $2, disabled = $3, joined = $4 WHERE id = $1`,
	qDeleteInviteLink: `DELETE FROM $schema.invite_links WHERE id = $1`,

	qToken:  `SELECT ` + tokenCols + ` FROM $schema.tokens WHERE id = $1`,
	qTokens: `SELECT ` + tokenCols + ` FROM $schema.tokens WHERE tenant_kind = $1 AND tenant_id = $2 ORDER BY id`,
	// qTokensExpiring reads the partial index tokens_expires.
	qTokensExpiring: `SELECT ` + tokenCols + ` FROM $schema.tokens
		WHERE expires IS NOT NULL AND expires >= $1 AND expires < $2 ORDER BY expires, id`,
	qInsertToken: `INSERT INTO $schema.tokens (` + tokenCols + `)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $2 AND id = $3 AND kind IN ` + tenantKinds + `)
	ON CONFLICT DO NOTHING`,
	qUpdateToken: `UPDATE $schema.tokens SET name = $2, hash = $3, last4 = $4, expires = $5, reset_to = $6,
		created_by = $7, last_used = $8, ip_allowlist = $9 WHERE id = $1`,
	qDeleteToken: `DELETE FROM $schema.tokens WHERE id = $1`,

	qSecurityPolicy: `SELECT ` + policyCols + ` FROM $schema.security_policies
		WHERE tenant_kind = $1 AND tenant_id = $2`,
	// qPutSecurityPolicy inserts or replaces the policy of an existing tenant; no row
	// changed: the tenant does not exist.
	qPutSecurityPolicy: `INSERT INTO $schema.security_policies (` + policyCols + `)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds + `)
	ON CONFLICT (tenant_kind, tenant_id) DO UPDATE SET require_2fa = EXCLUDED.require_2fa,
		ip_allowlist = EXCLUDED.ip_allowlist, updated_by = EXCLUDED.updated_by, updated = EXCLUDED.updated,
		sso = EXCLUDED.sso, enforce_sso = EXCLUDED.enforce_sso`,

	qSSOConnection: `SELECT ` + connectionCols + ` FROM $schema.sso_connections WHERE id = $1`,
	qSSOConnections: `SELECT ` + connectionCols + ` FROM $schema.sso_connections
		WHERE tenant_kind = $1 AND tenant_id = $2 ORDER BY id`,
	// qPutSSOConnection replaces the connection with its ID but its tenant, or else
	// inserts it when its tenant exists; it returns the number of rows written, 0 when
	// neither exists. (An INSERT ... ON CONFLICT would check the proposed row, tenant
	// included, before finding the conflict.)
	qPutSSOConnection: `WITH upd AS (
		UPDATE $schema.sso_connections SET name = $4, enforce = $5, no_personal_account = $6, mapping = $7::jsonb,
			created_by = $8, created = $9
		WHERE id = $1
		RETURNING 1
	), ins AS (
		INSERT INTO $schema.sso_connections (` + connectionCols + `)
		SELECT $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9
		WHERE NOT EXISTS (SELECT 1 FROM upd)
			AND EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $2 AND id = $3 AND kind IN ` + tenantKinds + `)
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)`,
	qDeleteSSOConnection: `DELETE FROM $schema.sso_connections WHERE id = $1`,
	qDomain:              `SELECT ` + domainCols + ` FROM $schema.domains WHERE name = $1`,
	qDomains: `SELECT ` + domainCols + ` FROM $schema.domains
		WHERE tenant_kind = $1 AND tenant_id = $2 ORDER BY name`,
	// qPutDomain inserts the domain for an existing tenant, or replaces it when the
	// tenant already has it; no row changed: another tenant has it, or the tenant
	// does not exist (qDomainExists tells which).
	qPutDomain: `INSERT INTO $schema.domains (` + domainCols + `)
	SELECT $1, $2, $3, $4, $5, $6
	WHERE EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $2 AND id = $3 AND kind IN ` + tenantKinds + `)
	ON CONFLICT (name) DO UPDATE SET verified_by = EXCLUDED.verified_by, verified = EXCLUDED.verified,
		capture = EXCLUDED.capture
	WHERE domains.tenant_kind = EXCLUDED.tenant_kind AND domains.tenant_id = EXCLUDED.tenant_id`,
	qDomainExists: `SELECT EXISTS (SELECT 1 FROM $schema.domains WHERE name = $1)`,
	qDeleteDomain: `DELETE FROM $schema.domains WHERE name = $1`,

	qTenantExists: `SELECT EXISTS (SELECT 1 FROM $schema.scopes WHERE kind = $1 AND id = $2 AND kind IN ` + tenantKinds + `)`,
	// qAppendEvent takes a transaction-level advisory lock (keyed by the events
	// table) before drawing the sequence number, and keeps it until the transaction
	// ends: appending transactions draw their numbers in the order they commit. It
	// then notifies the change feed's channel with the new Seq, which PostgreSQL
	// delivers when, and only when, the transaction commits.
	qAppendEvent: `WITH l AS MATERIALIZED (
		SELECT pg_advisory_xact_lock((x'54454e54'::bigint << 32) | '$schema.events'::regclass::oid::bigint)
	), i AS (
		INSERT INTO $schema.events (time, tenant_kind, tenant_id, actor_kind, actor_id, action, target, before, after, auth, client_ip, changes)
		SELECT coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM l
		RETURNING seq, time
	)
	SELECT i.seq, i.time FROM i, LATERAL (SELECT pg_notify('$schema.feed', i.seq::text)) n`,
	qEvents: `SELECT ` + eventCols + ` FROM $schema.events
		WHERE tenant_kind = $1 AND tenant_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
}

// reachSQL returns the text of qReach, or with policies that of qCheck.
//
// qReach returns, in one statement, rows of (tag, holder kind, holder ID, scope kind,
// scope ID, level or position, view content): tag 0 for each element of the path (its
// position from 1 in the level column), 1 for the holder's own grants on the path, 2
// for the grants of the teams a user holder belongs to in the tenants on the path, 3
// for the accounts and organizations on the path a user holder owns. No row: the
// scope does not exist.
//
// qCheck, the Checker's statement, adds five columns, require_2fa, ip_allowlist, sso,
// enforce_sso and email (NULL in the rows above), and tag 4 for the security policy
// of each account or organization on the path (its position in the level column): one
// look-up of the primary key of security_policies per tenant of the path, in the same
// round trip. email is the user holder's address, read (by the primary key of users)
// only in the row of a policy that enforces single sign-on, which needs it.
//
// Every read after the path's is an exact look-up of a key, whatever the sizes of
// the tables, so that the plan that a connection keeps for the statement (a generic
// plan, under plan_cache_mode=force_generic_plan, made before the parameters are
// known) never scans all the grants of a holder, all the teams of a tenant or all the
// tenants: p also carries each element's tenant (the element itself for an account
// or organization, else the scope's tenant, as grants.tenant is the tenant of the
// grant's scope), so that a grant is one probe of grants_tenant or of the primary key
// per element of the path; a user's teams are read from the user's memberships; and
// each look-up is a LATERAL subquery with OFFSET 0, which the planner runs once per
// row of p with the row's values as the key instead of joining whole tables.
func reachSQL(policies bool) string {
	cols := ""
	if policies {
		cols = ", NULL::timestamptz, NULL::cidr[], NULL::text[], NULL::text[], NULL::text"
	}
	q := `WITH p AS MATERIALIZED (
		SELECT u.k, u.i, u.ord,
			CASE WHEN u.k IN ` + tenantKinds + ` THEN u.k ELSE s.tenant_kind END AS tk,
			CASE WHEN u.k IN ` + tenantKinds + ` THEN u.i ELSE s.tenant_id END AS ti
		FROM $schema.scopes s, unnest(s.path_kinds, s.path_ids) WITH ORDINALITY AS u(k, i, ord)
		WHERE s.kind = $1 AND s.id = $2
	)
	SELECT 0, 0::smallint, ''::text, p.k, p.i, p.ord::smallint, false` + cols + ` FROM p
	UNION ALL
	SELECT 1, g.holder_kind, g.holder_id, g.scope_kind, g.scope_id, g.level, g.view_content` + cols + `
	FROM p CROSS JOIN LATERAL (
		SELECT * FROM $schema.grants g
		WHERE g.holder_kind = $3 AND g.holder_id = $4 AND g.tenant_kind = p.tk AND g.tenant_id = p.ti
			AND g.scope_kind = p.k AND g.scope_id = p.i
		OFFSET 0) g
	UNION ALL
	SELECT 2, g.holder_kind, g.holder_id, g.scope_kind, g.scope_id, g.level, g.view_content` + cols + `
	FROM $schema.team_members tm
	CROSS JOIN LATERAL (SELECT * FROM $schema.teams t WHERE t.id = tm.team_id OFFSET 0) t
	JOIN p pt ON pt.k = t.tenant_kind AND pt.i = t.tenant_id
	CROSS JOIN p
	CROSS JOIN LATERAL (
		SELECT * FROM $schema.grants g
		WHERE g.holder_kind = 2 AND g.holder_id = t.id AND g.tenant_kind = p.tk AND g.tenant_id = p.ti
			AND g.scope_kind = p.k AND g.scope_id = p.i
		OFFSET 0) g
	WHERE $3::smallint = 1 AND tm.user_id = $4 AND pt.k IN ` + tenantKinds + `
	UNION ALL
	SELECT 3, $3::smallint, $4::text, s.kind, s.id, 1000::smallint, false` + cols + `
	FROM p CROSS JOIN LATERAL (
		SELECT s.kind, s.id FROM $schema.scopes s WHERE s.kind = p.k AND s.id = p.i AND s.owner_id = $4
		OFFSET 0) s
	WHERE $3::smallint = 1 AND p.k IN ` + tenantKinds + ``
	if policies {
		q += `
	UNION ALL
	SELECT 4, 0::smallint, ''::text, sp.tenant_kind, sp.tenant_id, p.ord::smallint, false, sp.require_2fa, sp.ip_allowlist,
		sp.sso, sp.enforce_sso,
		CASE WHEN $3::smallint = 1 AND sp.enforce_sso IS NOT NULL
			THEN (SELECT u.email FROM $schema.users u WHERE u.id = $4) END
	FROM p CROSS JOIN LATERAL (
		SELECT * FROM $schema.security_policies sp WHERE sp.tenant_kind = p.k AND sp.tenant_id = p.i
		OFFSET 0) sp
	WHERE p.k IN ` + tenantKinds
	}
	return q
}
