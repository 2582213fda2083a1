package storetest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// loaderClauses are the clauses of the Loader group, about the optional store.Loader.
var loaderClauses = []clause{
	{name: "CopyAgrees", fn: loaderCopyAgrees},
	{name: "EmptyStore", fn: loaderEmpty},
	{name: "StopsAtWriterError", fn: loaderWriterError},
}

// needLoader returns the store's store.Loader, and skips the clause when it has none.
func (e *env) needLoader() store.Loader {
	l, ok := store.LoaderOf(e.s)
	if !ok {
		e.skipf("the store does not implement the optional store.Loader, itself or through store.Unwrapper (%T)", e.s)
	}
	return l
}

// loadWorld builds the Loader clauses' world: the standard world, the teams and
// grants of reachWorld, an organization-level team, the tokens of tokenWorld and one
// of a2 with an expiry and an allowlist, an invitation with grants, a user with OAuth
// links and two-factor authentication, a member with mapped grants and a LastActive,
// the security policies of policyWorld, and audit events between the writes, the
// last of them after a rolled-back one. It returns the holders to check (a copy has
// no invitations, so not the invitation) and the Seq of the last event committed.
func (e *env) loadWorld() (holders []rbac.Holder, last uint64) {
	e.world()
	ev := e.appendAll(newEvent(o1, 0), newEvent(a1, 1))
	holders = append(holders, e.reachWorld()...)
	holders = append(holders, rbac.User(uCy))
	e.do("more teams", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertTeam(ctx, store.Team{ID: "t2", Tenant: o1, Name: "Org ops", Created: t0}); err != nil {
			return err
		}
		for _, u := range []string{uDee, uAnn} {
			if err := w.InsertTeamMember(ctx, "t2", u); err != nil {
				return err
			}
		}
		if err := w.InsertTeam(ctx, store.Team{ID: "t3", Tenant: a2, Name: "Empty", Created: t0}); err != nil {
			return err
		}
		return w.InsertTeamMember(ctx, "t1", uCy)
	})
	e.put(grant(rbac.Team("t2"), a3, a3, rbac.Admin), grant(rbac.Team("t2"), o1, o1, rbac.Viewer),
		grant(rbac.Team("t3"), i2, a2, rbac.Viewer), grant(rbac.User(uBob), p3, a3, rbac.Viewer))
	holders = append(holders, rbac.Team("t2"), rbac.Team("t3"))
	holders = append(holders, e.tokenWorld()...)
	kLater := rbac.Token("k-later")
	e.do("a token with an expiry and an allowlist", func(ctx context.Context, w store.Writer) error {
		return w.InsertToken(ctx, store.Token{ID: kLater.ID, Tenant: a2, Name: "bob's", Hash: []byte{4, 5}, Last4: "bbbb",
			CreatedBy: uBob, Created: t0, Expires: checkNow.Add(time.Hour), LastUsed: t0.Add(time.Minute),
			IPAllowlist: []netip.Prefix{pfxDoc4}})
	})
	e.put(grant(kLater, i2, a2, rbac.Admin), grant(kLater, p2, a2, rbac.Viewer))
	holders = append(holders, kLater)
	e.do("an invitation with grants", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertInvitation(ctx, store.Invitation{ID: "inv-1", Tenant: a2, Email: "new@example.test",
			InvitedBy: rbac.User(uBob), Hash: []byte{9}, Created: t0}); err != nil {
			return err
		}
		return w.PutGrant(ctx, grant(rbac.Invite("inv-1"), p2, a2, rbac.Admin))
	})
	e.do("a user with OAuth links, a member's mapped grants and activity", func(ctx context.Context, w store.Writer) error {
		u, err := w.User(ctx, uCy)
		if err != nil {
			return err
		}
		u.TwoFactor, u.OAuth = true, []store.OAuthLink{{Provider: "github", Subject: "cy-1"}, {Provider: "okta", Subject: "cy-2"}}
		if err := w.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := w.SetMapped(ctx, a1, uCy, []store.MappedGrant{{Scope: p1, Level: rbac.Viewer}, {Scope: d1, Level: rbac.Admin}}); err != nil {
			return err
		}
		return w.TouchMember(ctx, a1, uCy, t0.Add(2*time.Minute))
	})
	ev = append(ev, e.appendAll(newEvent(a2, 2))...)
	e.policyWorld()
	ev = append(ev, e.appendAll(newEvent(rbac.Ref{}, 3), newEvent(a3, 4))...)
	err := e.try(func(ctx context.Context, w store.Writer) error {
		if _, err := w.AppendEvent(ctx, newEvent(a1, 5)); err != nil {
			return err
		}
		return errBoom
	})
	e.wantErr(err, errBoom, "store.go: Store.Update must return the closure's error")
	holders = append(holders, rbac.User("u-nobody"))
	return holders, ev[len(ev)-1].Seq
}

// loadScopes are the scopes of loadWorld, every one of them, parents first.
var loadScopes = []rbac.Ref{o1, a1, p1, i1, d1, a3, p3, a2, p2, i2}

// loadCall is one call of Load to its Writer, as loadRecorder saw it.
type loadCall struct {
	what  string   // the method and its record, for people to read
	key   string   // the record inserted, as loadKey names it; empty for none
	names []string // the records it names, as loadKey names them
}

// loadKey names a record that others name, for the order check.
func loadKey(kind, id string) string { return kind + " " + id }

func scopeKey(r rbac.Ref) string { return loadKey("scope", r.String()) }

func holderKey(h rbac.Holder) string {
	switch h.Kind {
	case rbac.HolderUser:
		return loadKey("user", h.ID)
	case rbac.HolderTeam:
		return loadKey("team", h.ID)
	case rbac.HolderToken:
		return loadKey("token", h.ID)
	}
	return loadKey("holder", h.String())
}

// loadRecorder is the Writer given to Load: it records the calls of the methods Load
// uses, and passes them on to Writer, failing the failAt-th of them (from 1; 0: none)
// with errLoadWriter instead.
type loadRecorder struct {
	store.Writer
	calls  []loadCall
	failAt int
}

// errLoadWriter is the error of a loadRecorder's failing call.
var errLoadWriter = errors.New("storetest: the Writer given to Load failed on purpose")

func (r *loadRecorder) call(what, key string, names ...string) error {
	r.calls = append(r.calls, loadCall{what: what, key: key, names: names})
	if len(r.calls) == r.failAt {
		return errLoadWriter
	}
	return nil
}

func (r *loadRecorder) InsertUser(ctx context.Context, u store.User) error {
	if err := r.call("InsertUser "+u.ID, loadKey("user", u.ID)); err != nil {
		return err
	}
	return r.Writer.InsertUser(ctx, u)
}

func (r *loadRecorder) InsertAccount(ctx context.Context, a store.Account) error {
	var names []string
	if a.Org != "" {
		names = append(names, scopeKey(rbac.Org(a.Org)))
	}
	if err := r.call("InsertAccount "+a.Ref.String(), scopeKey(a.Ref), names...); err != nil {
		return err
	}
	return r.Writer.InsertAccount(ctx, a)
}

func (r *loadRecorder) InsertResource(ctx context.Context, res store.Resource) error {
	if err := r.call("InsertResource "+res.Ref.String(), scopeKey(res.Ref), scopeKey(res.Parent)); err != nil {
		return err
	}
	return r.Writer.InsertResource(ctx, res)
}

func (r *loadRecorder) InsertMember(ctx context.Context, m store.Member) error {
	names := []string{scopeKey(m.Tenant), loadKey("user", m.User)}
	for _, g := range m.Mapped {
		names = append(names, scopeKey(g.Scope))
	}
	if err := r.call("InsertMember "+m.User+" of "+m.Tenant.String(), "", names...); err != nil {
		return err
	}
	return r.Writer.InsertMember(ctx, m)
}

func (r *loadRecorder) InsertTeam(ctx context.Context, t store.Team) error {
	if err := r.call("InsertTeam "+t.ID, loadKey("team", t.ID), scopeKey(t.Tenant)); err != nil {
		return err
	}
	return r.Writer.InsertTeam(ctx, t)
}

func (r *loadRecorder) InsertTeamMember(ctx context.Context, team, user string) error {
	if err := r.call("InsertTeamMember "+user+" of "+team, "", loadKey("team", team), loadKey("user", user)); err != nil {
		return err
	}
	return r.Writer.InsertTeamMember(ctx, team, user)
}

func (r *loadRecorder) InsertToken(ctx context.Context, t store.Token) error {
	if err := r.call("InsertToken "+t.ID, loadKey("token", t.ID), scopeKey(t.Tenant), loadKey("user", t.CreatedBy)); err != nil {
		return err
	}
	return r.Writer.InsertToken(ctx, t)
}

func (r *loadRecorder) PutGrant(ctx context.Context, g store.Grant) error {
	if err := r.call("PutGrant "+g.Holder.String()+" on "+g.Scope.String(), "", holderKey(g.Holder), scopeKey(g.Scope)); err != nil {
		return err
	}
	return r.Writer.PutGrant(ctx, g)
}

func (r *loadRecorder) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	if err := r.call("PutSecurityPolicy "+p.Tenant.String(), "", scopeKey(p.Tenant)); err != nil {
		return err
	}
	return r.Writer.PutSecurityPolicy(ctx, p)
}

// load runs l.Load with a loadRecorder (failing its failAt-th call; 0: none) on the
// Writer of an Update of dst, and returns the Seq, the calls and Update's error. The
// Update commits when Load returns nil and commit is true; else it rolls back, and
// returns errBoom when Load returned nil.
func (e *env) load(l store.Loader, dst store.Store, failAt int, commit bool) (uint64, []loadCall, error) {
	var seq uint64
	var rec *loadRecorder
	err := dst.Update(e.ctx, func(ctx context.Context, w store.Writer) error {
		rec = &loadRecorder{Writer: w, failAt: failAt} // this run's calls only, should the store run the closure again
		var err error
		if seq, err = l.Load(ctx, rec); err != nil {
			return err
		}
		if !commit {
			return errBoom
		}
		return nil
	})
	if rec == nil {
		return seq, nil, err
	}
	return seq, rec.calls, err
}

// checkLoadOrder reports the calls that name a record before Load inserted it, or
// name one it never inserted.
func (e *env) checkLoadOrder(calls []loadCall) {
	inserted := map[string]int{}
	for i, c := range calls {
		if c.key != "" {
			if _, ok := inserted[c.key]; !ok {
				inserted[c.key] = i
			}
		}
	}
	for i, c := range calls {
		for _, n := range c.names {
			at, ok := inserted[n]
			switch {
			case !ok:
				e.Errorf("store.go: Loader.Load must insert each record before those that name it, and only grants held by a user, a team or a token: call %d, %s, names %s, which Load never inserted", i+1, c.what, n)
			case at > i:
				e.Errorf("store.go: Loader.Load must insert each record before those that name it: call %d, %s, names %s, which call %d inserted", i+1, c.what, n, at+1)
			}
		}
	}
}

// loaderCopyAgrees: a store's Load into the Writer of a fresh store makes a copy on
// which every check decides as on the store, for users, teams and tokens, with and
// without an Auth under security policies; Reach answers alike; the records Load
// inserts read back as in the store; each record comes before those that name it;
// and the Seq returned is that of the last event committed.
func loaderCopyAgrees(e *env) {
	l := e.needLoader()
	holders, last := e.loadWorld()
	dst := e.fresh()
	seq, calls, err := e.load(l, dst, 0, true)
	e.checkLoadOrder(calls)
	if err != nil {
		e.Fatalf("Loader.Load into a fresh store's Writer failed: %v", err)
	}
	if seq != last {
		e.Errorf("store.go: Loader.Load must return the Seq of the last event committed as of its read: got %d, want %d", seq, last)
	}
	src := e.s
	copyEnv := &env{ctx: e.ctx, s: dst, newStore: e.newStore, rec: e.rec, tb: e.tb}

	actions := []rbac.Action{rbac.OrgView, rbac.AccountView, rbac.AccountTokensManage, rbac.ProjectView, rbac.InboxRead, rbac.DomainContentView}
	authActions := []rbac.Action{rbac.AccountView, rbac.ProjectView, rbac.InboxRead}
	auths := []*rbac.Auth{checkAuths[1], checkAuths[4], checkAuths[5]}
	for _, h := range holders {
		for _, s := range loadScopes {
			for _, a := range actions {
				e.loadSameCheck(src, dst, h, a, s, nil)
			}
			for _, auth := range auths {
				for _, a := range authActions {
					e.loadSameCheck(src, dst, h, a, s, auth)
				}
			}
			wantP, wantG := e.reach(h, s)
			gotP, gotG := copyEnv.reach(h, s)
			if !slices.Equal(gotP, wantP) || !slices.Equal(gotG, wantG) {
				e.Errorf("store.go: a copy made by Loader.Load must reach as the store: Reach(%v, %v) on the copy = %v %v, on the store %v %v", h, s, gotP, gotG, wantP, wantG)
			}
		}
	}
	e.loadSameRecords(copyEnv, holders)
}

// loadSameCheck fails the clause unless store.CheckIn decides alike on src and dst,
// under auth (nil: none) at checkNow.
func (e *env) loadSameCheck(src, dst store.Store, h rbac.Holder, a rbac.Action, s rbac.Ref, auth *rbac.Auth) {
	ctx := withAuth(e.ctx, auth)
	want, werr := store.CheckIn(ctx, src, h, a, s, checkNow)
	got, gerr := store.CheckIn(ctx, dst, h, a, s, checkNow)
	if !sameDecision(got, want) || (werr == nil) != (gerr == nil) {
		e.Errorf("store.go: a copy made by Loader.Load must decide as the store: store.CheckIn(%v, %v, %v) with Auth %+v on the copy = %+v, %v; on the store %+v, %v",
			h, a, s, auth, got, gerr, want, werr)
	}
}

// loadRecords are the records that Load copies, as read from one store.
type loadRecords struct {
	users     []store.User
	accounts  []store.Account
	resources []store.Resource
	members   []store.Member
	teams     []store.Team
	teamMems  [][]string
	tokens    []store.Token
	grants    []store.Grant
	policies  []store.SecurityPolicy
}

// loadRecords reads, in one View, the records of holders and of loadScopes, and the
// grants of holders on loadScopes.
func (e *env) loadRecords(holders []rbac.Holder) (out loadRecords) {
	// found tells a record found (true) from one missing (false), and returns any
	// other error.
	found := func(err error) (bool, error) {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	e.read("the records Load copies", func(ctx context.Context, r store.Reader) error {
		for _, h := range holders {
			switch h.Kind {
			case rbac.HolderUser:
				u, err := r.User(ctx, h.ID)
				if ok, err := found(err); !ok {
					if err != nil {
						return err
					}
					continue
				}
				out.users = append(out.users, u)
				ms, err := collect(r.Memberships(ctx, h.ID))
				if err != nil {
					return err
				}
				out.members = append(out.members, ms...)
			case rbac.HolderTeam:
				t, err := r.Team(ctx, h.ID)
				if err != nil {
					return err
				}
				out.teams = append(out.teams, t)
				ms, err := collect(r.TeamMembers(ctx, h.ID))
				if err != nil {
					return err
				}
				out.teamMems = append(out.teamMems, ms)
			case rbac.HolderToken:
				t, err := r.Token(ctx, h.ID)
				if ok, err := found(err); !ok {
					if err != nil {
						return err
					}
					continue
				}
				out.tokens = append(out.tokens, t)
			}
		}
		for _, s := range loadScopes {
			if s.Kind == rbac.KindOrganization || s.Kind == rbac.KindAccount {
				a, err := r.Account(ctx, s)
				if err != nil {
					return err
				}
				out.accounts = append(out.accounts, a)
				p, err := r.SecurityPolicy(ctx, s)
				if ok, err := found(err); ok {
					out.policies = append(out.policies, p)
				} else if err != nil {
					return err
				}
			} else {
				res, err := r.Resource(ctx, s)
				if err != nil {
					return err
				}
				out.resources = append(out.resources, res)
			}
			for _, h := range holders {
				g, err := r.Grant(ctx, h, s)
				if ok, err := found(err); ok {
					out.grants = append(out.grants, g)
				} else if err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out
}

// loadSameRecords fails the clause unless the records that Load copies read back from
// the copy (c) as from the store (e): users, accounts, resources, memberships, teams
// and their members, tokens, grants and security policies; and unless the copy has
// no grant of the invitation of loadWorld.
func (e *env) loadSameRecords(c *env, holders []rbac.Holder) {
	want, got := e.loadRecords(holders), c.loadRecords(holders)
	same := func(what string, ok bool, g, w any) {
		if !ok {
			e.Errorf("store.go: Loader.Load must insert every %s as the store's Reader returns it: the copy has %+v, the store %+v", what, g, w)
		}
	}
	same("user", slices.EqualFunc(got.users, want.users, eqUser), got.users, want.users)
	same("account and organization", slices.EqualFunc(got.accounts, want.accounts, eqAccount), got.accounts, want.accounts)
	same("resource", slices.EqualFunc(got.resources, want.resources, eqResource), got.resources, want.resources)
	same("membership", slices.EqualFunc(got.members, want.members, eqMember), got.members, want.members)
	same("team", slices.EqualFunc(got.teams, want.teams, eqTeam), got.teams, want.teams)
	same("team's members", slices.EqualFunc(got.teamMems, want.teamMems, slices.Equal), got.teamMems, want.teamMems)
	same("token", slices.EqualFunc(got.tokens, want.tokens, eqToken), got.tokens, want.tokens)
	same("grant of a user, team or token", slices.Equal(got.grants, want.grants), got.grants, want.grants)
	same("security policy", slices.EqualFunc(got.policies, want.policies, eqPolicy), got.policies, want.policies)
	if c.hasGrant(rbac.Invite("inv-1"), p2) {
		e.Errorf("store.go: Loader.Load must insert only the grants held by a user, a team or a token: the copy has the grant of invitation inv-1")
	}
}

// loaderEmpty: Load of an empty store inserts nothing and returns Seq zero.
func loaderEmpty(e *env) {
	l := e.needLoader()
	seq, calls, err := e.load(l, e.fresh(), 0, true)
	if err != nil {
		e.Fatalf("Loader.Load of an empty store failed: %v", err)
	}
	if seq != 0 {
		e.Errorf("store.go: Loader.Load of a store without events must return Seq zero: got %d", seq)
	}
	if len(calls) != 0 {
		e.Errorf("store.go: Loader.Load of an empty store must insert nothing: it called %s", calls[0].what)
	}
}

// loaderWriterError: Load stops at the Writer's first error and returns it, whichever
// call fails.
func loaderWriterError(e *env) {
	l := e.needLoader()
	e.loadWorld()
	dst := e.fresh()
	_, all, err := e.load(l, dst, 0, false)
	if !errors.Is(err, errBoom) {
		e.Fatalf("Loader.Load into a fresh store's Writer failed: %v", err)
	}
	// Fail the first call, the first call of each method, and the last; every load
	// rolls back, each one writing into the same empty store.
	fails := []int{1, len(all)}
	seen := map[string]bool{}
	for i, c := range all {
		method, _, _ := strings.Cut(c.what, " ")
		if !seen[method] {
			seen[method] = true
			fails = append(fails, i+1)
		}
	}
	slices.Sort(fails)
	for _, n := range slices.Compact(fails) {
		if n < 1 {
			continue
		}
		_, calls, err := e.load(l, dst, n, false)
		if !errors.Is(err, errLoadWriter) {
			e.Errorf("store.go: Loader.Load must return the Writer's error: with call %d of %d failing, got %v", n, len(all), err)
		}
		if len(calls) != n {
			e.Errorf("store.go: Loader.Load must stop at the Writer's first error: call %d of %d failed, and Load made %d calls", n, len(all), len(calls))
		}
	}
}
