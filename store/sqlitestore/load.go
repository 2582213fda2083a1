package sqlitestore

import (
	"context"

	"github.com/tenantry/tenantry/store"
)

var _ store.Loader = (*Store)(nil)

// The statements of Load, each a scan of one table in one pass, streamed row by row.
// Only the scopes are sorted: organizations before accounts (rbac.KindOrganization is
// 1, rbac.KindAccount 2), and resources by the length of their path, so that a parent
// (an account, or a project for an inbox) comes before its children. The grants are
// read in the table's order.
const (
	loadSeq       = `SELECT coalesce(max(seq), 0) FROM events`
	loadUsers     = `SELECT ` + userCols + ` FROM users u`
	loadAccounts  = `SELECT ` + accountCols + ` FROM scopes WHERE kind IN ` + tenantKinds + ` ORDER BY kind, id`
	loadResources = `SELECT ` + resourceCols + ` FROM scopes s WHERE kind NOT IN ` + tenantKinds + `
		ORDER BY (SELECT max(p.depth) FROM scope_paths p WHERE p.kind = s.kind AND p.id = s.id), kind, id`
	loadMembers     = `SELECT ` + memberCols + ` FROM members`
	loadTeams       = `SELECT ` + teamCols + ` FROM teams t`
	loadTeamMembers = `SELECT team_id, user_id FROM team_members`
	loadTokens      = `SELECT ` + tokenCols + ` FROM tokens`
	// holder kinds rbac.HolderUser, rbac.HolderTeam and rbac.HolderToken: not the
	// grants of invitations, which no check reads.
	loadGrants   = `SELECT ` + grantCols + ` FROM grants WHERE holder_kind IN (1, 2, 3)`
	loadPolicies = `SELECT ` + policyCols + ` FROM security_policies`
)

// Load implements store.Loader in one read transaction (as View does): users,
// accounts (organizations first), resources (parents first), memberships, teams, team
// members, tokens, the grants of users, teams and tokens, and security policies, each
// table by one statement whose rows go to w one at a time, so that Load holds one
// record in memory at a time whatever the size of the tables.
//
// The Seq returned is the greatest Seq of the events in the transaction's snapshot:
// write transactions run one at a time (the database's write lock), so the snapshot
// holds every event up to it and an event committed later has a greater Seq.
//
// Load returns w's first error unchanged, and ctx's error when ctx is done first.
func (s *Store) Load(ctx context.Context, w store.Writer) (uint64, error) {
	var seq int64
	err := s.View(ctx, func(ctx context.Context, r store.Reader) error {
		q := r.(*rw).q
		if err := q.QueryRowContext(ctx, loadSeq).Scan(&seq); err != nil {
			return wrapErr(ctx, "load: last event", err)
		}
		if err := stream(ctx, q, loadUsers, "load users", scanUser, w.InsertUser); err != nil {
			return err
		}
		if err := stream(ctx, q, loadAccounts, "load accounts", scanAccount, w.InsertAccount); err != nil {
			return err
		}
		if err := stream(ctx, q, loadResources, "load resources", scanResource, w.InsertResource); err != nil {
			return err
		}
		if err := stream(ctx, q, loadMembers, "load members", scanMember, w.InsertMember); err != nil {
			return err
		}
		if err := stream(ctx, q, loadTeams, "load teams", scanTeam, w.InsertTeam); err != nil {
			return err
		}
		if err := stream(ctx, q, loadTeamMembers, "load team members", scanPair,
			func(ctx context.Context, p [2]string) error { return w.InsertTeamMember(ctx, p[0], p[1]) }); err != nil {
			return err
		}
		if err := stream(ctx, q, loadTokens, "load tokens", scanToken, w.InsertToken); err != nil {
			return err
		}
		if err := stream(ctx, q, loadGrants, "load grants", scanGrant, w.PutGrant); err != nil {
			return err
		}
		return stream(ctx, q, loadPolicies, "load security policies", scanPolicy, w.PutSecurityPolicy)
	})
	if err != nil {
		return 0, err
	}
	return uint64(seq), nil
}

// stream runs sql on q and calls put with each row as scan reads it, until the rows
// end or put fails; put's error is returned unchanged. The rows are closed when it
// returns.
func stream[T any](ctx context.Context, q querier, sql, op string, scan func(scanner) (T, error), put func(context.Context, T) error) error {
	rows, err := q.QueryContext(ctx, sql)
	if err != nil {
		return wrapErr(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return wrapErr(ctx, op, err)
		}
		if err := put(ctx, v); err != nil {
			return err
		}
	}
	return wrapErr(ctx, op, rows.Err())
}

// scanPair scans a row of two strings.
func scanPair(r scanner) ([2]string, error) {
	var p [2]string
	err := r.Scan(&p[0], &p[1])
	return p, err
}
