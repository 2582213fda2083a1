package account

import (
	"context"
	"iter"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// ActivityEvery is the least time between two recordings of a holder's activity in
// one account ([rbac.RuleActivity]): a member's LastActive and a token's LastUsed are at
// most this old when the holder has acted since.
const ActivityEvery = txn.ActivityEvery

// Inactive lists the members of the account or organization Tenant who have not been
// active there since Since ([rbac.RuleActivity]): whose last recorded activity, or their
// joining when none is recorded, is before Since — the "remove inactive users" screen.
// Members are listed by user ID, to whom may list them ([rbac.RuleVisibility]: an
// account admin sees every member, a resource admin the members of their resources).
type Inactive struct {
	Tenant rbac.Ref
	Since  time.Time
	Page   PageRequest
}

// InactiveMember is one entry of Inactive.
type InactiveMember struct {
	User       store.User
	Owner      bool      // the account's owner, who cannot be removed
	Joined     time.Time // when the user became a member
	LastActive time.Time // zero: never recorded
}

// Op returns "member.inactive", its log name.
func (Inactive) Op() string { return "member.inactive" }

func (q Inactive) from(after string) Lister[InactiveMember] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q Inactive) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[InactiveMember], error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return Page[InactiveMember]{}, err
	}
	if q.Since.IsZero() {
		return Page[InactiveMember]{}, invalid("since", "missing")
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[InactiveMember]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[InactiveMember]{}, err
	}
	a, err := tx.tenantOf(ctx, actor, q.Tenant)
	if err != nil {
		return Page[InactiveMember]{}, err
	}
	aud, err := tx.audience(ctx, actor, a)
	if err != nil {
		return Page[InactiveMember]{}, err
	}
	if !aud.all && len(aud.within) == 0 {
		_, d, err := tx.decide(ctx, actor, rbac.MembersList, q.Tenant)
		if err != nil {
			return Page[InactiveMember]{}, err
		}
		return Page[InactiveMember]{}, d.Err()
	}
	var out []InactiveMember
	const batch = 500
	for len(out) <= limit {
		page, err := tx.r.Members(ctx, q.Tenant, after, batch)
		if err != nil {
			return Page[InactiveMember]{}, err
		}
		for _, m := range page {
			after = m.User
			last := m.LastActive
			if last.IsZero() {
				last = m.Created
			}
			if !last.Before(q.Since) {
				continue
			}
			if ok, err := aud.sees(ctx, tx, rbac.User(m.User)); err != nil {
				return Page[InactiveMember]{}, err
			} else if !ok {
				continue
			}
			u, err := tx.r.User(ctx, m.User)
			if err != nil {
				return Page[InactiveMember]{}, err
			}
			out = append(out, InactiveMember{User: u, Owner: a.Owner == m.User, Joined: m.Created, LastActive: m.LastActive})
			if len(out) > limit {
				break
			}
		}
		if len(page) < batch {
			break
		}
	}
	return pageOf(out, limit, func(m InactiveMember) string { return m.User.ID }), nil
}

// ExpiringTokens lists the tokens of every account whose expiry is at or after from and
// before to, by expiry and then ID, without their secrets' hashes: what the host warns
// tokens' creators of, 30 and 3 days before and at expiry ([rbac.RuleTokenExpiry]). It
// is the host's own listing, not an actor's: it reads in batches, each in a read
// transaction of its own, so that a consumer taking its time holds no transaction open.
func (s *Service) ExpiringTokens(ctx context.Context, from, to time.Time) iter.Seq2[store.Token, error] {
	return func(yield func(store.Token, error) bool) {
		const batch = 500
		var last store.Token
		for {
			var toks []store.Token
			err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
				toks = toks[:0]
				for t, err := range r.TokensExpiring(ctx, from, to) {
					if err != nil {
						return err
					}
					if last.ID != "" && t.Expires.Equal(last.Expires) && t.ID <= last.ID {
						continue
					}
					t.Hash = nil
					toks = append(toks, t)
					if len(toks) == batch {
						break
					}
				}
				return nil
			})
			if err != nil {
				yield(store.Token{}, err)
				return
			}
			for _, t := range toks {
				if !yield(t, nil) {
					return
				}
			}
			if len(toks) < batch {
				return
			}
			last = toks[len(toks)-1]
			from = last.Expires
		}
	}
}

// SweepTokens deletes, with their grants, up to Limit tokens (DefaultPageSize when zero,
// at most MaxPageSize) of any account that expired more than the service's
// TokenRetention ago (90 days by default; [rbac.RuleTokenExpiry]), each with an audit
// event in its account. It is the service's own operation: its actor must be the zero
// holder. It returns how many tokens it deleted; the host runs it until that is zero.
type SweepTokens struct {
	Limit int
}

// Op returns "token.sweep", its log name and audit action.
func (SweepTokens) Op() string { return "token.sweep" }

// Apply runs the operation; call it through Do or Run.
func (o SweepTokens) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (int, error) {
	tx := open(t)
	if !actor.IsZero() {
		return 0, invalid("actor", "the sweep runs as the service: the zero holder")
	}
	limit, err := PageRequest{Limit: o.Limit}.limit()
	if err != nil {
		return 0, invalid("limit", "%v", err)
	}
	now := tx.Env.Now()
	var doomed []store.Token
	for tok, err := range tx.r.TokensExpiring(ctx, time.Time{}, now.Add(-tx.s.tokenRetention)) {
		if err != nil {
			return 0, err
		}
		doomed = append(doomed, tok)
		if len(doomed) == limit {
			break
		}
	}
	for _, tok := range doomed {
		if err := tx.w.DeleteToken(ctx, tok.ID); err != nil {
			return 0, err
		}
		if err := tx.audit(ctx, o, tok.Tenant, actor, rbac.Token(tok.ID).String(), "expired="+stamp(tok.Expires), ""); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}
