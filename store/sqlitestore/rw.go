package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// querier is what rw runs statements on: a transaction, or the reader pool for the
// Checker.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rw is the store.Writer (and Reader) of one transaction.
//
// Every method returns ctx's error when ctx is done, without running a statement, and
// runs its statements without ctx: a statement that has started runs to its end,
// because SQLite rolls back the whole transaction when a write is interrupted. (The
// transaction as a whole still ends with its context: see Store.Update.)
//
// Expected failures (a duplicate, a missing parent) are checked before writing or
// detected without an SQL error (ON CONFLICT DO NOTHING), so a closure may go on
// with its transaction after ErrExists or ErrNotFound; a failed SQLite statement
// leaves the transaction usable in any case.
type rw struct {
	q querier
	// tx is the transaction, nil for the Checker, which runs on the reader pool.
	tx *sql.Tx
	// stmts are the statements prepared on the pool that q belongs to (nil when
	// they could not be prepared: statements then run from their text), and txStmts
	// those of them made ready for tx.
	stmts   *stmtSet
	txStmts [numQueries]*sql.Stmt
	// now is the time the write transaction began: the time of events appended
	// without one.
	now time.Time
	// conflict records that a statement failed with SQLITE_BUSY or SQLITE_LOCKED:
	// Update then runs the transaction again.
	conflict bool
	// appended is the Seq of the last event the transaction appended, 0 for none:
	// its commit wakes the change feed's waiters (feed.go).
	appended uint64
}

var _ store.Writer = (*rw)(nil)

// bg is the context statements run with, once the caller's has been checked.
var bg = context.Background()

// prepared returns the prepared statement q for w's transaction, or nil.
func (w *rw) prepared(q query) *sql.Stmt {
	if w.stmts == nil {
		return nil
	}
	if w.tx == nil {
		return w.stmts[q]
	}
	if w.txStmts[q] == nil {
		w.txStmts[q] = w.tx.StmtContext(bg, w.stmts[q])
	}
	return w.txStmts[q]
}

func (w *rw) execQ(q query, args ...any) (sql.Result, error) {
	if st := w.prepared(q); st != nil {
		return st.ExecContext(bg, args...)
	}
	return w.q.ExecContext(bg, queryText[q], args...)
}

func (w *rw) queryQ(q query, args ...any) (*sql.Rows, error) {
	if st := w.prepared(q); st != nil {
		return st.QueryContext(bg, args...)
	}
	return w.q.QueryContext(bg, queryText[q], args...)
}

func (w *rw) queryRowQ(q query, args ...any) *sql.Row {
	if st := w.prepared(q); st != nil {
		return st.QueryRowContext(bg, args...)
	}
	return w.q.QueryRowContext(bg, queryText[q], args...)
}

// fail turns err into the store's error (see wrapErr) and notes a conflict.
func (w *rw) fail(ctx context.Context, op string, err error) error {
	if isBusy(err) {
		w.conflict = true
	}
	return wrapErr(ctx, op, err)
}

// exec runs a statement and returns the number of rows it changed.
func (w *rw) exec(ctx context.Context, op string, q query, args ...any) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	res, err := w.execQ(q, args...)
	if err != nil {
		return 0, w.fail(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, w.fail(ctx, op, err)
	}
	return n, nil
}

// row runs a query of one row and scans it into dest.
func (w *rw) row(ctx context.Context, op string, q query, dest []any, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.queryRowQ(q, args...).Scan(dest...); err != nil {
		return w.fail(ctx, op, err)
	}
	return nil
}

// flag runs a query of one boolean.
func (w *rw) flag(ctx context.Context, op string, q query, args ...any) (bool, error) {
	var b bool
	err := w.row(ctx, op, q, []any{&b}, args...)
	return b, err
}

type scanner interface{ Scan(dest ...any) error }

// get runs a query of one row and scans it with scan.
func get[T any](ctx context.Context, w *rw, op string, scan func(scanner) (T, error), q query, args ...any) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	v, err := scan(w.queryRowQ(q, args...))
	if err != nil {
		return zero, w.fail(ctx, op, err)
	}
	return v, nil
}

// list runs a listing when it is ranged over. It reads every row before yielding the
// first, so that the caller may run other statements of the transaction while
// ranging, and the rows are always closed.
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
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := w.queryQ(q, args...)
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

// --- Values -------------------------------------------------------------------

// timeFormat is how times are stored: UTC, RFC 3339 with as many fractional digits
// as needed. It keeps every time.Time to the nanosecond, the zero time included.
const timeFormat = time.RFC3339Nano

func dbTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullTime encodes the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dbTime(t)
}

// dbTimeScan reads a stored time.
type dbTimeScan struct{ t *time.Time }

func (d dbTimeScan) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*d.t = time.Time{}
		return nil
	case string:
		t, err := time.Parse(timeFormat, v)
		if err != nil {
			return fmt.Errorf("sqlitestore: stored time %q: %w", v, err)
		}
		*d.t = t.UTC()
		return nil
	}
	return fmt.Errorf("sqlitestore: stored time of type %T", v)
}

func tm(t *time.Time) dbTimeScan { return dbTimeScan{t} }

// encodePrefixes encodes an IP allowlist as a JSON array of prefixes, in order, as
// netip.Prefix.String writes them, or NULL when it is empty. netip.ParsePrefix reads
// back exactly the prefix that String wrote, IPv4 and IPv6 alike.
func encodePrefixes(l []netip.Prefix) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// prefixesScan reads what encodePrefixes wrote: nil for NULL or an empty array.
type prefixesScan struct{ l *[]netip.Prefix }

func (p prefixesScan) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*p.l = nil
		return nil
	case string:
		var l []netip.Prefix
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			return fmt.Errorf("sqlitestore: stored IP allowlist %q: %w", v, err)
		}
		if len(l) == 0 {
			l = nil
		}
		*p.l = l
		return nil
	}
	return fmt.Errorf("sqlitestore: stored IP allowlist of type %T", v)
}

func prefixes(l *[]netip.Prefix) prefixesScan { return prefixesScan{l} }

// expiryKeyFormat is the format of tokens.expires_key, which the schema derives from
// expires: timeFormat with all nine fractional digits, so that keys sort as the times
// do (for years 0000 to 9999, those timeFormat writes with four digits).
const expiryKeyFormat = "2006-01-02T15:04:05.000000000Z"

// expiryKey returns the expiry key of t, as a bound of a range of keys: times before
// year 0000 (or after 9999) come before (or after) every key.
func expiryKey(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Year() < 0:
		return ""
	case t.Year() > 9999:
		return "~" // after every digit
	}
	return t.Format(expiryKeyFormat)
}

func nullString(s string) *string { return &s }

// --- Scopes -------------------------------------------------------------------

func scanAccount(r scanner) (store.Account, error) {
	var a store.Account
	var kind int64
	err := r.Scan(&kind, &a.Ref.ID, &a.Org, &a.Name, &a.Owner, &a.Plan, tm(&a.Created))
	a.Ref.Kind = rbac.Kind(kind)
	return a, err
}

func scanResource(r scanner) (store.Resource, error) {
	var res store.Resource
	var kind, pkind int64
	err := r.Scan(&kind, &res.Ref.ID, &pkind, &res.Parent.ID, &res.Account, &res.Name, tm(&res.Created))
	res.Ref.Kind, res.Parent.Kind = rbac.Kind(kind), rbac.Kind(pkind)
	return res, err
}

// Account implements store.Reader.
func (w *rw) Account(ctx context.Context, ref rbac.Ref) (store.Account, error) {
	return get(ctx, w, "account", scanAccount, qAccount, int64(ref.Kind), ref.ID)
}

// SubAccounts implements store.Reader.
func (w *rw) SubAccounts(ctx context.Context, orgID string) iter.Seq2[store.Account, error] {
	return list(ctx, w, "sub-accounts", scanAccount, qSubAccounts, orgID)
}

// Resource implements store.Reader.
func (w *rw) Resource(ctx context.Context, ref rbac.Ref) (store.Resource, error) {
	return get(ctx, w, "resource", scanResource, qResource, int64(ref.Kind), ref.ID)
}

// Children implements store.Reader.
func (w *rw) Children(ctx context.Context, parent rbac.Ref) iter.Seq2[store.Resource, error] {
	return list(ctx, w, "children", scanResource, qChildren, int64(parent.Kind), parent.ID)
}

func scanRef(r scanner) (rbac.Ref, error) {
	var ref rbac.Ref
	var kind int64
	err := r.Scan(&kind, &ref.ID)
	ref.Kind = rbac.Kind(kind)
	return ref, err
}

// Path implements store.Reader.
func (w *rw) Path(ctx context.Context, scope rbac.Ref, buf rbac.Path) (rbac.Path, error) {
	refs, err := collect(ctx, w, "path", scanRef, qPath, int64(scope.Kind), scope.ID)
	if err != nil {
		return buf[:0], err
	}
	if len(refs) == 0 {
		return buf[:0], notFound("path " + scope.String())
	}
	return append(buf[:0], refs...), nil
}

// Reach implements store.Reader with one statement.
func (w *rw) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	return w.reach(ctx, holder, scope, path, grants, nil)
}

// pathPolicies holds the security policies of the accounts and organizations of a
// path, root first, as qCheck reads them.
type pathPolicies struct {
	n     int
	depth [2]int64 // the depth of each policy's tenant in the path
	pol   [2]rbac.Policy
	// email is the user holder's address, read with a policy that enforces single
	// sign-on (and only then).
	email string
}

// add adds the policy of the tenant at depth d of the path, in path order.
func (pp *pathPolicies) add(d int64, p rbac.Policy) {
	if pp.n == len(pp.pol) {
		return
	}
	i := pp.n
	for ; i > 0 && pp.depth[i-1] > d; i-- {
		pp.depth[i], pp.pol[i] = pp.depth[i-1], pp.pol[i-1]
	}
	pp.depth[i], pp.pol[i] = d, p
	pp.n++
}

// list returns the policies, root first.
func (pp *pathPolicies) list() []rbac.Policy { return pp.pol[:pp.n] }

// reach is Reach with one statement, qReach; with pols not nil it runs qCheck instead
// and adds to pols the security policies of the tenants on the path.
func (w *rw) reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant, pols *pathPolicies) (rbac.Path, []rbac.Grant, error) {
	path, grants = path[:0], grants[:0]
	if err := ctx.Err(); err != nil {
		return path, grants, err
	}
	q := qReach
	if pols != nil {
		q = qCheck
	}
	rows, err := w.queryQ(q, int64(scope.Kind), scope.ID, int64(holder.Kind), holder.ID)
	if err != nil {
		return path, grants, w.fail(ctx, "reach", err)
	}
	defer rows.Close()
	var (
		tag, hkind, skind, lvl int64
		hid, sid               string
		viewContent, found     bool
		policy                 rbac.Policy
		email                  sql.NullString
	)
	dest := []any{&tag, &hkind, &hid, &skind, &sid, &lvl, &viewContent, tm(&policy.Require2FA), prefixes(&policy.IPAllowlist),
		stringList(&policy.SSO), stringList(&policy.EnforceSSO), &email}
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
			pols.add(lvl, policy)
			if email.Valid {
				pols.email = email.String
			}
			continue
		}
		if hkind == int64(holder.Kind) && hid == holder.ID {
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

// insertScope inserts a scope below parent, or at the root when parent is zero, with
// its path.
func (w *rw) insertScope(ctx context.Context, op string, ref, parent rbac.Ref, name string, owner, plan *string, created time.Time) error {
	tenant := ref // an account or organization is its own tenant
	var pkind any
	var pid any
	if !parent.IsZero() {
		var tkind int64
		var tid string
		if err := w.row(ctx, op, qScopeTenant, []any{&tkind, &tid}, int64(parent.Kind), parent.ID); err != nil {
			if isNoRows(err) {
				return notFound(op + ": parent " + parent.String())
			}
			return err
		}
		if !ref.Kind.Ownable() {
			tenant = rbac.Ref{Kind: rbac.Kind(tkind), ID: tid}
		}
		pkind, pid = int64(parent.Kind), parent.ID
	}
	n, err := w.exec(ctx, op, qInsertScope, int64(ref.Kind), ref.ID, pkind, pid, int64(tenant.Kind), tenant.ID,
		name, owner, plan, dbTime(created))
	if err != nil {
		return err
	}
	if n == 0 {
		return exists(op + " " + ref.String())
	}
	_, err = w.exec(ctx, op, qInsertPath, int64(ref.Kind), ref.ID, pkind, pid)
	return err
}

// InsertAccount implements store.Writer.
func (w *rw) InsertAccount(ctx context.Context, a store.Account) error {
	const op = "insert account"
	if !a.Ref.Kind.Ownable() || a.Ref.ID == "" {
		return fmt.Errorf("sqlitestore: %s: %v is not an account or organization", op, a.Ref)
	}
	var parent rbac.Ref
	if a.Org != "" {
		if a.Ref.Kind != rbac.KindAccount {
			return fmt.Errorf("sqlitestore: %s: %v cannot belong to an organization", op, a.Ref)
		}
		parent = rbac.Org(a.Org)
	}
	return w.insertScope(ctx, op, a.Ref, parent, a.Name, nullString(a.Owner), nullString(a.Plan), a.Created)
}

// UpdateAccount implements store.Writer.
func (w *rw) UpdateAccount(ctx context.Context, a store.Account) error {
	n, err := w.exec(ctx, "update account", qUpdateAccount, int64(a.Ref.Kind), a.Ref.ID, a.Name, a.Owner, a.Plan)
	if err == nil && n == 0 {
		err = notFound("update account " + a.Ref.String())
	}
	return err
}

// DeleteAccount implements store.Writer. Foreign keys cascade to the sub-accounts,
// resources, paths, grants on them, memberships, teams, invitations, invite links,
// tokens, security policies, SSO connections and verified domains; triggers delete the grants of the teams, invitations
// and tokens.
func (w *rw) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	n, err := w.exec(ctx, "delete account", qDeleteAccount, int64(ref.Kind), ref.ID)
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
		return fmt.Errorf("sqlitestore: %s: %v is not a resource", op, r.Ref)
	}
	if r.Parent.IsZero() {
		return notFound(op + ": no parent")
	}
	return w.insertScope(ctx, op, r.Ref, r.Parent, r.Name, nil, nil, r.Created)
}

// UpdateResource implements store.Writer.
func (w *rw) UpdateResource(ctx context.Context, r store.Resource) error {
	n, err := w.exec(ctx, "update resource", qUpdateResource, int64(r.Ref.Kind), r.Ref.ID, r.Name)
	if err == nil && n == 0 {
		err = notFound("update resource " + r.Ref.String())
	}
	return err
}

// DeleteResource implements store.Writer.
func (w *rw) DeleteResource(ctx context.Context, ref rbac.Ref) error {
	n, err := w.exec(ctx, "delete resource", qDeleteResource, int64(ref.Kind), ref.ID)
	if err == nil && n == 0 {
		err = notFound("delete resource " + ref.String())
	}
	return err
}

// --- Users --------------------------------------------------------------------

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var links string
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.TimeZone, &u.TwoFactor, tm(&u.Created), &links)
	if err != nil {
		return u, err
	}
	var pairs [][2]string
	if err := json.Unmarshal([]byte(links), &pairs); err != nil {
		return u, fmt.Errorf("sqlitestore: OAuth links of user %s: %w", u.ID, err)
	}
	if len(pairs) > 0 {
		u.OAuth = make([]store.OAuthLink, len(pairs))
		for i, p := range pairs {
			u.OAuth[i] = store.OAuthLink{Provider: p[0], Subject: p[1]}
		}
	}
	return u, nil
}

// uniqueLinks returns links without repeats, in order.
func uniqueLinks(links []store.OAuthLink) []store.OAuthLink {
	out := make([]store.OAuthLink, 0, len(links))
	seen := make(map[store.OAuthLink]bool, len(links))
	for _, l := range links {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
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

// taken reports ErrExists when the email (by its fold key) or one of the links
// belongs to a user other than id.
func (w *rw) taken(ctx context.Context, op, id, emailFold string, links []store.OAuthLink) error {
	var owner string
	switch err := w.row(ctx, op, qEmailOwner, []any{&owner}, emailFold); {
	case err == nil && owner != id:
		return exists(op + " " + id + ": email")
	case err != nil && !isNoRows(err):
		return err
	}
	for _, l := range links {
		switch err := w.row(ctx, op, qLinkOwner, []any{&owner}, l.Provider, l.Subject); {
		case err == nil && owner != id:
			return exists(op + " " + id + ": OAuth link " + l.Provider + " " + l.Subject)
		case err != nil && !isNoRows(err):
			return err
		}
	}
	return nil
}

func (w *rw) insertLinks(ctx context.Context, op, id string, links []store.OAuthLink) error {
	for i, l := range links {
		if _, err := w.exec(ctx, op, qInsertLink, l.Provider, l.Subject, id, int64(i+1)); err != nil {
			return err
		}
	}
	return nil
}

// InsertUser implements store.Writer.
func (w *rw) InsertUser(ctx context.Context, u store.User) error {
	const op = "insert user"
	links := uniqueLinks(u.OAuth)
	fold := store.FoldKey(u.Email)
	if err := w.taken(ctx, op, u.ID, fold, links); err != nil {
		return err
	}
	n, err := w.exec(ctx, op, qInsertUser, u.ID, u.Email, fold, u.Name, u.TimeZone, u.TwoFactor, dbTime(u.Created))
	if err != nil {
		return err
	}
	if n == 0 {
		return exists(op + " " + u.ID)
	}
	return w.insertLinks(ctx, op, u.ID, links)
}

// UpdateUser implements store.Writer.
func (w *rw) UpdateUser(ctx context.Context, u store.User) error {
	const op = "update user"
	found, err := w.flag(ctx, op, qUserExists, u.ID)
	if err != nil {
		return err
	}
	if !found {
		return notFound(op + " " + u.ID)
	}
	links := uniqueLinks(u.OAuth)
	fold := store.FoldKey(u.Email)
	if err := w.taken(ctx, op, u.ID, fold, links); err != nil {
		return err
	}
	if _, err := w.exec(ctx, op, qUpdateUser, u.ID, u.Email, fold, u.Name, u.TimeZone, u.TwoFactor); err != nil {
		return err
	}
	if _, err := w.exec(ctx, op, qDeleteLinks, u.ID); err != nil {
		return err
	}
	return w.insertLinks(ctx, op, u.ID, links)
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
	var kind int64
	err := r.Scan(&kind, &m.Tenant.ID, &m.User, tm(&m.Created), tm(&m.LastActive), mappedList(&m.Mapped))
	m.Tenant.Kind = rbac.Kind(kind)
	return m, err
}

// Member implements store.Reader.
func (w *rw) Member(ctx context.Context, tenant rbac.Ref, user string) (store.Member, error) {
	return get(ctx, w, "member", scanMember, qMember, int64(tenant.Kind), tenant.ID, user)
}

// Members implements store.Reader with a keyset query (user_id > after).
func (w *rw) Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]store.Member, error) {
	if limit <= 0 {
		return nil, ctx.Err()
	}
	return collect(ctx, w, "members", scanMember, qMembers, int64(tenant.Kind), tenant.ID, after, int64(limit))
}

// CountMembers implements store.Reader.
func (w *rw) CountMembers(ctx context.Context, tenant rbac.Ref) (int, error) {
	var n int64
	err := w.row(ctx, "count members", qCountMembers, []any{&n}, int64(tenant.Kind), tenant.ID)
	return int(n), err
}

// Memberships implements store.Reader.
func (w *rw) Memberships(ctx context.Context, user string) iter.Seq2[store.Member, error] {
	return list(ctx, w, "memberships", scanMember, qMemberships, user)
}

// InsertMember implements store.Writer.
func (w *rw) InsertMember(ctx context.Context, m store.Member) error {
	const op = "insert member"
	ok, err := w.flag(ctx, op, qTenantExists, int64(m.Tenant.Kind), m.Tenant.ID)
	if err == nil && ok {
		ok, err = w.flag(ctx, op, qUserExists, m.User)
	}
	if err != nil {
		return err
	}
	if !ok {
		return notFound(op + ": tenant " + m.Tenant.String() + " or user " + m.User)
	}
	mapped, err := encodeMapped(m.Mapped)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := w.exec(ctx, op, qInsertMember, int64(m.Tenant.Kind), m.Tenant.ID, m.User, dbTime(m.Created), nullTime(m.LastActive), mapped)
	if err == nil && n == 0 {
		err = exists(op + " " + m.User + " in " + m.Tenant.String())
	}
	return err
}

// DeleteMember implements store.Writer: the membership, and the user's grants in the
// tenant and places in the tenant's teams.
func (w *rw) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	const op = "delete member"
	args := []any{int64(tenant.Kind), tenant.ID, user}
	n, err := w.exec(ctx, op, qDeleteMember, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(op + " " + user + " in " + tenant.String())
	}
	if _, err := w.exec(ctx, op, qDeleteMemberGrants, args...); err != nil {
		return err
	}
	_, err = w.exec(ctx, op, qDeleteMemberTeams, args...)
	return err
}

// TouchMember implements store.Writer.
func (w *rw) TouchMember(ctx context.Context, tenant rbac.Ref, user string, at time.Time) error {
	n, err := w.exec(ctx, "touch member", qTouchMember, int64(tenant.Kind), tenant.ID, user, nullTime(at))
	if err == nil && n == 0 {
		err = notFound("touch member " + user + " in " + tenant.String())
	}
	return err
}

// --- Grants -------------------------------------------------------------------

func scanGrant(r scanner) (store.Grant, error) {
	var g store.Grant
	var hkind, skind, lvl, tkind int64
	err := r.Scan(&hkind, &g.Holder.ID, &skind, &g.Scope.ID, &lvl, &g.ViewContent, &tkind, &g.Tenant.ID)
	g.Holder.Kind, g.Scope.Kind, g.Level, g.Tenant.Kind = rbac.HolderKind(hkind), rbac.Kind(skind), rbac.Level(lvl), rbac.Kind(tkind)
	return g, err
}

// Grant implements store.Reader.
func (w *rw) Grant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (store.Grant, error) {
	return get(ctx, w, "grant", scanGrant, qGrant, int64(holder.Kind), holder.ID, int64(scope.Kind), scope.ID)
}

// HolderGrants implements store.Reader.
func (w *rw) HolderGrants(ctx context.Context, holder rbac.Holder, tenant rbac.Ref) iter.Seq2[store.Grant, error] {
	return list(ctx, w, "holder grants", scanGrant, qHolderGrants, int64(holder.Kind), holder.ID, int64(tenant.Kind), tenant.ID)
}

// ScopeGrants implements store.Reader.
func (w *rw) ScopeGrants(ctx context.Context, scope rbac.Ref, subtree bool) iter.Seq2[store.Grant, error] {
	q := qScopeGrants
	if subtree {
		q = qScopeGrantsSubtree
	}
	return list(ctx, w, "scope grants", scanGrant, q, int64(scope.Kind), scope.ID)
}

// PutGrant implements store.Writer. The stored grant's Tenant is the tenant of its
// scope (the account on the scope's path, or the organization for an organization's
// own scope), whatever g.Tenant says.
func (w *rw) PutGrant(ctx context.Context, g store.Grant) error {
	n, err := w.exec(ctx, "put grant", qPutGrant, int64(g.Holder.Kind), g.Holder.ID, int64(g.Scope.Kind), g.Scope.ID,
		int64(g.Level), g.ViewContent)
	if err == nil && n == 0 {
		err = notFound("put grant: scope " + g.Scope.String())
	}
	return err
}

// DeleteGrant implements store.Writer.
func (w *rw) DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error {
	n, err := w.exec(ctx, "delete grant", qDeleteGrant, int64(holder.Kind), holder.ID, int64(scope.Kind), scope.ID)
	if err == nil && n == 0 {
		err = notFound("delete grant of " + holder.String() + " on " + scope.String())
	}
	return err
}

// --- Teams --------------------------------------------------------------------

func scanTeam(r scanner) (store.Team, error) {
	var t store.Team
	var kind int64
	err := r.Scan(&t.ID, &kind, &t.Tenant.ID, &t.Name, tm(&t.Created))
	t.Tenant.Kind = rbac.Kind(kind)
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
	return list(ctx, w, "teams", scanTeam, qTeams, int64(tenant.Kind), tenant.ID)
}

// TeamMembers implements store.Reader. Members come by user ID.
func (w *rw) TeamMembers(ctx context.Context, team string) iter.Seq2[string, error] {
	return list(ctx, w, "team members", scanString, qTeamMembers, team)
}

// UserTeams implements store.Reader.
func (w *rw) UserTeams(ctx context.Context, user string, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return list(ctx, w, "user teams", scanTeam, qUserTeams, user, int64(tenant.Kind), tenant.ID)
}

// tenantExists returns ErrNotFound unless tenant is an account or organization.
func (w *rw) tenantExists(ctx context.Context, op string, tenant rbac.Ref) error {
	ok, err := w.flag(ctx, op, qTenantExists, int64(tenant.Kind), tenant.ID)
	if err == nil && !ok {
		err = notFound(op + ": tenant " + tenant.String())
	}
	return err
}

// InsertTeam implements store.Writer. ErrNotFound when the tenant does not exist.
func (w *rw) InsertTeam(ctx context.Context, t store.Team) error {
	const op = "insert team"
	if err := w.tenantExists(ctx, op, t.Tenant); err != nil {
		return err
	}
	n, err := w.exec(ctx, op, qInsertTeam, t.ID, int64(t.Tenant.Kind), t.Tenant.ID, t.Name, store.FoldKey(t.Name), dbTime(t.Created))
	if err == nil && n == 0 {
		err = exists(op + " " + t.ID + " or its name " + t.Name)
	}
	return err
}

// UpdateTeam implements store.Writer. ErrExists when another team of the tenant has
// the name.
func (w *rw) UpdateTeam(ctx context.Context, t store.Team) error {
	const op = "update team"
	n, err := w.exec(ctx, op, qUpdateTeam, t.ID, t.Name, store.FoldKey(t.Name))
	if err != nil || n == 1 {
		return err
	}
	found, err := w.flag(ctx, op, qTeamExists, t.ID)
	if err != nil {
		return err
	}
	if !found {
		return notFound(op + " " + t.ID)
	}
	return exists(op + " " + t.ID + ": name " + t.Name)
}

// DeleteTeam implements store.Writer. A foreign key cascades to its members; a
// trigger deletes its grants.
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
	ok, err := w.flag(ctx, op, qTeamExists, team)
	if err == nil && ok {
		ok, err = w.flag(ctx, op, qUserExists, user)
	}
	if err != nil {
		return err
	}
	if !ok {
		return notFound(op + ": team " + team + " or user " + user)
	}
	n, err := w.exec(ctx, op, qInsertTeamMember, team, user)
	if err == nil && n == 0 {
		err = exists(op + " " + user + " in team " + team)
	}
	return err
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

func scanInvitation(r scanner) (store.Invitation, error) {
	var inv store.Invitation
	var tkind, hkind int64
	var teams sql.NullString
	err := r.Scan(&inv.ID, &tkind, &inv.Tenant.ID, &inv.Email, &hkind, &inv.InvitedBy.ID, &teams, &inv.Hash, tm(&inv.Created), tm(&inv.Expires))
	if err != nil {
		return inv, err
	}
	inv.Tenant.Kind, inv.InvitedBy.Kind = rbac.Kind(tkind), rbac.HolderKind(hkind)
	if len(inv.Hash) == 0 {
		inv.Hash = nil
	}
	if teams.Valid {
		if err := json.Unmarshal([]byte(teams.String), &inv.Teams); err != nil {
			return inv, fmt.Errorf("sqlitestore: teams of invitation %s: %w", inv.ID, err)
		}
		if len(inv.Teams) == 0 {
			inv.Teams = nil
		}
	}
	return inv, nil
}

// Invitation implements store.Reader.
func (w *rw) Invitation(ctx context.Context, id string) (store.Invitation, error) {
	return get(ctx, w, "invitation", scanInvitation, qInvitation, id)
}

// Invitations implements store.Reader.
func (w *rw) Invitations(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Invitation, error] {
	return list(ctx, w, "invitations", scanInvitation, qInvitations, int64(tenant.Kind), tenant.ID)
}

// InvitationsByEmail implements store.Reader. Case is ignored as strings.EqualFold ignores it.
func (w *rw) InvitationsByEmail(ctx context.Context, email string) iter.Seq2[store.Invitation, error] {
	return list(ctx, w, "invitations by email", scanInvitation, qInvitationsByEmail, store.FoldKey(email))
}

// InsertInvitation implements store.Writer. ErrNotFound when the tenant does not
// exist.
func (w *rw) InsertInvitation(ctx context.Context, inv store.Invitation) error {
	const op = "insert invitation"
	if err := w.tenantExists(ctx, op, inv.Tenant); err != nil {
		return err
	}
	var teams any
	if len(inv.Teams) > 0 {
		b, err := json.Marshal(inv.Teams)
		if err != nil {
			return fmt.Errorf("sqlitestore: %s: %w", op, err)
		}
		teams = string(b)
	}
	n, err := w.exec(ctx, op, qInsertInvitation, inv.ID, int64(inv.Tenant.Kind), inv.Tenant.ID, inv.Email, store.FoldKey(inv.Email),
		int64(inv.InvitedBy.Kind), inv.InvitedBy.ID, teams, append([]byte{}, inv.Hash...), dbTime(inv.Created), nullTime(inv.Expires))
	if err == nil && n == 0 {
		err = exists(op + " " + inv.ID + " or of " + inv.Email)
	}
	return err
}

// UpdateInvitation implements store.Writer.
func (w *rw) UpdateInvitation(ctx context.Context, inv store.Invitation) error {
	n, err := w.exec(ctx, "update invitation", qUpdateInvitation, inv.ID, append([]byte{}, inv.Hash...), nullTime(inv.Expires))
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
	var tkind, lvl, joined int64
	var scopes sql.NullString
	err := r.Scan(&l.ID, &tkind, &l.Tenant.ID, &lvl, &scopes, &l.CreatedBy, &l.Hash, tm(&l.Created), &l.Disabled, &joined)
	if err != nil {
		return l, err
	}
	l.Tenant.Kind, l.Level, l.Joined = rbac.Kind(tkind), rbac.Level(lvl), int(joined)
	if len(l.Hash) == 0 {
		l.Hash = nil
	}
	if scopes.Valid {
		if l.Scopes, err = decodeRefs(scopes.String); err != nil {
			return l, fmt.Errorf("sqlitestore: scopes of invite link %s: %w", l.ID, err)
		}
	}
	return l, nil
}

// encodeRefs encodes refs as a JSON array of [kind, id] pairs, in order, or NULL
// when there is none.
func encodeRefs(refs []rbac.Ref) (any, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	pairs := make([][2]any, len(refs))
	for i, r := range refs {
		pairs[i] = [2]any{int(r.Kind), r.ID}
	}
	b, err := json.Marshal(pairs)
	return string(b), err
}

// decodeRefs decodes what encodeRefs encoded; nil for an empty array.
func decodeRefs(s string) ([]rbac.Ref, error) {
	var pairs [][2]json.RawMessage
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	refs := make([]rbac.Ref, len(pairs))
	for i, p := range pairs {
		var kind int
		if err := json.Unmarshal(p[0], &kind); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(p[1], &refs[i].ID); err != nil {
			return nil, err
		}
		refs[i].Kind = rbac.Kind(kind)
	}
	return refs, nil
}

// InviteLink implements store.Reader.
func (w *rw) InviteLink(ctx context.Context, id string) (store.InviteLink, error) {
	return get(ctx, w, "invite link", scanInviteLink, qInviteLink, id)
}

// InviteLinks implements store.Reader.
func (w *rw) InviteLinks(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.InviteLink, error] {
	return list(ctx, w, "invite links", scanInviteLink, qInviteLinks, int64(tenant.Kind), tenant.ID)
}

// InsertInviteLink implements store.Writer. ErrNotFound when the tenant does not
// exist.
func (w *rw) InsertInviteLink(ctx context.Context, l store.InviteLink) error {
	const op = "insert invite link"
	if err := w.tenantExists(ctx, op, l.Tenant); err != nil {
		return err
	}
	scopes, err := encodeRefs(l.Scopes)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := w.exec(ctx, op, qInsertInviteLink, l.ID, int64(l.Tenant.Kind), l.Tenant.ID, int64(l.Level), scopes,
		l.CreatedBy, append([]byte{}, l.Hash...), dbTime(l.Created), l.Disabled, int64(l.Joined))
	if err == nil && n == 0 {
		err = exists(op + " " + l.ID)
	}
	return err
}

// UpdateInviteLink implements store.Writer.
func (w *rw) UpdateInviteLink(ctx context.Context, l store.InviteLink) error {
	n, err := w.exec(ctx, "update invite link", qUpdateInviteLink, l.ID, append([]byte{}, l.Hash...), l.Disabled, int64(l.Joined))
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
	var kind int64
	err := r.Scan(&t.ID, &kind, &t.Tenant.ID, &t.Name, &t.Hash, &t.Last4, &t.CreatedBy, tm(&t.Created), tm(&t.Expires), &t.ResetTo, tm(&t.LastUsed), prefixes(&t.IPAllowlist))
	t.Tenant.Kind = rbac.Kind(kind)
	return t, err
}

// Token implements store.Reader.
func (w *rw) Token(ctx context.Context, id string) (store.Token, error) {
	return get(ctx, w, "token", scanToken, qToken, id)
}

// Tokens implements store.Reader.
func (w *rw) Tokens(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Token, error] {
	return list(ctx, w, "tokens", scanToken, qTokens, int64(tenant.Kind), tenant.ID)
}

// TokensExpiring implements store.Reader with the partial index tokens_expires.
func (w *rw) TokensExpiring(ctx context.Context, from, to time.Time) iter.Seq2[store.Token, error] {
	return list(ctx, w, "tokens expiring", scanToken, qTokensExpiring, expiryKey(from), expiryKey(to))
}

// InsertToken implements store.Writer. ErrNotFound when the tenant does not exist.
func (w *rw) InsertToken(ctx context.Context, t store.Token) error {
	const op = "insert token"
	if err := w.tenantExists(ctx, op, t.Tenant); err != nil {
		return err
	}
	ips, err := encodePrefixes(t.IPAllowlist)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := w.exec(ctx, op, qInsertToken, t.ID, int64(t.Tenant.Kind), t.Tenant.ID, t.Name, t.Hash, t.Last4, t.CreatedBy,
		dbTime(t.Created), nullTime(t.Expires), t.ResetTo, nullTime(t.LastUsed), ips)
	if err == nil && n == 0 {
		err = exists(op + " " + t.ID)
	}
	return err
}

// UpdateToken implements store.Writer.
func (w *rw) UpdateToken(ctx context.Context, t store.Token) error {
	ips, err := encodePrefixes(t.IPAllowlist)
	if err != nil {
		return fmt.Errorf("sqlitestore: update token: %w", err)
	}
	n, err := w.exec(ctx, "update token", qUpdateToken, t.ID, t.Name, t.Hash, t.Last4, nullTime(t.Expires), t.ResetTo, t.CreatedBy, nullTime(t.LastUsed), ips)
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

func scanPolicy(r scanner) (store.SecurityPolicy, error) {
	var p store.SecurityPolicy
	var kind int64
	err := r.Scan(&kind, &p.Tenant.ID, tm(&p.Require2FA), prefixes(&p.IPAllowlist), &p.UpdatedBy, tm(&p.Updated),
		stringList(&p.SSO), stringList(&p.EnforceSSO))
	p.Tenant.Kind = rbac.Kind(kind)
	return p, err
}

// SecurityPolicy implements store.Reader.
func (w *rw) SecurityPolicy(ctx context.Context, tenant rbac.Ref) (store.SecurityPolicy, error) {
	return get(ctx, w, "security policy", scanPolicy, qSecurityPolicy, int64(tenant.Kind), tenant.ID)
}

// PutSecurityPolicy implements store.Writer. A foreign key deletes the policy with
// its tenant.
func (w *rw) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	const op = "put security policy"
	if err := w.tenantExists(ctx, op, p.Tenant); err != nil {
		return err
	}
	ips, err := encodePrefixes(p.IPAllowlist)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	sso, err := encodeStrings(p.SSO)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	enforce, err := encodeStrings(p.EnforceSSO)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	_, err = w.exec(ctx, op, qPutSecurityPolicy, int64(p.Tenant.Kind), p.Tenant.ID, nullTime(p.Require2FA), ips, p.UpdatedBy, dbTime(p.Updated),
		sso, enforce)
	return err
}

// --- Events -------------------------------------------------------------------

func scanEvent(r scanner) (store.Event, error) {
	var e store.Event
	var seq, tkind, akind, auth int64
	var ip, changes string
	if err := r.Scan(&seq, tm(&e.Time), &tkind, &e.Tenant.ID, &akind, &e.Actor.ID, &e.Action, &e.Target, &e.Before, &e.After, &auth, &ip, &changes); err != nil {
		return store.Event{}, err
	}
	e.Seq, e.Tenant.Kind, e.Actor.Kind, e.Auth = uint64(seq), rbac.Kind(tkind), rbac.HolderKind(akind), rbac.AuthMethod(auth)
	var err error
	e.ClientIP, e.Changes, err = store.DecodeEventFields(ip, changes)
	return e, err
}

// AppendEvent implements store.Writer. A zero e.Time is replaced by the time the
// transaction began. Seq numbers increase in commit order, since write transactions
// run one at a time; the numbers of a rolled-back transaction are used again.
func (w *rw) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	if e.Time.IsZero() {
		e.Time = w.now
	}
	e.Time = e.Time.UTC()
	ip, changes, err := store.EncodeEventFields(e)
	if err != nil {
		return store.Event{}, fmt.Errorf("sqlitestore: append event: %w", err)
	}
	var seq int64
	err = w.row(ctx, "append event", qAppendEvent, []any{&seq}, dbTime(e.Time), int64(e.Tenant.Kind), e.Tenant.ID,
		int64(e.Actor.Kind), e.Actor.ID, e.Action, e.Target, e.Before, e.After, int64(e.Auth), ip, changes)
	if err != nil {
		return store.Event{}, err
	}
	e.Seq = uint64(seq)
	w.appended = e.Seq
	return e, nil
}

// Events implements store.Reader.
func (w *rw) Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, ctx.Err()
	}
	return collect(ctx, w, "events", scanEvent, qEvents, int64(tenant.Kind), tenant.ID, int64(after), int64(limit))
}
