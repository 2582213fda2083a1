package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// txClauses are the clauses of the Tx group.
var txClauses = []clause{
	{name: "CommitOnNil", fn: txCommitOnNil},
	{name: "RollbackOnError", fn: txRollbackOnError},
	{name: "RollbackUndoesUpdatesAndCascades", fn: txRollbackUndoesUpdates},
	{name: "RollbackOnPanic", fn: txRollbackOnPanic},
	{name: "ErrorReturnedUnchanged", fn: txErrorReturnedUnchanged},
	{name: "UpdateReadsOwnWrites", fn: txReadsOwnWrites},
	{name: "ViewSeesCommittedOnly", fn: txViewSeesCommittedOnly},
	{name: "ConcurrentUpdatesSerialize", fn: txConcurrentUpdatesSerialize},
}

func txCommitOnNil(e *env) {
	e.do("insert a user", func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, newUser(uAnn, "ann@example.test"))
	})
	if !e.hasUser(uAnn) {
		e.Errorf("store.go: Store.Update must commit when fn returns nil: user %s is missing afterwards", uAnn)
	}
}

func txRollbackOnError(e *env) {
	err := e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, newUser(uAnn, "ann@example.test")); err != nil {
			return err
		}
		if err := w.InsertAccount(ctx, newAccount(a1, "", uAnn)); err != nil {
			return err
		}
		if err := w.InsertResource(ctx, newResource(p1, a1, "a1")); err != nil {
			return err
		}
		if err := w.PutGrant(ctx, grant(rbac.User(uAnn), p1, a1, rbac.Admin)); err != nil {
			return err
		}
		if _, err := w.AppendEvent(ctx, store.Event{Time: t0, Tenant: a1, Actor: rbac.User(uAnn), Action: "test"}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		e.Fatalf("store.go: Store.Update must return the closure's error: got %v", err)
	}
	for what, found := range map[string]bool{
		"user " + uAnn:        e.hasUser(uAnn),
		"account a1":          e.hasAccount(a1),
		"project p1":          e.hasResource(p1),
		"grant on project p1": e.hasGrant(rbac.User(uAnn), p1),
	} {
		if found {
			e.Errorf("store.go: Store.Update must roll back when fn returns an error: %s is still there", what)
		}
	}
	evs := e.events(a1)
	if len(evs) != 0 {
		e.Errorf("store.go: Store.Update must roll back when fn returns an error: %d event(s) still there", len(evs))
	}
}

func txRollbackUndoesUpdates(e *env) {
	e.world()
	e.put(grant(rbac.User(uCy), p1, a1, rbac.Admin), grant(rbac.User(uDee), o1, o1, rbac.Viewer))
	e.do("add a team", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "Ops", Created: t0}); err != nil {
			return err
		}
		return w.InsertTeamMember(ctx, "t1", uCy)
	})
	inv, link, tok := newInvite("v1", a1, "yan@example.test"), newLink("l1", a1, uCy, p1), newToken("k1", a1)
	tok.Expires = t0.Add(time.Hour)
	e.do("add an invitation, an invite link and a token", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertInvitation(ctx, inv); err != nil {
			return err
		}
		if err := w.InsertInviteLink(ctx, link); err != nil {
			return err
		}
		return w.InsertToken(ctx, tok)
	})
	err := e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
		if err := w.TouchMember(ctx, a1, uCy, t0.Add(time.Hour)); err != nil {
			return err
		}
		if err := w.UpdateInvitation(ctx, store.Invitation{ID: "v1", Hash: []byte("new"), Expires: t0.Add(time.Hour)}); err != nil {
			return err
		}
		l := link
		l.Hash, l.Disabled, l.Joined = []byte("new"), true, 9
		if err := w.UpdateInviteLink(ctx, l); err != nil {
			return err
		}
		if err := w.InsertInviteLink(ctx, newLink("l2", a2, uBob, p2)); err != nil {
			return err
		}
		t := tok
		t.Expires, t.LastUsed = t0.Add(5*time.Hour), t0.Add(time.Minute)
		if err := w.UpdateToken(ctx, t); err != nil {
			return err
		}
		u := newUser(uCy, "new-cy@example.test")
		if err := w.UpdateUser(ctx, u); err != nil {
			return err
		}
		a := newAccount(a2, "", uBob)
		a.Name = "renamed"
		if err := w.UpdateAccount(ctx, a); err != nil {
			return err
		}
		for _, ref := range []rbac.Ref{o1, a2} {
			if err := w.DeleteAccount(ctx, ref); err != nil {
				return err
			}
		}
		if err := w.DeleteUser(ctx, uDee); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		e.Fatalf("store.go: Store.Update must return the closure's error: got %v", err)
	}
	e.read("reading after the rollback", func(ctx context.Context, r store.Reader) error {
		u, err := r.User(ctx, uCy)
		if err != nil || u.Email != "cy@example.test" {
			e.Errorf("store.go: a rolled-back UpdateUser must leave the user as it was: got %+v, %v", u, err)
		}
		if _, err := r.UserByEmail(ctx, "new-cy@example.test"); !errors.Is(err, store.ErrNotFound) {
			e.Errorf("store.go: a rolled-back UpdateUser must not leave its new email indexed: UserByEmail got %v", err)
		}
		a, err := r.Account(ctx, a2)
		if err != nil || a.Name != "Name of a2" {
			e.Errorf("store.go: a rolled-back UpdateAccount and DeleteAccount must leave the account as it was: got %+v, %v", a, err)
		}
		if m, err := r.Member(ctx, a1, uCy); err != nil || !m.LastActive.IsZero() {
			e.Errorf("store.go: a rolled-back TouchMember must leave LastActive as it was: got %+v, %v", m, err)
		}
		if got, err := r.Invitation(ctx, "v1"); err != nil || !eqInvitation(got, inv) {
			e.Errorf("store.go: a rolled-back UpdateInvitation and DeleteAccount must leave the invitation as it was: got %+v, %v; want %+v", got, err, inv)
		}
		if got, err := r.InviteLink(ctx, "l1"); err != nil || !eqInviteLink(got, link) {
			e.Errorf("store.go: a rolled-back UpdateInviteLink, DeleteUser and DeleteAccount must leave the link as it was: got %+v, %v; want %+v", got, err, link)
		}
		if got, err := r.InviteLink(ctx, "l2"); !errors.Is(err, store.ErrNotFound) {
			e.Errorf("store.go: a rolled-back InsertInviteLink must leave no link: InviteLink got %+v, %v", got, err)
		}
		if got, err := collect(r.InviteLinks(ctx, a2)); err != nil || len(got) != 0 {
			e.Errorf("store.go: a rolled-back InsertInviteLink must leave no link: InviteLinks got %+v, %v", got, err)
		}
		if got, err := r.Token(ctx, "k1"); err != nil || !eqToken(got, tok) {
			e.Errorf("store.go: a rolled-back UpdateToken must leave the token as it was: got %+v, %v; want %+v", got, err, tok)
		}
		if got, err := collect(r.TokensExpiring(ctx, t0, t0.Add(24*time.Hour))); err != nil || !slices.EqualFunc(got, []store.Token{tok}, eqToken) {
			e.Errorf("store.go: a rolled-back UpdateToken must leave TokensExpiring as it was: got %+v, %v; want [%+v]", got, err, tok)
		}
		return nil
	})
	for _, ref := range []rbac.Ref{o1, a1, a3, a2} {
		if !e.hasAccount(ref) {
			e.Errorf("store.go: a rolled-back DeleteAccount must leave account %v there", ref)
		}
	}
	for _, ref := range []rbac.Ref{p1, i1, d1, p2, i2, p3} {
		if !e.hasResource(ref) {
			e.Errorf("store.go: a rolled-back DeleteAccount must leave resource %v there", ref)
		}
	}
	if !e.hasUser(uDee) || !e.hasMember(o1, uDee) || !e.hasMember(a1, uCy) {
		e.Errorf("store.go: a rolled-back DeleteUser and DeleteAccount must leave users and memberships there")
	}
	if !e.hasGrant(rbac.User(uCy), p1) || !e.hasGrant(rbac.User(uDee), o1) {
		e.Errorf("store.go: a rolled-back cascade must leave the grants there")
	}
	if !e.hasTeam("t1") || !slices.Equal(e.teamMembers("t1"), []string{uCy}) {
		e.Errorf("store.go: a rolled-back DeleteAccount must leave its teams and their members there")
	}
}

type panicValue struct{ n int }

func txRollbackOnPanic(e *env) {
	want := &panicValue{42}
	var got any
	func() {
		defer func() { got = recover() }()
		_ = e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
			if err := w.InsertUser(ctx, newUser(uAnn, "ann@example.test")); err != nil {
				return err
			}
			panic(want)
		})
	}()
	if got != want {
		e.Errorf("store.go: Store.Update must re-raise the closure's panic after the rollback: recovered %v, want %v", got, want)
	}
	if e.hasUser(uAnn) {
		e.Errorf("store.go: Store.Update must roll back when fn panics: user %s is still there", uAnn)
	}
	// The store must still work.
	e.do("insert after a panic", func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, newUser(uBob, "bob@example.test"))
	})
}

// customErr is an error type, to check that Update and View return the closure's
// error value itself.
type customErr struct{ msg string }

func (c *customErr) Error() string { return c.msg }

func txErrorReturnedUnchanged(e *env) {
	want := &customErr{"custom"}
	if err := e.s.Update(e.ctx, func(context.Context, store.Writer) error { return want }); err != want {
		e.Errorf("store.go: Store.Update must return the closure's error unchanged: got %#v, want %#v", err, want)
	}
	if err := e.s.View(e.ctx, func(context.Context, store.Reader) error { return want }); err != want {
		e.Errorf("store.go: Store.View must return the closure's error unchanged: got %#v, want %#v", err, want)
	}
	wrapped := fmt.Errorf("wrapped: %w", store.ErrNotFound)
	if err := e.s.Update(e.ctx, func(context.Context, store.Writer) error { return wrapped }); err != wrapped {
		e.Errorf("store.go: Store.Update must return the closure's error unchanged, even a store error: got %v", err)
	}
}

func txReadsOwnWrites(e *env) {
	e.do("read own writes", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, newUser(uAnn, "ann@example.test")); err != nil {
			return err
		}
		if u, err := w.User(ctx, uAnn); err != nil || u.ID != uAnn {
			e.Errorf("store.go: a Writer must read its own writes: User got %+v, %v", u, err)
		}
		if err := w.InsertAccount(ctx, newAccount(a1, "", uAnn)); err != nil {
			return err
		}
		if err := w.PutGrant(ctx, grant(rbac.User(uAnn), a1, a1, rbac.Admin)); err != nil {
			return err
		}
		if g, err := w.Grant(ctx, rbac.User(uAnn), a1); err != nil || g.Level != rbac.Admin {
			e.Errorf("store.go: a Writer must read its own writes: Grant got %+v, %v", g, err)
		}
		return nil
	})
}

func txViewSeesCommittedOnly(e *env) {
	written := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		once := sync.Once{}
		_ = e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
			if err := w.InsertUser(ctx, newUser(uAnn, "ann@example.test")); err != nil {
				return err
			}
			once.Do(func() { close(written) })
			// A store that runs Views beside Updates lets the View below run now; one
			// that serializes them runs it after this Update has rolled back.
			select {
			case <-release:
			case <-time.After(100 * time.Millisecond):
			}
			return errBoom
		})
	}()
	<-written
	seen := e.hasUser(uAnn)
	close(release)
	wg.Wait()
	if seen {
		e.Errorf("store.go: a View must not see the writes of an Update that has not committed (and then rolled back)")
	}
	if e.hasUser(uAnn) {
		e.Errorf("store.go: Store.Update must roll back when fn returns an error: user %s is there", uAnn)
	}
	e.do("commit", func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, newUser(uBob, "bob@example.test"))
	})
	if !e.hasUser(uBob) {
		e.Errorf("store.go: a View must see what committed Updates wrote: user %s is missing", uBob)
	}
}

func txConcurrentUpdatesSerialize(e *env) {
	e.do("insert the counter", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, newUser(uAnn, "ann@example.test")); err != nil {
			return err
		}
		a := newAccount(a1, "", uAnn)
		a.Name = "0"
		return w.InsertAccount(ctx, a)
	})
	const workers, increments = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range increments {
				for {
					err := e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
						a, err := w.Account(ctx, a1)
						if err != nil {
							return err
						}
						n, err := strconv.Atoi(a.Name)
						if err != nil {
							return err
						}
						a.Name = strconv.Itoa(n + 1)
						return w.UpdateAccount(ctx, a)
					})
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.Fatalf("concurrent read-modify-write Update failed: %v", err)
	}
	var got store.Account
	e.read("read the counter", func(ctx context.Context, r store.Reader) error {
		var err error
		got, err = r.Account(ctx, a1)
		return err
	})
	if want := strconv.Itoa(workers * increments); got.Name != want {
		e.Errorf("store.go: Updates must be serializable: %d goroutines each incremented a counter %d times, final value %s, want %s (lost updates)",
			workers, increments, got.Name, want)
	}
}

// events returns every event of tenant.
func (e *env) events(tenant rbac.Ref) []store.Event {
	var out []store.Event
	e.read("Events", func(ctx context.Context, r store.Reader) error {
		var err error
		out, err = r.Events(ctx, tenant, 0, 1<<20)
		return err
	})
	return out
}

// contextClauses are the clauses of the Context group.
var contextClauses = []clause{
	{name: "CancelledContextIsHonoured", fn: ctxCancelled},
	{name: "CancelledContextIsHonouredByChecker", fn: ctxCancelledChecker},
	{name: "ExpiredDeadlineIsHonoured", fn: ctxDeadline},
	{name: "CancelledWriteWritesNothing", fn: ctxCancelledWrite},
}

func ctxCancelled(e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	ran := false
	err := e.s.View(ctx, func(context.Context, store.Reader) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		e.Errorf("store.go: Store.View with a cancelled context must return context.Canceled without running fn: got %v, fn ran: %v", err, ran)
	}
	ran = false
	err = e.s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		ran = true
		return w.InsertUser(ctx, newUser(uAnn, "ann@example.test"))
	})
	if !errors.Is(err, context.Canceled) || ran {
		e.Errorf("store.go: Store.Update with a cancelled context must return context.Canceled without running fn: got %v, fn ran: %v", err, ran)
	}
	if e.hasUser(uAnn) {
		e.Errorf("store.go: Store.Update with a cancelled context must write nothing")
	}
}

// ctxCancelledChecker: the optional store.Checker honours its context too, on a scope
// that exists.
func ctxCancelledChecker(e *env) {
	ck := e.needChecker()
	e.world()
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, _, err := ck.Reach(ctx, rbac.User(uAnn), a1, nil, nil); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Checker.Reach with a cancelled context must return context.Canceled: got %v", err)
	}
	if _, err := ck.Check(ctx, rbac.User(uAnn), rbac.AccountView, a1, checkNow); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Checker.Check with a cancelled context must return context.Canceled: got %v", err)
	}
	if _, err := ck.Sees(ctx, rbac.User(uAnn), a1); !errors.Is(err, context.Canceled) {
		e.Errorf("store.go: Checker.Sees with a cancelled context must return context.Canceled: got %v", err)
	}
}

func ctxDeadline(e *env) {
	ctx, cancel := context.WithDeadline(e.ctx, time.Now().Add(-time.Second))
	defer cancel()
	err := e.s.View(ctx, func(context.Context, store.Reader) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		e.Errorf("store.go: Store.View with an expired context must return context.DeadlineExceeded: got %v", err)
	}
	err = e.s.Update(ctx, func(context.Context, store.Writer) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		e.Errorf("store.go: Store.Update with an expired context must return context.DeadlineExceeded: got %v", err)
	}
}

func ctxCancelledWrite(e *env) {
	e.world()
	var insertErr, readErr error
	// A store may refuse to commit a transaction in which a statement failed; the
	// Update's own error is not the point here.
	_ = e.s.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		insertErr = w.InsertUser(cctx, newUser("u-new", "new@example.test"))
		_, readErr = w.User(cctx, uAnn)
		return nil
	})
	if !errors.Is(insertErr, context.Canceled) {
		e.Errorf("store.go: Writer.InsertUser must honour its context: got %v with a cancelled context", insertErr)
	}
	if !errors.Is(readErr, context.Canceled) {
		e.Errorf("store.go: Reader.User must honour its context: got %v with a cancelled context", readErr)
	}
	if e.hasUser("u-new") {
		e.Errorf("store.go: a write with a cancelled context must write nothing: user u-new is there")
	}
}
