package accounttest_test

import (
	"testing"

	"github.com/tenantry/tenantry/account/accounttest"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// TestMemstore proves account and profile on the in-memory store.
func TestMemstore(t *testing.T) {
	accounttest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}
