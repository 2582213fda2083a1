package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// clause is one named check of the contract, run on a fresh store.
type clause struct {
	name string
	fn   func(e *env)
	// ownStores: the clause makes its stores with env.fresh, as many as it needs,
	// and gets none from the runner.
	ownStores bool
}

// env is one clause's store, with helpers that record the clause's failures instead
// of reporting them to a *testing.T: Errorf records one, Fatalf records one and stops
// the clause, skipf stops it as skipped.
type env struct {
	ctx      context.Context
	s        store.Store
	newStore func() (store.Store, error)
	rec      *recorder
	// tb is where the Model group's rapid.Check reports: rec under Check, the
	// subtest's *testing.T under Run.
	tb rapid.TB
}

// Errorf records a failure of the clause, which goes on.
func (e *env) Errorf(format string, args ...any) { e.rec.Errorf(format, args...) }

// Fatalf records a failure of the clause and stops it.
func (e *env) Fatalf(format string, args ...any) { e.rec.Fatalf(format, args...) }

// skipf stops the clause as skipped, for the reason given.
func (e *env) skipf(format string, args ...any) { e.rec.Skipf(format, args...) }

// fresh returns a new store from newStore, and stops the clause when there is none.
func (e *env) fresh() store.Store {
	s, err := e.newStore()
	switch {
	case err != nil:
		e.Fatalf("storetest: newStore failed: %v", err)
	case s == nil:
		e.Fatalf("storetest: newStore returned nil")
	}
	return s
}

// needChecker returns the store's store.Checker, and skips the clause when it has
// none.
func (e *env) needChecker() store.Checker {
	c, ok := store.CheckerOf(e.s)
	if !ok {
		e.skipf("the store does not implement the optional store.Checker, itself or through store.Unwrapper (%T)", e.s)
	}
	return c
}

// runClause runs c on a fresh store with a new recorder named name, and returns the
// recorder. tb, when not nil, is where rapid reports (the *testing.T of Run); else
// the recorder itself is, under the name tbName.
func runClause(ctx context.Context, name, tbName string, c clause, newStore func() (store.Store, error), tb rapid.TB) *recorder {
	r := &recorder{clause: name, name: tbName}
	e := &env{ctx: ctx, newStore: newStore, rec: r, tb: tb}
	if tb == nil {
		e.tb = r
	}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errStopClause {
				r.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		if !c.ownStores {
			e.s = e.fresh()
		}
		c.fn(e)
	}()
	return r
}

// errStopClause is the panic value with which Fatalf and skipf stop a clause; the
// runner recovers it.
var errStopClause = errors.New("storetest: clause stopped")

// recorder collects one clause's failures, or its skip. It is also the rapid.TB of
// the Model group under Check.
type recorder struct {
	clause string // the clause's name, for ClauseError
	name   string // the name rapid sees

	mu      sync.Mutex
	errs    []error
	trail   []string // what was logged after the first failure: rapid's report of the failing case
	skipped bool
	reason  string
}

var _ rapid.TB = (*recorder)(nil)

// err returns the clause's *ClauseError, or nil when it did not fail.
func (r *recorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	errs := slices.Clone(r.errs)
	if len(r.trail) > 0 {
		last := len(errs) - 1
		errs[last] = fmt.Errorf("%w\n%s", errs[last], strings.Join(r.trail, "\n"))
	}
	return &ClauseError{Clause: r.clause, Errs: errs}
}

// report reports the clause's outcome to t: each failure with t.Error, then a skip
// with t.Skip.
func (r *recorder) report(t *testing.T) {
	t.Helper()
	if err := r.err(); err != nil {
		for _, e := range err.(*ClauseError).Errs {
			t.Error(e)
		}
	}
	if r.skipped {
		t.Skip(r.reason)
	}
}

// Helper does nothing: failures carry no file and line.
func (r *recorder) Helper() {}

// Name returns the name of the clause.
func (r *recorder) Name() string { return r.name }

// Logf keeps a log line when the clause has failed, as part of the last failure.
func (r *recorder) Logf(format string, args ...any) { r.log(fmt.Sprintf(format, args...)) }

// Log keeps a log line when the clause has failed, as part of the last failure.
func (r *recorder) Log(args ...any) { r.log(fmt.Sprint(args...)) }

func (r *recorder) log(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		r.trail = append(r.trail, strings.TrimSuffix(s, "\n"))
	}
}

// Errorf records a failure.
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }

// Error records a failure.
func (r *recorder) Error(args ...any) { r.fail(fmt.Sprint(args...)) }

// Fatalf records a failure and stops the clause.
func (r *recorder) Fatalf(format string, args ...any) {
	r.fail(fmt.Sprintf(format, args...))
	r.FailNow()
}

// Fatal records a failure and stops the clause.
func (r *recorder) Fatal(args ...any) {
	r.fail(fmt.Sprint(args...))
	r.FailNow()
}

// Fail records a failure without a message.
func (r *recorder) Fail() { r.fail("failed") }

// FailNow stops the clause; it has failed if it recorded a failure.
func (r *recorder) FailNow() { panic(errStopClause) }

// Failed reports whether the clause has failed.
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs) > 0
}

// Skipf stops the clause as skipped, with the reason given.
func (r *recorder) Skipf(format string, args ...any) { r.skip(fmt.Sprintf(format, args...)) }

// Skip stops the clause as skipped, with the reason given.
func (r *recorder) Skip(args ...any) { r.skip(fmt.Sprint(args...)) }

// SkipNow stops the clause as skipped.
func (r *recorder) SkipNow() { r.skip("skipped") }

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, errors.New(msg))
}

func (r *recorder) skip(reason string) {
	r.mu.Lock()
	r.skipped, r.reason = true, reason
	r.mu.Unlock()
	panic(errStopClause)
}
