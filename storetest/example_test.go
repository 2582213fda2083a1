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

// A store without the optional store.Checker, store.Feed and store.Loader passes, and
// the clauses about them are skipped, each with its reason.
func ExampleCheck_withoutChecker() {
	skipped, err := storetest.Check(context.Background(), func() (store.Store, error) {
		// Embedding only store.Store hides memstore's Checker, Feed and Load methods.
		return struct{ store.Store }{memstore.New()}, nil
	})
	fmt.Println("error:", err)
	for _, s := range skipped {
		fmt.Println("skipped", s.Clause)
	}
	// Output:
	// error: <nil>
	// skipped Context/CancelledContextIsHonouredByChecker
	// skipped Reach/CheckerReachAgreesWithReader
	// skipped Reach/CheckerAgreesWithCheck
	// skipped Reach/CheckerSeesAgreesWithSees
	// skipped Feed/ChangesInCommitOrder
	// skipped Feed/CursorExactlyOnce
	// skipped Feed/RolledBackNeverAppear
	// skipped Feed/WaitWakesOnCommit
	// skipped Feed/WaitHonoursContext
	// skipped Feed/ConcurrentWritersNeverSkip
	// skipped Feed/ChangeLogAgreesWithFeed
	// skipped Loader/CopyAgrees
	// skipped Loader/EmptyStore
	// skipped Loader/StopsAtWriterError
	// skipped Model/CheckerAgreesInRandomWorlds
}
