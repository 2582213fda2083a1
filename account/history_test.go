package account_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// TestAccessAtReplaysTheLog: after a member is given admin on a project, moved to
// viewer and removed from the account, the history at each moment between the
// changes says what Check said then; the owner's access is there throughout.
func TestAccessAtReplaysTheLog(t *testing.T) {
	f := newFixture(t)
	f.now = f.now.Add(time.Hour)
	u := f.join("una@acme.test", account.GrantSpec{Scope: f.proj, Level: rbac.Admin})
	t1 := f.now
	f.now = f.now.Add(time.Hour)
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: change(f.proj, rbac.Viewer)})
	t2 := f.now
	f.now = f.now.Add(time.Hour)
	do(f.env, f.owner, account.RemoveMember{Tenant: f.acct, Member: u})
	t3 := f.now

	for _, c := range []struct {
		at    time.Time
		level rbac.Level
	}{{t1.Add(-time.Nanosecond), rbac.None}, {t1, rbac.Admin}, {t2, rbac.Viewer}, {t3, rbac.None}} {
		past, err := f.svc.AccessAt(f.ctx, f.owner, f.acct, c.at)
		if err != nil {
			t.Fatalf("AccessAt(%v): %v", c.at, err)
		}
		lv, g, err := past.Level(u, f.inboxA)
		if err != nil || lv != c.level {
			t.Errorf("at %v: %v's level on %v = %v (%v), %v; want %v", c.at, u, f.inboxA, lv, g, err, c.level)
		}
		if lv != rbac.None && (g.Holder != u || g.Scope != f.proj) {
			t.Errorf("at %v: the grant = %v; want %v's on %v", c.at, g, u, f.proj)
		}
		holders, err := past.Scope(f.inboxA)
		if err != nil {
			t.Fatal(err)
		}
		want := []rbac.Holder{f.owner}
		if c.level != rbac.None {
			want = append(want, u)
		}
		slices.SortFunc(want, rbac.Holder.Compare)
		var got []rbac.Holder
		for _, h := range holders {
			got = append(got, h.Holder)
		}
		if !slices.Equal(got, want) {
			t.Errorf("at %v: holders on %v = %v; want %v", c.at, f.inboxA, got, want)
		}
		if mine := past.Holder(f.owner); len(mine) != len(past.Scopes()) || mine[0].Level != rbac.Owner {
			t.Errorf("at %v: the owner's access = %v; want owner on each of %v", c.at, mine, past.Scopes())
		}
	}
}

// TestAccessAtVisibility: only who may read the account's audit log now may ask; a
// stranger is told the account does not exist, as is everyone about an account that
// did not exist yet at that time.
func TestAccessAtVisibility(t *testing.T) {
	f := newFixture(t)
	viewer := f.join("vic@acme.test", account.GrantSpec{Scope: f.acct, Level: rbac.Viewer})
	stranger, _ := f.register("sam@else.test")
	if _, err := f.svc.AccessAt(f.ctx, viewer, f.acct, f.now); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("AccessAt as a viewer: %v; want a refusal", err)
	}
	_, errStranger := f.svc.AccessAt(f.ctx, stranger, f.acct, f.now)
	_, errNone := f.svc.AccessAt(f.ctx, stranger, rbac.Account("acct-none"), f.now)
	if !errors.Is(errStranger, account.ErrNotFound) ||
		strings.ReplaceAll(errStranger.Error(), f.acct.ID, "?") != strings.ReplaceAll(errNone.Error(), "acct-none", "?") {
		t.Errorf("AccessAt as a stranger: %v; want what a missing account answers: %v", errStranger, errNone)
	}
	if _, err := f.svc.AccessAt(f.ctx, f.owner, f.acct, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("AccessAt before the account existed: %v; want ErrNotFound", err)
	}
	past, err := f.svc.AccessAt(f.ctx, f.owner, f.acct, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.Scope(rbac.Project("elsewhere")); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("Scope of a scope outside the account: %v; want ErrNotFound", err)
	}
}

// TestAccessAtTokens: a token's past access is capped by its creator's at that time,
// and is nothing once it had expired.
func TestAccessAtTokens(t *testing.T) {
	f := newFixture(t)
	admin := f.join("ada@acme.test", account.GrantSpec{Scope: f.acct, Level: rbac.Admin})
	tok := do(f.env, admin, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{{Scope: f.proj, Level: rbac.Admin}},
		ExpiresIn: 24 * time.Hour})
	created := f.now
	f.now = f.now.Add(time.Hour)
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: admin, Changes: change(f.acct, rbac.Viewer)})
	lowered := f.now
	for _, c := range []struct {
		at   time.Time
		want rbac.Level
	}{{created, rbac.Admin}, {lowered, rbac.Viewer}, {created.Add(25 * time.Hour), rbac.None}} {
		past, err := f.svc.HostAccessAt(f.ctx, f.acct, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if lv, _, _ := past.Level(rbac.Token(tok.ID), f.proj); lv != c.want {
			t.Errorf("at %v the token's level = %v; want %v", c.at, lv, c.want)
		}
	}
}

// TestEventsAreTyped: an operation's event carries how its actor signed in and from
// where, and the grants it changed, before and after, as structured values.
func TestEventsAreTyped(t *testing.T) {
	f := newFixture(t)
	u := f.join("una@acme.test", account.GrantSpec{Scope: f.proj, Level: rbac.Viewer})
	ip := netip.MustParseAddr("198.51.100.4")
	ctx := account.WithAuth(f.ctx, rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: ip})
	if _, err := account.Do(ctx, f.svc, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u,
		Changes: []account.PermissionChange{{Scope: f.proj, Level: rbac.Admin}, {Scope: f.domain, Level: rbac.Viewer}}}); err != nil {
		t.Fatal(err)
	}
	evs, err := account.Get(f.ctx, f.svc, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	last := evs.Items[len(evs.Items)-1]
	if last.Action != (account.SetPermissions{}).Op() {
		t.Fatalf("last event %q; want SetPermissions's", last.Action)
	}
	if last.Auth != rbac.AuthPassword || last.ClientIP != ip {
		t.Errorf("event auth %v from %v; want password from %v", last.Auth, last.ClientIP, ip)
	}
	want := []store.Change{
		{Kind: store.ChangeGrant, Holder: u, Scope: f.proj, Before: rbac.Viewer, After: rbac.Admin},
		{Kind: store.ChangeGrant, Holder: u, Scope: f.domain, Before: rbac.None, After: rbac.Viewer},
	}
	got := slices.Clone(last.Changes)
	slices.SortFunc(got, func(a, b store.Change) int { return a.Scope.Compare(b.Scope) })
	slices.SortFunc(want, func(a, b store.Change) int { return a.Scope.Compare(b.Scope) })
	if !slices.Equal(got, want) {
		t.Errorf("changes = %+v; want %+v", got, want)
	}
	// A refused operation records nothing.
	n := len(evs.Items)
	if _, err := account.Do(ctx, f.svc, u, account.SetPermissions{Tenant: f.acct, Holder: f.owner, Changes: change(f.proj, rbac.Viewer)}); err == nil {
		t.Fatal("a member changed the owner's access")
	}
	if again, _ := account.Get(f.ctx, f.svc, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: 100}}); len(again.Items) != n {
		t.Errorf("a refusal logged %d event(s)", len(again.Items)-n)
	}
}

// BenchmarkAccessAt measures the access history of one scope (AccessAt, then Scope)
// in a store whose log holds 100k events, each a change of one member's grant, at
// the time of the last event and halfway.
func BenchmarkAccessAt(b *testing.B) {
	f := newFixture(b)
	u := f.join("una@acme.test", account.GrantSpec{Scope: f.proj, Level: rbac.Viewer})
	const events = 100_000
	levels := []rbac.Level{rbac.Admin, rbac.Viewer}
	var mid time.Time
	for i := range events {
		f.now = f.now.Add(time.Second)
		if i == events/2 {
			mid = f.now
		}
		do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: change(f.inboxA, levels[i%2])})
	}
	for _, c := range []struct {
		name string
		at   time.Time
	}{{"at=last", f.now}, {"at=half", mid}} {
		b.Run("events=100k/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				past, err := f.svc.AccessAt(f.ctx, f.owner, f.acct, c.at)
				if err != nil {
					b.Fatal(err)
				}
				if hs, err := past.Scope(f.inboxA); err != nil || len(hs) != 2 {
					b.Fatalf("Scope = %v, %v", hs, err)
				}
			}
		})
	}
}

// feedOnly is a store with a Feed but no ChangeLog: the history reads it from the
// feed.
type feedOnly struct{ s *memstore.Store }

func (f feedOnly) View(ctx context.Context, fn func(context.Context, store.Reader) error) error {
	return f.s.View(ctx, fn)
}
func (f feedOnly) Update(ctx context.Context, fn func(context.Context, store.Writer) error) error {
	return f.s.Update(ctx, fn)
}
func (f feedOnly) Changes(ctx context.Context, after uint64, limit int) ([]store.Event, error) {
	return f.s.Changes(ctx, after, limit)
}
func (f feedOnly) Wait(ctx context.Context, after uint64) error { return f.s.Wait(ctx, after) }

// TestAccessAtFromTheFeed: on a store without a ChangeLog the history, read from the
// feed, is the same as from the ChangeLog, at every event's time.
func TestAccessAtFromTheFeed(t *testing.T) {
	f := newFixture(t)
	u := f.join("una@acme.test", account.GrantSpec{Scope: f.proj, Level: rbac.Admin})
	var times []time.Time
	for _, l := range []rbac.Level{rbac.Viewer, rbac.Admin, rbac.None} {
		f.now = f.now.Add(time.Minute)
		if l == rbac.None {
			do(f.env, f.owner, account.RemoveFromResource{Scope: f.proj, Member: u})
		} else {
			do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: change(f.inboxB, l)})
		}
		times = append(times, f.now)
	}
	viaFeed := account.New(feedOnly{f.st.(*memstore.Store)}, account.Options{Now: func() time.Time { return f.now }})
	for _, at := range times {
		a, err := f.svc.HostAccessAt(f.ctx, f.acct, at)
		if err != nil {
			t.Fatal(err)
		}
		b, err := viaFeed.HostAccessAt(f.ctx, f.acct, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range a.Scopes() {
			ha, _ := a.Scope(sc)
			hb, _ := b.Scope(sc)
			if !slices.Equal(ha, hb) {
				t.Errorf("at %v on %v: ChangeLog says %v, the feed %v", at, sc, ha, hb)
			}
		}
	}
	if _, err := account.New(struct{ store.Store }{f.st}, account.Options{}).HostAccessAt(f.ctx, f.acct, f.now); !errors.Is(err, account.ErrNoFeed) {
		t.Errorf("HostAccessAt on a store without a feed: %v; want ErrNoFeed", err)
	}
}
