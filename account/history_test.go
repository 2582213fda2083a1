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
	"github.com/tenantry/tenantry/profile"
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

// TestEventsNameWhatChecksRead: besides access, the changes name every record a
// check reads that an operation changed — a security policy, a token's IP allowlist,
// a user's address — so that a copy of the store (store/replica) knows to read it.
func TestEventsNameWhatChecksRead(t *testing.T) {
	f := newFixture(t)
	u := f.join("una@acme.test", account.GrantSpec{Scope: f.proj, Level: rbac.Viewer})
	do(f.env, u, profile.ChangeEmail{Email: "una@example.test"})
	want := []store.Change{{Kind: store.ChangeUser, Holder: u}}
	if e := f.lastFeedEvent(); e.Action != (profile.ChangeEmail{}).Op() || !slices.Equal(e.Changes, want) {
		t.Errorf("the address change's event is %+v; want changes %+v", e, want)
	}
	do(f.env, u, profile.Rename{Name: "Una B."})
	if e := f.lastFeedEvent(); e.Action != (profile.Rename{}).Op() || len(e.Changes) != 0 {
		t.Errorf("a new name recorded changes: %+v", e)
	}

	ip := netip.MustParseAddr("198.51.100.4")
	ctx := account.WithAuth(f.ctx, rbac.Auth{Method: rbac.AuthPassword, SecondFactor: true, ClientIP: ip})
	do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "business"})
	if _, err := account.Do(ctx, f.svc, f.owner, account.SetSecurityPolicy{Tenant: f.acct, IPAllowlist: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}); err != nil {
		t.Fatal(err)
	}
	want = []store.Change{{Kind: store.ChangePolicy, Scope: f.acct}}
	if got := f.lastFeedEvent().Changes; !slices.Equal(got, want) {
		t.Errorf("policy changes = %+v; want %+v", got, want)
	}

	tok, err := account.Do(ctx, f.svc, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", NeverExpires: true, Grants: []account.GrantSpec{{Scope: f.proj, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	th := rbac.Token(tok.ID)
	if _, err := account.Do(ctx, f.svc, f.owner, account.SetTokenAllowlist{Tenant: f.acct, Token: th, IPAllowlist: []netip.Prefix{netip.MustParsePrefix("198.51.100.4/32")}}); err != nil {
		t.Fatal(err)
	}
	want = []store.Change{{Kind: store.ChangeToken, Holder: th, Scope: f.acct, Creator: f.owner.ID}}
	if got := f.lastFeedEvent().Changes; !slices.Equal(got, want) {
		t.Errorf("allowlist changes = %+v; want %+v", got, want)
	}
	// The same list again changes nothing a check reads.
	if _, err := account.Do(ctx, f.svc, f.owner, account.SetTokenAllowlist{Tenant: f.acct, Token: th, IPAllowlist: []netip.Prefix{netip.MustParsePrefix("198.51.100.4/32")}}); err != nil {
		t.Fatal(err)
	}
	if got := f.lastFeedEvent().Changes; len(got) != 0 {
		t.Errorf("an unchanged allowlist recorded %+v", got)
	}

}

// lastFeedEvent returns the last event of the change feed.
func (f *fixture) lastFeedEvent() store.Event {
	f.t.Helper()
	var last store.Event
	for {
		evs, err := f.svc.Changes(f.ctx, last.Seq, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		if len(evs) == 0 {
			return last
		}
		last = evs[len(evs)-1]
	}
}

// TestDoRevision: the revision of a write is the Seq of its audit event in the change
// feed, and a transaction's is that of its last event.
func TestDoRevision(t *testing.T) {
	f := newFixture(t)
	inv, rev, err := account.DoRevision(f.ctx, f.svc, f.owner, account.Invite{Tenant: f.acct, Email: "bo@acme.test", Grants: []account.GrantSpec{{Scope: f.proj, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	if last := f.lastFeedEvent(); rev == 0 || rev != last.Seq || !strings.Contains(last.Target, inv.ID) {
		t.Errorf("revision %d; want the Seq of the invitation's event %+v", rev, last)
	}
	var tx *account.Tx
	err = f.svc.Update(f.ctx, func(ctx context.Context, t *account.Tx) error {
		tx = t
		if _, err := account.Run(ctx, t, f.owner, account.RevokeInvitation{Tenant: f.acct, Invitation: rbac.Invite(inv.ID)}); err != nil {
			return err
		}
		_, err := account.Run(ctx, t, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "Ops"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if tx.Revision() != rev+2 {
		t.Errorf("the transaction's revision is %d; want %d, its second event's", tx.Revision(), rev+2)
	}
	// A refused write has no revision.
	if _, rev, err := account.DoRevision(f.ctx, f.svc, f.owner, account.SetPermissions{Tenant: f.acct, Holder: f.owner, Changes: change(f.proj, rbac.Viewer)}); err == nil || rev != 0 {
		t.Errorf("a refused write: revision %d, error %v", rev, err)
	}
}
