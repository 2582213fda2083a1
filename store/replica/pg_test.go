package replica_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account/accounttest"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
	"github.com/tenantry/tenantry/store/replica"
	"github.com/tenantry/tenantry/storetest"
)

// pgDSN returns the test server's DSN from TENANTRY_PG_DSN; without it the test is
// skipped, except in CI (CI=true), where it fails. Tests make a schema of their own
// in that throwaway database and leave it there.
func pgDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("TENANTRY_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("TENANTRY_PG_DSN not set in CI")
		}
		tb.Skip("TENANTRY_PG_DSN not set: start a throwaway server with `eval \"$(.ci/postgres.sh start)\"`")
	}
	return dsn
}

var pgSchemas atomic.Int64

// pgInstances opens n stores on one new schema of the test database: n instances of
// a service sharing one database, each with its own pool and its own listening
// connection. Closing them is left to close (also run at cleanup).
func pgInstances(tb testing.TB, n int) (stores []*pgstore.Store, close func()) {
	tb.Helper()
	dsn := pgDSN(tb)
	schema := fmt.Sprintf("replica_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, pgSchemas.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range n {
		s, err := pgstore.Open(ctx, dsn+pgParams(dsn), pgstore.Options{Schema: schema})
		if err != nil {
			tb.Fatal(err)
		}
		stores = append(stores, s)
	}
	if err := stores[0].Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	closed := false
	close = func() {
		if !closed {
			closed = true
			for _, s := range stores {
				s.Close()
			}
		}
	}
	tb.Cleanup(close)
	return stores, close
}

// pgParams returns a small pool's parameter, to append to dsn (a URL or key=value
// pairs).
func pgParams(dsn string) string {
	switch {
	case strings.Contains(dsn, "?"):
		return "&pool_max_conns=4"
	case strings.Contains(dsn, "://"):
		return "?pool_max_conns=4"
	}
	return " pool_max_conns=4"
}

// fewerChecks makes the property tests of t run rapid's runs as pgstore's suite does
// on PostgreSQL, where every step costs round trips: 25, and 5 under the race
// detector (pgstore's own suite runs them in full), unless -rapid.checks or
// RAPID_CHECKS says otherwise.
func fewerChecks(t *testing.T) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); set || env {
		return
	}
	old := flag.Lookup("rapid.checks").Value.String()
	n := "25"
	if raceEnabled {
		n = "5"
	}
	if err := flag.Set("rapid.checks", n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("rapid.checks", old) })
}

// TestPostgresConformance: a replica of a PostgreSQL store passes the conformance
// suite (rapid's runs as pgstore's own suite has them: -rapid.checks).
func TestPostgresConformance(t *testing.T) {
	pgDSN(t)
	fewerChecks(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		stores, closeAll := pgInstances(t, 1)
		r, err := replica.Open(t.Context(), stores[0], replica.Options{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return closing{r, closeAll}
	})
}

// closing is a replica that closes its backing stores with it.
type closing struct {
	*replica.Store
	closeAll func()
}

func (c closing) Close() {
	c.Store.Close()
	c.closeAll()
}

// TestPostgresNewEnemy is TestNewEnemy on two instances of one PostgreSQL database.
func TestPostgresNewEnemy(t *testing.T) {
	stores, _ := pgInstances(t, 2)
	newEnemy(t, newInstancesOn(t, replica.Options{RevisionWait: 100 * time.Millisecond}, stores[0], [2]store.Store{stores[0], stores[1]}))
}

// TestPostgresEveryKindOfChange is TestEveryKindOfChange on two instances of one
// PostgreSQL database, comparing on each scope one action of each level and rules.
func TestPostgresEveryKindOfChange(t *testing.T) {
	stores, _ := pgInstances(t, 2)
	everyKindOfChange(t, newInstancesOn(t, replica.Options{}, stores[0], [2]store.Store{stores[0], stores[1]}), true)
}

// TestPostgresInstancesAgree is TestInstancesAgree on two instances of one
// PostgreSQL database.
func TestPostgresInstancesAgree(t *testing.T) {
	pgDSN(t)
	fewerChecks(t)
	accounttest.StateMachine(t, func(t *testing.T) store.Store {
		stores, closeAll := pgInstances(t, 2)
		return newPair(t, stores[0], [2]store.Store{stores[0], stores[1]}, closeAll)
	})
}
