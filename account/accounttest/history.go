package accounttest

import (
	"fmt"
	"slices"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// seen is what Check said about one holder on one scope: its level and the grant
// that gave it.
type seen struct {
	level rbac.Level
	grant rbac.Grant
}

// snapshot is what Check said at one time about a tenant: for one scope, every
// holder's access (the holders with none left out); for one holder, its access on
// every scope of the tenant.
type snapshot struct {
	at      time.Time
	tenant  rbac.Ref
	scope   rbac.Ref
	holders map[rbac.Holder]seen // on scope, level above None only
	holder  rbac.Holder
	scopes  map[rbac.Ref]seen // of holder, every scope of the tenant
}

// checkHistory checks the access history (account.PastAccess) against Check: the
// access the audit log's changes replay to now is what Check answers now, for every
// holder ever made on one scope and for one holder on every scope of a drawn tenant;
// and an earlier step's snapshot, drawn, is what the log replays to at its time.
// The clock then moves on a millisecond, so that the snapshot's time comes before
// every later change.
func (w *machine) checkHistory(t *rapid.T) {
	defer func() { w.now = w.now.Add(time.Millisecond) }()
	if _, ok := store.FeedOf(w.st); !ok {
		return // the history is read from the change feed
	}
	if live := w.m.sortedTenants(); len(live) > 0 {
		tenant := rapid.SampledFrom(live).Draw(t, "historyTenant")
		snap := w.snapshot(t, tenant)
		if err := w.compareSnapshot(snap); err != nil {
			t.Fatalf("access history now: %v", err)
		}
		w.past = append(w.past, snap)
	}
	if len(w.past) > 1 {
		snap := w.past[rapid.IntRange(0, len(w.past)-2).Draw(t, "pastSnapshot")]
		if err := w.compareSnapshot(snap); err != nil {
			t.Fatalf("access history at %v (an earlier step): %v", snap.at, err)
		}
	}
}

// holdersEver returns every user, team and token ever made.
func (w *machine) holdersEver() []rbac.Holder {
	var hs []rbac.Holder
	for _, u := range w.m.everUsers {
		hs = append(hs, rbac.User(u))
	}
	for _, tm := range w.m.everTeams {
		hs = append(hs, rbac.Team(tm))
	}
	for _, tok := range w.m.everTokens {
		hs = append(hs, rbac.Token(tok))
	}
	return hs
}

// snapshot asks Check, now, about every holder on a drawn scope of tenant and about
// a drawn holder on every scope of it.
func (w *machine) snapshot(t *rapid.T, tenant rbac.Ref) snapshot {
	scopes := w.m.scopesOf(tenant)
	holders := w.holdersEver()
	s := snapshot{at: w.now, tenant: tenant, scope: rapid.SampledFrom(scopes).Draw(t, "historyScope"),
		holders: map[rbac.Holder]seen{}, scopes: map[rbac.Ref]seen{}}
	ask := func(h rbac.Holder, sc rbac.Ref) seen {
		d, err := w.svc.Check(w.base, h, viewOf(sc.Kind), sc)
		if err != nil {
			t.Fatalf("Check(%v, %v): %v", h, sc, err)
		}
		return seen{d.Level, d.Grant}
	}
	for _, h := range holders {
		if v := ask(h, s.scope); v.level > rbac.None {
			s.holders[h] = v
		}
	}
	if len(holders) > 0 {
		s.holder = rapid.SampledFrom(holders).Draw(t, "historyHolder")
		for _, sc := range scopes {
			s.scopes[sc] = ask(s.holder, sc)
		}
	}
	return s
}

// compareSnapshot compares s with the access history at s.at.
func (w *machine) compareSnapshot(s snapshot) error {
	past, err := w.svc.HostAccessAt(w.base, s.tenant, s.at)
	if err != nil {
		return fmt.Errorf("HostAccessAt(%v, %v): %v", s.tenant, s.at, err)
	}
	got, err := past.Scope(s.scope)
	if err != nil {
		return fmt.Errorf("Scope(%v): %v", s.scope, err)
	}
	gotSet := map[rbac.Holder]seen{}
	for _, ha := range got {
		gotSet[ha.Holder] = seen{ha.Level, ha.Grant}
	}
	for h, want := range s.holders {
		if gotSet[h] != want {
			return fmt.Errorf("on %v, %v had %v by %v; Check said %v by %v", s.scope, h, gotSet[h].level, gotSet[h].grant, want.level, want.grant)
		}
	}
	for h, v := range gotSet {
		if _, ok := s.holders[h]; !ok {
			return fmt.Errorf("on %v, %v had %v by %v; Check said none", s.scope, h, v.level, v.grant)
		}
	}
	if !slices.IsSortedFunc(got, func(a, b account.HolderAccess) int { return a.Holder.Compare(b.Holder) }) {
		return fmt.Errorf("Scope(%v) is not in holder order: %v", s.scope, got)
	}
	for sc, want := range s.scopes {
		lv, g, err := past.Level(s.holder, sc)
		if err != nil {
			return fmt.Errorf("Level(%v, %v): %v", s.holder, sc, err)
		}
		if (seen{lv, g}) != want {
			return fmt.Errorf("%v had %v by %v on %v; Check said %v by %v", s.holder, lv, g, sc, want.level, want.grant)
		}
	}
	return nil
}

// viewOf returns the action that asks for viewer access to a scope of kind k.
func viewOf(k rbac.Kind) rbac.Action {
	for _, a := range []rbac.Action{rbac.OrgView, rbac.AccountView, rbac.ProjectView, rbac.InboxRead, rbac.DomainView,
		rbac.BillingView, rbac.TemplatesView, rbac.CampaignsView} {
		if a.Kinds().Has(k) {
			return a
		}
	}
	panic(fmt.Sprintf("accounttest: no view action for %v", k))
}
