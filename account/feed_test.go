package account_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// actions returns the actions of evs.
func actions(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action
	}
	return out
}

// TestChangesPages: Changes lists every tenant's events and the profile changes in
// Seq order, a page at a time from a cursor, each event once; its limit is checked.
func TestChangesPages(t *testing.T) {
	f := newFixture(t)
	other, _ := f.register("zed@other.test")
	do(f.env, other, profile.Rename{Name: "Zed"})
	var want []store.Event
	for e, err := range account.All(f.ctx, f.svc, f.owner, account.Events{Tenant: f.acct}) {
		f.must(err)
		want = append(want, e)
	}
	all, err := f.svc.Changes(f.ctx, 0, account.MaxPageSize)
	f.must(err)
	var inAcct []store.Event
	tenants := map[rbac.Ref]bool{}
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatalf("Changes out of Seq order: %d after %d", e.Seq, all[i-1].Seq)
		}
		if e.Tenant == f.acct {
			inAcct = append(inAcct, e)
		}
		tenants[e.Tenant] = true
	}
	if !sameEvents(inAcct, want) {
		t.Errorf("the feed's events of the account must be its audit log: got %v, want %v", actions(inAcct), actions(want))
	}
	if !tenants[rbac.Ref{}] || len(tenants) < 3 {
		t.Errorf("the feed must hold every tenant's events and the profile changes; it holds those of %v", tenants)
	}
	for _, limit := range []int{1, 3, 7} {
		var got []store.Event
		var cursor uint64
		for {
			page, err := f.svc.Changes(f.ctx, cursor, limit)
			f.must(err)
			if len(page) > limit {
				t.Fatalf("Changes returned %d events with limit %d", len(page), limit)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			cursor = page[len(page)-1].Seq
		}
		if !sameEvents(got, all) {
			t.Errorf("Changes pages of %d must list every event once, in order: got %v, want %v", limit, actions(got), actions(all))
		}
	}
	def, err := f.svc.Changes(f.ctx, 0, 0)
	f.must(err)
	if want := min(len(all), account.DefaultPageSize); len(def) != want {
		t.Errorf("Changes with limit 0 returned %d events, want %d", len(def), want)
	}
	for _, limit := range []int{-1, account.MaxPageSize + 1} {
		_, err := f.svc.Changes(f.ctx, 0, limit)
		invalid(t, err, "page.limit")
	}
}

// TestFollow: Follow yields the events after the cursor, then each new event as it
// commits, never one of a refused (rolled-back) operation; a consumer that stops and
// follows again from its last Seq sees every event exactly once; the sequence ends
// quietly when the context is done.
func TestFollow(t *testing.T) {
	f := newFixture(t)
	before, err := f.svc.Changes(f.ctx, 0, account.MaxPageSize)
	f.must(err)

	type item struct {
		e   store.Event
		err error
	}
	ctx, cancel := context.WithCancel(f.ctx)
	items := make(chan item)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for e, err := range f.svc.Follow(ctx, 0) {
			items <- item{e, err}
		}
	}()
	next := func() store.Event {
		t.Helper()
		select {
		case it := <-items:
			if it.err != nil {
				t.Fatalf("Follow yielded an error: %v", it.err)
			}
			return it.e
		case <-time.After(10 * time.Second):
			t.Fatal("Follow yielded nothing within 10 s")
			return store.Event{}
		}
	}
	var seen []store.Event
	for range before {
		seen = append(seen, next())
	}
	if !sameEvents(seen, before) {
		t.Fatalf("Follow must first yield the events after the cursor: got %v, want %v", actions(seen), actions(before))
	}
	// A refused operation appends nothing; the next change is the next event.
	stranger, _ := f.register("stranger@else.test")
	if e := next(); e.Action != "profile.register" || e.Tenant.Kind != rbac.KindAccount {
		t.Fatalf("Follow must yield the stranger's registration next; got %+v", e)
	}
	err = try(f.env, stranger, account.RenameAccount{Account: f.acct, Name: "Mine"})
	if err == nil {
		t.Fatal("a stranger renamed the account")
	}
	do(f.env, f.owner, account.RenameAccount{Account: f.acct, Name: "Acme"})
	if e := next(); e.Action != "account.rename" || e.Actor != f.owner {
		t.Fatalf("Follow must yield the next committed change, the owner's rename; got %+v", e)
	}
	select {
	case it := <-items:
		t.Fatalf("Follow yielded %+v with nothing committed", it)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case <-ended:
	case it := <-items:
		t.Fatalf("Follow yielded %+v after its context ended", it)
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not end within 10 s of its context")
	}

	// Resume: stop after two events, then follow again from the cursor.
	do(f.env, f.owner, account.RenameAccount{Account: f.acct, Name: "Acme 2"})
	do(f.env, f.owner, account.RenameAccount{Account: f.acct, Name: "Acme 3"})
	all, err := f.svc.Changes(f.ctx, 0, account.MaxPageSize)
	f.must(err)
	var again []store.Event
	var cursor uint64
	for len(again) < len(all) {
		n := 0
		ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
		for e, err := range f.svc.Follow(ctx, cursor) {
			f.must(err)
			again = append(again, e)
			cursor = e.Seq
			if n++; n == 2 || len(again) == len(all) {
				break
			}
		}
		cancel()
	}
	if !sameEvents(again, all) {
		t.Errorf("following again from the cursor after each stop must yield every event exactly once: got %v, want %v", actions(again), actions(all))
	}
}

// TestFollowWithoutFeed: on a store without store.Feed, Follow and Changes answer
// ErrNoFeed.
func TestFollowWithoutFeed(t *testing.T) {
	e := newEnv(t)
	svc := account.New(struct{ store.Store }{e.st}, account.Options{})
	n := 0
	for _, err := range svc.Follow(t.Context(), 0) {
		n++
		if !errors.Is(err, account.ErrNoFeed) {
			t.Errorf("Follow without a feed yielded %v, want ErrNoFeed", err)
		}
	}
	if n != 1 {
		t.Errorf("Follow without a feed yielded %d items, want one error", n)
	}
	if _, err := svc.Changes(t.Context(), 0, 10); !errors.Is(err, account.ErrNoFeed) {
		t.Errorf("Changes without a feed returned %v, want ErrNoFeed", err)
	}
}

// sameEvents reports whether a and b hold equal events in the same order.
func sameEvents(a, b []store.Event) bool {
	return slices.EqualFunc(a, b, func(x, y store.Event) bool { return reflect.DeepEqual(x, y) })
}
