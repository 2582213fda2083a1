package storetest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/storetest"
)

// checkerClauses are the clauses about the optional store.Checker.
var checkerClauses = []string{
	"Context/CancelledContextIsHonouredByChecker",
	"Reach/CheckerReachAgreesWithReader",
	"Reach/CheckerAgreesWithDecide",
}

// TestCheckSkipsWithoutChecker: a store without store.Checker passes, and Check
// reports the Checker clauses as skipped, naming the absent interface.
func TestCheckSkipsWithoutChecker(t *testing.T) {
	skipped, err := storetest.Check(t.Context(), func() (store.Store, error) {
		return struct{ store.Store }{memstore.New()}, nil
	})
	if err != nil {
		t.Fatalf("a store without the optional store.Checker must pass:\n%v", err)
	}
	var names []string
	for _, s := range skipped {
		names = append(names, s.Clause)
		if !strings.Contains(s.Reason, "does not implement the optional store.Checker") {
			t.Errorf("the reason to skip %s must name the absent interface: %q", s.Clause, s.Reason)
		}
	}
	if !slices.Equal(names, checkerClauses) {
		t.Errorf("Check skipped %v, want %v", names, checkerClauses)
	}
}
