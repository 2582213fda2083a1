// Package memstore is Tenantry's reference in-memory store: a store.Store that needs
// no configuration and is the default store of a single-process service, of tests and
// of examples.
//
// # Guarantees
//
//   - Transactions are serializable: View runs concurrently with other Views; Update
//     runs alone (a readers-writer lock: View holds a read lock, Update the write lock,
//     for the whole closure; the read lock is sharded so that concurrent checks scale
//     across CPUs). Update never returns store.ErrConflict.
//   - Update commits when its closure returns nil and undoes every write when the
//     closure returns an error, panics (the panic is re-raised after the rollback) or
//     exits the goroutine. The closure's error is returned unchanged.
//   - Records are copied in and out: slices inside records (User.OAuth,
//     Invitation.Teams, InviteLink.Scopes, Token.Hash) never alias the caller's.
//   - Emails, team names and invitation emails are compared with Unicode simple case
//     folding (the folding of strings.EqualFold).
//   - Reach, inside a transaction or through Store.Reach (store.Checker), costs a few
//     map look-ups, O(depth of the scope tree + teams of the user in the path's
//     tenants), and allocates nothing when path and grants have enough capacity.
//     Other look-ups and listings go through per-key indexes and cost O(size of the
//     result), plus sorting it for listings.
//   - Audit events get a Seq from one store-wide counter; the events of a rolled-back
//     transaction are never visible and their numbers are reused. A tenant's log is
//     kept in chunks and never copied as it grows: appending an event costs the same
//     with a million events in the log as with none, and Events finds its cursor by
//     binary search.
//   - The change feed (store.Feed) serves every tenant's events in Seq order from a
//     store-wide index beside the tenants' logs (16 bytes an event), finding its cursor
//     in constant time; Wait is woken by the commit itself, so a waiting consumer sees
//     an event within microseconds of its commit.
//
// # Limits
//
//   - Memory only: nothing is durable; everything is lost with the process.
//   - Single process: two Stores never share data.
//   - One writer at a time: a long Update blocks every other Update and every View.
//   - A closure must not call the Store's own methods (View, Update, Reach): the lock
//     is not reentrant and the call deadlocks. Use the Reader or Writer it was given.
//   - A Reader or Writer, and the listings it returned, must not be used after the
//     closure has returned; they then return an error.
//   - ScopeGrants with subtree on an organization includes its sub-accounts, which
//     lie below it in the scope tree (D3).
//   - A grant's Tenant is derived from its scope (the account the scope belongs to, or
//     the organization for an organization's own scope); the Tenant given to PutGrant
//     is not stored.
package memstore

import (
	"context"
	"errors"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Store is an in-memory store.Store. Its zero value is not ready for use; call New.
// A Store is safe for concurrent use.
type Store struct {
	mu     rwlock
	st     *state
	signal feedSignal  // wakes the change feed's waiters (see feed.go)
	undo   []undoEntry // the undo log's buffer, kept for the next Update (under the write lock)
}

// maxKeptUndo is the largest undo log buffer an Update leaves for the next one: a bulk
// load's is dropped rather than kept for good.
const maxKeptUndo = 1024

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
	_ store.Writer  = (*writer)(nil)
)

// errClosed is returned by a Reader or Writer used after its transaction ended.
var errClosed = errors.New("memstore: transaction already ended")

// New returns an empty Store.
func New() *Store {
	return &Store{st: newState()}
}

// View runs fn with a read-only view of the store. Views run concurrently with each
// other and never with an Update. fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer s.mu.RUnlock(s.mu.RLock())
	r := &reader{st: s.st}
	defer func() { r.closed = true }()
	return fn(ctx, r)
}

// Update runs fn in a read-write transaction, alone. It commits when fn returns nil;
// when fn returns an error, panics or exits its goroutine, every write fn made is
// undone before the error is returned (unchanged) or the panic goes on.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &writer{reader: reader{st: s.st}, undo: s.undo}
	s.undo = nil
	committed := false
	defer func() {
		w.closed = true
		if !committed {
			w.rollback()
		} else {
			s.signal.commit(s.st.seq)
			clear(w.undo)
		}
		if cap(w.undo) <= maxKeptUndo {
			s.undo = w.undo[:0]
		}
		w.undo = nil
	}()
	err = fn(ctx, w)
	committed = err == nil
	return err
}

// Reach answers store.Reader.Reach outside a transaction, as one consistent read. It
// is the check path of package account: it allocates nothing when path and grants
// have enough capacity (4 and 8 cover an inbox reached by a few grants).
func (s *Store) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	if err := ctx.Err(); err != nil {
		return path[:0], grants[:0], err
	}
	lk := s.mu.RLock()
	path, grants, err := s.st.reach(holder, scope, path, grants)
	s.mu.RUnlock(lk)
	return path, grants, err
}

// Check implements store.Checker: store.Check's decision under one read lock, on the
// scratch buffers of the lock's per-processor token. It is the check path of package
// account and allocates nothing for a scope tree up to maxCheckDepth levels deep
// reached by any number of grants of a user or team, or for a token by up to 8 of its
// own grants and 8 of its creator's.
func (s *Store) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (d rbac.Decision, err error) {
	if err := ctx.Err(); err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	lk := s.mu.RLock()
	st := s.st
	sid, ok := st.lookupScope(scope)
	p := &lk.sids
	switch {
	case !ok:
	case holder.Kind != rbac.HolderToken && st.walk(sid, p):
		st.decide(holder, action, p, lk, &d)
		if holder.Kind == rbac.HolderUser && d.Allowed {
			st.applyPolicies(ctx, holder, p, nil, &d, now, nil)
		}
	default:
		d = s.checkReach(ctx, lk, holder, action, scope, now)
	}
	s.mu.RUnlock(lk)
	if !ok {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, errNoScope
	}
	return d, nil
}

// checkReach is Check for a token, or for a scope deeper than maxCheckDepth: the
// grants that reach, from state.reach, decided by rbac.Decide or rbac.DecideToken.
// The caller holds the read lock lk.
func (s *Store) checkReach(ctx context.Context, lk *shard, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) rbac.Decision {
	path, grants, _ := s.st.reach(holder, scope, lk.path[:0], lk.grants[:0])
	var p *checkPath
	if sid, _ := s.st.lookupScope(scope); s.st.walk(sid, &lk.sids) {
		p = &lk.sids
	}
	if holder.Kind == rbac.HolderToken {
		t, ok := s.st.tokens[holder.ID]
		live := ok && store.TokenLive(*t, now)
		var creator []rbac.Grant
		if live {
			_, creator, _ = s.st.reach(rbac.User(t.CreatedBy), scope, lk.path2[:0], lk.grants2[:0])
		}
		d := rbac.DecideToken(action, path, grants, creator, live)
		if live {
			s.st.applyPolicies(ctx, holder, p, path, &d, now, t.IPAllowlist)
		}
		return d
	}
	d := rbac.Decide(action, path, grants)
	if holder.Kind == rbac.HolderUser {
		s.st.applyPolicies(ctx, holder, p, path, &d, now, nil)
	}
	return d
}

// Sees implements store.Checker: store.Sees's answer under one read lock, without
// allocating.
func (s *Store) Sees(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	lk := s.mu.RLock()
	seen := s.st.sees(holder, scope)
	s.mu.RUnlock(lk)
	return seen, nil
}
