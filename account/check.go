package account

import (
	"context"
	"errors"
	"sync"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// buffers are the scratch slices of one check, pooled so that a check allocates
// nothing.
type buffers struct {
	path   rbac.Path
	grants []rbac.Grant
}

type bufPool struct{ p sync.Pool }

func newBufPool() *bufPool {
	return &bufPool{p: sync.Pool{New: func() any {
		return &buffers{path: make(rbac.Path, 0, 8), grants: make([]rbac.Grant, 0, 16)}
	}}}
}

// Check decides whether holder may do action on scope: the check a service makes on
// every request. It returns ErrNotFound when scope does not exist; otherwise the
// decision, allowed or not, with a nil error. Check trusts holder: authenticate tokens
// with Authenticate first. On stores that implement store.Checker or store.Reacher it
// is one read, and it allocates nothing.
func (s *Service) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Decision, error) {
	if s.check != nil {
		return s.check.Check(ctx, holder, action, scope)
	}
	b := s.buffer.p.Get().(*buffers)
	defer s.buffer.p.Put(b)
	var err error
	b.path, b.grants, err = s.reachOutside(ctx, holder, scope, b.path, b.grants)
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	return rbac.Decide(action, b.path, b.grants), nil
}

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
// store.Reacher it allocates nothing once they are large enough. On error, e holds
// no decision.
func (s *Service) ExplainTo(ctx context.Context, e *Explanation, holder rbac.Holder, action rbac.Action, scope rbac.Ref) error {
	path, grants, err := s.reachOutside(ctx, holder, scope, e.Path[:0], e.Grants[:0])
	if err != nil {
		*e = Explanation{Path: path[:0], Grants: grants[:0]}
		return err
	}
	*e = Explanation{Decision: rbac.Decide(action, path, grants), Path: path, Grants: grants}
	return nil
}

// reachOutside answers Reach outside any transaction: through the store's Reacher
// when it has one, else in a View.
func (s *Service) reachOutside(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	if s.check != nil {
		return s.check.Reach(ctx, holder, scope, path, grants)
	}
	return s.viewReach(ctx, holder, scope, path, grants)
}

// viewReach answers Reach in a View. It is apart from reachOutside so that the
// closure's captures do not move the Reacher path's slices to the heap.
func (s *Service) viewReach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		path, grants, err = r.Reach(ctx, holder, scope, path, grants)
		return err
	})
	return path, grants, err
}

// reach returns the path to scope and holder's effective level there.
func (tx *Tx) reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Path, []rbac.Grant, error) {
	p, g, err := tx.r.Reach(ctx, holder, scope, nil, nil)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound(scope)
	}
	return p, g, err
}

// authorize checks that actor is a live holder and may do action on scope. When the
// actor cannot see scope at all it reports ErrNotFound; when it can see it but may not
// act, an *rbac.DeniedError.
func (tx *Tx) authorize(ctx context.Context, actor rbac.Holder, action rbac.Action, scope rbac.Ref) (rbac.Path, rbac.Decision, error) {
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
		seen, err := tx.seesBelow(ctx, actor, p)
		if err != nil {
			return nil, d, err
		}
		if !seen {
			return nil, d, notFound(scope)
		}
	}
	return p, d, d.Err()
}

// checkActor reports ErrUnauthenticated for an actor that is not a live user or a
// valid token.
func (tx *Tx) checkActor(ctx context.Context, actor rbac.Holder) error {
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
		if !tx.tokenLive(t) {
			return ErrUnauthenticated
		}
		return nil
	}
	return ErrUnauthenticated
}

// seesBelow reports whether actor holds any grant on a scope below the leaf of p, so
// that it knows the leaf exists even without access to it.
func (tx *Tx) seesBelow(ctx context.Context, actor rbac.Holder, p rbac.Path) (bool, error) {
	tenant := p.Tenant()
	if tenant.IsZero() {
		return false, nil
	}
	holders := []rbac.Holder{actor}
	if actor.Kind == rbac.HolderUser {
		for t, err := range tx.r.UserTeams(ctx, actor.ID, tenant) {
			if err != nil {
				return false, err
			}
			holders = append(holders, rbac.Team(t.ID))
		}
	}
	leaf := p.Leaf()
	for _, h := range holders {
		for g, err := range tx.r.HolderGrants(ctx, h, tenant) {
			if err != nil {
				return false, err
			}
			if g.Scope == leaf {
				return true, nil
			}
			gp, err := tx.r.Path(ctx, g.Scope, nil)
			if err != nil {
				return false, err
			}
			if gp.Contains(leaf) {
				return true, nil
			}
		}
	}
	return false, nil
}

// level returns holder's effective level on scope.
func (tx *Tx) level(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Level, error) {
	p, g, err := tx.reach(ctx, holder, scope)
	if err != nil {
		return rbac.None, err
	}
	return rbac.EffectiveLevel(p, g), nil
}
