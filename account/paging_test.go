package account_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// pageThrough reads a listing page by page with the given limit, following each
// page's cursor, and returns every item in order. It checks the shape of the pages:
// none holds more than limit items, every page but the last is full and has a
// cursor, and the last has none.
func pageThrough[T any](t *testing.T, limit int, page func(after string) (account.Page[T], error)) []T {
	t.Helper()
	var out []T
	after := ""
	for n := 0; ; n++ {
		p, err := page(after)
		if err != nil {
			t.Fatalf("page %d (after %q): %v", n, after, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("page %d holds %d items, more than the limit %d", n, len(p.Items), limit)
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		if len(p.Items) != limit {
			t.Fatalf("page %d holds %d items and has a next page; want full pages of %d", n, len(p.Items), limit)
		}
		if n > 10_000 {
			t.Fatal("the cursor does not move on")
		}
		after = p.Next
	}
}

// sameItems checks that got holds every key of want exactly once, in want's order.
func sameItems[K comparable](t *testing.T, what string, got, want []K) {
	t.Helper()
	seen := map[K]int{}
	for _, k := range got {
		seen[k]++
		if seen[k] > 1 {
			t.Fatalf("%s: %v listed twice", what, k)
		}
	}
	for _, k := range want {
		if seen[k] == 0 {
			t.Fatalf("%s: %v missed", what, k)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: listed %v, want %v", what, got, want)
	}
}

// keys maps items to their keys.
func keys[T, K any](items []T, key func(T) K) []K {
	out := make([]K, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

// bigFixture is a fixture on the enterprise plan with many members and invitations:
// withA are the holders that see or are seen in Inbox A (D18), everyone all of them.
type bigFixture struct {
	*fixture
	admin, inboxAdmin rbac.Holder
	everyone, withA   []rbac.Holder
}

func newBigFixture(t *testing.T) *bigFixture {
	f := newFixture(t)
	do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "enterprise"})
	b := &bigFixture{fixture: f}
	b.admin = f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	b.inboxAdmin = f.join("ia@acme.test", grant(f.inboxA, rbac.Admin))
	b.withA = []rbac.Holder{f.owner, b.admin, b.inboxAdmin}
	b.everyone = slices.Clone(b.withA)
	for i := range 22 {
		var g []account.GrantSpec
		switch i % 3 {
		case 0:
			g = append(g, grant(f.inboxA, rbac.Viewer))
		case 1:
			g = append(g, grant(f.inboxB, rbac.Viewer))
		}
		u := f.join("m"+strconv.Itoa(i)+"@acme.test", g...)
		b.everyone = append(b.everyone, u)
		if i%3 == 0 {
			b.withA = append(b.withA, u)
		}
	}
	for i := range 7 {
		var g []account.GrantSpec
		if i%2 == 0 {
			g = append(g, grant(f.inboxA, rbac.Viewer))
		}
		inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "p" + strconv.Itoa(i) + "@acme.test", Grants: g})
		b.everyone = append(b.everyone, rbac.Invite(inv.ID))
		if i%2 == 0 {
			b.withA = append(b.withA, rbac.Invite(inv.ID))
		}
	}
	slices.SortFunc(b.everyone, rbac.Holder.Compare)
	slices.SortFunc(b.withA, rbac.Holder.Compare)
	return b
}

func TestPagingMembers(t *testing.T) {
	b := newBigFixture(t)
	if len(b.everyone) != 32 || len(b.withA) != 15 {
		t.Fatalf("fixture: %d members and invitations, %d with access to Inbox A", len(b.everyone), len(b.withA))
	}
	for _, c := range []struct {
		name  string
		actor rbac.Holder
		want  []rbac.Holder
	}{
		{"account admin", b.admin, b.everyone},
		{"owner", b.owner, b.everyone},
		{"inbox admin", b.inboxAdmin, b.withA},
	} {
		for _, limit := range []int{1, 3, 5, 25, 32, 33, account.DefaultPageSize} {
			t.Run(fmt.Sprintf("%s/limit=%d", c.name, limit), func(t *testing.T) {
				got := pageThrough(t, limit, func(after string) (account.Page[account.Access], error) {
					return account.Get(b.ctx, b.svc, c.actor, account.Members{Tenant: b.acct, Page: account.PageRequest{After: after, Limit: limit}})
				})
				sameItems(t, "members", keys(got, func(a account.Access) rbac.Holder { return a.Holder }), c.want)
			})
		}
		all, err := b.members(c.actor, b.acct)
		if err != nil {
			t.Fatal(err)
		}
		sameItems(t, c.name+" through All", all, c.want)
	}
	// The default page size holds them all; a limit of one page per item too.
	if p := get(b.env, b.admin, account.Members{Tenant: b.acct}); len(p.Items) != len(b.everyone) || p.Next != "" {
		t.Fatalf("default page: %d items, next %q", len(p.Items), p.Next)
	}
	// A filtered listing pages the same way.
	got := pageThrough(t, 2, func(after string) (account.Page[account.Access], error) {
		return account.Get(b.ctx, b.svc, b.admin, account.Members{Tenant: b.acct, Scopes: []rbac.Ref{b.inboxA}, Page: account.PageRequest{After: after, Limit: 2}})
	})
	sameItems(t, "filtered by Inbox A", keys(got, func(a account.Access) rbac.Holder { return a.Holder }), b.withA)
}

// A listing changed between pages reads on from the cursor: what was removed behind
// the cursor is not missed, nothing is listed twice.
func TestPagingMembersChangedBetweenPages(t *testing.T) {
	b := newBigFixture(t)
	q := account.Members{Tenant: b.acct, Page: account.PageRequest{Limit: 10}}
	first := get(b.env, b.admin, q)
	// Remove a member already listed and one not yet listed.
	seen, later := first.Items[9].Holder, b.everyone[15]
	for _, h := range []rbac.Holder{seen, later} {
		if h == b.owner || h == b.admin {
			t.Fatalf("fixture: would remove %v", h)
		}
		do(b.env, b.owner, account.RemoveMember{Tenant: b.acct, Member: h})
	}
	q.Page.After = first.Next
	rest := pageThrough(t, 10, func(after string) (account.Page[account.Access], error) {
		if after != "" {
			q.Page.After = after
		}
		return account.Get(b.ctx, b.svc, b.admin, q)
	})
	got := append(keys(first.Items, func(a account.Access) rbac.Holder { return a.Holder }), keys(rest, func(a account.Access) rbac.Holder { return a.Holder })...)
	want := slices.DeleteFunc(slices.Clone(b.everyone), func(h rbac.Holder) bool { return h == later })
	sameItems(t, "members across a change", got, want)
}

func TestPagingTokensTeamsEvents(t *testing.T) {
	f := newFixture(t)
	var toks, teams []string
	for i := range 12 {
		tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "t" + strconv.Itoa(i), Grants: []account.GrantSpec{grant(f.inboxA, rbac.Viewer)}})
		toks = append(toks, tok.ID)
		team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "team " + strconv.Itoa(i)})
		teams = append(teams, team.ID)
	}
	slices.Sort(toks)
	slices.Sort(teams)
	evs := get(f.env, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: account.MaxPageSize}})
	if evs.Next != "" || len(evs.Items) != 6+24 {
		t.Fatalf("events: %d, next %q", len(evs.Items), evs.Next)
	}
	seqs := keys(evs.Items, func(e store.Event) uint64 { return e.Seq })
	for _, limit := range []int{1, 4, 5, 12, 13} {
		t.Run("limit="+strconv.Itoa(limit), func(t *testing.T) {
			gotToks := pageThrough(t, limit, func(after string) (account.Page[account.TokenInfo], error) {
				return account.Get(f.ctx, f.svc, f.owner, account.Tokens{Tenant: f.acct, Page: account.PageRequest{After: after, Limit: limit}})
			})
			sameItems(t, "tokens", keys(gotToks, func(t account.TokenInfo) string { return t.ID }), toks)
			for _, tok := range gotToks {
				if len(tok.Grants) != 1 || len(tok.Hash) != 0 {
					t.Fatalf("listed token %+v", tok)
				}
			}
			gotTeams := pageThrough(t, limit, func(after string) (account.Page[store.Team], error) {
				return account.Get(f.ctx, f.svc, f.owner, account.Teams{Tenant: f.acct, Page: account.PageRequest{After: after, Limit: limit}})
			})
			sameItems(t, "teams", keys(gotTeams, func(t store.Team) string { return t.ID }), teams)
			gotEvs := pageThrough(t, limit, func(after string) (account.Page[store.Event], error) {
				return account.Get(f.ctx, f.svc, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{After: after, Limit: limit}})
			})
			sameItems(t, "events", keys(gotEvs, func(e store.Event) uint64 { return e.Seq }), seqs)
		})
	}
	allToks, err := all(f.env, f.owner, account.Tokens{Tenant: f.acct, Page: account.PageRequest{Limit: 5}})
	f.must(err)
	sameItems(t, "tokens through All", keys(allToks, func(t account.TokenInfo) string { return t.ID }), toks)
	allTeams, err := all(f.env, f.owner, account.Teams{Tenant: f.acct, Page: account.PageRequest{Limit: 5}})
	f.must(err)
	sameItems(t, "teams through All", keys(allTeams, func(t store.Team) string { return t.ID }), teams)
	allEvs, err := all(f.env, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: 7}})
	f.must(err)
	sameItems(t, "events through All", keys(allEvs, func(e store.Event) uint64 { return e.Seq }), seqs)
}

func TestPagingMyAccountsAndSubAccounts(t *testing.T) {
	e := newEnv(t)
	me, mine := e.register("me@acme.test")
	want := []rbac.Ref{mine.Ref}
	for i := range 6 {
		o, a := e.register("o" + strconv.Itoa(i) + "@acme.test")
		do(e, o, account.SetPlan{Account: a.Ref, Plan: "team"})
		inv := do(e, o, account.Invite{Tenant: a.Ref, Email: "me@acme.test", Grants: []account.GrantSpec{grant(a.Ref, rbac.Viewer)}})
		do(e, me, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
		want = append(want, a.Ref)
	}
	org := do(e, me, account.CreateOrganization{Name: "Group", Plan: "business"})
	want = append(want, org.Ref)
	var subs []string
	for i := range 5 {
		sub := do(e, me, account.CreateSubAccount{Org: org.Ref, Name: "Sub " + strconv.Itoa(i)})
		subs = append(subs, sub.Ref.ID)
		want = append(want, sub.Ref) // the owner is a member of every sub-account
	}
	slices.SortFunc(want, rbac.Ref.Compare)
	slices.Sort(subs)
	for _, limit := range []int{1, 2, 5, 12, 13} {
		got := pageThrough(t, limit, func(after string) (account.Page[account.AccountAccess], error) {
			return account.Get(e.ctx, e.svc, me, account.MyAccounts{Page: account.PageRequest{After: after, Limit: limit}})
		})
		sameItems(t, "my accounts", keys(got, func(a account.AccountAccess) rbac.Ref { return a.Account.Ref }), want)
		for _, a := range got {
			if a.Level == rbac.None || len(a.Levels) == 0 || a.Levels[0] != a.Level {
				t.Fatalf("my access to %v: %+v", a.Account.Ref, a)
			}
		}
		gotSubs := pageThrough(t, limit, func(after string) (account.Page[store.Account], error) {
			return account.Get(e.ctx, e.svc, me, account.SubAccounts{Org: org.Ref, Page: account.PageRequest{After: after, Limit: limit}})
		})
		sameItems(t, "sub-accounts", keys(gotSubs, func(a store.Account) string { return a.Ref.ID }), subs)
	}
	viaAll, err := all(e, me, account.MyAccounts{Page: account.PageRequest{Limit: 3}})
	e.must(err)
	sameItems(t, "my accounts through All", keys(viaAll, func(a account.AccountAccess) rbac.Ref { return a.Account.Ref }), want)
}

// Every listing refuses a limit out of range and a cursor it did not make with an
// *InvalidError, before reading anything.
func TestPagingInvalidCursorAndLimit(t *testing.T) {
	f := newFixture(t)
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	org := do(f.env, f.owner, account.CreateOrganization{Name: "Group", Plan: "business"})
	notBase64 := "%%%"
	notANumber := base64.RawURLEncoding.EncodeToString([]byte("user:x"))
	listings := map[string]func(account.PageRequest) error{
		"members": func(p account.PageRequest) error {
			return ask(f.env, f.owner, account.Members{Tenant: f.acct, Page: p})
		},
		"tokens":      func(p account.PageRequest) error { return ask(f.env, f.owner, account.Tokens{Tenant: f.acct, Page: p}) },
		"teams":       func(p account.PageRequest) error { return ask(f.env, f.owner, account.Teams{Tenant: f.acct, Page: p}) },
		"events":      func(p account.PageRequest) error { return ask(f.env, f.owner, account.Events{Tenant: f.acct, Page: p}) },
		"my accounts": func(p account.PageRequest) error { return ask(f.env, f.owner, account.MyAccounts{Page: p}) },
		"my events":   func(p account.PageRequest) error { return ask(f.env, f.owner, account.MyEvents{Page: p}) },
		"invitations": func(p account.PageRequest) error { return ask(f.env, f.owner, account.MyInvitations{Page: p}) },
		"sub-accounts": func(p account.PageRequest) error {
			return ask(f.env, f.owner, account.SubAccounts{Org: org.Ref, Page: p})
		},
		"team members": func(p account.PageRequest) error {
			return ask(f.env, f.owner, account.TeamMembers{Tenant: f.acct, Team: rbac.Team(team.ID), Page: p})
		},
	}
	for name, list := range listings {
		t.Run(name, func(t *testing.T) {
			for _, p := range []account.PageRequest{{Limit: -1}, {Limit: account.MaxPageSize + 1}} {
				invalid(t, list(p), "page.limit")
			}
			invalid(t, list(account.PageRequest{After: notBase64}), "page.after")
			if name == "events" || name == "my events" {
				invalid(t, list(account.PageRequest{After: notANumber}), "page.after")
			}
			if name == "members" {
				// Keys that are not a member's or an invitation's (once a panic).
				for _, k := range []string{"1", "0", "4", "2:team-1"} {
					invalid(t, list(account.PageRequest{After: base64.RawURLEncoding.EncodeToString([]byte(k))}), "page.after")
				}
			}
			if err := list(account.PageRequest{Limit: account.MaxPageSize}); err != nil {
				t.Fatalf("the largest page: %v", err)
			}
		})
	}
	// All ends on the first error, which it yields.
	n := 0
	for _, err := range account.All(f.ctx, f.svc, f.owner, account.Tokens{Tenant: f.acct, Page: account.PageRequest{After: notBase64}}) {
		invalid(t, err, "page.after")
		n++
	}
	if n != 1 {
		t.Fatalf("All yielded %d times after an error", n)
	}
}

// All stops when the loop breaks, and starts after the query's own cursor.
func TestAllStopsAndStartsAfterTheCursor(t *testing.T) {
	b := newBigFixture(t)
	n := 0
	for _, err := range account.All(b.ctx, b.svc, b.admin, account.Members{Tenant: b.acct, Page: account.PageRequest{Limit: 2}}) {
		b.must(err)
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("All went on to %d after the break", n)
	}
	first := get(b.env, b.admin, account.Members{Tenant: b.acct, Page: account.PageRequest{Limit: 4}})
	rest, err := all(b.env, b.admin, account.Members{Tenant: b.acct, Page: account.PageRequest{After: first.Next, Limit: 4}})
	b.must(err)
	got := append(keys(first.Items, func(a account.Access) rbac.Holder { return a.Holder }), keys(rest, func(a account.Access) rbac.Holder { return a.Holder })...)
	sameItems(t, "first page and All after it", got, b.everyone)
	// A refusal comes out of All as its one error.
	stranger, _ := b.register("x@else.test")
	for _, err := range account.All(b.ctx, b.svc, stranger, account.Members{Tenant: b.acct}) {
		notFound(t, err)
	}
}

// TestMembersTeamsAndGrants: the member listing gives each member their own teams and
// grants, in a tenant with teams and in one without, on every page, and an entry's
// grants do not share room with the next one's.
func TestMembersTeamsAndGrants(t *testing.T) {
	f := newFixture(t)
	m1 := f.join("m1@acme.test", grant(f.inboxA, rbac.Admin))
	m2 := f.join("m2@acme.test", grant(f.proj, rbac.Viewer))
	list := func() map[rbac.Holder]account.Access {
		t.Helper()
		out := map[rbac.Holder]account.Access{}
		for _, limit := range []int{1, 2, 100} {
			got, err := all(f.env, f.owner, account.Members{Tenant: f.acct, Page: account.PageRequest{Limit: limit}})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range got {
				if i+1 < len(got) && len(got[i+1].Grants) > 0 {
					next := got[i+1].Grants[0]
					_ = append(a.Grants, store.Grant{})
					if got[i+1].Grants[0] != next {
						t.Fatalf("appending to entry %d's grants changed entry %d's", i, i+1)
					}
				}
				if prev, ok := out[a.Holder]; ok && len(prev.Grants) != len(a.Grants) {
					t.Fatalf("%v has %d grants on pages of %d, %d on others", a.Holder, len(a.Grants), limit, len(prev.Grants))
				}
				out[a.Holder] = a
			}
		}
		return out
	}
	got := list()
	if len(got[m1].Teams) != 0 || len(got[m1].Grants) != 1 || got[m1].Grants[0].Scope != f.inboxA {
		t.Fatalf("m1 without teams: %+v", got[m1])
	}
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	do(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: rbac.Team(team.ID), Member: m2})
	got = list()
	if len(got[m1].Teams) != 0 || len(got[m1].Grants) != 1 || got[m1].Grants[0].Scope != f.inboxA {
		t.Fatalf("m1: %+v", got[m1])
	}
	if len(got[m2].Teams) != 1 || got[m2].Teams[0] != rbac.Team(team.ID) || len(got[m2].Grants) != 1 || got[m2].Grants[0].Scope != f.proj {
		t.Fatalf("m2 in team %s: %+v", team.ID, got[m2])
	}
}
