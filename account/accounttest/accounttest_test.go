package accounttest_test

import (
	"context"
	"testing"

	"github.com/tenantry/tenantry/account/accounttest"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// TestMemstore proves account and profile on the in-memory store.
func TestMemstore(t *testing.T) {
	accounttest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

// withoutChecker hides memstore's store.Checker, so that package account answers
// checks through its fallback: store.CheckIn and store.SeesIn in a View.
type withoutChecker struct{ inner store.Store }

func (s withoutChecker) View(ctx context.Context, fn func(context.Context, store.Reader) error) error {
	return s.inner.View(ctx, fn)
}

func (s withoutChecker) Update(ctx context.Context, fn func(context.Context, store.Writer) error) error {
	return s.inner.Update(ctx, fn)
}

// TestWithoutChecker proves account and profile on a store without the fast path.
func TestWithoutChecker(t *testing.T) {
	accounttest.Run(t, func(*testing.T) store.Store { return withoutChecker{memstore.New()} })
}
