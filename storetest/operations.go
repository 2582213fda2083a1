package storetest

import (
	"testing"

	"github.com/tenantry/tenantry/account/accounttest"
	"github.com/tenantry/tenantry/store"
)

// The Operations group: the proofs of packages account and profile, from package
// accounttest, run on the store under test.

func testOperationsMachine(t *testing.T, newStore func(*testing.T) store.Store) {
	accounttest.StateMachine(t, newStore)
}

func testConcurrentOperations(t *testing.T, newStore func(*testing.T) store.Store) {
	accounttest.Concurrent(t, newStore)
}
