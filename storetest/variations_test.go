package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/storetest"
)

// legalCases are stores that keep the contract in unusual ways: the suite must pass
// them, skipping nothing.
var legalCases = []struct {
	name string
	make func() store.Store
}{
	{"runs-every-update-twice", func() store.Store { return twice{memstore.New()} }},
	{"wraps-every-error", func() store.Store { return wrapping{memstore.New()} }},
	{"checker-only-through-unwrap", func() store.Store { return unwrapper{memstore.New()} }},
}

// TestLegalVariations checks that Check passes every legal variation, runs every
// clause (store.Checker's, store.Feed's and store.Loader's through store.CheckerOf,
// store.FeedOf and store.LoaderOf), and that each variation does what it claims to, so
// that its passing means something.
func TestLegalVariations(t *testing.T) {
	for _, c := range legalCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			skipped, err := storetest.Check(t.Context(), func() (store.Store, error) { return c.make(), nil })
			if err != nil {
				t.Errorf("the suite must pass a store that keeps the contract (%s):\n%v", c.name, err)
			}
			if len(skipped) != 0 {
				t.Errorf("the suite must run every clause on a store with a Checker, a Feed and a Loader (%s); it skipped %v", c.name, skipped)
			}
		})
	}
}

// TestTwiceRunsEveryUpdateTwice: the closure runs twice, and the first run's writes
// are rolled back before the second run.
func TestTwiceRunsEveryUpdateTwice(t *testing.T) {
	s := twice{memstore.New()}
	runs := 0
	err := s.Update(t.Context(), func(ctx context.Context, w store.Writer) error {
		runs++
		return w.InsertUser(ctx, store.User{ID: "u1", Email: "u1@example.test"})
	})
	if err != nil || runs != 2 {
		t.Fatalf("Update ran the closure %d time(s) and returned %v; want 2 runs, the second inserting anew (the first rolled back)", runs, err)
	}
	var want = errors.New("mine")
	runs = 0
	if err := s.Update(t.Context(), func(context.Context, store.Writer) error { runs++; return want }); err != want || runs != 2 {
		t.Errorf("Update ran a failing closure %d time(s) and returned %v; want 2 runs and the closure's error", runs, err)
	}
}

// TestWrappingWrapsEveryError: the errors of the store, its Reader, its Writer, its
// listings and its Checker come wrapped; the closure's own error comes back unchanged.
func TestWrappingWrapsEveryError(t *testing.T) {
	s := wrapping{memstore.New()}
	ctx := t.Context()
	wrapped := func(what string, err, target error) {
		t.Helper()
		if !errors.Is(err, target) || !strings.HasPrefix(fmt.Sprint(err), "wrapped: ") {
			t.Errorf("%s: got %v, want %v wrapped", what, err, target)
		}
	}
	err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		_, err := w.User(ctx, "nobody")
		wrapped("Reader.User", err, store.ErrNotFound)
		wrapped("Writer.DeleteUser", w.DeleteUser(ctx, "nobody"), store.ErrNotFound)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var listErr error
		for _, err := range w.Memberships(cctx, "nobody") {
			listErr = err
			break
		}
		wrapped("Reader.Memberships (a listing)", listErr, context.Canceled)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	wrapped("Store.View", s.View(cancelled, func(context.Context, store.Reader) error { return nil }), context.Canceled)
	wrapped("Store.Update", s.Update(cancelled, func(context.Context, store.Writer) error { return nil }), context.Canceled)
	_, err = s.Check(ctx, rbac.User("u1"), rbac.InboxRead, rbac.Inbox("missing"), time.Now())
	wrapped("Checker.Check", err, store.ErrNotFound)
	_, err = s.Sees(cancelled, rbac.User("u1"), rbac.Inbox("missing"))
	wrapped("Checker.Sees", err, context.Canceled)
	_, _, err = s.Reach(ctx, rbac.User("u1"), rbac.Inbox("missing"), nil, nil)
	wrapped("Checker.Reach", err, store.ErrNotFound)
	mine := errors.New("mine")
	if err := s.Update(ctx, func(context.Context, store.Writer) error { return mine }); err != mine {
		t.Errorf("Store.Update must return the closure's error unchanged, got %v", err)
	}
}

// TestUnwrapperHasNoCheckerOfItsOwn: the wrapper's Checker is found only through
// Unwrap.
func TestUnwrapperHasNoCheckerOfItsOwn(t *testing.T) {
	var s store.Store = unwrapper{memstore.New()}
	if _, ok := s.(store.Checker); ok {
		t.Fatal("unwrapper implements store.Checker itself; it must only unwrap to one")
	}
	if _, ok := store.CheckerOf(s); !ok {
		t.Fatal("store.CheckerOf does not find memstore's Checker through unwrapper")
	}
}

// ---- the variations ----

// errRetry is what twice's first run of a closure returns to the inner store, to roll
// it back.
var errRetry = errors.New("twice: conflict, retrying")

// twice runs every Update's closure twice, as a store does whose first attempt loses
// a serialization conflict: the attempt is rolled back, whatever the closure returned,
// and the closure runs again; the second run's outcome is the Update's. A panic is not
// retried. Views run once. Its Checker is the inner store's, through Unwrap.
type twice struct{ inner *memstore.Store }

func (s twice) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return s.inner.View(ctx, fn)
}

func (s twice) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	err := s.inner.Update(ctx, func(ctx context.Context, w store.Writer) error {
		_ = fn(ctx, w)
		return errRetry
	})
	if !errors.Is(err, errRetry) {
		return err // the context's error: the closure did not run
	}
	return s.inner.Update(ctx, fn)
}

func (s twice) Unwrap() store.Store { return s.inner }

// unwrapper wraps a store, implements store.Unwrapper and not store.Checker.
type unwrapper struct{ inner store.Store }

func (u unwrapper) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return u.inner.View(ctx, fn)
}

func (u unwrapper) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	return u.inner.Update(ctx, fn)
}

func (u unwrapper) Unwrap() store.Store { return u.inner }

// wrapping wraps every error it returns, from View and Update, every method of the
// Reader and Writer it gives, their listings, its Checker, its Feed and its Loader
// (the Writer's error too, which Load returns), with
// fmt.Errorf("wrapped: %w", err); the closure's own error it returns unchanged, as the
// contract says.
type wrapping struct{ inner *memstore.Store }

var (
	_ store.Store     = wrapping{}
	_ store.Checker   = wrapping{}
	_ store.Feed      = wrapping{}
	_ store.ChangeLog = wrapping{}
	_ store.Loader    = wrapping{}
	_ store.Reader    = wrapReader{}
	_ store.Writer    = wrapWriter{}
)

func wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("wrapped: %w", err)
}

func wrap1[T any](v T, err error) (T, error) { return v, wrap(err) }

func wrapSeq[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if !yield(v, wrap(err)) {
				return
			}
		}
	}
}

func (s wrapping) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	var fnErr error
	err := s.inner.View(ctx, func(ctx context.Context, r store.Reader) error {
		fnErr = fn(ctx, wrapReader{r})
		return fnErr
	})
	if fnErr != nil {
		return err // the closure's error, unchanged
	}
	return wrap(err)
}

func (s wrapping) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	var fnErr error
	err := s.inner.Update(ctx, func(ctx context.Context, w store.Writer) error {
		fnErr = fn(ctx, wrapWriter{wrapReader{w}, w})
		return fnErr
	})
	if fnErr != nil {
		return err // the closure's error, unchanged
	}
	return wrap(err)
}

func (s wrapping) Reach(ctx context.Context, h rbac.Holder, scope rbac.Ref, p rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	p, gs, err := s.inner.Reach(ctx, h, scope, p, gs)
	return p, gs, wrap(err)
}

func (s wrapping) Check(ctx context.Context, h rbac.Holder, a rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	return wrap1(s.inner.Check(ctx, h, a, scope, now))
}

func (s wrapping) Sees(ctx context.Context, h rbac.Holder, scope rbac.Ref) (bool, error) {
	return wrap1(s.inner.Sees(ctx, h, scope))
}

func (s wrapping) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	return wrap1(s.inner.Changes(ctx, after, limit))
}

func (s wrapping) Wait(ctx context.Context, after uint64) error {
	return wrap(s.inner.Wait(ctx, after))
}

func (s wrapping) ReadChanges(ctx context.Context, at time.Time, fn func(uint64, time.Time, []store.Change)) error {
	return wrap(s.inner.ReadChanges(ctx, at, fn))
}

func (s wrapping) Load(ctx context.Context, w store.Writer) (uint64, error) {
	return wrap1(s.inner.Load(ctx, w))
}

// wrapReader wraps the errors of every Reader method; it embeds no interface, so that
// the compiler proves it defines them all.
type wrapReader struct{ r store.Reader }

func (w wrapReader) Account(ctx context.Context, ref rbac.Ref) (store.Account, error) {
	return wrap1(w.r.Account(ctx, ref))
}

func (w wrapReader) SubAccounts(ctx context.Context, orgID string) iter.Seq2[store.Account, error] {
	return wrapSeq(w.r.SubAccounts(ctx, orgID))
}

func (w wrapReader) Resource(ctx context.Context, ref rbac.Ref) (store.Resource, error) {
	return wrap1(w.r.Resource(ctx, ref))
}

func (w wrapReader) Children(ctx context.Context, parent rbac.Ref) iter.Seq2[store.Resource, error] {
	return wrapSeq(w.r.Children(ctx, parent))
}

func (w wrapReader) Path(ctx context.Context, scope rbac.Ref, buf rbac.Path) (rbac.Path, error) {
	return wrap1(w.r.Path(ctx, scope, buf))
}

func (w wrapReader) Reach(ctx context.Context, h rbac.Holder, scope rbac.Ref, p rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	p, gs, err := w.r.Reach(ctx, h, scope, p, gs)
	return p, gs, wrap(err)
}

func (w wrapReader) User(ctx context.Context, id string) (store.User, error) {
	return wrap1(w.r.User(ctx, id))
}

func (w wrapReader) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return wrap1(w.r.UserByEmail(ctx, email))
}

func (w wrapReader) UserByOAuth(ctx context.Context, provider, subject string) (store.User, error) {
	return wrap1(w.r.UserByOAuth(ctx, provider, subject))
}

func (w wrapReader) Member(ctx context.Context, tenant rbac.Ref, user string) (store.Member, error) {
	return wrap1(w.r.Member(ctx, tenant, user))
}

func (w wrapReader) Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]store.Member, error) {
	return wrap1(w.r.Members(ctx, tenant, after, limit))
}

func (w wrapReader) CountMembers(ctx context.Context, tenant rbac.Ref) (int, error) {
	return wrap1(w.r.CountMembers(ctx, tenant))
}

func (w wrapReader) Memberships(ctx context.Context, user string) iter.Seq2[store.Member, error] {
	return wrapSeq(w.r.Memberships(ctx, user))
}

func (w wrapReader) Grant(ctx context.Context, h rbac.Holder, scope rbac.Ref) (store.Grant, error) {
	return wrap1(w.r.Grant(ctx, h, scope))
}

func (w wrapReader) HolderGrants(ctx context.Context, h rbac.Holder, tenant rbac.Ref) iter.Seq2[store.Grant, error] {
	return wrapSeq(w.r.HolderGrants(ctx, h, tenant))
}

func (w wrapReader) ScopeGrants(ctx context.Context, scope rbac.Ref, subtree bool) iter.Seq2[store.Grant, error] {
	return wrapSeq(w.r.ScopeGrants(ctx, scope, subtree))
}

func (w wrapReader) Team(ctx context.Context, id string) (store.Team, error) {
	return wrap1(w.r.Team(ctx, id))
}

func (w wrapReader) Teams(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return wrapSeq(w.r.Teams(ctx, tenant))
}

func (w wrapReader) TeamMembers(ctx context.Context, team string) iter.Seq2[string, error] {
	return wrapSeq(w.r.TeamMembers(ctx, team))
}

func (w wrapReader) UserTeams(ctx context.Context, user string, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return wrapSeq(w.r.UserTeams(ctx, user, tenant))
}

func (w wrapReader) Invitation(ctx context.Context, id string) (store.Invitation, error) {
	return wrap1(w.r.Invitation(ctx, id))
}

func (w wrapReader) Invitations(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Invitation, error] {
	return wrapSeq(w.r.Invitations(ctx, tenant))
}

func (w wrapReader) InvitationsByEmail(ctx context.Context, email string) iter.Seq2[store.Invitation, error] {
	return wrapSeq(w.r.InvitationsByEmail(ctx, email))
}

func (w wrapReader) SSOConnection(ctx context.Context, id string) (store.SSOConnection, error) {
	return wrap1(w.r.SSOConnection(ctx, id))
}

func (w wrapReader) SSOConnections(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.SSOConnection, error] {
	return wrapSeq(w.r.SSOConnections(ctx, tenant))
}

func (w wrapReader) Domain(ctx context.Context, name string) (store.Domain, error) {
	return wrap1(w.r.Domain(ctx, name))
}

func (w wrapReader) Domains(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Domain, error] {
	return wrapSeq(w.r.Domains(ctx, tenant))
}

func (w wrapReader) SecurityPolicy(ctx context.Context, tenant rbac.Ref) (store.SecurityPolicy, error) {
	return wrap1(w.r.SecurityPolicy(ctx, tenant))
}

func (w wrapReader) Token(ctx context.Context, id string) (store.Token, error) {
	return wrap1(w.r.Token(ctx, id))
}

func (w wrapReader) Tokens(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Token, error] {
	return wrapSeq(w.r.Tokens(ctx, tenant))
}

func (w wrapReader) TokensExpiring(ctx context.Context, from, to time.Time) iter.Seq2[store.Token, error] {
	return wrapSeq(w.r.TokensExpiring(ctx, from, to))
}

func (w wrapReader) InviteLink(ctx context.Context, id string) (store.InviteLink, error) {
	return wrap1(w.r.InviteLink(ctx, id))
}

func (w wrapReader) InviteLinks(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.InviteLink, error] {
	return wrapSeq(w.r.InviteLinks(ctx, tenant))
}

func (w wrapReader) Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	return wrap1(w.r.Events(ctx, tenant, after, limit))
}

// wrapWriter wraps the errors of every Writer method: the Reader's through
// wrapReader, the writes' below. It embeds no interface either.
type wrapWriter struct {
	wrapReader
	w store.Writer
}

func (w wrapWriter) InsertAccount(ctx context.Context, a store.Account) error {
	return wrap(w.w.InsertAccount(ctx, a))
}

func (w wrapWriter) UpdateAccount(ctx context.Context, a store.Account) error {
	return wrap(w.w.UpdateAccount(ctx, a))
}

func (w wrapWriter) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	return wrap(w.w.DeleteAccount(ctx, ref))
}

func (w wrapWriter) InsertResource(ctx context.Context, r store.Resource) error {
	return wrap(w.w.InsertResource(ctx, r))
}

func (w wrapWriter) UpdateResource(ctx context.Context, r store.Resource) error {
	return wrap(w.w.UpdateResource(ctx, r))
}

func (w wrapWriter) DeleteResource(ctx context.Context, ref rbac.Ref) error {
	return wrap(w.w.DeleteResource(ctx, ref))
}

func (w wrapWriter) InsertUser(ctx context.Context, u store.User) error {
	return wrap(w.w.InsertUser(ctx, u))
}

func (w wrapWriter) UpdateUser(ctx context.Context, u store.User) error {
	return wrap(w.w.UpdateUser(ctx, u))
}

func (w wrapWriter) DeleteUser(ctx context.Context, id string) error {
	return wrap(w.w.DeleteUser(ctx, id))
}

func (w wrapWriter) InsertMember(ctx context.Context, m store.Member) error {
	return wrap(w.w.InsertMember(ctx, m))
}

func (w wrapWriter) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	return wrap(w.w.DeleteMember(ctx, tenant, user))
}

func (w wrapWriter) TouchMember(ctx context.Context, tenant rbac.Ref, user string, at time.Time) error {
	return wrap(w.w.TouchMember(ctx, tenant, user, at))
}

func (w wrapWriter) PutGrant(ctx context.Context, g store.Grant) error {
	return wrap(w.w.PutGrant(ctx, g))
}

func (w wrapWriter) DeleteGrant(ctx context.Context, h rbac.Holder, scope rbac.Ref) error {
	return wrap(w.w.DeleteGrant(ctx, h, scope))
}

func (w wrapWriter) InsertTeam(ctx context.Context, t store.Team) error {
	return wrap(w.w.InsertTeam(ctx, t))
}

func (w wrapWriter) UpdateTeam(ctx context.Context, t store.Team) error {
	return wrap(w.w.UpdateTeam(ctx, t))
}

func (w wrapWriter) DeleteTeam(ctx context.Context, id string) error {
	return wrap(w.w.DeleteTeam(ctx, id))
}

func (w wrapWriter) InsertTeamMember(ctx context.Context, team, user string) error {
	return wrap(w.w.InsertTeamMember(ctx, team, user))
}

func (w wrapWriter) DeleteTeamMember(ctx context.Context, team, user string) error {
	return wrap(w.w.DeleteTeamMember(ctx, team, user))
}

func (w wrapWriter) InsertInvitation(ctx context.Context, inv store.Invitation) error {
	return wrap(w.w.InsertInvitation(ctx, inv))
}

func (w wrapWriter) UpdateInvitation(ctx context.Context, inv store.Invitation) error {
	return wrap(w.w.UpdateInvitation(ctx, inv))
}

func (w wrapWriter) InsertInviteLink(ctx context.Context, l store.InviteLink) error {
	return wrap(w.w.InsertInviteLink(ctx, l))
}

func (w wrapWriter) UpdateInviteLink(ctx context.Context, l store.InviteLink) error {
	return wrap(w.w.UpdateInviteLink(ctx, l))
}

func (w wrapWriter) DeleteInviteLink(ctx context.Context, id string) error {
	return wrap(w.w.DeleteInviteLink(ctx, id))
}

func (w wrapWriter) DeleteInvitation(ctx context.Context, id string) error {
	return wrap(w.w.DeleteInvitation(ctx, id))
}

func (w wrapWriter) InsertToken(ctx context.Context, t store.Token) error {
	return wrap(w.w.InsertToken(ctx, t))
}

func (w wrapWriter) UpdateToken(ctx context.Context, t store.Token) error {
	return wrap(w.w.UpdateToken(ctx, t))
}

func (w wrapWriter) DeleteToken(ctx context.Context, id string) error {
	return wrap(w.w.DeleteToken(ctx, id))
}

func (w wrapWriter) SetMapped(ctx context.Context, tenant rbac.Ref, user string, mapped []store.MappedGrant) error {
	return wrap(w.w.SetMapped(ctx, tenant, user, mapped))
}

func (w wrapWriter) PutSSOConnection(ctx context.Context, c store.SSOConnection) error {
	return wrap(w.w.PutSSOConnection(ctx, c))
}

func (w wrapWriter) DeleteSSOConnection(ctx context.Context, id string) error {
	return wrap(w.w.DeleteSSOConnection(ctx, id))
}

func (w wrapWriter) PutDomain(ctx context.Context, d store.Domain) error {
	return wrap(w.w.PutDomain(ctx, d))
}

func (w wrapWriter) DeleteDomain(ctx context.Context, name string) error {
	return wrap(w.w.DeleteDomain(ctx, name))
}

func (w wrapWriter) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	return wrap(w.w.PutSecurityPolicy(ctx, p))
}

func (w wrapWriter) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	return wrap1(w.w.AppendEvent(ctx, e))
}
