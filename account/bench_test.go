package account_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// The benchmarks load their fixtures straight through store.Writer, which is much
// faster than going through the account operations, and then run the account
// operations over the loaded store.

// grantsPerAccount is the number of grants the loader gives each account.
const grantsPerAccount = 10

// worldSizes are the grant counts BenchmarkCheck runs at.
var worldSizes = []struct {
	name   string
	grants int
}{
	{"1k", 1_000},
	{"100k", 100_000},
	{"1M", 1_000_000},
}

// benchTime is the fixed creation time of loaded records.
var benchTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Scope and user IDs of account i of a loaded world.
func acctID(i int) string    { return "a" + strconv.Itoa(i) }
func projID(i, p int) string { return "p" + strconv.Itoa(i) + "-" + strconv.Itoa(p) }
func inboxID(i, p, n int) string {
	return "i" + strconv.Itoa(i) + "-" + strconv.Itoa(p) + "-" + strconv.Itoa(n)
}
func domainID(i int) string         { return "d" + strconv.Itoa(i) }
func userID(i, u int) string        { return "u" + strconv.Itoa(i) + "-" + strconv.Itoa(u) }
func userEmail(i, u int) string     { return userID(i, u) + "@bench.test" }
func accountRef(i int) rbac.Ref     { return rbac.Account(acctID(i)) }
func inboxRef(i, p, n int) rbac.Ref { return rbac.Inbox(inboxID(i, p, n)) }

// loadChunk is the number of accounts loaded per Update, which bounds the size of a
// transaction's undo log.
const loadChunk = 5_000

// chunked runs fn over [0, n) in Updates of at most loadChunk accounts.
func chunked(ctx context.Context, st store.Store, n int, fn func(ctx context.Context, w store.Writer, i int) error) error {
	for lo := 0; lo < n; lo += loadChunk {
		hi := min(lo+loadChunk, n)
		err := st.Update(ctx, func(ctx context.Context, w store.Writer) error {
			for i := lo; i < hi; i++ {
				if err := fn(ctx, w, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// loadSkeleton inserts accounts [0, n): each with an owner and four more members, two
// projects of two inboxes each, a domain and the billing, templates and campaigns
// scopes that every account has.
func loadSkeleton(ctx context.Context, st store.Store, n int) error {
	return chunked(ctx, st, n, func(ctx context.Context, w store.Writer, i int) error {
		for u := range 5 {
			if err := w.InsertUser(ctx, store.User{ID: userID(i, u), Email: userEmail(i, u), Created: benchTime}); err != nil {
				return err
			}
		}
		a := accountRef(i)
		if err := w.InsertAccount(ctx, store.Account{Ref: a, Name: "Account " + a.ID, Owner: userID(i, 0), Plan: "enterprise", Created: benchTime}); err != nil {
			return err
		}
		for u := range 5 {
			if err := w.InsertMember(ctx, store.Member{Tenant: a, User: userID(i, u), Created: benchTime}); err != nil {
				return err
			}
		}
		res := []store.Resource{
			{Ref: rbac.Billing(a.ID), Parent: a},
			{Ref: rbac.Templates(a.ID), Parent: a},
			{Ref: rbac.Campaigns(a.ID), Parent: a},
			{Ref: rbac.Domain(domainID(i)), Parent: a},
		}
		for p := range 2 {
			res = append(res, store.Resource{Ref: rbac.Project(projID(i, p)), Parent: a})
			for k := range 2 {
				res = append(res, store.Resource{Ref: inboxRef(i, p, k), Parent: rbac.Project(projID(i, p))})
			}
		}
		for _, r := range res {
			r.Account, r.Name, r.Created = a.ID, r.Ref.ID, benchTime
			if err := w.InsertResource(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// accountGrants returns the grantsPerAccount grants of account i: account admin and
// viewer, project, inbox, domain, billing, templates and campaigns grants held by its
// four members.
func accountGrants(i int) [grantsPerAccount]store.Grant {
	a := accountRef(i)
	g := func(u int, scope rbac.Ref, l rbac.Level) store.Grant {
		return store.Grant{Grant: rbac.Grant{Holder: rbac.User(userID(i, u)), Scope: scope, Level: l}, Tenant: a}
	}
	gs := [grantsPerAccount]store.Grant{
		g(1, a, rbac.Admin),
		g(2, a, rbac.Viewer),
		g(3, rbac.Project(projID(i, 0)), rbac.Admin),
		g(3, rbac.Project(projID(i, 1)), rbac.Viewer),
		g(3, rbac.Domain(domainID(i)), rbac.Viewer),
		g(4, inboxRef(i, 0, 0), rbac.Viewer),
		g(4, inboxRef(i, 1, 1), rbac.Admin),
		g(4, rbac.Billing(a.ID), rbac.Viewer),
		g(3, rbac.Campaigns(a.ID), rbac.Admin),
		g(4, rbac.Templates(a.ID), rbac.Viewer),
	}
	gs[4].ViewContent = true
	return gs
}

// loadGrants puts the grants of accounts [0, n).
func loadGrants(ctx context.Context, st store.Store, n int) error {
	return chunked(ctx, st, n, func(ctx context.Context, w store.Writer, i int) error {
		for _, g := range accountGrants(i) {
			if err := w.PutGrant(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// world is a loaded store with the holders the check benchmarks ask about.
type world struct {
	svc *account.Service

	// user is a member of the middle account with a handful of grants: viewer on a
	// project, admin on the other project, viewer on the domain, and admin on a
	// project of the next account. inbox lies in the project it views.
	user  rbac.Holder
	inbox rbac.Ref

	// teamUser reaches teamInbox only through its team's viewer grant on the account.
	teamUser  rbac.Holder
	teamInbox rbac.Ref

	// orgUser reaches orgInbox, in a sub-account, only through a viewer grant on the
	// organization.
	orgUser  rbac.Holder
	orgInbox rbac.Ref

	// stranger is a user who belongs to no account and holds nothing.
	stranger rbac.Holder
}

// buildWorld loads a store with about grants grants spread over grants/10 accounts,
// plus the benchmarked holders.
func buildWorld(ctx context.Context, grants int) (*world, error) {
	st := memstore.New()
	n := grants / grantsPerAccount
	if err := loadSkeleton(ctx, st, n); err != nil {
		return nil, err
	}
	if err := loadGrants(ctx, st, n); err != nil {
		return nil, err
	}
	mid := n / 2
	w := &world{
		svc:       account.New(st, account.Options{}),
		user:      rbac.User("focus"),
		inbox:     inboxRef(mid, 0, 1),
		teamUser:  rbac.User("teamie"),
		teamInbox: inboxRef(mid, 1, 0),
		orgUser:   rbac.User("orgie"),
		orgInbox:  rbac.Inbox("sub-inbox"),
		stranger:  rbac.User("stranger"),
	}
	err := st.Update(ctx, func(ctx context.Context, tx store.Writer) error {
		a, next := accountRef(mid), accountRef(mid+1)
		for _, u := range []string{"focus", "teamie", "orgie", "org-owner", "stranger"} {
			if err := tx.InsertUser(ctx, store.User{ID: u, Email: u + "@bench.test", Created: benchTime}); err != nil {
				return err
			}
		}
		members := []store.Member{
			{Tenant: a, User: "focus"}, {Tenant: next, User: "focus"}, {Tenant: a, User: "teamie"},
		}
		org, sub := rbac.Org("org"), rbac.Account("sub")
		steps := []func() error{
			func() error {
				return tx.InsertAccount(ctx, store.Account{Ref: org, Name: "Org", Owner: "org-owner", Plan: "enterprise", Created: benchTime})
			},
			func() error {
				return tx.InsertAccount(ctx, store.Account{Ref: sub, Org: org.ID, Name: "Sub", Owner: "org-owner", Plan: "enterprise", Created: benchTime})
			},
			func() error {
				return tx.InsertResource(ctx, store.Resource{Ref: rbac.Project("sub-proj"), Parent: sub, Account: sub.ID, Name: "P"})
			},
			func() error {
				return tx.InsertResource(ctx, store.Resource{Ref: w.orgInbox, Parent: rbac.Project("sub-proj"), Account: sub.ID, Name: "I"})
			},
			func() error {
				return tx.InsertTeam(ctx, store.Team{ID: "team-support", Tenant: a, Name: "Support", Created: benchTime})
			},
			func() error { return tx.InsertTeamMember(ctx, "team-support", "teamie") },
		}
		for _, m := range append(members, store.Member{Tenant: org, User: "org-owner"}, store.Member{Tenant: org, User: "orgie"}) {
			m.Created = benchTime
			steps = append(steps, func() error { return tx.InsertMember(ctx, m) })
		}
		for _, g := range []store.Grant{
			{Grant: rbac.Grant{Holder: w.user, Scope: rbac.Project(projID(mid, 0)), Level: rbac.Viewer}, Tenant: a},
			{Grant: rbac.Grant{Holder: w.user, Scope: rbac.Project(projID(mid, 1)), Level: rbac.Admin}, Tenant: a},
			{Grant: rbac.Grant{Holder: w.user, Scope: rbac.Domain(domainID(mid)), Level: rbac.Viewer}, Tenant: a},
			{Grant: rbac.Grant{Holder: w.user, Scope: rbac.Project(projID(mid+1, 0)), Level: rbac.Admin}, Tenant: next},
			{Grant: rbac.Grant{Holder: rbac.Team("team-support"), Scope: a, Level: rbac.Viewer}, Tenant: a},
			{Grant: rbac.Grant{Holder: w.teamUser, Scope: rbac.Domain(domainID(mid)), Level: rbac.Admin}, Tenant: a},
			{Grant: rbac.Grant{Holder: w.orgUser, Scope: org, Level: rbac.Viewer}, Tenant: org},
		} {
			steps = append(steps, func() error { return tx.PutGrant(ctx, g) })
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// worlds caches one world per size, shared by the benchmarks of a run.
var worlds sync.Map // grants → func() (*world, error)

func getWorld(b testing.TB, grants int) *world {
	b.Helper()
	if grants >= 1_000_000 && testing.Short() {
		b.Skip("1M grants in -short mode")
	}
	f, _ := worlds.LoadOrStore(grants, sync.OnceValues(func() (*world, error) {
		return buildWorld(context.Background(), grants)
	}))
	w, err := f.(func() (*world, error))()
	if err != nil {
		b.Fatalf("loading %d grants: %v", grants, err)
	}
	return w
}

// checkCase is one check of the benchmarks, with its expected outcome.
type checkCase struct {
	name   string
	holder func(*world) rbac.Holder
	action rbac.Action
	scope  func(*world) rbac.Ref
	allow  bool
	rule   rbac.Rule
}

var checkCases = []checkCase{
	{"allow", func(w *world) rbac.Holder { return w.user }, rbac.InboxRead, func(w *world) rbac.Ref { return w.inbox }, true, rbac.RuleInherit},
	{"deny", func(w *world) rbac.Holder { return w.user }, rbac.InboxRename, func(w *world) rbac.Ref { return w.inbox }, false, rbac.RuleEffective},
	{"team", func(w *world) rbac.Holder { return w.teamUser }, rbac.InboxRead, func(w *world) rbac.Ref { return w.teamInbox }, true, rbac.RuleInherit},
	{"organization", func(w *world) rbac.Holder { return w.orgUser }, rbac.InboxRead, func(w *world) rbac.Ref { return w.orgInbox }, true, rbac.RuleOrgReach},
}

func (c checkCase) verify(tb testing.TB, d rbac.Decision, err error) {
	tb.Helper()
	if err != nil || d.Allowed != c.allow || d.Rule != c.rule {
		tb.Fatalf("%s: got %+v, %v; want allowed=%v by %s", c.name, d, err, c.allow, c.rule)
	}
}

// TestBenchWorld checks that the loaded fixture decides as the benchmarks expect.
func TestBenchWorld(t *testing.T) {
	w := getWorld(t, 1_000)
	for _, c := range checkCases {
		d, err := w.svc.Check(t.Context(), c.holder(w), c.action, c.scope(w))
		c.verify(t, d, err)
		e, err := w.svc.Explain(t.Context(), c.holder(w), c.action, c.scope(w))
		c.verify(t, e.Decision, err)
	}
	if d, _ := w.svc.Check(t.Context(), w.teamUser, rbac.InboxRead, w.teamInbox); d.Grant.Holder != rbac.Team("team-support") {
		t.Errorf("team check granted by %v, want the team", d.Grant)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		_, _ = w.svc.Check(t.Context(), w.user, rbac.InboxRead, w.inbox)
	}); allocs != 0 {
		t.Errorf("Check allocates %v times, want 0", allocs)
	}
	for _, c := range authorizeCases {
		err := w.svc.Authorize(t.Context(), c.holder(w), rbac.InboxRead, c.scope(w))
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("Authorize %s = %v, want %v", c.name, err, c.want)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() {
		_ = w.svc.Authorize(t.Context(), w.user, rbac.InboxRead, w.inbox)
	}); allocs != 0 {
		t.Errorf("an allowed Authorize allocates %v times, want 0", allocs)
	}
}

func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	for _, c := range checkCases[:2] {
		b.Run(c.name, func(b *testing.B) {
			for _, size := range worldSizes {
				b.Run("grants="+size.name, func(b *testing.B) {
					w := getWorld(b, size.grants)
					h, s := c.holder(w), c.scope(w)
					d, err := w.svc.Check(ctx, h, c.action, s)
					c.verify(b, d, err)
					b.ReportAllocs()
					for b.Loop() {
						d, err = w.svc.Check(ctx, h, c.action, s)
					}
					c.verify(b, d, err)
				})
			}
		})
	}
	for _, c := range checkCases[2:] {
		b.Run(c.name, func(b *testing.B) {
			w := getWorld(b, worldSizes[len(worldSizes)-1].grants)
			h, s := c.holder(w), c.scope(w)
			d, err := w.svc.Check(ctx, h, c.action, s)
			c.verify(b, d, err)
			b.ReportAllocs()
			for b.Loop() {
				d, err = w.svc.Check(ctx, h, c.action, s)
			}
			c.verify(b, d, err)
		})
	}
}

// BenchmarkCheckParallel runs the allow check on every P at once; compare -cpu=1,2.
// The decide-only case runs rbac.Decide on the same path and grants, which shares
// nothing between goroutines: its speedup is what the machine itself allows.
func BenchmarkCheckParallel(b *testing.B) {
	ctx := context.Background()
	c := checkCases[0]
	b.Run("decide-only", func(b *testing.B) {
		w := getWorld(b, worldSizes[0].grants)
		e, err := w.svc.Explain(ctx, c.holder(w), c.action, c.scope(w))
		c.verify(b, e.Decision, err)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			path, grants := slices.Clone(e.Path), slices.Clone(e.Grants)
			for pb.Next() {
				if !rbac.Decide(c.action, path, grants).Allowed {
					panic("denied")
				}
			}
		})
	})
	for _, size := range worldSizes {
		b.Run("grants="+size.name, func(b *testing.B) {
			w := getWorld(b, size.grants)
			h, s := c.holder(w), c.scope(w)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if d, err := w.svc.Check(ctx, h, c.action, s); !d.Allowed || err != nil {
						panic(fmt.Sprintf("check: %+v, %v", d, err))
					}
				}
			})
		})
	}
}

func BenchmarkExplain(b *testing.B) {
	ctx := context.Background()
	for _, c := range checkCases[:2] {
		b.Run(c.name, func(b *testing.B) {
			for _, size := range worldSizes {
				b.Run("grants="+size.name, func(b *testing.B) {
					w := getWorld(b, size.grants)
					h, s := c.holder(w), c.scope(w)
					var e account.Explanation
					var err error
					b.ReportAllocs()
					for b.Loop() {
						e, err = w.svc.Explain(ctx, h, c.action, s)
					}
					c.verify(b, e.Decision, err)
				})
				b.Run("reuse/grants="+size.name, func(b *testing.B) {
					w := getWorld(b, size.grants)
					h, s := c.holder(w), c.scope(w)
					var e account.Explanation
					var err error
					b.ReportAllocs()
					for b.Loop() {
						err = w.svc.ExplainTo(ctx, &e, h, c.action, s)
					}
					c.verify(b, e.Decision, err)
				})
			}
		})
	}
}

// authorizeCases are the requests BenchmarkAuthorize guards: one allowed, one by a
// stranger to the scope's account, and one on a scope that does not exist.
var authorizeCases = []struct {
	name   string
	holder func(*world) rbac.Holder
	scope  func(*world) rbac.Ref
	want   error
}{
	{"allowed", func(w *world) rbac.Holder { return w.user }, func(w *world) rbac.Ref { return w.inbox }, nil},
	{"stranger-not-found", func(w *world) rbac.Holder { return w.stranger }, func(w *world) rbac.Ref { return w.inbox }, account.ErrNotFound},
	{"missing-not-found", func(w *world) rbac.Holder { return w.user }, func(w *world) rbac.Ref { return rbac.Inbox("no-such-inbox") }, account.ErrNotFound},
}

// BenchmarkAuthorize guards an inbox read: allowed, and refused as not found to a
// stranger and for a scope that does not exist.
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	for _, c := range authorizeCases {
		b.Run(c.name, func(b *testing.B) {
			for _, size := range worldSizes {
				b.Run("grants="+size.name, func(b *testing.B) {
					w := getWorld(b, size.grants)
					h, s := c.holder(w), c.scope(w)
					var err error
					b.ReportAllocs()
					for b.Loop() {
						err = w.svc.Authorize(ctx, h, rbac.InboxRead, s)
					}
					if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
						b.Fatalf("Authorize = %v, want %v", err, c.want)
					}
				})
			}
		})
	}
}

// bigAccount is one account with many members, most of whom have access only to
// inboxes of their own project, so that one inbox has few members among many.
type bigAccount struct {
	st         store.Store
	svc        *account.Service
	acct       rbac.Ref
	owner      rbac.Holder
	admin      rbac.Holder // account admin
	inboxAdmin rbac.Holder // admin of inbox only
	inbox      rbac.Ref
	project    rbac.Ref    // the project of inbox, where target is a viewer
	target     rbac.Holder // a member with a few grants
	members    int
}

// inboxMembers is the number of members with access to bigAccount.inbox: the owner,
// the account admin, the inbox admin and the inbox's viewers.
const inboxMembers = 10

// buildBigAccount loads an account with members members spread over projects of 50
// members each (one inbox each); the first project's inbox has inboxMembers.
func buildBigAccount(ctx context.Context, members int) (*bigAccount, error) {
	st := memstore.New()
	a := rbac.Account("big")
	ba := &bigAccount{
		st: st, svc: account.New(st, account.Options{}), acct: a, members: members,
		owner: rbac.User("m0"), admin: rbac.User("m1"), inboxAdmin: rbac.User("m2"),
		inbox: rbac.Inbox("big-i0"), project: rbac.Project("big-p0"), target: rbac.User("m3"),
	}
	const perProject = 50
	err := st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, store.User{ID: "m0", Email: "m0@big.test", Created: benchTime}); err != nil {
			return err
		}
		if err := w.InsertAccount(ctx, store.Account{Ref: a, Name: "Big", Owner: "m0", Plan: "enterprise", Created: benchTime}); err != nil {
			return err
		}
		for _, k := range []rbac.Kind{rbac.KindBilling, rbac.KindTemplates, rbac.KindCampaigns} {
			if err := w.InsertResource(ctx, store.Resource{Ref: rbac.Ref{Kind: k, ID: a.ID}, Parent: a, Account: a.ID, Name: k.String(), Created: benchTime}); err != nil {
				return err
			}
		}
		if err := w.InsertResource(ctx, store.Resource{Ref: rbac.Domain("big-d"), Parent: a, Account: a.ID, Name: "mail.big.test", Created: benchTime}); err != nil {
			return err
		}
		for p := range (members + perProject - 1) / perProject {
			proj := rbac.Project("big-p" + strconv.Itoa(p))
			if err := w.InsertResource(ctx, store.Resource{Ref: proj, Parent: a, Account: a.ID, Name: proj.ID, Created: benchTime}); err != nil {
				return err
			}
			for k := range 2 {
				in := rbac.Inbox("big-i" + strconv.Itoa(2*p+k))
				if err := w.InsertResource(ctx, store.Resource{Ref: in, Parent: proj, Account: a.ID, Name: in.ID, Created: benchTime}); err != nil {
					return err
				}
			}
		}
		for m := range members {
			id := "m" + strconv.Itoa(m)
			if m > 0 {
				if err := w.InsertUser(ctx, store.User{ID: id, Email: id + "@big.test", Created: benchTime}); err != nil {
					return err
				}
			}
			if err := w.InsertMember(ctx, store.Member{Tenant: a, User: id, Created: benchTime}); err != nil {
				return err
			}
			var scope rbac.Ref
			level := rbac.Viewer
			switch {
			case m == 0:
				continue
			case m == 1:
				scope, level = a, rbac.Admin
			case m == 2:
				scope, level = ba.inbox, rbac.Admin
			case m < inboxMembers:
				scope = ba.inbox
			default:
				// The second inbox of the member's own project, never big-i0.
				scope = rbac.Inbox("big-i" + strconv.Itoa(2*(m/perProject)+1))
			}
			if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User(id), Scope: scope, Level: level}, Tenant: a}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ba, nil
}

var bigAccounts sync.Map // members → func() (*bigAccount, error)

func getBigAccount(tb testing.TB, members int) *bigAccount {
	tb.Helper()
	f, _ := bigAccounts.LoadOrStore(members, sync.OnceValues(func() (*bigAccount, error) {
		return buildBigAccount(context.Background(), members)
	}))
	ba, err := f.(func() (*bigAccount, error))()
	if err != nil {
		tb.Fatalf("loading an account of %d members: %v", members, err)
	}
	return ba
}

var memberSizes = []struct {
	name    string
	members int
}{
	{"100", 100},
	{"1k", 1_000},
	{"10k", 10_000},
}

// TestBenchBigAccount checks the member listings the benchmarks measure.
func TestBenchBigAccount(t *testing.T) {
	ba := getBigAccount(t, 1_000)
	got, err := listAll(t.Context(), ba.svc, ba.inboxAdmin, account.Members{Tenant: ba.acct})
	if err != nil || len(got) != inboxMembers {
		t.Fatalf("inbox admin lists %d members (%v), want %d", len(got), err, inboxMembers)
	}
	got, err = listAll(t.Context(), ba.svc, ba.admin, account.Members{Tenant: ba.acct})
	if err != nil || len(got) != ba.members {
		t.Fatalf("account admin lists %d members (%v), want %d", len(got), err, ba.members)
	}
	page, err := account.Get(t.Context(), ba.svc, ba.admin, account.Members{Tenant: ba.acct, Page: account.PageRequest{Limit: 100}})
	if err != nil || len(page.Items) != 100 || page.Next == "" {
		t.Fatalf("account admin's first page: %d members, next %q, %v", len(page.Items), page.Next, err)
	}
}

// listAll returns every item of the listing q.
func listAll[T any](ctx context.Context, svc *account.Service, actor rbac.Holder, q account.Lister[T]) ([]T, error) {
	var out []T
	for it, err := range account.All(ctx, svc, actor, q) {
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// BenchmarkMembers lists all the members of accounts of growing size, page after
// page: an inbox admin sees the inbox's inboxMembers members whatever the size; an
// account admin sees them all.
func BenchmarkMembers(b *testing.B) {
	ctx := context.Background()
	for _, who := range []string{"inbox-admin", "account-admin"} {
		b.Run(who, func(b *testing.B) {
			for _, size := range memberSizes {
				b.Run("members="+size.name, func(b *testing.B) {
					ba := getBigAccount(b, size.members)
					actor, want := ba.inboxAdmin, inboxMembers
					if who == "account-admin" {
						actor, want = ba.admin, ba.members
					}
					var got []account.Access
					var err error
					b.ReportAllocs()
					for b.Loop() {
						got, err = listAll(ctx, ba.svc, actor, account.Members{Tenant: ba.acct})
					}
					if err != nil || len(got) != want {
						b.Fatalf("listed %d members (%v), want %d", len(got), err, want)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(want), "ns/member")
				})
			}
		})
	}
}

// BenchmarkMembersPage reads one page of 100 members as an account admin, the first
// page and one from the middle of the listing, in accounts of 10k and 100k members:
// the cost is that of the page, whatever the account's size.
func BenchmarkMembersPage(b *testing.B) {
	ctx := context.Background()
	for _, size := range []struct {
		name    string
		members int
	}{{"10k", 10_000}, {"100k", 100_000}} {
		ba := getBigAccount(b, size.members)
		// The cursor of the middle of the listing, found by paging to it.
		q := account.Members{Tenant: ba.acct, Page: account.PageRequest{Limit: 100}}
		middle := ""
		for range size.members / 2 / 100 {
			p, err := account.Get(ctx, ba.svc, ba.admin, q)
			if err != nil {
				b.Fatal(err)
			}
			middle, q.Page.After = p.Next, p.Next
		}
		for _, at := range []struct{ name, after string }{{"first", ""}, {"middle", middle}} {
			b.Run("members="+size.name+"/page="+at.name, func(b *testing.B) {
				q := account.Members{Tenant: ba.acct, Page: account.PageRequest{After: at.after, Limit: 100}}
				var p account.Page[account.Access]
				var err error
				b.ReportAllocs()
				for b.Loop() {
					p, err = account.Get(ctx, ba.svc, ba.admin, q)
				}
				if err != nil || len(p.Items) != 100 || p.Next == "" {
					b.Fatalf("a page of %d members, next %q, %v; want 100", len(p.Items), p.Next, err)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/member")
			})
		}
	}
}

// BenchmarkResources builds the resource tree of an account of 20 projects with two
// inboxes each for a user who administers a project and an inbox of another.
func BenchmarkResources(b *testing.B) {
	ctx := context.Background()
	ba := getBigAccount(b, 1_000)
	actor := rbac.User("m60") // viewer of big-i3
	err := ba.st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		for _, s := range []rbac.Ref{rbac.Project("big-p7"), rbac.Inbox("big-i3")} {
			if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: actor, Scope: s, Level: rbac.Admin}, Tenant: ba.acct}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var nodes []account.Node
	b.ReportAllocs()
	for b.Loop() {
		nodes, err = account.Get(ctx, ba.svc, actor, account.Resources{Account: ba.acct})
	}
	if err != nil || len(nodes) != 2 {
		b.Fatalf("Resources: %d nodes, %v; want 2", len(nodes), err)
	}
}

// BenchmarkInvite invites a new address with two grants into accounts of growing
// size. The invitations are revoked, off the clock, a batch of inviteBatch at a time:
// stopping the timer after each invitation would cost more than the invitation.
func BenchmarkInvite(b *testing.B) {
	ctx := context.Background()
	const inviteBatch = 10
	for _, size := range memberSizes {
		b.Run("members="+size.name, func(b *testing.B) {
			ba := getBigAccount(b, size.members)
			req := account.Invite{Tenant: ba.acct, Grants: []account.GrantSpec{
				{Scope: ba.project, Level: rbac.Viewer},
				{Scope: rbac.Domain("big-d"), Level: rbac.Admin},
			}}
			revoke := func(ids []string) {
				for _, id := range ids {
					if _, err := account.Do(ctx, ba.svc, ba.admin, account.RevokeInvitation{Tenant: ba.acct, Invitation: rbac.Invite(id)}); err != nil {
						b.Fatal(err)
					}
				}
			}
			ids := make([]string, 0, inviteBatch)
			n := 0
			b.ReportAllocs()
			cpu, off := cpuNow(), time.Duration(0)
			for b.Loop() {
				n++
				req.Email = "new" + strconv.Itoa(n) + "@invite.test"
				inv, err := account.Do(ctx, ba.svc, ba.admin, req)
				if err != nil {
					b.Fatal(err)
				}
				if ids = append(ids, inv.ID); len(ids) == inviteBatch {
					t := cpuNow() // the timer's own work is off the clock too
					b.StopTimer()
					revoke(ids)
					ids = ids[:0]
					b.StartTimer()
					off += cpuNow() - t
				}
			}
			reportCPU(b, cpu, off, "", 0)
			revoke(ids)
		})
	}
}

// BenchmarkSetPermissions applies a bulk update of one grant, and of four grants, of
// a member, moving them between viewer and admin so that every iteration changes them
// all.
func BenchmarkSetPermissions(b *testing.B) {
	ctx := context.Background()
	all := []func(ba *bigAccount) []rbac.Ref{
		func(ba *bigAccount) []rbac.Ref { return []rbac.Ref{ba.project} },
		func(ba *bigAccount) []rbac.Ref {
			return []rbac.Ref{ba.project, rbac.Inbox("big-i1"), rbac.Domain("big-d"), rbac.Billing(ba.acct.ID)}
		},
	}
	for _, size := range memberSizes {
		for _, scopesOf := range all {
			ba := getBigAccount(b, size.members)
			scopes := scopesOf(ba)
			b.Run("members="+size.name+"/grants="+strconv.Itoa(len(scopes)), func(b *testing.B) {
				changes := [2][]account.PermissionChange{}
				for i, l := range []rbac.Level{rbac.Admin, rbac.Viewer} {
					for _, s := range scopes {
						changes[i] = append(changes[i], account.PermissionChange{Scope: s, Level: l})
					}
				}
				n := 0
				b.ReportAllocs()
				cpu := cpuNow()
				for b.Loop() {
					if _, err := account.Do(ctx, ba.svc, ba.admin, account.SetPermissions{Tenant: ba.acct, Holder: ba.target, Changes: changes[n%2]}); err != nil {
						b.Fatal(err)
					}
					n++
				}
				reportCPU(b, cpu, 0, "", 0)
			})
		}
	}
}

// reportCPU reports the CPU time the process used since start, less off, per
// operation (cpu-ns/op) and, when per is not empty, per unit of per (cpu-ns/PER, for
// n units an operation).
func reportCPU(b *testing.B, start, off time.Duration, per string, n int) {
	cpu := float64(cpuNow()-start-off) / float64(b.N)
	b.ReportMetric(cpu, "cpu-ns/op")
	if per != "" {
		b.ReportMetric(cpu/float64(n), "cpu-ns/"+per)
	}
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLoad1M loads 1M grants over 100k accounts (500k users, 1.1M scopes)
// through store.Writer. B/grant is the heap the whole store holds divided by the
// number of grants; grant-B/grant counts only what loading the grants added.
func BenchmarkLoad1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M grants in -short mode")
	}
	ctx := context.Background()
	const grants = 1_000_000
	n := grants / grantsPerAccount
	var total, grantsOnly float64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		b.StartTimer()
		st := memstore.New()
		if err := loadSkeleton(ctx, st, n); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		mid := heapInUse()
		b.StartTimer()
		if err := loadGrants(ctx, st, n); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		after := heapInUse()
		runtime.KeepAlive(st)
		total += float64(after - before)
		grantsOnly += float64(after - mid)
		b.StartTimer()
	}
	b.ReportMetric(total/float64(b.N)/grants, "B/grant")
	b.ReportMetric(grantsOnly/float64(b.N)/grants, "grant-B/grant")
}

// writeFloor is the least a write can cost: a mutex, one map insert and one audit
// event appended to a log of fixed-size chunks.
type writeFloor struct {
	mu     sync.Mutex
	grants map[[2]rbac.Ref]rbac.Level
	log    [][]store.Event
	seq    uint64
}

func (f *writeFloor) write(scope rbac.Ref, holder rbac.Holder, l rbac.Level, e store.Event) {
	f.mu.Lock()
	f.grants[[2]rbac.Ref{scope, {Kind: rbac.Kind(holder.Kind), ID: holder.ID}}] = l
	f.seq++
	e.Seq = f.seq
	if n := len(f.log); n == 0 || len(f.log[n-1]) == cap(f.log[n-1]) {
		f.log = append(f.log, make([]store.Event, 0, 256))
	}
	last := &f.log[len(f.log)-1]
	*last = append(*last, e)
	f.mu.Unlock()
}

// BenchmarkWrites sets the permissions of a member (one grant) and invites an address
// (two grants) in an account of 1k members, beside the floor of a write (writeFloor)
// run on the same grant with the same audit event, so that their ratio is read from
// one run.
func BenchmarkWrites(b *testing.B) {
	ctx := context.Background()
	ba := getBigAccount(b, 1_000)
	b.Run("floor", func(b *testing.B) {
		f := &writeFloor{grants: map[[2]rbac.Ref]rbac.Level{}}
		e := store.Event{Tenant: ba.acct, Actor: ba.admin, Action: "permissions.set", Target: ba.target.String(),
			Before: ba.project.String() + "=viewer", After: ba.project.String() + "=admin"}
		n := 0
		b.ReportAllocs()
		cpu := cpuNow()
		for b.Loop() {
			e.Time = time.Now()
			f.write(ba.project, ba.target, rbac.Level(1+n%2), e)
			n++
		}
		reportCPU(b, cpu, 0, "", 0)
	})
	b.Run("set-permissions", func(b *testing.B) {
		changes := [2][]account.PermissionChange{
			{{Scope: ba.project, Level: rbac.Admin}},
			{{Scope: ba.project, Level: rbac.Viewer}},
		}
		n := 0
		b.ReportAllocs()
		cpu := cpuNow()
		for b.Loop() {
			if _, err := account.Do(ctx, ba.svc, ba.admin, account.SetPermissions{Tenant: ba.acct, Holder: ba.target, Changes: changes[n%2]}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		reportCPU(b, cpu, 0, "", 0)
	})
}

// BenchmarkMembersFloor reads one page of 100 members as an account admin, from the
// middle of the listing, in accounts of 100 to 100k members, beside its floor: under
// the read lock, the page of the account's members in key order and each one's grants,
// straight from the store. Both report ns/member, so that their ratio is read from one
// run.
func BenchmarkMembersFloor(b *testing.B) {
	ctx := context.Background()
	const pageSize = 100
	for _, size := range []struct {
		name    string
		members int
	}{{"100", 100}, {"1k", 1_000}, {"10k", 10_000}, {"100k", 100_000}} {
		ba := getBigAccount(b, size.members)
		// The cursors of the middle page, found by paging to it: the listing's, and
		// the last user ID before it for the floor.
		q := account.Members{Tenant: ba.acct, Page: account.PageRequest{Limit: pageSize}}
		floorAfter := ""
		for range size.members / 2 / pageSize {
			p, err := account.Get(ctx, ba.svc, ba.admin, q)
			if err != nil {
				b.Fatal(err)
			}
			q.Page.After, floorAfter = p.Next, p.Items[len(p.Items)-1].Holder.ID
		}
		b.Run("members="+size.name+"/floor", func(b *testing.B) {
			var grants []store.Grant
			b.ReportAllocs()
			cpu := cpuNow()
			for b.Loop() {
				grants = grants[:0]
				err := ba.st.View(ctx, func(ctx context.Context, r store.Reader) error {
					page, err := r.Members(ctx, ba.acct, floorAfter, pageSize)
					if err != nil {
						return err
					}
					for _, m := range page {
						for g, err := range r.HolderGrants(ctx, rbac.User(m.User), ba.acct) {
							if err != nil {
								return err
							}
							grants = append(grants, g)
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu, 0, "member", pageSize)
			if len(grants) < pageSize-1 {
				b.Fatalf("the floor read %d grants, want %d or more", len(grants), pageSize-1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pageSize, "ns/member")
		})
		b.Run("members="+size.name+"/members", func(b *testing.B) {
			var p account.Page[account.Access]
			var err error
			b.ReportAllocs()
			cpu := cpuNow()
			for b.Loop() {
				p, err = account.Get(ctx, ba.svc, ba.admin, q)
			}
			reportCPU(b, cpu, 0, "member", pageSize)
			if err != nil || len(p.Items) != pageSize {
				b.Fatalf("a page of %d members, %v; want %d", len(p.Items), err, pageSize)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pageSize, "ns/member")
		})
	}
}
