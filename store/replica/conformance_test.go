package replica_test

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/replica"
	"github.com/tenantry/tenantry/storetest"
)

// newReplica returns a replica of a new memstore, closed when t ends.
func newReplica(t *testing.T) store.Store {
	r, err := replica.Open(t.Context(), memstore.New(), replica.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestConformance(t *testing.T) {
	storetest.Run(t, newReplica)
}
