package accounttest

import (
	"context"
	"testing"

	"github.com/tenantry/tenantry/store/memstore"
	"pgregory.net/rapid"
)

// FuzzOperations decodes a sequence of account and profile operations from the fuzzer's
// bytes and checks the model and every invariant after each.
func FuzzOperations(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		w := newMachine(context.Background(), memstore.New())
		t.Repeat(w.actions())
	}))
}
