package store

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/tenantry/tenantry/rbac"
)

// Check is the check of package account, made over any Reader: what Checker.Check
// must answer. For a user or a team it is rbac.Decide on Reach's path and grants. For
// an API token it is rbac.DecideToken: the token's own grants, capped by what its
// creator holds now (Reach for rbac.User(CreatedBy)), and nothing at all once the
// token is dead — deleted, expired or reset (see TokenLive). It returns ErrNotFound
// when scope does not exist.
//
// An allowed decision for a user or a token is then subject to the security policies
// of the scope's account and organization and, for a token, its own IP allowlist,
// decided by rbac.ApplyPolicy on the Auth of ctx (AuthFrom): see ApplyPolicies.
func Check(ctx context.Context, r Reader, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	path, grants, err := r.Reach(ctx, holder, scope, nil, nil)
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	if holder.Kind != rbac.HolderToken {
		d := rbac.Decide(action, path, grants)
		if !d.Allowed || holder.Kind != rbac.HolderUser {
			return d, nil
		}
		return ApplyPolicies(ctx, r, holder, path, d, now, nil)
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
	d := rbac.DecideToken(action, path, grants, creator, live)
	if !d.Allowed {
		return d, nil
	}
	return ApplyPolicies(ctx, r, holder, path, d, now, t.IPAllowlist)
}

// CheckToken is Check for a token whose path and grants on scope the caller has read,
// with the security policies of the tenants on the path (root first): it reads the
// token and its creator's Reach from r, decides with rbac.DecideToken, and applies
// policies and the token's own allowlist on the Auth of ctx. A store whose Checker
// reads the path and the policies in one statement answers tokens with it.
func CheckToken(ctx context.Context, r Reader, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time, path rbac.Path, grants []rbac.Grant, policies []rbac.Policy) (rbac.Decision, error) {
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
	d := rbac.DecideToken(action, path, grants, creator, live)
	if d.Allowed && (len(policies) > 0 || len(t.IPAllowlist) > 0) {
		d = rbac.ApplyPolicy(d, holder, AuthFrom(ctx), now, t.IPAllowlist, policies...)
	}
	return d, nil
}

// ApplyPolicies applies to d, a decision for holder on path's leaf, the security
// policies of the accounts and organizations on path (SecurityPolicy) and tokenIPs, a
// token's own allowlist, with rbac.ApplyPolicyTo on the Auth of ctx at now (and the
// user's address when a policy enforces single sign-on).
func ApplyPolicies(ctx context.Context, r Reader, holder rbac.Holder, path rbac.Path, d rbac.Decision, now time.Time, tokenIPs []netip.Prefix) (rbac.Decision, error) {
	if !d.Allowed {
		return d, nil
	}
	var pols [2]rbac.Policy
	n := 0
	for _, ref := range path {
		if !ref.Kind.Ownable() || n == len(pols) {
			continue
		}
		p, err := r.SecurityPolicy(ctx, ref)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return rbac.Decision{Action: d.Action, Scope: d.Scope, Rule: rbac.RuleInvalidScope}, err
		}
		pols[n] = p.Policy()
		n++
	}
	if n == 0 && len(tokenIPs) == 0 {
		return d, nil
	}
	email := ""
	if holder.Kind == rbac.HolderUser && (len(pols[0].EnforceSSO) > 0 || len(pols[1].EnforceSSO) > 0) {
		u, err := r.User(ctx, holder.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return rbac.Decision{Action: d.Action, Scope: d.Scope, Rule: rbac.RuleInvalidScope}, err
		}
		email = u.Email
	}
	return rbac.ApplyPolicyTo(d, holder, email, AuthFrom(ctx), now, tokenIPs, pols[:n]...), nil
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
