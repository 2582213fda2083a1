package storetest_test

import (
	"context"
	"errors"
	"iter"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/storetest"
)

// brokenCase is a store with one defect and the clauses of the suite that must catch
// it.
type brokenCase struct {
	name  string
	fails []string // clauses that must fail; none: the suite must pass
	make  func() store.Store
}

// modelSearches are, for broken stores of brokenCases, the clauses of the Model
// group that must find the defect by random search: TestModelFindsDefects asserts
// them with rapid's default number of runs (this package's other tests run only a
// few, too few for a search to find a defect every time).
var modelSearches = map[string][]string{
	"checker-ignores-policies":     {"Model/CheckerAgreesInRandomWorlds"},
	"checker-without-address":      {"Model/CheckerAgreesInRandomWorlds"},
	"checker-ignores-enforced-sso": {"Model/CheckerAgreesInRandomWorlds"},
}

var brokenCases = []brokenCase{
	{"reference", nil, func() store.Store { return memstore.New() }},
	{"commits-on-error", []string{"Tx/RollbackOnError", "Tx/RollbackOnPanic"}, func() store.Store {
		return &broken{inner: memstore.New(), commitAlways: true}
	}},
	{"leaks-failed-writes-into-views", []string{"Tx/RollbackOnError", "Tx/ViewSeesCommittedOnly"}, func() store.Store {
		return &leaky{views: memstore.New(), updates: memstore.New()}
	}},
	{"loses-concurrent-updates", []string{"Tx/ConcurrentUpdatesSerialize"}, func() store.Store {
		return &staleReads{inner: memstore.New(), known: map[rbac.Ref]bool{}}
	}},
	{"ignores-context", []string{"Context/CancelledContextIsHonoured", "Context/ExpiredDeadlineIsHonoured"}, func() store.Store {
		return &broken{inner: memstore.New(), noContext: true}
	}},
	{"email-unique-with-case", []string{"Users/EmailUniqueIgnoringCase", "Users/UpdateKeepsUniqueness"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return caseSensitiveEmail{w} }}
	}},
	{"unwrapped-not-found", []string{"Errors/NotFoundIsWrapped"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return plainNotFound{w} }}
	}},
	{"aliases-oauth-links", []string{"Users/CopiesInAndOut"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return aliasing{w, b} }}
	}},
	{"delete-account-forgets-tokens", []string{"Accounts/DeleteCascades"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return orphanTokens{w, b} }}
	}},
	{"path-leaf-first", []string{"Resources/PathRootFirst"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return leafFirst{w} }}
	}},
	{"subtree-ignored", []string{"Grants/SubtreeQuery"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return noSubtree{w} }}
	}},
	{"reach-ignores-teams", []string{"Reach/TeamGrants"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer {
			return reachFilter{w, func(g rbac.Grant) bool { return g.Holder.Kind != rbac.HolderTeam }}
		}}
	}},
	{"reach-without-owner", []string{"Reach/OwnerSynthesized"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer {
			return reachFilter{w, func(g rbac.Grant) bool { return g.Level != rbac.Owner }}
		}}
	}},
	{"checker-reach-ignores-teams", []string{"Reach/CheckerReachAgreesWithReader"}, func() store.Store {
		return checkerReachWithoutTeams{memstore.New()}
	}},
	{"checker-allows-everything", []string{"Reach/CheckerAgreesWithCheck"}, func() store.Store {
		return checkerAllowsAll{memstore.New()}
	}},
	{"checker-ignores-context", []string{"Context/CancelledContextIsHonouredByChecker"}, func() store.Store {
		return checkerWithoutContext{memstore.New()}
	}},
	{"checker-ignores-token-creators", []string{"Reach/CheckerAgreesWithCheck"}, func() store.Store {
		return checkerIgnoresTokenCreators{memstore.New()}
	}},
	{"checker-sees-everything", []string{"Reach/CheckerSeesAgreesWithSees"}, func() store.Store {
		return checkerSeesEverything{memstore.New()}
	}},
	{"checker-ignores-policies", []string{"Reach/CheckerAgreesWithCheck", "Policies/CheckAppliesPolicies"}, func() store.Store {
		return checkerIgnoresPolicies{memstore.New()}
	}},
	{"delete-account-keeps-policy", []string{"Policies/DeleteAccountCascades"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return keepPolicies{w, b, false} }}
	}},
	{"delete-organization-keeps-sub-account-policies", []string{"Policies/DeleteAccountCascades"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return keepPolicies{w, b, true} }}
	}},
	{"checker-without-address", []string{"Reach/CheckerAgreesWithCheck", "SSO/CheckEnforcesSSO"}, func() store.Store {
		return checkerWithoutAddress{memstore.New()}
	}},
	{"checker-ignores-enforced-sso", []string{"Reach/CheckerAgreesWithCheck", "SSO/CheckEnforcesSSO"}, func() store.Store {
		return checkerIgnoresEnforcedSSO{memstore.New()}
	}},
	{"delete-account-keeps-domains", []string{"SSO/DeleteAccountCascades"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return keepDomains{w, b} }}
	}},
	{"members-read-without-mapped", []string{"SSO/MemberMapped", "SSO/RolledBackLeavesNoTrace"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return withoutMapped{w} }}
	}},
	{"members-pages-skip-one", []string{"Members/KeysetPages"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return skipOne{w} }}
	}},
	{"count-members-panics", []string{"Members/CountMembers"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return panicCount{w} }}
	}},
	{"delete-member-keeps-grants", []string{"Members/DeleteMemberCascades"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return keepGrants{w} }}
	}},
	{"tokens-expiring-from-time-zero", []string{"Tokens/ExpiringByTimeThenID"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return zeroExpiry{w, b} }}
	}},
	{"delete-user-keeps-links", []string{"InviteLinks/DeleteUserDeletesCreatedLinks"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return keepLinks{w, b} }}
	}},
	{"touch-member-joins", []string{"Members/TouchSetsLastActive", "Errors/NotFoundIsWrapped"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return touchJoins{w} }}
	}},
	{"events-drop-typed-fields", []string{"Audit/TypedFieldsKept", "Audit/AppendAssignsSeq", "Audit/OrderedCursor"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, _ *broken) store.Writer { return dropTyped{w} }}
	}},
	{"events-alias-changes", []string{"Audit/TypedFieldsKept"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return aliasChanges{w, b} }}
	}},
	{"change-log-ignores-time", []string{"Feed/ChangeLogAgreesWithFeed"}, func() store.Store {
		return changeLogIgnoresTime{memstore.New()}
	}},
	{"events-survive-rollback", []string{"Audit/RolledBackEventsInvisible"}, func() store.Store {
		return &broken{inner: memstore.New(), wrap: func(w store.Writer, b *broken) store.Writer { return sideLog{w, b} }}
	}},
}

// TestBrokenStores checks, in-process, that Check fails every broken store in the
// clauses that name its defect, each error naming its clause, and passes the
// reference store.
func TestBrokenStores(t *testing.T) {
	for _, c := range brokenCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			skipped, err := storetest.Check(t.Context(), func() (store.Store, error) { return c.make(), nil })
			if len(c.fails) == 0 {
				if err != nil || len(skipped) != 0 {
					t.Fatalf("the suite must pass against memstore, skipping nothing: got skipped %v, error:\n%v", skipped, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("the suite passed against a store that is broken (%s); it must fail", c.name)
			}
			failed := clauseErrors(t, err)
			for _, clause := range c.fails {
				ce, ok := failed[clause]
				if !ok {
					t.Errorf("the suite must fail in %s against a store that is broken (%s); it failed in %v:\n%v",
						clause, c.name, slices.Sorted(maps.Keys(failed)), err)
					continue
				}
				// rapid's report of a Model clause begins with its own words, then the
				// failure's.
				msg := ce.Error()
				rapidCites := strings.HasPrefix(msg, clause+": [rapid] ") && strings.Contains(msg, ": store.go: ")
				if len(ce.Errs) == 0 || !strings.HasPrefix(msg, clause+": store.go: ") && !strings.HasPrefix(msg, clause+": panic: ") && !rapidCites {
					t.Errorf("the error of clause %s must begin with its name and cite store.go: %q", clause, msg)
				}
			}
		})
	}
}

// clauseErrors returns the *storetest.ClauseError of each failed clause in err, and
// fails the test for anything else in it.
func clauseErrors(t *testing.T, err error) map[string]*storetest.ClauseError {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := map[string]*storetest.ClauseError{}
	for _, err := range errs {
		var ce *storetest.ClauseError
		if !errors.As(err, &ce) {
			t.Errorf("Check returned an error that is not a *ClauseError: %v", err)
			continue
		}
		if _, dup := out[ce.Clause]; dup {
			t.Errorf("Check returned two errors for clause %s", ce.Clause)
		}
		out[ce.Clause] = ce
	}
	return out
}

// broken wraps a memstore.Store and breaks it as its fields say.
type broken struct {
	inner        *memstore.Store
	commitAlways bool                                     // Update commits whatever fn returns
	noContext    bool                                     // View and Update ignore cancellation
	wrap         func(store.Writer, *broken) store.Writer // replaces methods of the Reader and Writer

	mu      sync.Mutex
	aliased []store.Change                    // aliasChanges: the first appended event's Changes, as the caller gave them
	oauth   map[string][]store.OAuthLink      // aliasing: the caller's slices
	orphans map[string]store.Token            // orphanTokens: tokens DeleteAccount forgot
	tokens  map[string]bool                   // zeroExpiry: the IDs of every token inserted
	links   map[string]bool                   // keepLinks: the IDs of every invite link inserted
	events  []store.Event                     // sideLog: every appended event
	pols    map[rbac.Ref]store.SecurityPolicy // keepPolicies: policies DeleteAccount forgot
	domains map[string]store.Domain           // keepDomains: domains DeleteAccount forgot
}

func (b *broken) w(w store.Writer) store.Writer {
	if b.wrap == nil {
		return w
	}
	return b.wrap(w, b)
}

// View runs fn in an Update of the inner store, so that one wrapper serves both.
func (b *broken) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	if b.noContext {
		ctx = context.WithoutCancel(ctx)
	}
	return b.inner.Update(ctx, func(ctx context.Context, w store.Writer) error { return fn(ctx, b.w(w)) })
}

func (b *broken) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	if b.noContext {
		ctx = context.WithoutCancel(ctx)
	}
	if !b.commitAlways {
		return b.inner.Update(ctx, func(ctx context.Context, w store.Writer) error { return fn(ctx, b.w(w)) })
	}
	var ferr error
	var panicked any
	err := b.inner.Update(ctx, func(ctx context.Context, w store.Writer) error {
		defer func() { panicked = recover() }()
		ferr = fn(ctx, b.w(w))
		return nil
	})
	if panicked != nil {
		panic(panicked)
	}
	if err != nil {
		return err
	}
	return ferr
}

// leaky applies every Update to two stores, and commits it in the one Views read
// even when it fails.
type leaky struct{ views, updates *memstore.Store }

func (l *leaky) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return l.views.View(ctx, fn)
}

func (l *leaky) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	err := l.updates.Update(ctx, fn)
	_ = l.views.Update(ctx, func(ctx context.Context, w store.Writer) error { _ = fn(ctx, w); return nil })
	return err
}

// caseSensitiveEmail stores emails with a suffix that records their case, so that
// the inner store's case-insensitive index sees "Ann@x" and "ann@x" as different.
type caseSensitiveEmail struct{ store.Writer }

func caseCode(e string) string {
	var b strings.Builder
	b.WriteString(e + "\x00")
	for _, r := range e {
		if strings.ToUpper(string(r)) == string(r) && strings.ToLower(string(r)) != string(r) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

func caseDecode(u store.User, err error) (store.User, error) {
	u.Email, _, _ = strings.Cut(u.Email, "\x00")
	return u, err
}

func (c caseSensitiveEmail) InsertUser(ctx context.Context, u store.User) error {
	u.Email = caseCode(u.Email)
	return c.Writer.InsertUser(ctx, u)
}

func (c caseSensitiveEmail) UpdateUser(ctx context.Context, u store.User) error {
	u.Email = caseCode(u.Email)
	return c.Writer.UpdateUser(ctx, u)
}

func (c caseSensitiveEmail) User(ctx context.Context, id string) (store.User, error) {
	return caseDecode(c.Writer.User(ctx, id))
}

func (c caseSensitiveEmail) UserByEmail(ctx context.Context, e string) (store.User, error) {
	return caseDecode(c.Writer.UserByEmail(ctx, caseCode(e)))
}

func (c caseSensitiveEmail) UserByOAuth(ctx context.Context, p, s string) (store.User, error) {
	return caseDecode(c.Writer.UserByOAuth(ctx, p, s))
}

// plainNotFound returns its own error for a missing user.
type plainNotFound struct{ store.Writer }

func (p plainNotFound) User(ctx context.Context, id string) (store.User, error) {
	u, err := p.Writer.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = errors.New("no such user")
	}
	return u, err
}

// aliasing keeps the caller's User.OAuth slice and returns it.
type aliasing struct {
	store.Writer
	b *broken
}

func (a aliasing) InsertUser(ctx context.Context, u store.User) error {
	err := a.Writer.InsertUser(ctx, u)
	if err == nil {
		a.b.mu.Lock()
		if a.b.oauth == nil {
			a.b.oauth = map[string][]store.OAuthLink{}
		}
		a.b.oauth[u.ID] = u.OAuth
		a.b.mu.Unlock()
	}
	return err
}

func (a aliasing) User(ctx context.Context, id string) (store.User, error) {
	u, err := a.Writer.User(ctx, id)
	a.b.mu.Lock()
	if l, ok := a.b.oauth[id]; ok && err == nil {
		u.OAuth = l
	}
	a.b.mu.Unlock()
	return u, err
}

// orphanTokens keeps the tokens of a deleted account.
type orphanTokens struct {
	store.Writer
	b *broken
}

func (o orphanTokens) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	var toks []store.Token
	for t, err := range o.Writer.Tokens(ctx, ref) {
		if err != nil {
			return err
		}
		toks = append(toks, t)
	}
	if err := o.Writer.DeleteAccount(ctx, ref); err != nil {
		return err
	}
	o.b.mu.Lock()
	defer o.b.mu.Unlock()
	if o.b.orphans == nil {
		o.b.orphans = map[string]store.Token{}
	}
	for _, t := range toks {
		o.b.orphans[t.ID] = t
	}
	return nil
}

func (o orphanTokens) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := o.Writer.Token(ctx, id)
	o.b.mu.Lock()
	defer o.b.mu.Unlock()
	if ot, ok := o.b.orphans[id]; ok && errors.Is(err, store.ErrNotFound) {
		return ot, nil
	}
	return t, err
}

// zeroExpiry takes a token that never expires for one that expires at time zero:
// TokensExpiring from time zero lists the never-expiring tokens first.
type zeroExpiry struct {
	store.Writer
	b *broken
}

func (z zeroExpiry) InsertToken(ctx context.Context, t store.Token) error {
	z.b.mu.Lock()
	if z.b.tokens == nil {
		z.b.tokens = map[string]bool{}
	}
	z.b.tokens[t.ID] = true
	z.b.mu.Unlock()
	return z.Writer.InsertToken(ctx, t)
}

func (z zeroExpiry) TokensExpiring(ctx context.Context, from, to time.Time) iter.Seq2[store.Token, error] {
	return func(yield func(store.Token, error) bool) {
		if !from.After(time.Time{}) && to.After(time.Time{}) {
			z.b.mu.Lock()
			ids := slices.Sorted(maps.Keys(z.b.tokens))
			z.b.mu.Unlock()
			for _, id := range ids {
				t, err := z.Writer.Token(ctx, id)
				if errors.Is(err, store.ErrNotFound) || err == nil && !t.Expires.IsZero() {
					continue
				}
				if !yield(t, err) || err != nil {
					return
				}
			}
		}
		for t, err := range z.Writer.TokensExpiring(ctx, from, to) {
			if !yield(t, err) {
				return
			}
		}
	}
}

// keepLinks' DeleteUser leaves the invite links the user created.
type keepLinks struct {
	store.Writer
	b *broken
}

func (k keepLinks) InsertInviteLink(ctx context.Context, l store.InviteLink) error {
	k.b.mu.Lock()
	if k.b.links == nil {
		k.b.links = map[string]bool{}
	}
	k.b.links[l.ID] = true
	k.b.mu.Unlock()
	return k.Writer.InsertInviteLink(ctx, l)
}

func (k keepLinks) DeleteUser(ctx context.Context, id string) error {
	k.b.mu.Lock()
	ids := slices.Sorted(maps.Keys(k.b.links))
	k.b.mu.Unlock()
	var keep []store.InviteLink
	for _, lid := range ids {
		l, err := k.Writer.InviteLink(ctx, lid)
		if err == nil && l.CreatedBy == id {
			keep = append(keep, l)
		}
	}
	if err := k.Writer.DeleteUser(ctx, id); err != nil {
		return err
	}
	for _, l := range keep {
		if err := k.Writer.InsertInviteLink(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// changeLogIgnoresTime's ReadChanges gives every event with Changes, whatever its
// time.
type changeLogIgnoresTime struct{ *memstore.Store }

func (c changeLogIgnoresTime) ReadChanges(ctx context.Context, _ time.Time, fn func(uint64, time.Time, []store.Change)) error {
	return c.Store.ReadChanges(ctx, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), fn)
}

// dropTyped keeps events without their Changes, and returns them as given.
type dropTyped struct{ store.Writer }

func (d dropTyped) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	kept := e
	kept.Changes = nil
	got, err := d.Writer.AppendEvent(ctx, kept)
	got.Changes = e.Changes
	return got, err
}

// aliasChanges keeps the appender's Changes slice: the first event's, in place of
// the copy the store keeps.
type aliasChanges struct {
	store.Writer
	b *broken
}

func (a aliasChanges) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	got, err := a.Writer.AppendEvent(ctx, e)
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	if err == nil && a.b.aliased == nil {
		a.b.aliased = e.Changes
	}
	return got, err
}

func (a aliasChanges) Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	evs, err := a.Writer.Events(ctx, tenant, after, limit)
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	if len(evs) > 0 && a.b.aliased != nil {
		evs[0].Changes = a.b.aliased
	}
	return evs, err
}

// touchJoins' TouchMember makes the membership when there is none.
type touchJoins struct{ store.Writer }

func (t touchJoins) TouchMember(ctx context.Context, tenant rbac.Ref, user string, at time.Time) error {
	err := t.Writer.TouchMember(ctx, tenant, user, at)
	if errors.Is(err, store.ErrNotFound) {
		return t.Writer.InsertMember(ctx, store.Member{Tenant: tenant, User: user, Created: at, LastActive: at})
	}
	return err
}

// leafFirst returns paths leaf first.
type leafFirst struct{ store.Writer }

func (l leafFirst) Path(ctx context.Context, scope rbac.Ref, buf rbac.Path) (rbac.Path, error) {
	p, err := l.Writer.Path(ctx, scope, buf)
	slices.Reverse(p)
	return p, err
}

// noSubtree ignores ScopeGrants' subtree flag.
type noSubtree struct{ store.Writer }

func (n noSubtree) ScopeGrants(ctx context.Context, scope rbac.Ref, _ bool) iter.Seq2[store.Grant, error] {
	return n.Writer.ScopeGrants(ctx, scope, false)
}

// reachFilter drops the grants keep refuses from Reach.
type reachFilter struct {
	store.Writer
	keep func(rbac.Grant) bool
}

func (f reachFilter) Reach(ctx context.Context, h rbac.Holder, s rbac.Ref, p rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	p, gs, err := f.Writer.Reach(ctx, h, s, p, gs)
	return p, slices.DeleteFunc(gs, func(g rbac.Grant) bool { return !f.keep(g) }), err
}

// skipOne loses the first member of every page after the first.
type skipOne struct{ store.Writer }

func (s skipOne) Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]store.Member, error) {
	if after == "" {
		return s.Writer.Members(ctx, tenant, after, limit)
	}
	page, err := s.Writer.Members(ctx, tenant, after, limit+1)
	if len(page) > 0 {
		page = page[1:]
	}
	return page, err
}

// keepGrants deletes the membership but puts the member's grants back.
type keepGrants struct{ store.Writer }

func (k keepGrants) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	var gs []store.Grant
	for g, err := range k.Writer.HolderGrants(ctx, rbac.User(user), tenant) {
		if err != nil {
			return err
		}
		gs = append(gs, g)
	}
	if err := k.Writer.DeleteMember(ctx, tenant, user); err != nil {
		return err
	}
	for _, g := range gs {
		if err := k.Writer.PutGrant(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// sideLog keeps every appended event outside the transaction.
type sideLog struct {
	store.Writer
	b *broken
}

func (s sideLog) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	e, err := s.Writer.AppendEvent(ctx, e)
	if err == nil {
		s.b.mu.Lock()
		s.b.events = append(s.b.events, e)
		s.b.mu.Unlock()
	}
	return e, err
}

func (s sideLog) Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	var out []store.Event
	for _, e := range s.b.events {
		if e.Tenant == tenant && e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// panicCount panics in CountMembers, as a store with a bug might: Check reports the
// panic as the clause's failure and goes on with the next clause.
type panicCount struct{ store.Writer }

func (panicCount) CountMembers(context.Context, rbac.Ref) (int, error) {
	panic("count-members-panics: deliberate bug")
}

// staleReads serves Writer.Account from a snapshot read before its Update takes the
// write lock, and nothing checks at commit that the snapshot is still current: two
// concurrent read-modify-write Updates both read the same value, and one update is
// lost. One at a time, it answers as the inner store: the snapshot is current, and an
// account the transaction writes is read from the inner store after that.
type staleReads struct {
	inner *memstore.Store
	mu    sync.Mutex
	known map[rbac.Ref]bool // every account ever inserted
}

func (s *staleReads) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return s.inner.View(ctx, fn)
}

func (s *staleReads) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	s.mu.Lock()
	refs := slices.Collect(maps.Keys(s.known))
	s.mu.Unlock()
	snap := map[rbac.Ref]store.Account{}
	_ = s.inner.View(ctx, func(ctx context.Context, r store.Reader) error {
		for _, ref := range refs {
			if a, err := r.Account(ctx, ref); err == nil {
				snap[ref] = a
			}
		}
		return nil
	})
	runtime.Gosched() // the window in which another Update commits
	return s.inner.Update(ctx, func(ctx context.Context, w store.Writer) error {
		return fn(ctx, &staleWriter{Writer: w, s: s, snap: maps.Clone(snap)})
	})
}

type staleWriter struct {
	store.Writer
	s    *staleReads
	snap map[rbac.Ref]store.Account
}

func (w *staleWriter) Account(ctx context.Context, ref rbac.Ref) (store.Account, error) {
	if a, ok := w.snap[ref]; ok {
		return a, nil
	}
	return w.Writer.Account(ctx, ref)
}

func (w *staleWriter) InsertAccount(ctx context.Context, a store.Account) error {
	w.s.mu.Lock()
	w.s.known[a.Ref] = true
	w.s.mu.Unlock()
	delete(w.snap, a.Ref)
	return w.Writer.InsertAccount(ctx, a)
}

func (w *staleWriter) UpdateAccount(ctx context.Context, a store.Account) error {
	delete(w.snap, a.Ref)
	return w.Writer.UpdateAccount(ctx, a)
}

func (w *staleWriter) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	clear(w.snap) // the cascade may take sub-accounts too
	return w.Writer.DeleteAccount(ctx, ref)
}

// checkerReachWithoutTeams is a memstore whose Checker.Reach drops team grants.
type checkerReachWithoutTeams struct{ *memstore.Store }

func (c checkerReachWithoutTeams) Reach(ctx context.Context, h rbac.Holder, s rbac.Ref, p rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	p, gs, err := c.Store.Reach(ctx, h, s, p, gs)
	return p, slices.DeleteFunc(gs, func(g rbac.Grant) bool { return g.Holder.Kind == rbac.HolderTeam }), err
}

// checkerAllowsAll is a memstore whose Checker.Check allows every check on a scope that
// exists.
type checkerAllowsAll struct{ *memstore.Store }

func (c checkerAllowsAll) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	d, err := c.Store.Check(ctx, h, a, s, now)
	if err == nil {
		d.Allowed = true
	}
	return d, err
}

// checkerWithoutContext is a memstore whose Checker ignores cancellation.
type checkerWithoutContext struct{ *memstore.Store }

func (c checkerWithoutContext) Reach(ctx context.Context, h rbac.Holder, s rbac.Ref, p rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	return c.Store.Reach(context.WithoutCancel(ctx), h, s, p, gs)
}

func (c checkerWithoutContext) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	return c.Store.Check(context.WithoutCancel(ctx), h, a, s, now)
}

func (c checkerWithoutContext) Sees(ctx context.Context, h rbac.Holder, s rbac.Ref) (bool, error) {
	return c.Store.Sees(context.WithoutCancel(ctx), h, s)
}

// checkerIgnoresTokenCreators is a memstore whose Checker decides for a token on its
// own grants alone, as if its creator's access did not matter.
type checkerIgnoresTokenCreators struct{ *memstore.Store }

func (c checkerIgnoresTokenCreators) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	p, gs, err := c.Store.Reach(ctx, h, s, nil, nil)
	if err != nil {
		return rbac.Decision{}, err
	}
	return rbac.Decide(a, p, gs), nil
}

// checkerSeesEverything is a memstore whose Checker says every holder sees every scope.
type checkerSeesEverything struct{ *memstore.Store }

func (c checkerSeesEverything) Sees(context.Context, rbac.Holder, rbac.Ref) (bool, error) {
	return true, nil
}

// checkerIgnoresPolicies is a memstore whose Checker decides as store.Check would if
// no tenant had a security policy and no token an IP allowlist of its own.
type checkerIgnoresPolicies struct{ *memstore.Store }

func (c checkerIgnoresPolicies) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	var d rbac.Decision
	err := c.Store.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		d, err = store.Check(ctx, withoutPolicies{r}, h, a, s, now)
		return err
	})
	return d, err
}

// withoutPolicies is a Reader that hides security policies and tokens' allowlists.
type withoutPolicies struct{ store.Reader }

func (withoutPolicies) SecurityPolicy(context.Context, rbac.Ref) (store.SecurityPolicy, error) {
	return store.SecurityPolicy{}, store.ErrNotFound
}

func (r withoutPolicies) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := r.Reader.Token(ctx, id)
	t.IPAllowlist = nil
	return t, err
}

// keepPolicies' DeleteAccount leaves the security policy of the account it deletes
// (with subOnly, those of an organization's sub-accounts instead), as a row without
// a cascade would stay: Reader.SecurityPolicy finds it until a new one is put.
type keepPolicies struct {
	store.Writer
	b       *broken
	subOnly bool
}

func (k keepPolicies) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	tenants := []rbac.Ref{ref}
	if k.subOnly {
		tenants = nil
		for a, err := range k.Writer.SubAccounts(ctx, ref.ID) {
			if err != nil {
				return err
			}
			if ref.Kind == rbac.KindOrganization {
				tenants = append(tenants, a.Ref)
			}
		}
	}
	var keep []store.SecurityPolicy
	for _, t := range tenants {
		if p, err := k.Writer.SecurityPolicy(ctx, t); err == nil {
			keep = append(keep, p)
		}
	}
	if err := k.Writer.DeleteAccount(ctx, ref); err != nil {
		return err
	}
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	if k.b.pols == nil {
		k.b.pols = map[rbac.Ref]store.SecurityPolicy{}
	}
	for _, p := range keep {
		k.b.pols[p.Tenant] = p
	}
	return nil
}

func (k keepPolicies) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	err := k.Writer.PutSecurityPolicy(ctx, p)
	if err == nil {
		k.b.mu.Lock()
		delete(k.b.pols, p.Tenant)
		k.b.mu.Unlock()
	}
	return err
}

func (k keepPolicies) SecurityPolicy(ctx context.Context, tenant rbac.Ref) (store.SecurityPolicy, error) {
	p, err := k.Writer.SecurityPolicy(ctx, tenant)
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	if kept, ok := k.b.pols[tenant]; ok && errors.Is(err, store.ErrNotFound) {
		return kept, nil
	}
	return p, err
}

// checkerWithoutAddress is a memstore whose Checker applies the security policies
// without the user's address, as rbac.ApplyPolicy does: every user of a tenant that
// enforces single sign-on is refused unless signed in through its connection.
type checkerWithoutAddress struct{ *memstore.Store }

func (c checkerWithoutAddress) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	var d rbac.Decision
	err := c.Store.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		d, err = store.Check(ctx, withoutUsers{r}, h, a, s, now)
		return err
	})
	return d, err
}

// withoutUsers is a Reader that finds no user.
type withoutUsers struct{ store.Reader }

func (withoutUsers) User(context.Context, string) (store.User, error) {
	return store.User{}, store.ErrNotFound
}

// checkerIgnoresEnforcedSSO is a memstore whose Checker reads security policies
// without their EnforceSSO.
type checkerIgnoresEnforcedSSO struct{ *memstore.Store }

func (c checkerIgnoresEnforcedSSO) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	var d rbac.Decision
	err := c.Store.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		d, err = store.Check(ctx, withoutEnforcedSSO{r}, h, a, s, now)
		return err
	})
	return d, err
}

// withoutEnforcedSSO is a Reader whose security policies enforce no single sign-on.
type withoutEnforcedSSO struct{ store.Reader }

func (r withoutEnforcedSSO) SecurityPolicy(ctx context.Context, tenant rbac.Ref) (store.SecurityPolicy, error) {
	p, err := r.Reader.SecurityPolicy(ctx, tenant)
	p.EnforceSSO = nil
	return p, err
}

// keepDomains' DeleteAccount leaves the verified domains of the account it deletes
// (and of an organization's sub-accounts), as rows without a cascade would stay:
// Reader.Domain finds them until they are put again.
type keepDomains struct {
	store.Writer
	b *broken
}

func (k keepDomains) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	tenants := []rbac.Ref{ref}
	if ref.Kind == rbac.KindOrganization {
		for a, err := range k.Writer.SubAccounts(ctx, ref.ID) {
			if err != nil {
				return err
			}
			tenants = append(tenants, a.Ref)
		}
	}
	var keep []store.Domain
	for _, t := range tenants {
		for d, err := range k.Writer.Domains(ctx, t) {
			if err != nil {
				return err
			}
			keep = append(keep, d)
		}
	}
	if err := k.Writer.DeleteAccount(ctx, ref); err != nil {
		return err
	}
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	if k.b.domains == nil {
		k.b.domains = map[string]store.Domain{}
	}
	for _, d := range keep {
		k.b.domains[d.Name] = d
	}
	return nil
}

func (k keepDomains) PutDomain(ctx context.Context, d store.Domain) error {
	err := k.Writer.PutDomain(ctx, d)
	if err == nil {
		k.b.mu.Lock()
		delete(k.b.domains, strings.ToLower(d.Name))
		k.b.mu.Unlock()
	}
	return err
}

func (k keepDomains) Domain(ctx context.Context, name string) (store.Domain, error) {
	d, err := k.Writer.Domain(ctx, name)
	k.b.mu.Lock()
	defer k.b.mu.Unlock()
	if kept, ok := k.b.domains[strings.ToLower(name)]; ok && errors.Is(err, store.ErrNotFound) {
		return kept, nil
	}
	return d, err
}

// withoutMapped reads memberships without their Mapped grants.
type withoutMapped struct{ store.Writer }

func (w withoutMapped) Member(ctx context.Context, tenant rbac.Ref, user string) (store.Member, error) {
	m, err := w.Writer.Member(ctx, tenant, user)
	m.Mapped = nil
	return m, err
}

func (w withoutMapped) Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]store.Member, error) {
	ms, err := w.Writer.Members(ctx, tenant, after, limit)
	for i := range ms {
		ms[i].Mapped = nil
	}
	return ms, err
}
