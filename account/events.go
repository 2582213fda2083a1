package account

import (
	"context"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// MaxEventsPage is the most events Events returns at once.
const MaxEventsPage = 1000

// Events returns up to limit audit events of the account or organization with a
// sequence number above after, in order (admin, D31). Pass the last event's Seq as
// after to read on.
func (tx *Tx) Events(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	if err := validTenant(tenant); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxEventsPage {
		return nil, invalid("limit", "must be 1 to %d", MaxEventsPage)
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountAuditView, tenant); err != nil {
		return nil, err
	}
	return tx.r.Events(ctx, tenant, after, limit)
}
