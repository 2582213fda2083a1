// Package storetest is the conformance suite of the store contract: every store.Store
// implementation proves itself with one test.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return mystore.New() })
//	}
//
// The suite is a list of clauses, each one statement of package store's documentation
// checked on a fresh, empty store. Clauses are grouped by area and named after the
// behaviour they check (Tx/RollbackOnError, Users/EmailUniqueIgnoringCase,
// Reach/TeamGrants...), so that a failure names the clause the store breaks.
//
// # Run and Check
//
// Check is the core, in the manner of testing/fstest.TestFS: it runs every clause of
// the store contract without a *testing.T and returns the errors.Join of one
// *ClauseError per failed clause, each naming its clause
// ("Users/EmailUniqueIgnoringCase: store.go: ..."), or nil. Use it where go test's
// reporting is not at hand, or to assert which clauses a store fails: this package's
// own tests check with it, in-process, that the suite catches deliberately broken
// stores.
//
//	skipped, err := storetest.Check(ctx, func() (store.Store, error) { return mystore.New(), nil })
//
// Run runs the same clauses through the same core, each as a subtest of the same name
// that reports the clause's failures with t.Error, so that one clause runs with
// go test -run 'TestConformance/Users/EmailUniqueIgnoringCase'. Run then runs the
// Operations group, which Check does not.
//
// Each clause gets a fresh store and stops at its first fatal failure (a write the
// clause needed failed, say) without stopping the others; a panic in a clause, the
// store's or the suite's, fails that clause with the panic's value and stack.
//
// # Groups
//
// Tx, Context, Errors, Users, Accounts, Resources, Grants, Reach, Members, Teams,
// Invitations, InviteLinks, Tokens, Policies, SSO, Audit, Feed and Loader check the
// contract clause by clause.
// Model drives random reads and writes, with pgregory.net/rapid, against a small
// independent model of the contract and compares the store with it after every step;
// its number of runs follows rapid's flags (-rapid.checks, default 100). Operations,
// which only Run runs, is package account/accounttest's proof of packages account and
// profile on the store: their operations driven by random actors, and from concurrent
// goroutines, with the policy's invariants checked after every step, and the existence
// property (what an actor cannot see answers exactly as what does not exist).
//
// # Optional capabilities and skipped clauses
//
// A clause about an optional capability, store.Checker, store.Feed, store.ChangeLog
// or store.Loader (found with store.CheckerOf, store.FeedOf, store.ChangeLogOf and
// store.LoaderOf, through store.Unwrapper), is skipped when the store lacks it: Run skips its subtest with t.Skip and the reason, naming the absent
// interface; Check returns no error for it and lists it, with the reason, in its
// skipped result.
//
// rapid reads the testing package's flags, so Check skips Model, with that reason,
// when they are not registered and parsed (outside go test, testing.Init and
// flag.Parse register and parse them). Through Check, rapid reports to Check: its
// hint to reproduce a failure names storetest.Check/Model/RandomReadsAndWrites, and
// the fail file it writes (under testdata/rapid in the working directory, unless
// -rapid.nofailfile) is replayed first by every later Check from that directory.
// Through Run, Model reports to its subtest's *testing.T as any rapid test does.
//
// # How the clauses use the store
//
// The suite writes only through store.Writer and reads only through store.Reader (and
// store.Checker when the store has it). Each Update does at most one failing write and
// returns its error, so that stores whose transactions abort on the first error (SQL
// databases) pass too; no closure has an effect outside its transaction, so that stores
// which run a closure again after a conflict pass too. Times are whole seconds, most
// of them in UTC and a few in another zone, and compared with time.Equal; the zero
// time (none: never active, never expires, never used) must read back as zero.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"github.com/tenantry/tenantry/account/accounttest"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Check runs every clause of the store contract, each group but Operations, against
// stores that newStore makes, and reports the clauses that fail.
//
// newStore is called for a fresh, empty store once per clause (and once per run of the
// Model group); an error from it fails that clause. Check does not close the stores:
// a newStore that opens connections should keep them for the caller to release after
// Check returns. ctx is the context of every call to the stores; when it is done,
// Check stops before the next clause and adds ctx's error to the error it returns.
//
// The error is nil when every clause Check ran passed, else the errors.Join of one
// *ClauseError per failed clause, in the order Run lists them. skipped lists the
// clauses Check did not finish for want of an optional capability (or, for Model, of
// the testing flags), with the reason; they are not failures.
func Check(ctx context.Context, newStore func() (store.Store, error)) (skipped []Skip, err error) {
	var errs []error
	for _, g := range groups {
		for _, c := range g.clauses {
			name := g.name + "/" + c.name
			if err := ctx.Err(); err != nil {
				errs = append(errs, fmt.Errorf("storetest: Check stopped before %s: %w", name, err))
				return skipped, errors.Join(errs...)
			}
			r := runClause(ctx, name, "storetest.Check/"+name, c, newStore, nil)
			if err := r.err(); err != nil {
				errs = append(errs, err)
			}
			if r.skipped {
				skipped = append(skipped, Skip{Clause: name, Reason: r.reason})
			}
		}
	}
	return skipped, errors.Join(errs...)
}

// Run runs the conformance suite against the stores newStore makes: every clause that
// Check runs, each as the subtest named after it and through the same core, then the
// Operations group. A clause's failures are reported with t.Error, and a clause
// skipped for want of an optional capability calls t.Skip with the reason. newStore is
// called once per subtest (and once per run of the state machines) and must return an
// empty store; it may register cleanups on the t it is given.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.clauses {
				t.Run(c.name, func(t *testing.T) {
					mk := func() (store.Store, error) { return newStore(t), nil }
					runClause(t.Context(), g.name+"/"+c.name, t.Name(), c, mk, t).report(t)
				})
			}
		})
	}
	t.Run("Operations", func(t *testing.T) { accounttest.Run(t, newStore) })
}

// A ClauseError is the failure of one clause of the contract.
type ClauseError struct {
	// Clause names the clause as Run names its subtest below TestConformance, its
	// group first: "Users/EmailUniqueIgnoringCase".
	Clause string
	// Errs are the clause's failures in the order found, one per broken expectation;
	// the last is the one that stopped the clause when it could not go on.
	Errs []error
}

// Error returns one line per failure, each prefixed with the clause's name.
func (e *ClauseError) Error() string {
	var b strings.Builder
	for i, err := range e.Errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Clause + ": " + err.Error())
	}
	return b.String()
}

// Unwrap returns the clause's failures, for errors.Is and errors.As.
func (e *ClauseError) Unwrap() []error { return e.Errs }

// A Skip is a clause that Check did not finish because the store lacks an optional
// capability that the clause is about, or because rapid cannot run (Model).
type Skip struct {
	// Clause names the clause as in ClauseError.
	Clause string
	// Reason says what is missing, naming the absent interface.
	Reason string
}

// groups are the clauses of the store contract, in order, by group.
var groups = []group{
	{"Tx", txClauses},
	{"Context", contextClauses},
	{"Errors", errorsClauses},
	{"Users", usersClauses},
	{"Accounts", accountsClauses},
	{"Resources", resourcesClauses},
	{"Grants", grantsClauses},
	{"Reach", reachClauses},
	{"Members", membersClauses},
	{"Teams", teamsClauses},
	{"Invitations", invitationsClauses},
	{"InviteLinks", inviteLinksClauses},
	{"Tokens", tokensClauses},
	{"Policies", policiesClauses},
	{"SSO", ssoClauses},
	{"Audit", auditClauses},
	{"Feed", feedClauses},
	{"Loader", loaderClauses},
	{"Model", modelClauses},
}

type group struct {
	name    string
	clauses []clause
}

// errBoom is the error the suite's closures return to make an Update roll back.
var errBoom = errors.New("storetest: closure failed on purpose")

// write runs fn in an Update and stops the clause when it returns an error.
func (e *env) write(what string, fn func(ctx context.Context, w store.Writer) error) {
	if err := e.s.Update(e.ctx, fn); err != nil {
		e.Fatalf("%s: Update failed: %v", what, err)
	}
}

// read runs fn in a View and stops the clause when it returns an error.
func (e *env) read(what string, fn func(ctx context.Context, r store.Reader) error) {
	if err := e.s.View(e.ctx, fn); err != nil {
		e.Fatalf("%s: View failed: %v", what, err)
	}
}

// try runs one write in its own Update and returns the error Update returned.
func (e *env) try(fn func(ctx context.Context, w store.Writer) error) error {
	return e.s.Update(e.ctx, fn)
}

// wantErr fails the clause unless errors.Is(err, target) (nil target: err is nil).
func (e *env) wantErr(err, target error, clause string, args ...any) {
	switch {
	case target == nil && err != nil:
		e.Errorf("%s: got error %v, want none", fmt.Sprintf(clause, args...), err)
	case target != nil && !errors.Is(err, target):
		e.Errorf("%s: got error %v, want one matching %v", fmt.Sprintf(clause, args...), err, target)
	}
}

// collect drains a listing.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// t0 is the creation time of the suite's records.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// ---- fixtures ----

// The standard world of the suite:
//
//	users  ann (owner of o1 and a1), bob (owner of a2 and a3), cy, dee
//	o1     organization            members ann, dee
//	├── a1 sub-account             members ann, cy
//	│   ├── project p1 ── inbox i1
//	│   └── domain d1
//	└── a3 sub-account             members bob
//	    └── project p3
//	a2     account                 members bob
//	└── project p2 ── inbox i2
var (
	uAnn, uBob, uCy, uDee = "u-ann", "u-bob", "u-cy", "u-dee"
	o1                    = rbac.Org("o1")
	a1, a2, a3            = rbac.Account("a1"), rbac.Account("a2"), rbac.Account("a3")
	p1, p2, p3            = rbac.Project("p1"), rbac.Project("p2"), rbac.Project("p3")
	i1, i2                = rbac.Inbox("i1"), rbac.Inbox("i2")
	d1                    = rbac.Domain("d1")
)

func newUser(id, email string) store.User {
	return store.User{ID: id, Email: email, Name: "Name of " + id, TimeZone: "Europe/Paris", Created: t0}
}

func newAccount(ref rbac.Ref, org, owner string) store.Account {
	return store.Account{Ref: ref, Org: org, Name: "Name of " + ref.ID, Owner: owner, Plan: "business", Created: t0}
}

func newResource(ref, parent rbac.Ref, account string) store.Resource {
	return store.Resource{Ref: ref, Parent: parent, Account: account, Name: "Name of " + ref.ID, Created: t0}
}

func grant(h rbac.Holder, scope, tenant rbac.Ref, l rbac.Level) store.Grant {
	return store.Grant{Grant: rbac.Grant{Holder: h, Scope: scope, Level: l}, Tenant: tenant}
}

// world builds the standard world in one Update.
func (e *env) world() {
	e.write("building the suite's world", func(ctx context.Context, w store.Writer) error {
		for _, u := range []store.User{
			newUser(uAnn, "ann@example.test"), newUser(uBob, "bob@example.test"),
			newUser(uCy, "cy@example.test"), newUser(uDee, "dee@example.test"),
		} {
			if err := w.InsertUser(ctx, u); err != nil {
				return fmt.Errorf("InsertUser %s: %w", u.ID, err)
			}
		}
		for _, a := range []store.Account{
			newAccount(o1, "", uAnn), newAccount(a1, "o1", uAnn), newAccount(a3, "o1", uBob), newAccount(a2, "", uBob),
		} {
			if err := w.InsertAccount(ctx, a); err != nil {
				return fmt.Errorf("InsertAccount %v: %w", a.Ref, err)
			}
		}
		for _, r := range []store.Resource{
			newResource(p1, a1, "a1"), newResource(i1, p1, "a1"), newResource(d1, a1, "a1"),
			newResource(p3, a3, "a3"), newResource(p2, a2, "a2"), newResource(i2, p2, "a2"),
		} {
			if err := w.InsertResource(ctx, r); err != nil {
				return fmt.Errorf("InsertResource %v: %w", r.Ref, err)
			}
		}
		for _, m := range []store.Member{
			{Tenant: o1, User: uAnn}, {Tenant: o1, User: uDee}, {Tenant: a1, User: uAnn},
			{Tenant: a1, User: uCy}, {Tenant: a3, User: uBob}, {Tenant: a2, User: uBob},
		} {
			m.Created = t0
			if err := w.InsertMember(ctx, m); err != nil {
				return fmt.Errorf("InsertMember %s in %v: %w", m.User, m.Tenant, err)
			}
		}
		return nil
	})
}

// put stores grants in one Update.
func (e *env) put(gs ...store.Grant) {
	e.write("putting grants", func(ctx context.Context, w store.Writer) error {
		for _, g := range gs {
			if err := w.PutGrant(ctx, g); err != nil {
				return fmt.Errorf("PutGrant %v: %w", g.Grant, err)
			}
		}
		return nil
	})
}

// do runs fn in one Update and stops the clause on error.
func (e *env) do(what string, fn func(ctx context.Context, w store.Writer) error) {
	e.write(what, fn)
}

// exists reports whether get finds its record: true on nil, false on ErrNotFound,
// and stops the clause on any other error.
func (e *env) exists(what string, get func(ctx context.Context, r store.Reader) error) bool {
	var found bool
	e.read(what, func(ctx context.Context, r store.Reader) error {
		err := get(ctx, r)
		switch {
		case err == nil:
			found = true
		case errors.Is(err, store.ErrNotFound):
			found = false
		default:
			return err
		}
		return nil
	})
	return found
}

func (e *env) hasUser(id string) bool {
	return e.exists("User "+id, func(ctx context.Context, r store.Reader) error { _, err := r.User(ctx, id); return err })
}

func (e *env) hasAccount(ref rbac.Ref) bool {
	return e.exists("Account "+ref.String(), func(ctx context.Context, r store.Reader) error { _, err := r.Account(ctx, ref); return err })
}

func (e *env) hasResource(ref rbac.Ref) bool {
	return e.exists("Resource "+ref.String(), func(ctx context.Context, r store.Reader) error { _, err := r.Resource(ctx, ref); return err })
}

func (e *env) hasGrant(h rbac.Holder, s rbac.Ref) bool {
	return e.exists("Grant", func(ctx context.Context, r store.Reader) error { _, err := r.Grant(ctx, h, s); return err })
}

func (e *env) hasMember(tenant rbac.Ref, user string) bool {
	return e.exists("Member", func(ctx context.Context, r store.Reader) error { _, err := r.Member(ctx, tenant, user); return err })
}

func (e *env) hasTeam(id string) bool {
	return e.exists("Team "+id, func(ctx context.Context, r store.Reader) error { _, err := r.Team(ctx, id); return err })
}

func (e *env) hasInvitation(id string) bool {
	return e.exists("Invitation "+id, func(ctx context.Context, r store.Reader) error { _, err := r.Invitation(ctx, id); return err })
}

func (e *env) hasInviteLink(id string) bool {
	return e.exists("InviteLink "+id, func(ctx context.Context, r store.Reader) error { _, err := r.InviteLink(ctx, id); return err })
}

func (e *env) hasToken(id string) bool {
	return e.exists("Token "+id, func(ctx context.Context, r store.Reader) error { _, err := r.Token(ctx, id); return err })
}

// list reads a listing in a View.
func list[T any](e *env, what string, seq func(ctx context.Context, r store.Reader) iter.Seq2[T, error]) []T {
	var out []T
	e.read(what, func(ctx context.Context, r store.Reader) error {
		var err error
		out, err = collect(seq(ctx, r))
		return err
	})
	return out
}

func (e *env) teamMembers(team string) []string {
	return list(e, "TeamMembers "+team, func(ctx context.Context, r store.Reader) iter.Seq2[string, error] { return r.TeamMembers(ctx, team) })
}

func (e *env) userTeams(user string, tenant rbac.Ref) []string {
	var ids []string
	for _, t := range list(e, "UserTeams", func(ctx context.Context, r store.Reader) iter.Seq2[store.Team, error] {
		return r.UserTeams(ctx, user, tenant)
	}) {
		ids = append(ids, t.ID)
	}
	return ids
}

// ---- record comparison (times with time.Equal, nil and empty slices alike) ----

func eqUser(a, b store.User) bool {
	return a.ID == b.ID && a.Email == b.Email && a.Name == b.Name && a.TimeZone == b.TimeZone &&
		a.TwoFactor == b.TwoFactor && slices.Equal(a.OAuth, b.OAuth) && a.Created.Equal(b.Created)
}

func eqAccount(a, b store.Account) bool {
	return a.Ref == b.Ref && a.Org == b.Org && a.Name == b.Name && a.Owner == b.Owner && a.Plan == b.Plan && a.Created.Equal(b.Created)
}

func eqResource(a, b store.Resource) bool {
	return a.Ref == b.Ref && a.Parent == b.Parent && a.Account == b.Account && a.Name == b.Name && a.Created.Equal(b.Created)
}

func eqMember(a, b store.Member) bool {
	return a.Tenant == b.Tenant && a.User == b.User && a.Created.Equal(b.Created) && a.LastActive.Equal(b.LastActive) &&
		slices.Equal(a.Mapped, b.Mapped)
}

func eqTeam(a, b store.Team) bool {
	return a.ID == b.ID && a.Tenant == b.Tenant && a.Name == b.Name && a.Created.Equal(b.Created)
}

func eqInvitation(a, b store.Invitation) bool {
	return a.ID == b.ID && a.Tenant == b.Tenant && a.Email == b.Email && a.InvitedBy == b.InvitedBy &&
		slices.Equal(a.Teams, b.Teams) && slices.Equal(a.Hash, b.Hash) && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires)
}

func eqInviteLink(a, b store.InviteLink) bool {
	return a.ID == b.ID && a.Tenant == b.Tenant && a.Level == b.Level && slices.Equal(a.Scopes, b.Scopes) &&
		a.CreatedBy == b.CreatedBy && slices.Equal(a.Hash, b.Hash) && a.Created.Equal(b.Created) &&
		a.Disabled == b.Disabled && a.Joined == b.Joined
}

func eqToken(a, b store.Token) bool {
	return a.ID == b.ID && a.Tenant == b.Tenant && a.Name == b.Name && slices.Equal(a.Hash, b.Hash) && a.Last4 == b.Last4 &&
		a.CreatedBy == b.CreatedBy && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.ResetTo == b.ResetTo &&
		a.LastUsed.Equal(b.LastUsed) && slices.Equal(a.IPAllowlist, b.IPAllowlist)
}

func eqEvent(a, b store.Event) bool {
	return a.Seq == b.Seq && a.Time.Equal(b.Time) && a.Tenant == b.Tenant && a.Actor == b.Actor && a.Action == b.Action &&
		a.Target == b.Target && a.Before == b.Before && a.After == b.After && a.Auth == b.Auth && a.ClientIP == b.ClientIP &&
		slices.EqualFunc(a.Changes, b.Changes, eqChange)
}

// eqChange reports whether a and b are the same change, their Expires the same
// instant.
func eqChange(a, b store.Change) bool {
	ae, be := a.Expires, b.Expires
	a.Expires, b.Expires = time.Time{}, time.Time{}
	return a == b && ae.Equal(be)
}
