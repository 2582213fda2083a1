package pgstore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestQueriesPrepare prepares every statement of the store against a migrated schema
// whose name needs quoting, so that a statement no other test happens to run is still
// checked by the server.
func TestQueriesPrepare(t *testing.T) {
	dsn := os.Getenv("TENANTRY_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TENANTRY_PG_DSN not set in CI")
		}
		t.Skip("TENANTRY_PG_DSN not set; run `source .ci/postgres.sh start` first")
	}
	ctx := t.Context()
	schema := fmt.Sprintf("Prepare's %d-%d", os.Getpid(), time.Now().UnixNano())
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	for range 2 { // the second run must find nothing to do
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for i, q := range s.sql {
		if _, err := conn.Conn().Prepare(ctx, "", q); err != nil {
			t.Errorf("query %d: %v\n%s", i, err, q)
		}
	}
}
