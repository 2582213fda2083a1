package store

import (
	"context"
	"errors"
	"time"

	"github.com/tenantry/tenantry/rbac"
)

// Check is the check of package account, made over any Reader: what Checker.Check
// must answer. For a user or a team it is rbac.Decide on Reach's path and grants. For
// an API token it is rbac.DecideToken: the token's own grants, capped by what its
// creator holds now (Reach for rbac.User(CreatedBy)), and nothing at all once the
// token is dead — deleted, expired or reset (see TokenLive). It returns ErrNotFound
// when scope does not exist.
func Check(ctx context.Context, r Reader, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	path, grants, err := r.Reach(ctx, holder, scope, nil, nil)
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	if holder.Kind != rbac.HolderToken {
		return rbac.Decide(action, path, grants), nil
	}
	t, err := r.Token(ctx, holder.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	live := err == nil && TokenLive(t, now)
	var creator []rbac.Grant
	if live {
		if _, creator, err = r.Reach(ctx, rbac.User(t.CreatedBy), scope, nil, nil); err != nil {
			return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
		}
	}
	return rbac.DecideToken(action, path, grants, creator, live), nil
}

// TokenLive reports whether t may act at now: until its Expires (a zero Expires
// never comes). Resetting a token sets its Expires to the end of its grace period.
func TokenLive(t Token, now time.Time) bool {
	return t.Expires.IsZero() || now.Before(t.Expires)
}

// Sees reports, over any Reader, whether holder can see scope although no grant of
// its reaches scope: holder is a user member of scope (an account or organization),
// or it, or a team of its in scope's tenant, holds a grant on a scope below scope. It
// is what Checker.Sees must answer; false when scope does not exist.
func Sees(ctx context.Context, r Reader, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	p, err := r.Path(ctx, scope, nil)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	tenant := p.Tenant()
	if tenant.IsZero() {
		return false, nil
	}
	if holder.Kind == rbac.HolderUser && scope.Kind.Ownable() {
		_, err := r.Member(ctx, scope, holder.ID)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return false, err
		}
	}
	holders := []rbac.Holder{holder}
	if holder.Kind == rbac.HolderUser {
		for t, err := range r.UserTeams(ctx, holder.ID, tenant) {
			if err != nil {
				return false, err
			}
			holders = append(holders, rbac.Team(t.ID))
		}
	}
	var buf rbac.Path
	for _, h := range holders {
		for g, err := range r.HolderGrants(ctx, h, tenant) {
			if err != nil {
				return false, err
			}
			if g.Scope == scope {
				return true, nil
			}
			if buf, err = r.Path(ctx, g.Scope, buf); err != nil {
				return false, err
			}
			if buf.Contains(scope) {
				return true, nil
			}
		}
	}
	return false, nil
}

// CheckIn is Check in one read transaction of st: what a store without a faster way
// answers Checker.Check with, and what package account does on a store without a
// Checker.
func CheckIn(ctx context.Context, st Store, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	var d rbac.Decision
	err := st.View(ctx, func(ctx context.Context, r Reader) error {
		var err error
		d, err = Check(ctx, r, holder, action, scope, now)
		return err
	})
	return d, err
}

// SeesIn is Sees in one read transaction of st.
func SeesIn(ctx context.Context, st Store, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	var seen bool
	err := st.View(ctx, func(ctx context.Context, r Reader) error {
		var err error
		seen, err = Sees(ctx, r, holder, scope)
		return err
	})
	return seen, err
}
