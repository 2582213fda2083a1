package account

import (
	"context"
	"strconv"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Events lists the audit events of the account or organization Tenant in order
// ([rbac.RuleAudit]), for who may read its audit log (admin).
type Events struct {
	Tenant rbac.Ref
	Page   PageRequest
}

// Op returns "audit.list", its log name.
func (Events) Op() string { return "audit.list" }

func (q Events) from(after string) Lister[store.Event] { q.Page.After = after; return q }

func seqKey(e store.Event) string { return strconv.FormatUint(e.Seq, 10) }

// Answer answers the query; call it through Get or Read.
func (q Events) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[store.Event], error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return Page[store.Event]{}, err
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[store.Event]{}, err
	}
	after, err := q.Page.seqCursor()
	if err != nil {
		return Page[store.Event]{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountAuditView, q.Tenant); err != nil {
		return Page[store.Event]{}, err
	}
	evs, err := tx.r.Events(ctx, q.Tenant, after, limit+1)
	if err != nil {
		return Page[store.Event]{}, err
	}
	return pageOf(evs, limit, seqKey), nil
}

// MyEvents lists the audit events of the acting user's own profile (renaming,
// changing the email address...), in order. Registering is not among them: its one
// event opens the log of the account it created.
type MyEvents struct {
	Page PageRequest
}

// Op returns "audit.mine", its log name.
func (MyEvents) Op() string { return "audit.mine" }

func (q MyEvents) from(after string) Lister[store.Event] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q MyEvents) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[store.Event], error) {
	tx := open(t)
	limit, err := q.Page.limit()
	if err != nil {
		return Page[store.Event]{}, err
	}
	after, err := q.Page.seqCursor()
	if err != nil {
		return Page[store.Event]{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return Page[store.Event]{}, err
	}
	if actor.Kind != rbac.HolderUser {
		return Page[store.Event]{}, nil
	}
	// Profile events have no tenant; read them in batches and keep the user's own.
	var out []store.Event
	for len(out) <= limit {
		evs, err := tx.r.Events(ctx, rbac.Ref{}, after, MaxPageSize)
		if err != nil {
			return Page[store.Event]{}, err
		}
		for _, e := range evs {
			if e.Target == actor.String() {
				out = append(out, e)
				if len(out) > limit {
					break
				}
			}
		}
		if len(evs) < MaxPageSize {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	return pageOf(out, limit, seqKey), nil
}
