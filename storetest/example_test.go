package storetest_test

import (
	"context"
	"fmt"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/storetest"
)

// Check runs the store contract's clauses without a *testing.T and returns what
// failed, as an error, and what it skipped.
func ExampleCheck() {
	skipped, err := storetest.Check(context.Background(), func() (store.Store, error) {
		return memstore.New(), nil
	})
	fmt.Println("skipped:", skipped)
	fmt.Println("error:", err)
	// Output:
	// skipped: []
	// error: <nil>
}
