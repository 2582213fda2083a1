// Package accounttest proves packages account and profile on any store: a rapid state
// machine that drives every operation with random actors against an independent model
// and checks every invariant after every step, a concurrency test, and the property
// that what an actor cannot see answers exactly as what does not exist.
//
// Package storetest runs it as the Operations group of its conformance suite, so a
// store implementer gets it with the one line of storetest.Run; this package's own
// tests run it on the in-memory store, so that go test ./account/... proves the
// package it sits beside.
package accounttest

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// Run runs the state machine (StateMachine), the concurrency test (Concurrent), the
// existence property (Existence), the race for the last seats (LastSeats) and the
// immediacy of removals and policies (Immediate) against the stores newStore makes,
// each as a subtest. newStore must return an empty store and may register cleanups on
// the t it is given. The number of state-machine runs follows rapid's flags
// (-rapid.checks); the steps of each run, -rapid.steps.
//
// A property makes a store for each of its runs. When the store has a Close method
// (Close() or Close() error), it is called as soon as the run ends, so that a long
// search (-rapid.checks=10000) holds one run's connections and schema at a time
// instead of piling them up until the test ends; cleanups registered on t still run
// at its end, and must then find nothing left to do.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	t.Run("StateMachine", func(t *testing.T) { StateMachine(t, newStore) })
	t.Run("Concurrent", func(t *testing.T) { Concurrent(t, newStore) })
	t.Run("Existence", func(t *testing.T) { Existence(t, newStore) })
	t.Run("LastSeats", func(t *testing.T) { LastSeats(t, newStore) })
	t.Run("Immediate", func(t *testing.T) { Immediate(t, newStore) })
}

// StateMachine runs the account/profile state machine on fresh stores: random
// operations by random actors (owners, admins, viewers, members without access,
// strangers, deleted users, live, reset and deleted tokens), each predicted by the
// model, and after every step the whole store compared with the model both ways and
// every invariant checked: one owner per account, who is a member; the owner's
// access untouched and nobody changing their own access (D9, D10); no grant above its
// granter's level and no owner grant (D4, D12); grants held by members only; exactly
// one audit event per success, in the right account, and none per refusal (D31);
// listings exactly as visibility allows (D18), across pages; seats (D20); cascades
// (D17, D30); and Check agreeing with the model, its rule and its notice included.
//
// The machine also moves the service's clock and the requests' authentication: it
// crosses invitations' expiry (D36), tokens' grace period, expiry and sweep (D38) and
// the activity throttle (D39) at random, draws how each step's requests authenticated
// (second factor, client address, or nothing said) and sets security policies (D32,
// D35); after every step each member's last activity, each token's last use, every
// invitation's expiry, every invite link (D37) and every security policy and token
// allowlist are compared with the model, and an expired invitation holds no seat.
//
// After every step, too, the access history the audit log replays to
// (account.Service.HostAccessAt) is compared with Check: now, for every holder on a
// drawn scope and for a drawn holder on every scope of a drawn tenant; and at the
// time of a drawn earlier step, with what Check said then.
func StateMachine(t *testing.T, newStore func(t *testing.T) store.Store) {
	rapid.Check(t, func(rt *rapid.T) {
		st := newStore(t)
		defer release(st)
		w := newMachine(t.Context(), st)
		rt.Repeat(w.actions())
	})
}

// release closes st when it can be closed.
func release(st store.Store) {
	switch c := st.(type) {
	case interface{ Close() error }:
		_ = c.Close()
	case interface{ Close() }:
		c.Close()
	}
}
