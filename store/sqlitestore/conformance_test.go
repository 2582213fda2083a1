package sqlitestore_test

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/storetest"
)

// TestConformance runs the conformance suite on SQLite, each store in a fresh,
// migrated file of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t) })
}
