// Package account holds the operations a service calls on accounts, organizations,
// resources, members, teams, invitations and API tokens. Every operation runs in one
// store transaction in which it checks the policy of package rbac and the rules of the
// domain (cited by their IDs, D1…D31), makes the change and writes exactly one audit
// event (D31). A refused or invalid operation changes nothing.
//
// Actors are rbac.Holder values: a user (rbac.User(id)) or an API token
// (rbac.Token(id), as returned by Service.Authenticate). Anything an actor cannot see
// is reported as not found (ErrNotFound), never as forbidden, so existence does not
// leak; what it can see but may not do is refused with an *rbac.DeniedError, which
// carries the decision and the rule.
//
// Operations are methods of Tx, so that several of them can be composed in one
// transaction with Service.Update; each also has a Service method that runs it alone.
package account

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Errors that operations return, besides *rbac.DeniedError (errors.Is(err,
// rbac.ErrDenied)) and *InvalidError (errors.Is(err, ErrInvalid)).
var (
	// ErrNotFound: the record does not exist, or the actor may not see it.
	ErrNotFound = store.ErrNotFound
	// ErrExists: the record, or a unique value of it, exists (an email taken, an
	// invitation of an existing member...).
	ErrExists = store.ErrExists
	// ErrConflict: the store could not serialize the transaction; retrying may work.
	ErrConflict = store.ErrConflict
	// ErrSeatLimit: the change would take the account past its plan's seats (D20).
	ErrSeatLimit = errors.New("account: seat limit reached")
	// ErrPlan: the account's plan does not include the feature (D21).
	ErrPlan = errors.New("account: not included in the plan")
	// ErrUnauthenticated: the token secret is unknown, expired or reset.
	ErrUnauthenticated = errors.New("account: unauthenticated")
	// ErrInvalid is matched by every *InvalidError.
	ErrInvalid = errors.New("account: invalid input")
)

// InvalidError reports an input that was refused before anything was read or changed.
type InvalidError struct {
	Field  string // the input field, e.g. "email" or "grants[2].level"
	Reason string
}

// Error returns "account: invalid FIELD: REASON".
func (e *InvalidError) Error() string { return "account: invalid " + e.Field + ": " + e.Reason }

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func notFound(what fmt.Stringer) error { return fmt.Errorf("%w: %v", ErrNotFound, what) }

// Plan is a plan as data (D21): a name, a seat limit and the features it gates.
type Plan struct {
	Name string
	// Seats is the number of users (members and pending invitations) the account, or
	// the organization's shared pool, may hold; 0 means no limit.
	Seats int
	// UserManagement: members may be invited.
	UserManagement bool
	// Organizations: the account may be an organization with sub-accounts.
	Organizations bool
}

// DefaultPlans are the plans used when Options.Plans is empty. The first is the plan
// of accounts created by registering (D25).
var DefaultPlans = []Plan{
	{Name: "free", Seats: 1},
	{Name: "team", Seats: 20, UserManagement: true},
	{Name: "business", Seats: 100, UserManagement: true, Organizations: true},
	{Name: "enterprise", UserManagement: true, Organizations: true},
}

// Options configure a Service. The zero value is ready to use.
type Options struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// NewID returns a new unique ID for a record of the given kind ("acct", "proj",
	// "user"...); random when nil.
	NewID func(kind string) string
	// Rand is the source of token secrets; crypto/rand when nil.
	Rand io.Reader
	// Logger receives a debug record per operation; nothing is logged when nil.
	Logger *slog.Logger
	// Plans are the plans accounts may be on; DefaultPlans when empty. The first plan
	// is the one new accounts get.
	Plans []Plan
}

// Service runs the account operations on a store.
type Service struct {
	st     store.Store
	now    func() time.Time
	newID  func(string) string
	rand   io.Reader
	log    *slog.Logger
	plans  map[string]Plan
	first  string
	check  store.Checker
	buffer *bufPool
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	s := &Service{st: st, now: opts.Now, newID: opts.NewID, rand: opts.Rand, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.newID == nil {
		s.newID = func(kind string) string {
			var b [10]byte
			if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
				panic("account: crypto/rand failed: " + err.Error())
			}
			return kind + "_" + hex.EncodeToString(b[:])
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	plans := opts.Plans
	if len(plans) == 0 {
		plans = DefaultPlans
	}
	s.plans = make(map[string]Plan, len(plans))
	for _, p := range plans {
		s.plans[p.Name] = p
	}
	s.first = plans[0].Name
	s.check, _ = store.CheckerOf(st)
	s.buffer = newBufPool()
	return s
}

// Store returns the store the service runs on.
func (s *Service) Store() store.Store { return s.st }

// Plan returns the plan with the given name.
func (s *Service) Plan(name string) (Plan, bool) {
	p, ok := s.plans[name]
	return p, ok
}

// Tx is one store transaction in which account operations run. Get one from
// Service.Update; it is valid only inside the closure.
type Tx struct {
	s *Service
	r store.Reader
	w store.Writer // nil in a read-only transaction
}

// Update runs fn in one store transaction: the operations fn calls on tx commit
// together when fn returns nil, and none of them does when it returns an error. As
// with store.Store.Update, fn may run again after a conflict.
func (s *Service) Update(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		return fn(ctx, &Tx{s: s, r: w, w: w})
	})
}

// Tx returns a Tx over a writer of a transaction that the caller manages, such as the
// one pgstore.Store.UpdateTx hands over to run Tenantry's operations inside a
// transaction of the service's own. The caller commits, rolls back and retries.
func (s *Service) Tx(w store.Writer) *Tx { return &Tx{s: s, r: w, w: w} }

// View runs fn with a read-only view of the store.
func (s *Service) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return s.st.View(ctx, fn)
}

// Writer returns the transaction's store writer (nil in a read-only transaction), for
// packages built on account, such as profile, that keep records of their own. Writes
// made through it bypass the policy; callers must check what they change.
func (tx *Tx) Writer() store.Writer { return tx.w }

// Reader returns the transaction's store reader.
func (tx *Tx) Reader() store.Reader { return tx.r }

// Now returns the service clock's time.
func (tx *Tx) Now() time.Time { return tx.s.now() }

// NewID returns a new ID for a record of the given kind.
func (tx *Tx) NewID(kind string) string { return tx.s.newID(kind) }

// view runs a read-only operation in a View transaction.
func view[T any](s *Service, ctx context.Context, fn func(ctx context.Context, tx *Tx) (T, error)) (T, error) {
	var out T
	err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		out, err = fn(ctx, &Tx{s: s, r: r})
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// run wraps one operation in its own transaction.
func run[T any](s *Service, ctx context.Context, op string, fn func(ctx context.Context, tx *Tx) (T, error)) (T, error) {
	var out T
	err := s.Update(ctx, func(ctx context.Context, tx *Tx) error {
		var err error
		out, err = fn(ctx, tx)
		return err
	})
	if err != nil {
		var zero T
		s.log.LogAttrs(ctx, slog.LevelDebug, "tenantry: refused", slog.String("op", op), slog.String("err", err.Error()))
		return zero, err
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "tenantry: done", slog.String("op", op))
	return out, nil
}

// Audit appends an audit event to the transaction (D31). Operations of this package
// call it once each; packages built on account call it for their own changes. Events
// carry IDs and levels only, never names or email addresses (D30).
func (tx *Tx) Audit(ctx context.Context, tenant rbac.Ref, actor rbac.Holder, action, target, before, after string) error {
	_, err := tx.w.AppendEvent(ctx, store.Event{
		Time: tx.s.now(), Tenant: tenant, Actor: actor, Action: action,
		Target: target, Before: before, After: after,
	})
	return err
}
