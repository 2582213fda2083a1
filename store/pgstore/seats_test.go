package pgstore_test

import (
	"strconv"
	"testing"

	"github.com/tenantry/tenantry/account/accounttest"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
)

// The race for the last seats (D20, D36, D37) with a connection for every racer: the
// conformance suite's stores have a pool of 4 connections, too few for the 17
// goroutines of accounttest.LastSeats to hold transactions open side by side often
// enough to meet a store whose transactions do not serialize. With 24 connections
// they do: run under READ COMMITTED instead of SERIALIZABLE, this test lets
// newcomers past the seat limit in most of its rounds.
func TestLastSeatsEveryRacerConnected(t *testing.T) {
	testDSN(t)
	for round := range 3 {
		t.Run("round"+strconv.Itoa(round), func(t *testing.T) {
			accounttest.LastSeats(t, func(t *testing.T) store.Store {
				return openStore(t, pgstore.Options{}, "pool_max_conns=24")
			})
		})
	}
}
