package account

import (
	"context"
	"errors"
	"sync"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Check decides whether holder may do action on scope: allowed or not, with the
// grant or rule that decided. It returns ErrNotFound when scope does not exist.
//
// A denial says nothing about whether holder may know that scope exists: a host that
// answers a denied Check with 403 and a missing scope with 404 tells strangers what
// exists. Use Authorize to guard a request; use Check to show why.
//
// Check trusts holder: authenticate tokens with Authenticate first. On a store with
// a store.Checker it is one read and allocates nothing.
func (s *Service) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Decision, error) {
	if s.check != nil {
		return s.check.Check(ctx, holder, action, scope)
	}
	b := bufs.Get().(*buffers)
	defer bufs.Put(b)
	var err error
	b.path, b.grants, err = s.viewReach(ctx, holder, scope, b.path, b.grants)
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	return rbac.Decide(action, b.path, b.grants), nil
}

// Authorize is the guard of a request, with the rule every operation uses: nil when
// holder may do action on scope; an *rbac.DeniedError when holder can see scope but
// may not do it; ErrNotFound when holder cannot see scope (it holds nothing on scope,
// above or below it, and is not a member of the account) or scope does not exist —
// the two answer alike, so a host that maps them to 403 and 404 leaks nothing.
//
// On a store with a store.Checker, an allowed request and a stranger's request
// allocate nothing; a denial allocates its error.
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
	if d.Level == rbac.None {
		var seen bool
		err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
			var err error
			seen, err = sees(ctx, r, holder, scope)
			return err
		})
		if err != nil {
			return err
		}
		if !seen {
			return errNotFoundScope
		}
	}
	return &rbac.DeniedError{Decision: d}
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
// error, e holds no decision.
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
	*e = Explanation{Decision: rbac.Decide(action, path, grants), Path: path, Grants: grants}
	return nil
}

// buffers are the scratch slices of a check on a store without a Checker, pooled so
// that such a check allocates little.
type buffers struct {
	path   rbac.Path
	grants []rbac.Grant
}

var bufs = sync.Pool{New: func() any {
	return &buffers{path: make(rbac.Path, 0, 8), grants: make([]rbac.Grant, 0, 16)}
}}

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
func (tx *work) reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Path, []rbac.Grant, error) {
	p, g, err := tx.r.Reach(ctx, holder, scope, nil, nil)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound(scope)
	}
	return p, g, err
}

// authorize checks that actor is a live holder and may do action on scope, with
// Authorize's rule: ErrNotFound when the actor cannot see scope, an *rbac.DeniedError
// when it can see it but may not act. It returns the path to scope, the decision and
// the actor's grants that reach scope.
func (tx *work) authorize(ctx context.Context, actor rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Path, rbac.Decision, error) {
	if err := tx.checkActor(ctx, actor); err != nil {
		return nil, rbac.Decision{}, err
	}
	p, g, err := tx.reach(ctx, actor, scope)
	if err != nil {
		return nil, rbac.Decision{}, err
	}
	d := rbac.Decide(action, p, g)
	if d.Allowed {
		return p, d, nil
	}
	if d.Level == rbac.None {
		seen, err := sees(ctx, tx.r, actor, scope)
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
	p, g, err := tx.reach(ctx, actor, scope)
	if err != nil {
		return nil, rbac.None, err
	}
	lvl := rbac.EffectiveLevel(p, g)
	if lvl == rbac.None {
		seen, err := sees(ctx, tx.r, actor, scope)
		if err != nil {
			return nil, rbac.None, err
		}
		if !seen {
			return nil, rbac.None, notFound(scope)
		}
	}
	return p, lvl, nil
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
		if !tx.s.tokenLive(t) {
			return ErrUnauthenticated
		}
		return nil
	}
	return ErrUnauthenticated
}

// sees reports whether holder can see scope although no grant reaches it: it is a
// member of scope (an account or organization), or it (or one of its teams) holds a
// grant on a scope below scope, so it knows scope exists.
func sees(ctx context.Context, r store.Reader, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	p, err := r.Path(ctx, scope, nil)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
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
		if !errors.Is(err, store.ErrNotFound) {
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
			buf, err = r.Path(ctx, g.Scope, buf)
			if err != nil {
				return false, err
			}
			if buf.Contains(scope) {
				return true, nil
			}
		}
	}
	return false, nil
}

// level returns holder's effective level on scope.
func (tx *work) level(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Level, error) {
	p, g, err := tx.reach(ctx, holder, scope)
	if err != nil {
		return rbac.None, err
	}
	return rbac.EffectiveLevel(p, g), nil
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
