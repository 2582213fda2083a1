package replica_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/account/accounttest"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/replica"
)

// quiet is the replicas' logger in tests: the follower's warnings are expected there.
var quiet = slog.New(slog.DiscardHandler)

// gated is one instance's view of a shared backing store, whose change feed a test
// can hold back (Changes reads nothing new, as if the instance were cut off from
// the commits of others), break (Changes fails) or make forget its history once. The
// backing store's other interfaces are found through Unwrap.
type gated struct {
	store.Store
	feed   store.Feed
	mu     sync.Mutex
	held   bool
	broken error
	forget bool
}

func newGated(st store.Store) *gated {
	f, _ := store.FeedOf(st)
	return &gated{Store: st, feed: f}
}

func (g *gated) Unwrap() store.Store { return g.Store }

func (g *gated) state() (held bool, broken error, forget bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	forget, g.forget = g.forget, false
	return g.held, g.broken, forget
}

func (g *gated) set(fn func(g *gated)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn(g)
}

func (g *gated) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	held, broken, forget := g.state()
	switch {
	case broken != nil:
		return nil, broken
	case held:
		return nil, nil
	case forget && limit == 1:
		return nil, nil // the event at after+1 is not there: the history was replaced
	}
	return g.feed.Changes(ctx, after, limit)
}

// Wait waits as the backing store's Wait does once the feed is open again.
func (g *gated) Wait(ctx context.Context, after uint64) error {
	for {
		held, broken, _ := g.state()
		if !held && broken == nil {
			return g.feed.Wait(ctx, after)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// instances is two instances of a service on one backing store, each with its
// replica and its account.Service, and a service on the backing store itself.
type instances struct {
	backing store.Store // the host's
	gates   [2]*gated
	reps    [2]*replica.Store
	svcs    [2]*account.Service
	host    *account.Service
}

// newInstances opens two instances on a new in-memory store.
func newInstances(t *testing.T, opts replica.Options) *instances {
	m := memstore.New()
	return newInstancesOn(t, opts, m, [2]store.Store{m, m})
}

// newInstancesOn opens the instances' replicas of stores (two connections to one
// database, or one store twice), with host as the backing store's own service.
func newInstancesOn(t *testing.T, opts replica.Options, host store.Store, stores [2]store.Store) *instances {
	t.Helper()
	in := &instances{backing: host}
	in.host = account.New(host, account.Options{})
	for i := range in.reps {
		in.gates[i] = newGated(stores[i])
		opts.Logger = quiet
		r, err := replica.Open(t.Context(), in.gates[i], opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		in.reps[i] = r
		in.svcs[i] = account.New(r, account.Options{})
	}
	return in
}

// head returns the Seq of the last event of the backing store's feed.
func (in *instances) head(t *testing.T) uint64 {
	t.Helper()
	f, _ := store.FeedOf(in.backing)
	var head uint64
	for {
		evs, err := f.Changes(t.Context(), head, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return head
		}
		head = evs[len(evs)-1].Seq
	}
}

// world is an owner's account with a project and an inbox, and Mallory, an admin of
// the project.
type world struct {
	owner, mallory rbac.Holder
	acct, proj     rbac.Ref
	inbox          rbac.Ref
}

func must[R any](t *testing.T) func(R, error) R {
	return func(r R, err error) R {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func (in *instances) world(t *testing.T) world {
	ctx := t.Context()
	svc := in.svcs[0]
	reg := must[profile.Registered](t)(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "olga@acme.test", Name: "Olga"}))
	w := world{owner: rbac.User(reg.User.ID), acct: reg.Account.Ref}
	must[struct{}](t)(account.Do(ctx, svc, w.owner, account.SetPlan{Account: w.acct, Plan: "team"}))
	w.proj = must[store.Resource](t)(account.Do(ctx, svc, w.owner, account.CreateResource{Parent: w.acct, Kind: rbac.KindProject, Name: "Web"})).Ref
	w.inbox = must[store.Resource](t)(account.Do(ctx, svc, w.owner, account.CreateResource{Parent: w.proj, Kind: rbac.KindInbox, Name: "Support"})).Ref
	m := must[profile.Registered](t)(account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "mallory@acme.test", Name: "Mallory"}))
	w.mallory = rbac.User(m.User.ID)
	inv := must[account.NewInvitation](t)(account.Do(ctx, svc, w.owner, account.Invite{Tenant: w.acct, Email: "mallory@acme.test", Grants: []account.GrantSpec{{Scope: w.proj, Level: rbac.Admin}}}))
	must[struct{}](t)(account.Do(ctx, svc, w.mallory, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))
	return w
}

func allowed(t *testing.T, svc *account.Service, ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref) bool {
	t.Helper()
	d, err := svc.Check(ctx, h, a, s)
	if err != nil {
		t.Fatal(err)
	}
	return d.Allowed
}

// TestNewEnemy: Mallory is removed from the account on instance A; instance B, cut
// off from A's commits, still holds her access in its copy. A check on B that
// carries A's revision refuses her, as the database does; without the revision B
// answers from its stale copy and lets her in — the new-enemy problem the revision
// exists to solve.
func TestNewEnemy(t *testing.T) {
	newEnemy(t, newInstances(t, replica.Options{RevisionWait: 50 * time.Millisecond}))
}

func newEnemy(t *testing.T, in *instances) {
	ctx := t.Context()
	w := in.world(t)
	a, b := in.svcs[0], in.svcs[1]
	if err := in.reps[1].WaitFor(ctx, in.head(t)); err != nil {
		t.Fatal(err)
	}
	if !allowed(t, b, ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Fatal("before her removal, B refuses Mallory")
	}

	in.gates[1].set(func(g *gated) { g.held = true })
	_, rev, err := account.DoRevision(ctx, a, w.owner, account.RemoveMember{Tenant: w.acct, Member: w.mallory})
	if err != nil {
		t.Fatal(err)
	}
	if allowed(t, a, account.WithRevision(ctx, rev), w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("A lets Mallory in after removing her")
	}
	if !allowed(t, b, ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Fatal("B's copy already misses the removal, so this test would not notice a revision ignored")
	}
	fallbacks := in.reps[1].Status().Fallbacks
	if allowed(t, b, account.WithRevision(ctx, rev), w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("with A's revision, B lets Mallory in")
	}
	if got := in.reps[1].Status().Fallbacks; got != fallbacks+1 {
		t.Errorf("B's fallbacks went from %d to %d; want one more: its copy could not be that fresh", fallbacks, got)
	}

	// Once B follows again, it waits for the revision and answers from its copy.
	in.gates[1].set(func(g *gated) { g.held = false })
	fallbacks = in.reps[1].Status().Fallbacks
	if allowed(t, b, account.WithRevision(ctx, rev), w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("B, caught up, lets Mallory in")
	}
	if st := in.reps[1].Status(); st.Fallbacks != fallbacks || st.Revision < rev {
		t.Errorf("B caught up to %d (want ≥ %d) with %d more fallbacks (want 0)", st.Revision, rev, st.Fallbacks-fallbacks)
	}
	if allowed(t, b, ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("B's copy still lets Mallory in")
	}
}

// TestReadsOwnWrites: a change made through an instance is in its own copy when the
// operation returns, with no revision asked.
func TestReadsOwnWrites(t *testing.T) {
	in := newInstances(t, replica.Options{})
	ctx := t.Context()
	w := in.world(t)
	a := in.svcs[0]
	for i := range 20 {
		level := []rbac.Level{rbac.Viewer, rbac.Admin}[i%2]
		must[struct{}](t)(account.Do(ctx, a, w.owner, account.SetPermissions{Tenant: w.acct, Holder: w.mallory,
			Changes: []account.PermissionChange{{Scope: w.proj, Level: level}}}))
		want := level == rbac.Admin
		if got := allowed(t, a, ctx, w.mallory, rbac.ProjectRename, w.proj); got != want {
			t.Fatalf("step %d: A answers %v right after its own write; want %v", i, got, want)
		}
	}
	if f := in.reps[0].Status().Fallbacks; f != 0 {
		t.Errorf("%d checks went to the backing store", f)
	}
}

// eventually waits until cond holds, for up to 5 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStaleCopyGoesToTheBackingStore: while the feed fails, the copy cannot prove
// itself fresh; past MaxStaleness its checks go to the backing store, and answer as
// it does. Once the feed is back, the copy catches up and answers again.
func TestStaleCopyGoesToTheBackingStore(t *testing.T) {
	in := newInstances(t, replica.Options{MaxStaleness: 100 * time.Millisecond})
	ctx := t.Context()
	w := in.world(t)
	b, rb := in.svcs[1], in.reps[1]
	in.gates[1].set(func(g *gated) { g.broken = errors.New("connection reset") })
	eventually(t, "B is stale", func() bool { return rb.Status().Stale })
	if rb.Status().Err == nil {
		t.Error("a stale replica reports no error")
	}
	must[struct{}](t)(account.Do(ctx, in.host, w.owner, account.RemoveMember{Tenant: w.acct, Member: w.mallory}))
	fallbacks := rb.Status().Fallbacks
	if allowed(t, b, ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("a stale B answers from its copy: lets Mallory in")
	}
	if rb.Status().Fallbacks == fallbacks {
		t.Error("a stale B's check did not go to the backing store")
	}
	in.gates[1].set(func(g *gated) { g.broken = nil })
	eventually(t, "B is fresh again", func() bool { st := rb.Status(); return !st.Stale && st.Err == nil })
	fallbacks = rb.Status().Fallbacks
	if allowed(t, b, ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("B's copy, caught up, lets Mallory in")
	}
	if rb.Status().Fallbacks != fallbacks {
		t.Error("a fresh B's check went to the backing store")
	}
}

// TestGapReloads: when the feed no longer holds the revision the copy applied last,
// the replica loads a new copy, which holds what the copy missed.
func TestGapReloads(t *testing.T) {
	in := newInstances(t, replica.Options{MaxStaleness: 200 * time.Millisecond})
	ctx := t.Context()
	w := in.world(t)
	b, rb, g := in.svcs[1], in.reps[1], in.gates[1]
	g.set(func(g *gated) { g.broken = errors.New("server restarting") })
	eventually(t, "B saw the failure", func() bool { return rb.Status().Err != nil })
	must[struct{}](t)(account.Do(ctx, in.host, w.owner, account.RemoveMember{Tenant: w.acct, Member: w.mallory}))
	g.set(func(g *gated) { g.broken, g.forget = nil, true })
	eventually(t, "B reloaded", func() bool { st := rb.Status(); return st.Reloads == 1 && st.Err == nil && !st.Stale })
	if err := rb.WaitFor(ctx, in.reps[0].Status().Revision); err != nil {
		t.Fatal(err)
	}
	fallbacks := rb.Status().Fallbacks
	if allowed(t, b, ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("the reloaded copy lets Mallory in")
	}
	if rb.Status().Fallbacks != fallbacks {
		t.Error("the check went to the backing store")
	}
}

// TestUnappliableEventReloads: an event the copy cannot apply (a grant on a scope
// the copy does not hold) makes the replica load a new copy, which agrees with the
// backing store.
func TestUnappliableEventReloads(t *testing.T) {
	in := newInstances(t, replica.Options{})
	ctx := t.Context()
	w := in.world(t)
	err := in.backing.Update(ctx, func(ctx context.Context, tx store.Writer) error {
		_, err := tx.AppendEvent(ctx, store.Event{Time: time.Now(), Tenant: w.acct, Action: "test.bogus",
			Changes: []store.Change{{Kind: store.ChangeGrant, Holder: w.mallory, Scope: rbac.Ref{Kind: rbac.KindInbox, ID: "nowhere"}, After: rbac.Admin}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range in.reps {
		eventually(t, "a reload", func() bool { st := r.Status(); return st.Reloads == 1 && st.Err == nil })
	}
	must[struct{}](t)(account.Do(ctx, in.svcs[0], w.owner, account.RemoveMember{Tenant: w.acct, Member: w.mallory}))
	if allowed(t, in.svcs[0], ctx, w.mallory, rbac.InboxRead, w.inbox) {
		t.Error("after the reload, A lets Mallory in")
	}
}

// TestOpenNeedsFeedAndLoader: a store without a change feed or a loader cannot be
// replicated.
func TestOpenNeedsFeedAndLoader(t *testing.T) {
	type bare struct{ store.Store }
	if _, err := replica.Open(t.Context(), bare{memstore.New()}, replica.Options{}); !errors.Is(err, replica.ErrNoFeed) {
		t.Errorf("Open = %v; want ErrNoFeed", err)
	}
}

// pair is a store.Store made of two instances' replicas of one backing store: each
// write goes to the next instance in turn, and checks are answered by the second
// one once it has caught up with the feed. The account/profile state machine run on
// it compares, after every step, the checks of an instance with the model, whatever
// instance made the change.
type pair struct {
	backing store.Store // the host's
	feed    store.Feed
	reps    [2]*replica.Store
	n       int
	close   func()
}

func (p *pair) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	return p.backing.View(ctx, fn)
}

func (p *pair) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	p.n++
	if err := p.reps[p.n%2].Update(ctx, fn); err != nil {
		return err
	}
	return p.catchUp(ctx)
}

// catchUp waits until the checking replica has applied the whole feed.
func (p *pair) catchUp(ctx context.Context) error {
	var head uint64
	for {
		evs, err := p.feed.Changes(ctx, head, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		head = evs[len(evs)-1].Seq
	}
	return p.reps[1].WaitFor(ctx, head)
}

func (p *pair) Reach(ctx context.Context, h rbac.Holder, s rbac.Ref, path rbac.Path, gs []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	return p.reps[1].Reach(ctx, h, s, path, gs)
}

func (p *pair) Check(ctx context.Context, h rbac.Holder, a rbac.Action, s rbac.Ref, now time.Time) (rbac.Decision, error) {
	return p.reps[1].Check(ctx, h, a, s, now)
}

func (p *pair) Sees(ctx context.Context, h rbac.Holder, s rbac.Ref) (bool, error) {
	return p.reps[1].Sees(ctx, h, s)
}

func (p *pair) Unwrap() store.Store { return p.backing }

func (p *pair) Close() { p.close() }

// newPair opens a replica of each of stores (two connections to one database, or
// one store twice), with host as the backing store seen by reads; closing the pair
// closes them and then calls closeAll, when not nil.
func newPair(t *testing.T, host store.Store, stores [2]store.Store, closeAll func()) *pair {
	t.Helper()
	p := &pair{backing: host}
	p.feed, _ = store.FeedOf(host)
	for i := range p.reps {
		r, err := replica.Open(context.Background(), stores[i], replica.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		p.reps[i] = r
	}
	var once sync.Once
	p.close = func() {
		once.Do(func() {
			p.reps[0].Close()
			p.reps[1].Close()
			if closeAll != nil {
				closeAll()
			}
		})
	}
	t.Cleanup(p.close)
	return p
}

// TestInstancesAgree is the property that a change made on any instance is, once
// the feed is caught up, answered by every instance's checks as the model says: the
// account/profile state machine, with its invariants after every step, on pairs of
// replicas.
func TestInstancesAgree(t *testing.T) {
	accounttest.StateMachine(t, func(t *testing.T) store.Store {
		m := memstore.New()
		return newPair(t, m, [2]store.Store{m, m}, nil)
	})
}
