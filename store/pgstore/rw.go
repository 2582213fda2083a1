package pgstore

import (
	"context"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// querier is what rw runs statements on: a transaction, or the pool for Reach.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// rw is the store.Writer (and Reader) of one transaction.
//
// Expected failures (a duplicate, a missing parent) are detected without raising a
// PostgreSQL error (ON CONFLICT DO NOTHING, INSERT ... SELECT ... WHERE EXISTS), so
// the transaction stays usable after a Writer method returns ErrExists or ErrNotFound,
// as with any other store. Only a race with a concurrent transaction raises one.
type rw struct {
	s *Store
	q querier
	// conflict records that a statement failed with a serialization failure or a
	// deadlock: the transaction is lost and Update runs it again.
	conflict bool
}

var _ store.Writer = (*rw)(nil)

// fail turns err into the store's error (see wrapErr) and notes a conflict.
func (w *rw) fail(ctx context.Context, op string, err error) error {
	if isConflict(err) {
		w.conflict = true
	}
	return wrapErr(ctx, op, err)
}

func (w *rw) exec(ctx context.Context, op string, q query, args ...any) (int64, error) {
	tag, err := w.q.Exec(ctx, w.s.sql[q], args...)
	if err != nil {
		return 0, w.fail(ctx, op, err)
	}
	return tag.RowsAffected(), nil
}

// get runs a query of one row and scans it with scan.
func get[T any](ctx context.Context, w *rw, op string, scan func(scanner) (T, error), q query, args ...any) (T, error) {
	v, err := scan(w.q.QueryRow(ctx, w.s.sql[q], args...))
	if err != nil {
		var zero T
		return zero, w.fail(ctx, op, err)
	}
	return v, nil
}

// list runs a listing when it is ranged over. It reads every row before yielding the
// first, so that the caller may run other reads of the transaction while ranging (a
// connection runs one statement at a time), and the rows are always closed.
func list[T any](ctx context.Context, w *rw, op string, scan func(scanner) (T, error), q query, args ...any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		vs, err := collect(ctx, w, op, scan, q, args...)
		if err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for _, v := range vs {
			if !yield(v, nil) {
				return
			}
		}
	}
}

func collect[T any](ctx context.Context, w *rw, op string, scan func(scanner) (T, error), q query, args ...any) ([]T, error) {
	rows, err := w.q.Query(ctx, w.s.sql[q], args...)
	if err != nil {
		return nil, w.fail(ctx, op, err)
	}
	defer rows.Close()
	var vs []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, w.fail(ctx, op, err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, w.fail(ctx, op, err)
	}
	return vs, nil
}

// bools runs a query returning one row of booleans.
func (w *rw) bools(ctx context.Context, op string, q query, dst []*bool, args ...any) error {
	dest := make([]any, len(dst))
	for i, d := range dst {
		dest[i] = d
	}
	if err := w.q.QueryRow(ctx, w.s.sql[q], args...).Scan(dest...); err != nil {
		return w.fail(ctx, op, err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

// dbTime returns t as read from the database: in UTC.
func dbTime(t time.Time) time.Time { return t.UTC() }

// nullTime encodes the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNull decodes a time that may be NULL, the zero time.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return dbTime(*t)
}

func nullString(s string) *string { return &s }

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// --- Scopes -------------------------------------------------------------------

func scanAccount(r scanner) (store.Account, error) {
	var a store.Account
	var kind int16
	err := r.Scan(&kind, &a.Ref.ID, &a.Org, &a.Name, &a.Owner, &a.Plan, &a.Created)
	a.Ref.Kind = rbac.Kind(kind)
	a.Created = dbTime(a.Created)
	return a, err
}

func scanResource(r scanner) (store.Resource, error) {
	var res store.Resource
	var kind, pkind int16
	err := r.Scan(&kind, &res.Ref.ID, &pkind, &res.Parent.ID, &res.Account, &res.Name, &res.Created)
	res.Ref.Kind, res.Parent.Kind = rbac.Kind(kind), rbac.Kind(pkind)
	res.Created = dbTime(res.Created)
	return res, err
}

// Account implements store.Reader.
func (w *rw) Account(ctx context.Context, ref rbac.Ref) (store.Account, error) {
	return get(ctx, w, "account", scanAccount, qAccount, int16(ref.Kind), ref.ID)
}

// SubAccounts implements store.Reader.
func (w *rw) SubAccounts(ctx context.Context, orgID string) iter.Seq2[store.Account, error] {
	return list(ctx, w, "sub-accounts", scanAccount, qSubAccounts, orgID)
}

// Resource implements store.Reader.
func (w *rw) Resource(ctx context.Context, ref rbac.Ref) (store.Resource, error) {
	return get(ctx, w, "resource", scanResource, qResource, int16(ref.Kind), ref.ID)
}

// Children implements store.Reader.
func (w *rw) Children(ctx context.Context, parent rbac.Ref) iter.Seq2[store.Resource, error] {
	return list(ctx, w, "children", scanResource, qChildren, int16(parent.Kind), parent.ID)
}

// Path implements store.Reader.
func (w *rw) Path(ctx context.Context, scope rbac.Ref, buf rbac.Path) (rbac.Path, error) {
	var kinds []int16
	var ids []string
	if err := w.q.QueryRow(ctx, w.s.sql[qPath], int16(scope.Kind), scope.ID).Scan(&kinds, &ids); err != nil {
		return buf[:0], w.fail(ctx, "path", err)
	}
	buf = buf[:0]
	for i, k := range kinds {
		buf = append(buf, rbac.Ref{Kind: rbac.Kind(k), ID: ids[i]})
	}
	return buf, nil
}

// Reach implements store.Reader with one statement.
func (w *rw) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	return w.reach(ctx, holder, scope, path, grants, nil)
}

// pathPolicies holds the security policies of the accounts and organizations of a
// path, root first, as qCheck reads them.
type pathPolicies struct {
	n   int
	pos [2]int16 // the position of each policy's tenant in the path
	pol [2]rbac.Policy
	// email is the user holder's address, read with a policy that enforces single
	// sign-on (and only then).
	email string
}

// add adds the policy of the tenant at position pos of the path, in path order.
func (pp *pathPolicies) add(pos int16, p rbac.Policy) {
	if pp.n == len(pp.pol) {
		return
	}
	i := pp.n
	for ; i > 0 && pp.pos[i-1] > pos; i-- {
		pp.pos[i], pp.pol[i] = pp.pos[i-1], pp.pol[i-1]
	}
	pp.pos[i], pp.pol[i] = pos, p
	pp.n++
}

// list returns the policies, root first.
func (pp *pathPolicies) list() []rbac.Policy { return pp.pol[:pp.n] }

// scanRowPolicy decodes the policy columns of a row of qCheck of tag 4, the last five:
// require_2fa, ip_allowlist, sso, enforce_sso and email (NULL unless the policy
// enforces single sign-on and the holder is a user who exists).
func scanRowPolicy(rows pgx.Rows) (rbac.Policy, *string, error) {
	var p rbac.Policy
	var require2FA pgtype.Timestamptz
	var email *string
	fds, raw, m := rows.FieldDescriptions(), rows.RawValues(), rows.Conn().TypeMap()
	n := len(fds)
	if n < 5 || len(raw) != n {
		return p, nil, fmt.Errorf("pgstore: a row of %d columns, not qCheck's", n)
	}
	for i, dst := range []any{&require2FA, &p.IPAllowlist, &p.SSO, &p.EnforceSSO, &email} {
		c := n - 5 + i
		if err := m.Scan(fds[c].DataTypeOID, fds[c].Format, raw[c], dst); err != nil {
			return p, nil, err
		}
	}
	if require2FA.Valid {
		p.Require2FA = dbTime(require2FA.Time)
	}
	p.IPAllowlist = nonEmptyPrefixes(p.IPAllowlist)
	p.SSO, p.EnforceSSO = nonEmpty(p.SSO), nonEmpty(p.EnforceSSO)
	return p, email, nil
}

// reach is Reach with one statement, qReach; with pols not nil it runs qCheck instead
// and adds to pols the security policies of the tenants on the path.
func (w *rw) reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant, pols *pathPolicies) (rbac.Path, []rbac.Grant, error) {
	path, grants = path[:0], grants[:0]
	q := qReach
	if pols != nil {
		q = qCheck
	}
	rows, err := w.q.Query(ctx, w.s.sql[q], int16(scope.Kind), scope.ID, int16(holder.Kind), holder.ID)
	if err != nil {
		return path, grants, w.fail(ctx, "reach", err)
	}
	defer rows.Close()
	var (
		tag                int32
		hkind, skind, lvl  int16
		hid, sid           string
		viewContent, found bool
	)
	// qCheck's policy columns are skipped (a nil destination), and decoded from the
	// row's raw values in the rows of tag 4 only.
	dest := []any{&tag, &hkind, &hid, &skind, &sid, &lvl, &viewContent, nil, nil, nil, nil, nil}
	if pols == nil {
		dest = dest[:7]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return path[:0], grants[:0], w.fail(ctx, "reach", err)
		}
		ref := rbac.Ref{Kind: rbac.Kind(skind), ID: sid}
		switch tag {
		case 0:
			found = true
			for len(path) < int(lvl) {
				path = append(path, rbac.Ref{})
			}
			path[lvl-1] = ref
			continue
		case 4:
			p, email, err := scanRowPolicy(rows)
			if err != nil {
				return path[:0], grants[:0], w.fail(ctx, "reach", err)
			}
			pols.add(lvl, p)
			if email != nil {
				pols.email = *email
			}
			continue
		}
		if hkind == int16(holder.Kind) && hid == holder.ID {
			hid = holder.ID // share the caller's string
		}
		grants = append(grants, rbac.Grant{
			Holder:      rbac.Holder{Kind: rbac.HolderKind(hkind), ID: hid},
			Scope:       ref,
			Level:       rbac.Level(lvl),
			ViewContent: viewContent,
		})
	}
	if err := rows.Err(); err != nil {
		return path[:0], grants[:0], w.fail(ctx, "reach", err)
	}
	if !found {
		return path, grants, notFound("reach " + scope.String())
	}
	return path, grants, nil
}

// insertScope inserts a scope below parent, or at the root when parent is zero.
func (w *rw) insertScope(ctx context.Context, op string, ref, parent rbac.Ref, name string, owner, plan *string, created time.Time) error {
	var n int64
	var err error
	if parent.IsZero() {
		n, err = w.exec(ctx, op, qInsertRoot, int16(ref.Kind), ref.ID, name, owner, plan, created)
	} else {
		n, err = w.exec(ctx, op, qInsertScope, int16(ref.Kind), ref.ID, int16(parent.Kind), parent.ID, name, owner, plan, created)
	}
	if err != nil || n == 1 {
		return err
	}
	var self, up bool
	if err := w.bools(ctx, op, qScopeState, []*bool{&self, &up}, int16(ref.Kind), ref.ID, int16(parent.Kind), parent.ID); err != nil {
		return err
	}
	if !parent.IsZero() && !up {
		return notFound(op + ": parent " + parent.String())
	}
	return exists(op + " " + ref.String())
}

// InsertAccount implements store.Writer.
func (w *rw) InsertAccount(ctx context.Context, a store.Account) error {
	const op = "insert account"
	if !a.Ref.Kind.Ownable() || a.Ref.ID == "" {
		return fmt.Errorf("pgstore: %s: %v is not an account or organization", op, a.Ref)
	}
	var parent rbac.Ref
	if a.Org != "" {
		if a.Ref.Kind != rbac.KindAccount {
			return fmt.Errorf("pgstore: %s: %v cannot belong to an organization", op, a.Ref)
		}
		parent = rbac.Org(a.Org)
	}
	return w.insertScope(ctx, op, a.Ref, parent, a.Name, nullString(a.Owner), nullString(a.Plan), a.Created)
}

// UpdateAccount implements store.Writer.
func (w *rw) UpdateAccount(ctx context.Context, a store.Account) error {
	n, err := w.exec(ctx, "update account", qUpdateAccount, int16(a.Ref.Kind), a.Ref.ID, a.Name, a.Owner, a.Plan)
	if err == nil && n == 0 {
		err = notFound("update account " + a.Ref.String())
	}
	return err
}

// DeleteAccount implements store.Writer. Foreign keys cascade to the sub-accounts,
// resources, grants on them, memberships, teams, invitations, invite links, tokens,
// security policies, SSO connections and verified domains; triggers delete the grants of the teams, invitations and tokens.
func (w *rw) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	n, err := w.exec(ctx, "delete account", qDeleteAccount, int16(ref.Kind), ref.ID)
	if err == nil && n == 0 {
		err = notFound("delete account " + ref.String())
	}
	return err
}

// InsertResource implements store.Writer. The resource's Account is that of its
// parent.
func (w *rw) InsertResource(ctx context.Context, r store.Resource) error {
	const op = "insert resource"
	if !r.Ref.Kind.Valid() || r.Ref.Kind.Ownable() || r.Ref.ID == "" {
		return fmt.Errorf("pgstore: %s: %v is not a resource", op, r.Ref)
	}
	if r.Parent.IsZero() {
		return notFound(op + ": no parent")
	}
	return w.insertScope(ctx, op, r.Ref, r.Parent, r.Name, nil, nil, r.Created)
}

// UpdateResource implements store.Writer.
func (w *rw) UpdateResource(ctx context.Context, r store.Resource) error {
	n, err := w.exec(ctx, "update resource", qUpdateResource, int16(r.Ref.Kind), r.Ref.ID, r.Name)
	if err == nil && n == 0 {
		err = notFound("update resource " + r.Ref.String())
	}
	return err
}

// DeleteResource implements store.Writer.
func (w *rw) DeleteResource(ctx context.Context, ref rbac.Ref) error {
	n, err := w.exec(ctx, "delete resource", qDeleteResource, int16(ref.Kind), ref.ID)
	if err == nil && n == 0 {
		err = notFound("delete resource " + ref.String())
	}
	return err
}

// --- Users --------------------------------------------------------------------

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var providers, subjects []string
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.TimeZone, &u.TwoFactor, &u.Created, &providers, &subjects)
	u.Created = dbTime(u.Created)
	if len(providers) > 0 && len(providers) == len(subjects) {
		u.OAuth = make([]store.OAuthLink, len(providers))
		for i := range providers {
			u.OAuth[i] = store.OAuthLink{Provider: providers[i], Subject: subjects[i]}
		}
	}
	return u, err
}

// oauthArrays returns the providers and subjects of links, without repeats.
func oauthArrays(links []store.OAuthLink) (providers, subjects []string) {
	providers, subjects = make([]string, 0, len(links)), make([]string, 0, len(links))
	seen := make(map[store.OAuthLink]bool, len(links))
	for _, l := range links {
		if !seen[l] {
			seen[l] = true
			providers, subjects = append(providers, l.Provider), append(subjects, l.Subject)
		}
	}
	return providers, subjects
}

// User implements store.Reader.
func (w *rw) User(ctx context.Context, id string) (store.User, error) {
	return get(ctx, w, "user", scanUser, qUser, id)
}

// UserByEmail implements store.Reader. Case is ignored as strings.EqualFold ignores it.
func (w *rw) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return get(ctx, w, "user by email", scanUser, qUserByEmail, store.FoldKey(email))
}

// UserByOAuth implements store.Reader.
func (w *rw) UserByOAuth(ctx context.Context, provider, subject string) (store.User, error) {
	return get(ctx, w, "user by oauth", scanUser, qUserByOAuth, provider, subject)
}

// InsertUser implements store.Writer.
func (w *rw) InsertUser(ctx context.Context, u store.User) error {
	const op = "insert user"
	p, s := oauthArrays(u.OAuth)
	var n int64
	err := w.q.QueryRow(ctx, w.s.sql[qInsertUser], u.ID, u.Email, store.FoldKey(u.Email), u.Name, u.TimeZone, u.TwoFactor, u.Created, p, s).Scan(&n)
	if err != nil {
		return w.fail(ctx, op, err)
	}
	if n == 0 {
		return exists(op + " " + u.ID)
	}
	return nil
}

// UpdateUser implements store.Writer.
func (w *rw) UpdateUser(ctx context.Context, u store.User) error {
	const op = "update user"
	p, s := oauthArrays(u.OAuth)
	var found, taken bool
	err := w.q.QueryRow(ctx, w.s.sql[qUpdateUser], u.ID, u.Email, store.FoldKey(u.Email), u.Name, u.TimeZone, u.TwoFactor, p, s).Scan(&found, &taken)
	switch {
	case err != nil:
		return w.fail(ctx, op, err)
	case !found:
		return notFound(op + " " + u.ID)
	case taken:
		return exists(op + " " + u.ID + ": email or OAuth link")
	}
	return nil
}

// DeleteUser implements store.Writer. Foreign keys cascade to the memberships, team
// places and OAuth links; triggers delete the user's grants and the invite links it
// created.
func (w *rw) DeleteUser(ctx context.Context, id string) error {
	n, err := w.exec(ctx, "delete user", qDeleteUser, id)
	if err == nil && n == 0 {
		err = notFound("delete user " + id)
	}
	return err
}

// --- Members ------------------------------------------------------------------

func scanMember(r scanner) (store.Member, error) {
	var m store.Member
	var kind int16
	var active *time.Time
	var mapped []byte
	err := r.Scan(&kind, &m.Tenant.ID, &m.User, &m.Created, &active, &mapped)
	if err != nil {
		return m, err
	}
	m.Tenant.Kind = rbac.Kind(kind)
	m.Created, m.LastActive = dbTime(m.Created), fromNull(active)
	if m.Mapped, err = decodeMapped(mapped); err != nil {
		return m, fmt.Errorf("pgstore: mapped grants of member %s of %v: %w", m.User, m.Tenant, err)
	}
	return m, nil
}

// Member implements store.Reader.
func (w *rw) Member(ctx context.Context, tenant rbac.Ref, user string) (store.Member, error) {
	return get(ctx, w, "member", scanMember, qMember, int16(tenant.Kind), tenant.ID, user)
}

// Members implements store.Reader with a keyset query (user_id > after).
func (w *rw) Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]store.Member, error) {
	if limit <= 0 {
		return nil, nil
	}
	return collect(ctx, w, "members", scanMember, qMembers, int16(tenant.Kind), tenant.ID, after, limit)
}

// CountMembers implements store.Reader.
func (w *rw) CountMembers(ctx context.Context, tenant rbac.Ref) (int, error) {
	var n int
	if err := w.q.QueryRow(ctx, w.s.sql[qCountMembers], int16(tenant.Kind), tenant.ID).Scan(&n); err != nil {
		return 0, w.fail(ctx, "count members", err)
	}
	return n, nil
}

// Memberships implements store.Reader.
func (w *rw) Memberships(ctx context.Context, user string) iter.Seq2[store.Member, error] {
	return list(ctx, w, "memberships", scanMember, qMemberships, user)
}

// InsertMember implements store.Writer.
func (w *rw) InsertMember(ctx context.Context, m store.Member) error {
	const op = "insert member"
	mapped, err := encodeMapped(m.Mapped)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	n, err := w.exec(ctx, op, qInsertMember, int16(m.Tenant.Kind), m.Tenant.ID, m.User, m.Created, nullTime(m.LastActive), mapped)
	if err != nil || n == 1 {
		return err
	}
	var ok bool
	if err := w.bools(ctx, op, qMemberParents, []*bool{&ok}, int16(m.Tenant.Kind), m.Tenant.ID, m.User); err != nil {
		return err
	}
	if !ok {
		return notFound(op + ": tenant " + m.Tenant.String() + " or user " + m.User)
	}
	return exists(op + " " + m.User + " in " + m.Tenant.String())
}

// DeleteMember implements store.Writer.
func (w *rw) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	const op = "delete member"
	var n int64
	if err := w.q.QueryRow(ctx, w.s.sql[qDeleteMember], int16(tenant.Kind), tenant.ID, user).Scan(&n); err != nil {
		return w.fail(ctx, op, err)
	}
	if n == 0 {
		return notFound(op + " " + user + " in " + tenant.String())
	}
	return nil
}

// TouchMember implements store.Writer.
func (w *rw) TouchMember(ctx context.Context, tenant rbac.Ref, user string, at time.Time) error {
	n, err := w.exec(ctx, "touch member", qTouchMember, int16(tenant.Kind), tenant.ID, user, nullTime(at))
	if err == nil && n == 0 {
		err = notFound("touch member " + user + " in " + tenant.String())
	}
	return err
}

// SetMapped implements store.Writer.
func (w *rw) SetMapped(ctx context.Context, tenant rbac.Ref, user string, mapped []store.MappedGrant) error {
	const op = "set mapped"
	enc, err := encodeMapped(mapped)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	n, err := w.exec(ctx, op, qSetMapped, int16(tenant.Kind), tenant.ID, user, enc)
	if err == nil && n == 0 {
		err = notFound(op + ": member " + user + " of " + tenant.String())
	}
	return err
}

// --- Grants -------------------------------------------------------------------

func scanGrant(r scanner) (store.Grant, error) {
	var g store.Grant
	var hkind, skind, lvl, tkind int16
	err := r.Scan(&hkind, &g.Holder.ID, &skind, &g.Scope.ID, &lvl, &g.ViewContent, &tkind, &g.Tenant.ID)
	g.Holder.Kind, g.Scope.Kind, g.Level, g.Tenant.Kind = rbac.HolderKind(hkind), rbac.Kind(skind), rbac.Level(lvl), rbac.Kind(tkind)
	return g, err
}

// Grant implements store.Reader.
func (w *rw) Grant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (store.Grant, error) {
	return get(ctx, w, "grant", scanGrant, qGrant, int16(holder.Kind), holder.ID, int16(scope.Kind), scope.ID)
}

// HolderGrants implements store.Reader.
func (w *rw) HolderGrants(ctx context.Context, holder rbac.Holder, tenant rbac.Ref) iter.Seq2[store.Grant, error] {
	return list(ctx, w, "holder grants", scanGrant, qHolderGrants, int16(holder.Kind), holder.ID, int16(tenant.Kind), tenant.ID)
}

// ScopeGrants implements store.Reader.
func (w *rw) ScopeGrants(ctx context.Context, scope rbac.Ref, subtree bool) iter.Seq2[store.Grant, error] {
	q := qScopeGrants
	if subtree {
		q = qScopeGrantsSubtree
	}
	return list(ctx, w, "scope grants", scanGrant, q, int16(scope.Kind), scope.ID)
}

// PutGrant implements store.Writer. The stored grant's Tenant is the tenant of its
// scope (the account on the scope's path, or the organization for an organization's
// own scope), whatever g.Tenant says.
func (w *rw) PutGrant(ctx context.Context, g store.Grant) error {
	n, err := w.exec(ctx, "put grant", qPutGrant, int16(g.Holder.Kind), g.Holder.ID, int16(g.Scope.Kind), g.Scope.ID, int16(g.Level), g.ViewContent)
	if err == nil && n == 0 {
		err = notFound("put grant: scope " + g.Scope.String())
	}
	return err
}

// DeleteGrant implements store.Writer.
func (w *rw) DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error {
	n, err := w.exec(ctx, "delete grant", qDeleteGrant, int16(holder.Kind), holder.ID, int16(scope.Kind), scope.ID)
	if err == nil && n == 0 {
		err = notFound("delete grant of " + holder.String() + " on " + scope.String())
	}
	return err
}

// --- Teams --------------------------------------------------------------------

func scanTeam(r scanner) (store.Team, error) {
	var t store.Team
	var kind int16
	err := r.Scan(&t.ID, &kind, &t.Tenant.ID, &t.Name, &t.Created)
	t.Tenant.Kind = rbac.Kind(kind)
	t.Created = dbTime(t.Created)
	return t, err
}

func scanString(r scanner) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

// Team implements store.Reader.
func (w *rw) Team(ctx context.Context, id string) (store.Team, error) {
	return get(ctx, w, "team", scanTeam, qTeam, id)
}

// Teams implements store.Reader.
func (w *rw) Teams(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return list(ctx, w, "teams", scanTeam, qTeams, int16(tenant.Kind), tenant.ID)
}

// TeamMembers implements store.Reader. Members come by user ID.
func (w *rw) TeamMembers(ctx context.Context, team string) iter.Seq2[string, error] {
	return list(ctx, w, "team members", scanString, qTeamMembers, team)
}

// UserTeams implements store.Reader.
func (w *rw) UserTeams(ctx context.Context, user string, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return list(ctx, w, "user teams", scanTeam, qUserTeams, user, int16(tenant.Kind), tenant.ID)
}

// InsertTeam implements store.Writer. ErrNotFound when the tenant does not exist.
func (w *rw) InsertTeam(ctx context.Context, t store.Team) error {
	const op = "insert team"
	n, err := w.exec(ctx, op, qInsertTeam, t.ID, int16(t.Tenant.Kind), t.Tenant.ID, t.Name, store.FoldKey(t.Name), t.Created)
	if err != nil || n == 1 {
		return err
	}
	return w.tenantOrExists(ctx, op, t.Tenant, "team "+t.ID)
}

// tenantOrExists returns the error of an insert into tenant that changed nothing:
// ErrNotFound when the tenant does not exist, else ErrExists.
func (w *rw) tenantOrExists(ctx context.Context, op string, tenant rbac.Ref, what string) error {
	var ok bool
	if err := w.bools(ctx, op, qTenantExists, []*bool{&ok}, int16(tenant.Kind), tenant.ID); err != nil {
		return err
	}
	if !ok {
		return notFound(op + ": tenant " + tenant.String())
	}
	return exists(op + " " + what)
}

// UpdateTeam implements store.Writer. ErrExists when another team of the tenant has
// the name.
func (w *rw) UpdateTeam(ctx context.Context, t store.Team) error {
	const op = "update team"
	n, err := w.exec(ctx, op, qUpdateTeam, t.ID, t.Name, store.FoldKey(t.Name))
	if err != nil || n == 1 {
		return err
	}
	var found bool
	if err := w.bools(ctx, op, qTeamExists, []*bool{&found}, t.ID); err != nil {
		return err
	}
	if !found {
		return notFound(op + " " + t.ID)
	}
	return exists(op + " " + t.ID + ": name " + t.Name)
}

// DeleteTeam implements store.Writer.
func (w *rw) DeleteTeam(ctx context.Context, id string) error {
	n, err := w.exec(ctx, "delete team", qDeleteTeam, id)
	if err == nil && n == 0 {
		err = notFound("delete team " + id)
	}
	return err
}

// InsertTeamMember implements store.Writer.
func (w *rw) InsertTeamMember(ctx context.Context, team, user string) error {
	const op = "insert team member"
	n, err := w.exec(ctx, op, qInsertTeamMember, team, user)
	if err != nil || n == 1 {
		return err
	}
	var ok bool
	if err := w.bools(ctx, op, qTeamMemberParents, []*bool{&ok}, team, user); err != nil {
		return err
	}
	if !ok {
		return notFound(op + ": team " + team + " or user " + user)
	}
	return exists(op + " " + user + " in team " + team)
}

// DeleteTeamMember implements store.Writer.
func (w *rw) DeleteTeamMember(ctx context.Context, team, user string) error {
	n, err := w.exec(ctx, "delete team member", qDeleteTeamMember, team, user)
	if err == nil && n == 0 {
		err = notFound("delete team member " + user + " of " + team)
	}
	return err
}

// --- Invitations --------------------------------------------------------------

// nonNil returns b, or an empty slice for nil: a NOT NULL bytea column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanInvitation(r scanner) (store.Invitation, error) {
	var inv store.Invitation
	var tkind, hkind int16
	var expires *time.Time
	err := r.Scan(&inv.ID, &tkind, &inv.Tenant.ID, &inv.Email, &hkind, &inv.InvitedBy.ID, &inv.Teams, &inv.Hash, &inv.Created, &expires)
	inv.Tenant.Kind, inv.InvitedBy.Kind = rbac.Kind(tkind), rbac.HolderKind(hkind)
	inv.Teams = nonEmpty(inv.Teams)
	if len(inv.Hash) == 0 {
		inv.Hash = nil
	}
	inv.Created, inv.Expires = dbTime(inv.Created), fromNull(expires)
	return inv, err
}

// Invitation implements store.Reader.
func (w *rw) Invitation(ctx context.Context, id string) (store.Invitation, error) {
	return get(ctx, w, "invitation", scanInvitation, qInvitation, id)
}

// Invitations implements store.Reader.
func (w *rw) Invitations(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Invitation, error] {
	return list(ctx, w, "invitations", scanInvitation, qInvitations, int16(tenant.Kind), tenant.ID)
}

// InvitationsByEmail implements store.Reader. Case is ignored as strings.EqualFold ignores it.
func (w *rw) InvitationsByEmail(ctx context.Context, email string) iter.Seq2[store.Invitation, error] {
	return list(ctx, w, "invitations by email", scanInvitation, qInvitationsByEmail, store.FoldKey(email))
}

// InsertInvitation implements store.Writer. ErrNotFound when the tenant does not
// exist.
func (w *rw) InsertInvitation(ctx context.Context, inv store.Invitation) error {
	const op = "insert invitation"
	n, err := w.exec(ctx, op, qInsertInvitation, inv.ID, int16(inv.Tenant.Kind), inv.Tenant.ID, inv.Email, store.FoldKey(inv.Email),
		int16(inv.InvitedBy.Kind), inv.InvitedBy.ID, nonEmpty(inv.Teams), nonNil(inv.Hash), inv.Created, nullTime(inv.Expires))
	if err != nil || n == 1 {
		return err
	}
	return w.tenantOrExists(ctx, op, inv.Tenant, "invitation "+inv.ID+" or of "+inv.Email)
}

// UpdateInvitation implements store.Writer.
func (w *rw) UpdateInvitation(ctx context.Context, inv store.Invitation) error {
	n, err := w.exec(ctx, "update invitation", qUpdateInvitation, inv.ID, nonNil(inv.Hash), nullTime(inv.Expires))
	if err == nil && n == 0 {
		err = notFound("update invitation " + inv.ID)
	}
	return err
}

// DeleteInvitation implements store.Writer. A trigger deletes its grants.
func (w *rw) DeleteInvitation(ctx context.Context, id string) error {
	n, err := w.exec(ctx, "delete invitation", qDeleteInvitation, id)
	if err == nil && n == 0 {
		err = notFound("delete invitation " + id)
	}
	return err
}

// --- Invite links -------------------------------------------------------------

func scanInviteLink(r scanner) (store.InviteLink, error) {
	var l store.InviteLink
	var tkind, lvl int16
	var kinds []int16
	var ids []string
	var joined int64
	err := r.Scan(&l.ID, &tkind, &l.Tenant.ID, &lvl, &kinds, &ids, &l.CreatedBy, &l.Hash, &l.Created, &l.Disabled, &joined)
	l.Tenant.Kind, l.Level, l.Joined = rbac.Kind(tkind), rbac.Level(lvl), int(joined)
	if len(kinds) > 0 && len(kinds) == len(ids) {
		l.Scopes = make([]rbac.Ref, len(kinds))
		for i, k := range kinds {
			l.Scopes[i] = rbac.Ref{Kind: rbac.Kind(k), ID: ids[i]}
		}
	}
	if len(l.Hash) == 0 {
		l.Hash = nil
	}
	l.Created = dbTime(l.Created)
	return l, err
}

// refArrays returns the kinds and IDs of refs, in order: two arrays of one length,
// never NULL.
func refArrays(refs []rbac.Ref) (kinds []int16, ids []string) {
	kinds, ids = make([]int16, len(refs)), make([]string, len(refs))
	for i, r := range refs {
		kinds[i], ids[i] = int16(r.Kind), r.ID
	}
	return kinds, ids
}

// InviteLink implements store.Reader.
func (w *rw) InviteLink(ctx context.Context, id string) (store.InviteLink, error) {
	return get(ctx, w, "invite link", scanInviteLink, qInviteLink, id)
}

// InviteLinks implements store.Reader.
func (w *rw) InviteLinks(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.InviteLink, error] {
	return list(ctx, w, "invite links", scanInviteLink, qInviteLinks, int16(tenant.Kind), tenant.ID)
}

// InsertInviteLink implements store.Writer. ErrNotFound when the tenant does not
// exist.
func (w *rw) InsertInviteLink(ctx context.Context, l store.InviteLink) error {
	const op = "insert invite link"
	kinds, ids := refArrays(l.Scopes)
	n, err := w.exec(ctx, op, qInsertInviteLink, l.ID, int16(l.Tenant.Kind), l.Tenant.ID, int16(l.Level), kinds, ids,
		l.CreatedBy, nonNil(l.Hash), l.Created, l.Disabled, int64(l.Joined))
	if err != nil || n == 1 {
		return err
	}
	return w.tenantOrExists(ctx, op, l.Tenant, "invite link "+l.ID)
}

// UpdateInviteLink implements store.Writer.
func (w *rw) UpdateInviteLink(ctx context.Context, l store.InviteLink) error {
	n, err := w.exec(ctx, "update invite link", qUpdateInviteLink, l.ID, nonNil(l.Hash), l.Disabled, int64(l.Joined))
	if err == nil && n == 0 {
		err = notFound("update invite link " + l.ID)
	}
	return err
}

// DeleteInviteLink implements store.Writer.
func (w *rw) DeleteInviteLink(ctx context.Context, id string) error {
	n, err := w.exec(ctx, "delete invite link", qDeleteInviteLink, id)
	if err == nil && n == 0 {
		err = notFound("delete invite link " + id)
	}
	return err
}

// --- Tokens -------------------------------------------------------------------

func scanToken(r scanner) (store.Token, error) {
	var t store.Token
	var kind int16
	var expires, used *time.Time
	err := r.Scan(&t.ID, &kind, &t.Tenant.ID, &t.Name, &t.Hash, &t.Last4, &t.CreatedBy, &t.Created, &expires, &t.ResetTo, &used, &t.IPAllowlist)
	t.Tenant.Kind = rbac.Kind(kind)
	t.Created, t.Expires, t.LastUsed = dbTime(t.Created), fromNull(expires), fromNull(used)
	t.IPAllowlist = nonEmptyPrefixes(t.IPAllowlist)
	return t, err
}

// Token implements store.Reader.
func (w *rw) Token(ctx context.Context, id string) (store.Token, error) {
	return get(ctx, w, "token", scanToken, qToken, id)
}

// Tokens implements store.Reader.
func (w *rw) Tokens(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Token, error] {
	return list(ctx, w, "tokens", scanToken, qTokens, int16(tenant.Kind), tenant.ID)
}

// TokensExpiring implements store.Reader with the partial index tokens_expires.
func (w *rw) TokensExpiring(ctx context.Context, from, to time.Time) iter.Seq2[store.Token, error] {
	return list(ctx, w, "tokens expiring", scanToken, qTokensExpiring, from, to)
}

// InsertToken implements store.Writer. ErrNotFound when the tenant does not exist.
// Its IPAllowlist must hold valid, masked prefixes (see cidrList).
func (w *rw) InsertToken(ctx context.Context, t store.Token) error {
	const op = "insert token"
	ips, err := cidrList(op, t.IPAllowlist)
	if err != nil {
		return err
	}
	n, err := w.exec(ctx, op, qInsertToken, t.ID, int16(t.Tenant.Kind), t.Tenant.ID, t.Name, t.Hash, t.Last4, t.CreatedBy,
		t.Created, nullTime(t.Expires), t.ResetTo, nullTime(t.LastUsed), ips)
	if err != nil || n == 1 {
		return err
	}
	return w.tenantOrExists(ctx, op, t.Tenant, "token "+t.ID)
}

// UpdateToken implements store.Writer. Its IPAllowlist must hold valid, masked
// prefixes (see cidrList).
func (w *rw) UpdateToken(ctx context.Context, t store.Token) error {
	const op = "update token"
	ips, err := cidrList(op, t.IPAllowlist)
	if err != nil {
		return err
	}
	n, err := w.exec(ctx, op, qUpdateToken, t.ID, t.Name, t.Hash, t.Last4, nullTime(t.Expires), t.ResetTo, t.CreatedBy, nullTime(t.LastUsed), ips)
	if err == nil && n == 0 {
		err = notFound("update token " + t.ID)
	}
	return err
}

// DeleteToken implements store.Writer. A trigger deletes its grants.
func (w *rw) DeleteToken(ctx context.Context, id string) error {
	n, err := w.exec(ctx, "delete token", qDeleteToken, id)
	if err == nil && n == 0 {
		err = notFound("delete token " + id)
	}
	return err
}

// --- Security policies --------------------------------------------------------

// cidrList returns an IP allowlist as the store writes it to a cidr[] column: nil
// (NULL) for an empty list. A cidr has no bits set beyond its mask, so every prefix
// must be valid and masked, as rbac.NormalizeAllowlist leaves them; the store then
// reads back exactly the prefixes it was given, IPv4 and IPv6 alike.
func cidrList(op string, list []netip.Prefix) ([]netip.Prefix, error) {
	if len(list) == 0 {
		return nil, nil
	}
	for _, p := range list {
		if !p.IsValid() || p != p.Masked() {
			return nil, fmt.Errorf("pgstore: %s: IP allowlist: %v is not a valid masked prefix (see rbac.NormalizeAllowlist)", op, p)
		}
	}
	return list, nil
}

// nonEmptyPrefixes returns l, or nil for an empty list.
func nonEmptyPrefixes(l []netip.Prefix) []netip.Prefix {
	if len(l) == 0 {
		return nil
	}
	return l
}

func scanPolicy(r scanner) (store.SecurityPolicy, error) {
	var p store.SecurityPolicy
	var kind int16
	var require2FA *time.Time
	err := r.Scan(&kind, &p.Tenant.ID, &require2FA, &p.IPAllowlist, &p.UpdatedBy, &p.Updated, &p.SSO, &p.EnforceSSO)
	p.Tenant.Kind = rbac.Kind(kind)
	p.Require2FA, p.Updated = fromNull(require2FA), dbTime(p.Updated)
	p.IPAllowlist = nonEmptyPrefixes(p.IPAllowlist)
	p.SSO, p.EnforceSSO = nonEmpty(p.SSO), nonEmpty(p.EnforceSSO)
	return p, err
}

// SecurityPolicy implements store.Reader.
func (w *rw) SecurityPolicy(ctx context.Context, tenant rbac.Ref) (store.SecurityPolicy, error) {
	return get(ctx, w, "security policy", scanPolicy, qSecurityPolicy, int16(tenant.Kind), tenant.ID)
}

// PutSecurityPolicy implements store.Writer. Its IPAllowlist must hold valid, masked
// prefixes (see cidrList). A foreign key deletes the policy with its tenant.
func (w *rw) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	const op = "put security policy"
	ips, err := cidrList(op, p.IPAllowlist)
	if err != nil {
		return err
	}
	n, err := w.exec(ctx, op, qPutSecurityPolicy, int16(p.Tenant.Kind), p.Tenant.ID, nullTime(p.Require2FA), ips, p.UpdatedBy, p.Updated,
		nonEmpty(p.SSO), nonEmpty(p.EnforceSSO))
	if err == nil && n == 0 {
		err = notFound(op + ": tenant " + p.Tenant.String())
	}
	return err
}

// --- Events -------------------------------------------------------------------

func scanEvent(r scanner) (store.Event, error) {
	var e store.Event
	var seq int64
	var tkind, akind, auth int16
	var ip, changes string
	if err := r.Scan(&seq, &e.Time, &tkind, &e.Tenant.ID, &akind, &e.Actor.ID, &e.Action, &e.Target, &e.Before, &e.After, &auth, &ip, &changes); err != nil {
		return store.Event{}, err
	}
	e.Seq, e.Tenant.Kind, e.Actor.Kind, e.Auth = uint64(seq), rbac.Kind(tkind), rbac.HolderKind(akind), rbac.AuthMethod(auth)
	e.Time = dbTime(e.Time)
	var err error
	e.ClientIP, e.Changes, err = store.DecodeEventFields(ip, changes)
	return e, err
}

// AppendEvent implements store.Writer. A zero e.Time is replaced by the transaction's
// start time. Seq numbers increase in commit order: the appending transaction holds a
// lock from its first AppendEvent until it ends, so transactions that append events
// commit one at a time from that point on; a rolled-back transaction leaves a gap.
func (w *rw) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	ip, changes, err := store.EncodeEventFields(e)
	if err != nil {
		return store.Event{}, fmt.Errorf("pgstore: append event: %w", err)
	}
	var seq int64
	var at time.Time
	err = w.q.QueryRow(ctx, w.s.sql[qAppendEvent], nullTime(e.Time), int16(e.Tenant.Kind), e.Tenant.ID,
		int16(e.Actor.Kind), e.Actor.ID, e.Action, e.Target, e.Before, e.After, int16(e.Auth), ip, changes).Scan(&seq, &at)
	if err != nil {
		return store.Event{}, w.fail(ctx, "append event", err)
	}
	e.Seq, e.Time = uint64(seq), dbTime(at)
	return e, nil
}

// Events implements store.Reader.
func (w *rw) Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	return collect(ctx, w, "events", scanEvent, qEvents, int16(tenant.Kind), tenant.ID, int64(after), limit)
}
