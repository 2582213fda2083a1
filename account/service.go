// Package account is the front door of Tenantry: every operation on accounts,
// organizations, resources, members, teams, invitations and API tokens, each a request
// type run by one generic function, and the checks a service makes on every request.
//
// # Operations
//
// A change is a value of a request type (Invite, SetPermissions, RemoveMember,
// CreateResource…) whose Name is both its log name and its audit action. Do runs it
// in a transaction of its own:
//
//	inv, err := account.Do(ctx, svc, actor, account.Invite{Tenant: acct, Email: "bob@acme.test"})
//
// Run runs it inside a transaction that several operations share (Service.Update), or
// inside a transaction of the host's own (Service.Join). Every change checks the policy of
// package rbac and the rules cited by their IDs in POLICY.md, makes the change, and
// appends exactly one audit event ([rbac.RuleAudit]); a refused or invalid change changes
// nothing.
//
// A read is a value of a query type (Members, Tokens, Events, Level…), answered by Get
// in a read-only transaction of its own, or by Read inside any transaction. Listings
// are paged with an opaque cursor (Page); All ranges over every item of a listing.
//
// # Actors and subjects
//
// Every scope and tenant is an rbac.Ref, every subject (user, team, token, invitation)
// an rbac.Holder. The actor is the holder the operation runs as: a user
// (rbac.User(id)), or an API token (rbac.Token(id), as Service.Authenticate returns).
//
// # Errors and existence
//
// What the actor cannot see — a scope, a member, a token, an invitation, a filter value
// — answers exactly as what does not exist: ErrNotFound. What it can see but may not do
// is refused with an *rbac.DeniedError carrying the decision and the rule. Authorize
// gives a host the same answer for its own routes; Check answers with a decision, and
// a host that maps its denial to 403 tells strangers what exists.
package account

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
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
	// ErrSeatLimit: the change would take the account past its plan's seats
	// ([rbac.RuleSeats]).
	ErrSeatLimit = errors.New("account: seat limit reached")
	// ErrPlan: the account's plan does not include the feature ([rbac.RulePlan]).
	ErrPlan = errors.New("account: not included in the plan")
	// ErrLimit: the account already holds as many tokens, teams or pending
	// invitations as its plan allows.
	ErrLimit = errors.New("account: plan limit reached")
	// ErrUnauthenticated: the actor is not a live user or token, or a token secret is
	// unknown, expired or reset.
	ErrUnauthenticated = errors.New("account: unauthenticated")
	// ErrInvalid is matched by every *InvalidError.
	ErrInvalid = errors.New("account: invalid input")
	// ErrReadOnly: a change was run in a read-only transaction (Service.View).
	ErrReadOnly = txn.ErrReadOnly
	// ErrExpired: the invitation has expired ([rbac.RuleInviteExpiry]); resending it
	// renews it.
	ErrExpired = errors.New("account: expired")
	// ErrFailedOp: Update's function returned nil after an operation run on its
	// transaction had failed; the transaction is rolled back, since the failed
	// operation may have written part of its change.
	ErrFailedOp = errors.New("account: an operation in the transaction failed")
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

// Plan is a plan as data ([rbac.RulePlan]): a name, a seat limit and the features it
// gates.
type Plan struct {
	Name string
	// Seats is the number of users (members and pending invitations) the account, or
	// the organization's shared pool, may hold; 0 means no limit.
	Seats int
	// UserManagement: members may be invited.
	UserManagement bool
	// Organizations: the account may be an organization with sub-accounts.
	Organizations bool
	// Tokens, Teams and Invitations are the most API tokens (live ones), teams and
	// pending invitations one account or organization may hold; 0 means no limit.
	// Beyond them an operation is refused with ErrLimit and changes nothing.
	Tokens, Teams, Invitations int
	// SecurityPolicies: the account may require two-factor authentication and set an
	// IP allowlist (SetSecurityPolicy).
	SecurityPolicies bool
}

// DefaultPlans are the plans used when Options.Plans is empty. The first is the plan of
// accounts created by registering ([rbac.RuleEmailIdentity]).
var DefaultPlans = []Plan{
	{Name: "free", Seats: 1, Tokens: 10, Teams: 5, Invitations: 10},
	{Name: "team", Seats: 20, UserManagement: true, Tokens: 100, Teams: 50, Invitations: 100},
	{Name: "business", Seats: 100, UserManagement: true, Organizations: true, Tokens: 500, Teams: 200, Invitations: 500, SecurityPolicies: true},
	{Name: "enterprise", UserManagement: true, Organizations: true, Tokens: 2000, Teams: 1000, Invitations: 2000, SecurityPolicies: true},
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
	// InvitationTTL is how long an invitation can be accepted when its inviter names
	// no time ([rbac.RuleInviteExpiry]); DefaultInvitationTTL when zero.
	InvitationTTL time.Duration
	// MaxInvitationTTL is the longest time an inviter may choose;
	// DefaultMaxInvitationTTL when zero.
	MaxInvitationTTL time.Duration
	// TokenResetGrace is how long the old secret of a reset token keeps working
	// ([rbac.RuleTokenExpiry]); DefaultTokenResetGrace when zero, none when negative.
	TokenResetGrace time.Duration
	// TokenRetention is how long after its expiry SweepTokens keeps a token;
	// DefaultTokenRetention when zero.
	TokenRetention time.Duration
}

// The defaults of Options.
const (
	DefaultInvitationTTL    = 7 * 24 * time.Hour
	DefaultMaxInvitationTTL = 30 * 24 * time.Hour
	MinInvitationTTL        = time.Hour // the shortest time an inviter may choose
	DefaultTokenResetGrace  = 12 * time.Hour
	DefaultTokenRetention   = 90 * 24 * time.Hour
)

// Service runs operations on a store. It is safe for concurrent use.
type Service struct {
	st    store.Store
	env   txn.Env
	log   *slog.Logger
	plans map[string]Plan
	check store.Checker

	inviteTTL, maxInviteTTL, resetGrace, tokenRetention time.Duration
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	s := &Service{st: st, log: opts.Logger}
	s.env = txn.Env{Now: opts.Now, NewID: opts.NewID, Rand: opts.Rand, Svc: s}
	if s.env.Now == nil {
		s.env.Now = time.Now
	}
	if s.env.Rand == nil {
		s.env.Rand = rand.Reader
	}
	if s.env.NewID == nil {
		s.env.NewID = func(kind string) string {
			var b [10]byte
			if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
				panic("account: crypto/rand failed: " + err.Error())
			}
			var id [64]byte
			return string(hex.AppendEncode(append(append(id[:0], kind...), '_'), b[:]))
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
	s.env.FirstPlan = plans[0].Name
	s.inviteTTL = cmp.Or(opts.InvitationTTL, DefaultInvitationTTL)
	s.maxInviteTTL = cmp.Or(opts.MaxInvitationTTL, DefaultMaxInvitationTTL)
	s.resetGrace = max(cmp.Or(opts.TokenResetGrace, DefaultTokenResetGrace), 0)
	s.tokenRetention = cmp.Or(opts.TokenRetention, DefaultTokenRetention)
	s.check, _ = store.CheckerOf(st)
	return s
}

// Plan returns the plan with the given name.
func (s *Service) Plan(name string) (Plan, bool) {
	p, ok := s.plans[name]
	return p, ok
}

// Tx is one store transaction in which operations run: get one from Service.Update,
// Service.View or Service.Join, and pass it to Run and Read. It is valid only while
// its transaction is open.
type Tx struct {
	t      txn.Tx
	failed error // the first error of an operation Run on the transaction
}

// Update runs fn in one store transaction: the operations fn runs on tx (with Run)
// commit together when fn returns nil, and none of them does when it returns an
// error. As with store.Store.Update, fn may run again after a conflict, so it must
// have no effects outside the transaction.
//
// When an operation run on tx fails and fn still returns nil, Update rolls back and
// returns an error matching ErrFailedOp and the operation's error: an operation that
// fails may have written part of its change, which must not be committed.
func (s *Service) Update(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		rec := txn.Record(w)
		tx := &Tx{t: txn.Tx{R: w, W: rec, Env: &s.env}}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if tx.failed != nil {
			return fmt.Errorf("%w: %w", ErrFailedOp, tx.failed)
		}
		return unaudited(rec)
	})
}

// View runs fn in a read-only store transaction: Read answers queries on tx, and Run
// refuses every change with ErrReadOnly.
func (s *Service) View(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		return fn(ctx, &Tx{t: txn.Tx{R: r, Env: &s.env}})
	})
}

// Join returns a Tx over the writer of a transaction that the host manages, such as
// the one pgstore.Store.UpdateTx hands over, so that operations commit or roll back
// together with the host's own tables. The host commits, rolls back and retries.
//
// An operation that fails may have written part of its change: the host must then
// roll its transaction back.
func (s *Service) Join(w store.Writer) *Tx {
	return &Tx{t: txn.Tx{R: w, W: txn.Record(w), Env: &s.env}}
}

// unaudited returns an error when rec holds changes to access that no audit event
// carries: every operation audits after its writes, so this is a defect of the
// operation, and its transaction must not commit a change the log would not show.
func unaudited(rec *txn.Recorder) error {
	if n := rec.Pending(); n > 0 {
		return fmt.Errorf("account: %d change(s) to access without an audit event", n)
	}
	return nil
}

// Op is a change: a request type of this package or of package profile. Op returns
// its name, which is both its log name and its audit action ("member.invite"). Apply
// is called by Do and Run only; its transaction parameter cannot be named outside
// this module, so the set of operations is closed.
type Op[R any] interface {
	Op() string
	Apply(ctx context.Context, tx *txn.Tx, actor rbac.Holder) (R, error)
}

// Query is a read: a query type of this package or of package profile, answered by
// Get and Read. Op returns its log name.
type Query[R any] interface {
	Op() string
	Answer(ctx context.Context, tx *txn.Tx, actor rbac.Holder) (R, error)
}

// Do runs op as actor in a transaction of its own and returns its result. On error
// nothing changed.
func Do[R any](ctx context.Context, s *Service, actor rbac.Holder, op Op[R]) (R, error) {
	out, _, err := DoRevision(ctx, s, actor, op)
	return out, err
}

// DoRevision runs op as Do does and also returns the revision of its commit: the Seq
// of the audit event it appended in the change feed. A check made elsewhere with a
// context from WithRevision(ctx, rev), on another instance's replica of the same
// store say, answers at least as fresh as the change: "grant, then check" reads its
// own write wherever the check runs.
func DoRevision[R any](ctx context.Context, s *Service, actor rbac.Holder, op Op[R]) (R, uint64, error) {
	var out R
	var rev uint64
	err := s.st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		wk := s.newWork(txn.Tx{R: w, W: w, Env: &s.env, Actor: actor})
		var err error
		if out, err = op.Apply(ctx, wk.Tx, actor); err != nil {
			return err
		}
		rev = wk.own.Rev
		return unaudited(&wk.rec)
	})
	s.logged(ctx, op.Op(), actor, err)
	if err != nil {
		var zero R
		return zero, 0, err
	}
	return out, rev, nil
}

// WithRevision returns a copy of ctx whose checks (Check, Authorize, Explain) answer
// at least as fresh as rev, a revision DoRevision or Tx.Revision returned: a store
// that answers checks from a copy (a replica) waits until its copy has applied rev,
// or answers from the store it copies. Stores that answer from their own data are
// always that fresh. See store.WithRevision.
func WithRevision(ctx context.Context, rev uint64) context.Context {
	return store.WithRevision(ctx, rev)
}

// Revision returns the Seq of the last audit event appended in tx: once the
// transaction has committed (Update returned nil, or the host committed a Join), the
// revision of its commit, for WithRevision. Zero when no operation changed anything.
func (tx *Tx) Revision() uint64 { return tx.t.Rev }

// Run runs op as actor inside tx. When op fails, what it wrote before failing is not
// undone by Run: Service.Update then rolls the whole transaction back even if its
// function returns nil (ErrFailedOp), and a host running operations in its own
// transaction (Service.Join) must roll it back.
func Run[R any](ctx context.Context, tx *Tx, actor rbac.Holder, op Op[R]) (R, error) {
	if tx.t.W == nil {
		var zero R
		return zero, ErrReadOnly
	}
	tx.t.Actor = actor
	out, err := op.Apply(ctx, &tx.t, actor)
	tx.t.Env.Svc.(*Service).logged(ctx, op.Op(), actor, err)
	if err != nil && tx.failed == nil {
		tx.failed = err
	}
	return out, err
}

// Get answers q as actor in a read-only transaction of its own.
func Get[R any](ctx context.Context, s *Service, actor rbac.Holder, q Query[R]) (R, error) {
	var out R
	err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		out, err = q.Answer(ctx, s.newWork(txn.Tx{R: r, Env: &s.env, Actor: actor}).Tx, actor)
		return err
	})
	if err != nil {
		var zero R
		return zero, err
	}
	return out, nil
}

// Read answers q as actor inside tx, seeing the transaction's own writes.
func Read[R any](ctx context.Context, tx *Tx, actor rbac.Holder, q Query[R]) (R, error) {
	t := tx.t
	t.Actor = actor
	return q.Answer(ctx, &t, actor)
}

func (s *Service) logged(ctx context.Context, op string, actor rbac.Holder, err error) {
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "tenantry: refused", slog.String("op", op), slog.String("actor", actor.String()), slog.String("err", err.Error()))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "tenantry: done", slog.String("op", op), slog.String("actor", actor.String()))
}

// work is the working view of one transaction inside an operation: the raw reader and
// writer, the service, and the helpers that check the policy.
type work struct {
	*txn.Tx
	s *Service
	r store.Reader
	w store.Writer

	// The room that reach hands out to the paths and grants it reads, each part once,
	// so that the few reaches of an operation allocate nothing of their own.
	paths  [8]rbac.Ref
	grants [4]rbac.Grant
	np, ng int // parts handed out

	own txn.Tx       // the Tx of a work made with it (newWork)
	rec txn.Recorder // own's writer, recording the changes to access (newWork)
}

// open returns the work of an operation or query on t: the one made with t by Do or
// Get, else a new one.
func open(t *txn.Tx) *work {
	if w, ok := t.Work.(*work); ok && w.Tx == t {
		return w
	}
	return &work{Tx: t, s: t.Env.Svc.(*Service), r: t.R, w: t.W}
}

// newWork returns a work on a Tx of its own, t, which open finds again, t's writer
// (if any) wrapped in the work's own txn.Recorder: the transaction, its work and its
// recorder in one allocation.
func (s *Service) newWork(t txn.Tx) *work {
	w := &work{s: s, own: t}
	if t.W != nil {
		w.rec.Writer = t.W
		w.own.W = &w.rec
	}
	w.r, w.w = w.own.R, w.own.W
	w.Tx = &w.own
	w.own.Work = w
	return w
}

// audit appends op's audit event.
func (tx *work) audit(ctx context.Context, op interface{ Op() string }, tenant rbac.Ref, actor rbac.Holder, target, before, after string) error {
	return tx.Audit(ctx, tenant, actor, op.Op(), target, before, after)
}

// auditIn appends op's audit event in every tenant the change touched, each once,
// in order: an organization's change that reaches its sub-accounts is in every one
// of their logs too.
func (tx *work) auditIn(ctx context.Context, op interface{ Op() string }, tenants []rbac.Ref, actor rbac.Holder, target, before, after string) error {
	return tx.auditAllIn(ctx, op.Op(), tenants, actor, target, before, after)
}

// auditAllIn is auditIn for the audit action action.
func (tx *work) auditAllIn(ctx context.Context, action string, tenants []rbac.Ref, actor rbac.Holder, target, before, after string) error {
	for i, t := range tenants {
		if slices.Contains(tenants[:i], t) {
			continue
		}
		if err := tx.Audit(ctx, t, actor, action, target, before, after); err != nil {
			return err
		}
	}
	return nil
}
