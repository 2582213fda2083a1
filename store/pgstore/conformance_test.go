package pgstore_test

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/storetest"
)

// TestConformance runs the conformance suite on PostgreSQL, each store in a fresh
// schema of its own.
func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openReleasable(t)
	})
}
