package pgstore

import (
	"context"

	"github.com/tenantry/tenantry/store"
)

var _ store.Loader = (*Store)(nil)

// The statements of Load, each a scan of one table in one pass, streamed row by row.
// Only the scopes are sorted: organizations before accounts (rbac.KindOrganization is
// 1, rbac.KindAccount 2), and resources by the length of their path, so that a parent
// (an account, or a project for an inbox) comes before its children. The grants are
// a plain sequential scan, in no order.
const (
	loadSeq       = `SELECT coalesce(max(seq), 0) FROM $schema.events`
	loadUsers     = `SELECT ` + userCols + ` FROM $schema.users u`
	loadAccounts  = `SELECT ` + accountCols + ` FROM $schema.scopes WHERE kind IN ` + tenantKinds + ` ORDER BY kind, id`
	loadResources = `SELECT ` + resourceCols + ` FROM $schema.scopes WHERE kind NOT IN ` + tenantKinds +
		` ORDER BY cardinality(path_kinds), kind, id`
	loadMembers     = `SELECT ` + memberCols + ` FROM $schema.members`
	loadTeams       = `SELECT ` + teamCols + ` FROM $schema.teams t`
	loadTeamMembers = `SELECT team_id, user_id FROM $schema.team_members`
	loadTokens      = `SELECT ` + tokenCols + ` FROM $schema.tokens`
	// holder kinds rbac.HolderUser, rbac.HolderTeam and rbac.HolderToken: not the
	// grants of invitations, which no check reads.
	loadGrants   = `SELECT ` + grantCols + ` FROM $schema.grants WHERE holder_kind IN (1, 2, 3)`
	loadPolicies = `SELECT ` + policyCols + ` FROM $schema.security_policies`
)

// Load implements store.Loader in one read-only REPEATABLE READ transaction (as View
// does): users, accounts (organizations first), resources (parents first),
// memberships, teams, team members, tokens, the grants of users, teams and tokens,
// and security policies, each table by one statement whose rows go to w one at a
// time, so that Load holds one record in memory at a time whatever the size of the
// tables. A statement is done with (its rows closed) before the next one runs.
//
// The Seq returned is the greatest Seq of the events in the transaction's snapshot.
// Every appending transaction draws its Seq while it holds the events' lock (see
// AppendEvent), which PostgreSQL releases only after the transaction has ended and
// become visible to new snapshots. So when a transaction that drew the Seq k has
// committed, every transaction that drew a smaller Seq had ended before it took the
// lock: the snapshot that sees the event k sees every committed event up to k, and an
// event that commits after the snapshot was taken has a Seq greater than any the
// snapshot sees. The events after the Seq returned are exactly the changes the copy
// has not seen. (This holds as long as events are appended only through the store,
// with the events' sequence at its default cache of 1.)
//
// Load returns w's first error unchanged, and ctx's error when ctx is done first.
func (s *Store) Load(ctx context.Context, w store.Writer) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var seq int64
	err := s.View(ctx, func(ctx context.Context, r store.Reader) error {
		q := r.(*rw).q
		if err := q.QueryRow(ctx, s.prefixed(loadSeq)).Scan(&seq); err != nil {
			return wrapErr(ctx, "load: last event", err)
		}
		if err := stream(ctx, q, s.prefixed(loadUsers), "load users", scanUser, w.InsertUser); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadAccounts), "load accounts", scanAccount, w.InsertAccount); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadResources), "load resources", scanResource, w.InsertResource); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadMembers), "load members", scanMember, w.InsertMember); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadTeams), "load teams", scanTeam, w.InsertTeam); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadTeamMembers), "load team members", scanPair,
			func(ctx context.Context, p [2]string) error { return w.InsertTeamMember(ctx, p[0], p[1]) }); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadTokens), "load tokens", scanToken, w.InsertToken); err != nil {
			return err
		}
		if err := stream(ctx, q, s.prefixed(loadGrants), "load grants", scanGrant, w.PutGrant); err != nil {
			return err
		}
		return stream(ctx, q, s.prefixed(loadPolicies), "load security policies", scanPolicy, w.PutSecurityPolicy)
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
	rows, err := q.Query(ctx, sql)
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
