package accounttest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// LastSeats races invitations, joins through an invite link and an acceptance for
// the last free seats of an account, from 17 goroutines on one store, and checks that
// the seats are never overshot (D20, D36, D37): at most as many newcomers get in as
// there were free seats, every other attempt is refused with ErrSeatLimit (or
// ErrConflict, when the store gives up retrying), the pending invitation, which holds
// its seat already, is always accepted, and the seats used are the seats taken.
func LastSeats(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	st := newStore(t)
	defer release(st)
	const seats, racers = 5, 16
	svc := account.New(st, account.Options{Plans: []account.Plan{{Name: "tight", Seats: seats, UserManagement: true}}})
	reg := func(email string) rbac.Holder {
		r, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email})
		if err != nil {
			t.Fatalf("Register(%s): %v", email, err)
		}
		return rbac.User(r.User.ID)
	}
	owner := reg("owner@seats.test")
	acct, err := account.Do(ctx, svc, owner, account.CreateAccount{Name: "Seats"})
	if err != nil {
		t.Fatal(err)
	}
	link, err := account.Do(ctx, svc, owner, account.CreateInviteLink{Tenant: acct.Ref, Level: rbac.Viewer, Scopes: []rbac.Ref{acct.Ref}})
	if err != nil {
		t.Fatal(err)
	}
	invitee := reg("invitee@seats.test")
	pending, err := account.Do(ctx, svc, owner, account.Invite{Tenant: acct.Ref, Email: "invitee@seats.test"})
	if err != nil {
		t.Fatal(err)
	}
	free := seats - 2 // the owner and the pending invitation
	joiners := make([]rbac.Holder, racers/2)
	for i := range joiners {
		joiners[i] = reg("joiner" + strconv.Itoa(i) + "@seats.test")
	}

	var mu sync.Mutex
	taken := 0
	var wg sync.WaitGroup
	attempt := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			taken++
		case errors.Is(err, account.ErrSeatLimit), errors.Is(err, account.ErrConflict):
		default:
			t.Errorf("%s: %v, want success, ErrSeatLimit or ErrConflict", what, err)
		}
	}
	for i := range racers / 2 {
		wg.Go(func() {
			_, err := account.Do(ctx, svc, joiners[i], account.JoinByLink{Link: link.ID, Secret: link.Secret})
			attempt("JoinByLink", err)
		})
		wg.Go(func() {
			_, err := account.Do(ctx, svc, owner, account.Invite{Tenant: acct.Ref, Email: "invited" + strconv.Itoa(i) + "@seats.test"})
			attempt("Invite", err)
		})
	}
	var acceptErr error
	wg.Go(func() {
		for {
			_, acceptErr = account.Do(ctx, svc, invitee, account.AcceptInvitation{Invitation: rbac.Invite(pending.ID), Secret: pending.Secret})
			if !errors.Is(acceptErr, account.ErrConflict) {
				return
			}
		}
	})
	wg.Wait()
	if acceptErr != nil {
		t.Fatalf("accepting the invitation that holds its seat: %v", acceptErr)
	}
	if taken > free {
		t.Fatalf("%d newcomers took %d free seats (D20)", taken, free)
	}
	used, err := account.Get(ctx, svc, owner, account.Seats{Tenant: acct.Ref})
	if err != nil {
		t.Fatal(err)
	}
	if used.Used != 2+taken || used.Used > seats {
		t.Fatalf("seats used %d of %d after %d newcomers, want %d", used.Used, seats, taken, 2+taken)
	}
	if taken == 0 {
		t.Fatal("no newcomer got a free seat")
	}
}
