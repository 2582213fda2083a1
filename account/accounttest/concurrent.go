package accounttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Concurrent runs account operations from 8 goroutines on one store, then checks the
// invariants: one owner per account, who is a member (1); no owner grant and grants
// only for members (3); one audit event per successful change (4).
func Concurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := t.Context()
	st := newStore(t)
	svc := account.New(st, account.Options{})

	const workers, users, steps = 8, 12, 40
	var ids []rbac.Holder
	for i := range users {
		reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "user" + strconv.Itoa(i) + "@concurrent.test"})
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		ids = append(ids, rbac.User(reg.User.ID))
	}
	owner := ids[0]
	acct, err := account.Do(ctx, svc, owner, account.CreateAccount{Name: "Shared"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := account.Do(ctx, svc, owner, account.SetPlan{Account: acct.Ref, Plan: "enterprise"}); err != nil {
		t.Fatal(err)
	}
	var scopes []rbac.Ref
	for i := range 3 {
		p, err := account.Do(ctx, svc, owner, account.CreateResource{Parent: acct.Ref, Kind: rbac.KindProject, Name: "P" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		in, err := account.Do(ctx, svc, owner, account.CreateResource{Parent: p.Ref, Kind: rbac.KindInbox, Name: "I"})
		if err != nil {
			t.Fatal(err)
		}
		scopes = append(scopes, p.Ref, in.Ref)
	}
	scopes = append(scopes, acct.Ref)
	for _, u := range ids[1:4] {
		inv, err := account.Do(ctx, svc, owner, account.Invite{Tenant: acct.Ref, Email: emailOf(ctx, st, u), Grants: []account.GrantSpec{{Scope: acct.Ref, Level: rbac.Admin}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := account.Do(ctx, svc, u, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
			t.Fatal(err)
		}
	}
	base := countEvents(t, st, acct.Ref)

	var done atomic.Int64 // successful changes in acct
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range steps {
				n, err := concurrentStep(ctx, st, svc, r, ids, acct.Ref, scopes)
				done.Add(int64(n))
				if err != nil && !typed(err) {
					t.Errorf("untyped error under concurrency: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()

	err = st.View(ctx, func(ctx context.Context, r store.Reader) error {
		a, err := r.Account(ctx, acct.Ref)
		if err != nil {
			return err
		}
		if _, err := r.Member(ctx, acct.Ref, a.Owner); err != nil {
			return fmt.Errorf("the owner %s is not a member: %v (invariant 1)", a.Owner, err)
		}
		owners := 0
		for _, u := range ids {
			_, g, err := r.Reach(ctx, u, acct.Ref, nil, nil)
			if err != nil {
				return err
			}
			for _, gr := range g {
				if gr.Level == rbac.Owner && gr.Holder == u {
					owners++
				}
			}
		}
		if owners != 1 {
			return fmt.Errorf("%d users hold owner on the account, want exactly 1 (invariant 1)", owners)
		}
		for _, s := range scopes {
			for g, err := range r.ScopeGrants(ctx, s, false) {
				if err != nil {
					return err
				}
				if g.Level == rbac.Owner {
					return fmt.Errorf("an owner grant exists: %v (D4)", g.Grant)
				}
				if g.Holder.Kind == rbac.HolderUser {
					if _, err := r.Member(ctx, acct.Ref, g.Holder.ID); err != nil {
						return fmt.Errorf("grant %v is held by a non-member (D13)", g.Grant)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := countEvents(t, st, acct.Ref) - base; got != int(done.Load()) {
		t.Fatalf("%d audit events for %d successful changes (D31)", got, done.Load())
	}
}

func typed(err error) bool {
	for _, e := range typedErrs {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.Is(err, store.ErrConflict)
}

// concurrentStep runs one or a few random operations in acct and returns how many
// succeeded (each wrote one event in acct) and the last refusal.
func concurrentStep(ctx context.Context, st store.Store, svc *account.Service, r *rand.Rand, users []rbac.Holder, acct rbac.Ref, scopes []rbac.Ref) (int, error) {
	// Half the time the owner acts, and half the time on a current member.
	var owner string
	var members []store.Member
	_ = st.View(ctx, func(ctx context.Context, rd store.Reader) error {
		a, err := rd.Account(ctx, acct)
		if err != nil {
			return err
		}
		owner = a.Owner
		members, err = rd.Members(ctx, acct, "", 100)
		return err
	})
	actor := users[r.IntN(len(users))]
	if r.IntN(2) == 0 && owner != "" {
		actor = rbac.User(owner)
	} else if len(members) > 0 && r.IntN(2) == 0 {
		actor = rbac.User(members[r.IntN(len(members))].User)
	}
	other := users[r.IntN(len(users))]
	if len(members) > 0 && r.IntN(2) == 0 {
		other = rbac.User(members[r.IntN(len(members))].User)
	}
	scope := scopes[r.IntN(len(scopes))]
	level := []rbac.Level{rbac.Viewer, rbac.Admin}[r.IntN(2)]
	one := func(_ struct{}, err error) (int, error) {
		if err != nil {
			return 0, err
		}
		return 1, nil
	}
	switch r.IntN(6) {
	case 0:
		inv, err := account.Do(ctx, svc, actor, account.Invite{Tenant: acct, Email: emailOf(ctx, st, other)})
		if err != nil {
			return 0, err
		}
		n, err := one(account.Do(ctx, svc, other, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))
		return n + 1, err
	case 1:
		return one(account.Do(ctx, svc, actor, account.SetPermissions{Tenant: acct, Holder: other, Changes: []account.PermissionChange{{Scope: scope, Level: level}}}))
	case 2:
		return one(account.Do(ctx, svc, actor, account.TransferOwnership{Account: acct, To: other}))
	case 3:
		return one(account.Do(ctx, svc, actor, account.RemoveFromResource{Scope: scope, Member: other}))
	case 4:
		return one(account.Do(ctx, svc, actor, account.Leave{Account: acct}))
	default:
		return one(account.Do(ctx, svc, actor, account.RemoveMember{Tenant: acct, Member: other}))
	}
}

func emailOf(ctx context.Context, st store.Store, u rbac.Holder) string {
	var email string
	_ = st.View(ctx, func(ctx context.Context, r store.Reader) error {
		usr, err := r.User(ctx, u.ID)
		email = usr.Email
		return err
	})
	return email
}

func countEvents(t *testing.T, st store.Store, tenant rbac.Ref) int {
	n := 0
	var after uint64
	err := st.View(t.Context(), func(ctx context.Context, r store.Reader) error {
		for {
			evs, err := r.Events(ctx, tenant, after, 500)
			if err != nil {
				return err
			}
			n += len(evs)
			if len(evs) < 500 {
				return nil
			}
			after = evs[len(evs)-1].Seq
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
