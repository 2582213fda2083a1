// Package txn is what packages account and profile share that must stay privileged:
// the raw store transaction an operation runs in, and the few steps that write
// without a policy check of their own because the operation calling them has made it.
// Being internal, it cannot be imported from outside this module, so no caller can
// reach the store's writer except through an operation.
package txn

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// ErrReadOnly is returned by every write in a read-only transaction.
var ErrReadOnly = errors.New("account: write in a read-only transaction")

// Env is what operations need from the service they run under.
type Env struct {
	Now   func() time.Time
	NewID func(kind string) string
	Rand  io.Reader
	// FirstPlan is the plan of accounts created by registering or CreateAccount.
	FirstPlan string
	// Svc is the *account.Service.
	Svc any
}

// Tx is one store transaction as operations see it.
type Tx struct {
	R store.Reader
	// W is the writer; nil in a read-only transaction, where running a change
	// fails with ErrReadOnly before it starts.
	W   store.Writer
	Env *Env
	// Actor is the holder the operation or query at hand acts as: the one the
	// security policies judge (D32, D35).
	Actor rbac.Holder
	// Work is the working state that the package running the operation keeps with
	// this Tx, allocated with it; nil when it has none.
	Work any
	// Rev is the Seq of the last event Audit appended: once the transaction
	// commits, its revision in the change feed.
	Rev uint64
}

// Audit appends one audit event (D31), stamped with the service clock's time, and
// records the actor's activity in tenant (D39).
//
// The event carries how the actor signed in and from where (store.AuthFrom), and the
// changes to access recorded since the last event, when t.W is a Recorder.
func (t *Tx) Audit(ctx context.Context, tenant rbac.Ref, actor rbac.Holder, action, target, before, after string) error {
	now := t.Env.Now()
	e := store.Event{
		Time: now, Tenant: tenant, Actor: actor, Action: action,
		Target: target, Before: before, After: after,
	}
	if a := store.AuthFrom(ctx); a != nil {
		e.Auth, e.ClientIP = a.Method, a.ClientIP
	}
	rec, recording := t.W.(*Recorder)
	if recording {
		e.Changes = rec.Take()
	}
	stored, err := t.W.AppendEvent(ctx, e)
	if err != nil {
		return err
	}
	t.Rev = max(t.Rev, stored.Seq)
	return t.Touch(ctx, tenant, actor, now)
}

// ActivityEvery is the least time between two recordings of a holder's activity in
// one tenant (D39): a more recent recording is kept as it is.
const ActivityEvery = time.Minute

// Due reports whether activity at now is to be recorded over the last recording.
func Due(last, now time.Time) bool { return last.IsZero() || now.Sub(last) >= ActivityEvery }

// Touch records that actor was active in tenant at now (D39): a user's LastActive as a
// member of tenant (nothing when it is not one), a token's LastUsed (tenant aside),
// each at most once per ActivityEvery.
func (t *Tx) Touch(ctx context.Context, tenant rbac.Ref, actor rbac.Holder, now time.Time) error {
	switch actor.Kind {
	case rbac.HolderUser:
		if tenant.IsZero() {
			return nil
		}
		m, err := t.R.Member(ctx, tenant, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil || !Due(m.LastActive, now) {
			return err
		}
		return t.W.TouchMember(ctx, tenant, actor.ID, now)
	case rbac.HolderToken:
		tok, err := t.R.Token(ctx, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil || !Due(tok.LastUsed, now) {
			return err
		}
		tok.LastUsed = now
		return t.W.UpdateToken(ctx, tok)
	}
	return nil
}

// Singletons are the scopes every account has one of, created with it. Their ID is
// the account's.
var Singletons = []rbac.Kind{rbac.KindBilling, rbac.KindTemplates, rbac.KindCampaigns}

// InsertTenant adds an account or organization owned by owner, with the owner's
// membership and, for an account, its billing, templates and campaigns scopes. name
// must be valid already.
func (t *Tx) InsertTenant(ctx context.Context, owner string, kind rbac.Kind, name, plan, org string) (store.Account, error) {
	now := t.Env.Now()
	prefix := "acct"
	if kind == rbac.KindOrganization {
		prefix = "org"
	}
	a := store.Account{Ref: rbac.Ref{Kind: kind, ID: t.Env.NewID(prefix)}, Org: org, Name: name, Owner: owner, Plan: plan, Created: now}
	if err := t.W.InsertAccount(ctx, a); err != nil {
		return store.Account{}, err
	}
	if err := t.W.InsertMember(ctx, store.Member{Tenant: a.Ref, User: owner, Created: now}); err != nil {
		return store.Account{}, err
	}
	if kind == rbac.KindAccount {
		for _, k := range Singletons {
			r := store.Resource{Ref: rbac.Ref{Kind: k, ID: a.Ref.ID}, Parent: a.Ref, Account: a.Ref.ID, Name: k.String(), Created: now}
			if err := t.W.InsertResource(ctx, r); err != nil {
				return store.Account{}, err
			}
		}
	}
	return a, nil
}

// Owned returns the accounts and organizations user owns, not counting sub-accounts,
// which go with their organization.
func (t *Tx) Owned(ctx context.Context, user string) ([]rbac.Ref, error) {
	var owned []rbac.Ref
	for m, err := range Collect(t.R.Memberships(ctx, user)) {
		if err != nil {
			return nil, err
		}
		a, err := t.R.Account(ctx, m.Tenant)
		if err != nil {
			return nil, err
		}
		if a.Owner == user && (a.Org == "" || a.Ref.Kind == rbac.KindOrganization) {
			owned = append(owned, a.Ref)
		}
	}
	return owned, nil
}

// Collect drains a store listing before the caller writes, since a transaction must
// not write while it ranges over a listing.
func Collect[T any](seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	type item struct {
		v   T
		err error
	}
	var items []item
	for v, err := range seq {
		items = append(items, item{v, err})
		if err != nil {
			break
		}
	}
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it.v, it.err) {
				return
			}
		}
	}
}
