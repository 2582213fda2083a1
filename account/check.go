package account

import (
	"context"
	"errors"
	"net/netip"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Check decides whether holder may do action on scope: allowed or not, with the
// grant or rule that decided. It returns ErrNotFound when scope does not exist. A
// token acts within its own grants, capped by what its creator holds now
// ([rbac.RuleTokenCreator]), and as nothing once expired, reset or deleted
// ([rbac.RuleTokenSecret]).
//
// A denial says nothing about whether holder may know that scope exists: a host that
// answers a denied Check with 403 and a missing scope with 404 tells strangers what
// exists. Use Authorize to guard a request; use Check to show why.
//
// Check trusts holder to be who it says: authenticate token secrets with
// Authenticate first. On a store with a store.Checker it is one read and allocates
// nothing.
func (s *Service) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Decision, error) {
	if s.check != nil {
		return s.check.Check(ctx, holder, action, scope, s.env.Now())
	}
	return store.CheckIn(ctx, s.st, holder, action, scope, s.env.Now())
}

// Authorize is the guard of a request, with the rule every operation uses: nil when
// holder may do action on scope; an *rbac.DeniedError when holder can see scope but
// may not do it; ErrNotFound when holder cannot see scope (it holds nothing on scope,
// above or below it, and is not a member of the account) or scope does not exist —
// the two answer alike, so a host that maps them to 403 and 404 leaks nothing; and
// ErrUnauthenticated for a token that expired, was reset or was deleted.
//
// On a store with a store.Checker, an allowed request, a stranger's and one naming a
// scope that does not exist allocate nothing; a denial allocates its error.
func (s *Service) Authorize(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref) error {
	d, err := s.Check(ctx, holder, action, scope)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errNotFoundScope
		}
		return err
	}
	if d.Allowed {
		return nil
	}
	if holder.Kind == rbac.HolderToken && d.Rule == rbac.RuleTokenSecret {
		return ErrUnauthenticated
	}
	if d.Level == rbac.None {
		seen, err := s.sees(ctx, holder, scope)
		if err != nil {
			return err
		}
		if !seen {
			return errNotFoundScope
		}
	}
	return &rbac.DeniedError{Decision: d}
}

// sees asks the store whether holder can see scope although no grant reaches it.
func (s *Service) sees(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	if s.check != nil {
		return s.check.Sees(ctx, holder, scope)
	}
	return store.SeesIn(ctx, s.st, holder, scope)
}

// errNotFoundScope is Authorize's answer for a scope the holder cannot see: one value,
// so that answering it allocates nothing, and naming no scope, so that it says the
// same whatever was asked.
var errNotFoundScope error = notFoundErr("account: not found")

type notFoundErr string

func (e notFoundErr) Error() string        { return string(e) }
func (e notFoundErr) Is(target error) bool { return target == ErrNotFound }

// Explanation is a decision with everything it was made from.
type Explanation struct {
	rbac.Decision
	// Path is the scope with its ancestors, root first.
	Path rbac.Path
	// Grants are every grant that reached the scope for the holder: its own, its
	// teams', and the owner's on an owned account or organization.
	Grants []rbac.Grant
}

// Explain is Check with the full reason: the path and every grant the decision
// weighed. It allocates the explanation's slices; ExplainTo reuses them.
func (s *Service) Explain(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref) (Explanation, error) {
	e := Explanation{Path: make(rbac.Path, 0, 4), Grants: make([]rbac.Grant, 0, 8)}
	err := s.ExplainTo(ctx, &e, holder, action, scope)
	return e, err
}

// ExplainTo is Explain into e, reusing the capacity of e.Path and e.Grants: on a
// store with a store.Checker it allocates nothing once they are large enough. On
// error, e holds no decision. For a token, Grants are the token's own and the
// decision is Check's, capped by its creator's access.
func (s *Service) ExplainTo(ctx context.Context, e *Explanation, holder rbac.Holder, action rbac.Action, scope rbac.Ref) error {
	var path rbac.Path
	var grants []rbac.Grant
	var err error
	if s.check != nil {
		path, grants, err = s.check.Reach(ctx, holder, scope, e.Path[:0], e.Grants[:0])
	} else {
		path, grants, err = s.viewReach(ctx, holder, scope, e.Path[:0], e.Grants[:0])
	}
	if err != nil {
		*e = Explanation{Path: path[:0], Grants: grants[:0]}
		return err
	}
	d := rbac.Decide(action, path, grants)
	if holder.Kind == rbac.HolderToken {
		if d, err = s.Check(ctx, holder, action, scope); err != nil {
			*e = Explanation{Path: path[:0], Grants: grants[:0]}
			return err
		}
	}
	*e = Explanation{Decision: d, Path: path, Grants: grants}
	return nil
}

// viewReach answers Reach in a View.
func (s *Service) viewReach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		path, grants, err = r.Reach(ctx, holder, scope, path, grants)
		return err
	})
	return path, grants, err
}

// reach returns the path to scope and the grants that reach it for holder;
// ErrNotFound naming scope when it does not exist.
//
// The path and grants are read into the work's room while it lasts, and are never
// written again: each is capped at its length, and the next reach reads after them.
func (tx *work) reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Path, []rbac.Grant, error) {
	p, g, err := tx.r.Reach(ctx, holder, scope, tx.paths[tx.np:tx.np:len(tx.paths)], tx.grants[tx.ng:tx.ng:len(tx.grants)])
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound(scope)
	}
	// Whatever the store read into the room is taken, in the room or not.
	tx.np = min(tx.np+len(p), len(tx.paths))
	tx.ng = min(tx.ng+len(g), len(tx.grants))
	return p[:len(p):len(p)], g[:len(g):len(g)], err
}

// path returns the path to scope (store.Reader.Path), read into the work's room as
// reach's paths are.
func (tx *work) path(ctx context.Context, scope rbac.Ref) (rbac.Path, error) {
	p, err := tx.r.Path(ctx, scope, tx.paths[tx.np:tx.np:len(tx.paths)])
	tx.np = min(tx.np+len(p), len(tx.paths))
	return p[:len(p):len(p)], err
}

// authorize checks that actor is a live holder and may do action on scope, with
// Authorize's rule: ErrNotFound when the actor cannot see scope, an *rbac.DeniedError
// when it can see it but may not act. It returns the path to scope, the decision and
// the actor's grants that reach scope.
func (tx *work) authorize(ctx context.Context, actor rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Path, rbac.Decision, error) {
	if err := tx.checkActor(ctx, actor); err != nil {
		return nil, rbac.Decision{}, err
	}
	p, d, err := tx.decide(ctx, actor, action, scope)
	if err != nil {
		return nil, rbac.Decision{}, err
	}
	if d.Allowed && actor.Kind == rbac.HolderUser { // a token's decision includes them already
		if d, err = store.ApplyPolicies(ctx, tx.r, actor, p, d, tx.Env.Now(), nil); err != nil {
			return nil, d, err
		}
	}
	if d.Allowed {
		return p, d, nil
	}
	if d.Level == rbac.None {
		seen, err := store.Sees(ctx, tx.r, actor, scope)
		if err != nil {
			return nil, d, err
		}
		if !seen {
			return nil, d, notFound(scope)
		}
	}
	return p, d, d.Err()
}

// visible reports whether actor can see scope, which exists: ErrNotFound naming scope
// when it cannot or when scope does not exist.
func (tx *work) visible(ctx context.Context, actor rbac.Holder, scope rbac.Ref) (rbac.Path, rbac.Level, error) {
	p, lvl, err := tx.levelOn(ctx, actor, scope)
	if err != nil {
		return nil, rbac.None, err
	}
	if lvl == rbac.None {
		seen, err := store.Sees(ctx, tx.r, actor, scope)
		if err != nil {
			return nil, rbac.None, err
		}
		if !seen {
			return nil, rbac.None, notFound(scope)
		}
	}
	if lvl == rbac.None { // levelOn judged an actor with access already
		if err := tx.gate(ctx, actor, p, lvl); err != nil {
			return nil, rbac.None, err
		}
	}
	return p, lvl, nil
}

// gate applies the security policies on path to actor, the holder acting
// ([rbac.RuleRequire2FA], [rbac.RuleIPAllowlist]), which can see path's leaf at level
// lvl: nil when they let it act there, their refusal (a *rbac.DeniedError) otherwise.
func (tx *work) gate(ctx context.Context, actor rbac.Holder, p rbac.Path, lvl rbac.Level) error {
	d, err := tx.policyDecision(ctx, actor, p, lvl)
	if err != nil {
		return err
	}
	return d.Err()
}

// policyDecision is what the security policies on path say of actor acting there at
// level lvl: allowed (with a notice, perhaps) or refused.
func (tx *work) policyDecision(ctx context.Context, actor rbac.Holder, p rbac.Path, lvl rbac.Level) (rbac.Decision, error) {
	d := rbac.Decision{Allowed: true, Action: rbac.AccountView, Scope: p.Leaf(), Level: lvl}
	if p.Leaf().Kind == rbac.KindOrganization {
		d.Action = rbac.OrgView
	}
	var tokenIPs []netip.Prefix
	switch actor.Kind {
	case rbac.HolderUser:
	case rbac.HolderToken:
		t, err := tx.r.Token(ctx, actor.ID)
		if err != nil {
			return d, err
		}
		tokenIPs = t.IPAllowlist
	default:
		return d, nil
	}
	return store.ApplyPolicies(ctx, tx.r, actor, p, d, tx.Env.Now(), tokenIPs)
}

// checkActor reports ErrUnauthenticated for an actor that is not a live user or a
// live token.
func (tx *work) checkActor(ctx context.Context, actor rbac.Holder) error {
	switch actor.Kind {
	case rbac.HolderUser:
		if _, err := tx.r.User(ctx, actor.ID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrUnauthenticated
			}
			return err
		}
		return nil
	case rbac.HolderToken:
		t, err := tx.r.Token(ctx, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		if !store.TokenLive(t, tx.Env.Now()) {
			return ErrUnauthenticated
		}
		return nil
	}
	return ErrUnauthenticated
}

// decide decides, inside the transaction, whether holder may do action on scope, as
// Service.Check does, and returns the path to scope; ErrNotFound naming scope when it
// does not exist.
func (tx *work) decide(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Path, rbac.Decision, error) {
	p, g, err := tx.reach(ctx, holder, scope)
	if err != nil {
		return nil, rbac.Decision{}, err
	}
	if holder.Kind != rbac.HolderToken {
		return p, rbac.Decide(action, p, g), nil
	}
	d, err := store.Check(ctx, tx.r, holder, action, scope, tx.Env.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, rbac.Decision{}, notFound(scope)
	}
	return p, d, err
}

// levelOn returns the path to scope and holder's effective level there (D5); a
// token's is capped by its creator's ([rbac.RuleTokenCreator]).
func (tx *work) levelOn(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Path, rbac.Level, error) {
	p, lvl, err := tx.grantedLevel(ctx, holder, scope)
	if err != nil {
		return nil, rbac.None, err
	}
	if holder == tx.Actor && lvl > rbac.None {
		if err := tx.gate(ctx, holder, p, lvl); err != nil {
			return nil, rbac.None, err
		}
	}
	return p, lvl, nil
}

// grantedLevel is levelOn before the security policies: what holder's grants give.
func (tx *work) grantedLevel(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Path, rbac.Level, error) {
	p, g, err := tx.reach(ctx, holder, scope)
	if err != nil {
		return nil, rbac.None, err
	}
	lvl := rbac.EffectiveLevel(p, g)
	if holder.Kind == rbac.HolderToken && lvl > rbac.None {
		t, err := tx.r.Token(ctx, holder.ID)
		if errors.Is(err, store.ErrNotFound) {
			return p, rbac.None, nil
		} else if err != nil {
			return nil, rbac.None, err
		}
		if !store.TokenLive(t, tx.Env.Now()) {
			return p, rbac.None, nil
		}
		_, cg, err := tx.reach(ctx, rbac.User(t.CreatedBy), scope)
		if err != nil {
			return nil, rbac.None, err
		}
		lvl = min(lvl, rbac.EffectiveLevel(p, cg))
	}
	return p, lvl, nil
}

// level returns holder's effective level on scope, as levelOn.
func (tx *work) level(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Level, error) {
	_, lvl, err := tx.levelOn(ctx, holder, scope)
	return lvl, err
}

// isMember reports whether h is a user member of tenant.
func (tx *work) isMember(ctx context.Context, h rbac.Holder, tenant rbac.Ref) (bool, error) {
	if h.Kind != rbac.HolderUser {
		return false, nil
	}
	_, err := tx.r.Member(ctx, tenant, h.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
