package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
)

// testDSN returns the DSN of the test server from TENANTRY_PG_DSN. Without it a test
// is skipped, except in CI (CI=true), where it fails.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("TENANTRY_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("TENANTRY_PG_DSN not set in CI")
		}
		tb.Skip("TENANTRY_PG_DSN not set: start a throwaway server with `source .ci/postgres.sh start` (see the package doc)")
	}
	return dsn
}

// withParams adds key=value connection parameters to dsn, a URL or a key=value string.
func withParams(dsn string, params ...string) string {
	if len(params) == 0 {
		return dsn
	}
	if strings.Contains(dsn, "://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + strings.Join(params, "&")
	}
	return dsn + " " + strings.Join(params, " ")
}

var schemaSeq atomic.Int64

// newSchemaName returns a schema name no other test (or test process) uses.
func newSchemaName() string {
	return fmt.Sprintf("pgstore_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
}

// releasable is a test store that Close releases at once — its pool closed, its
// schema dropped — so that a long property search (whose runs each make a store) holds
// one run's connections and schema at a time. Cleanup releases it too, once.
type releasable struct {
	*pgstore.Store
	once    sync.Once
	release func()
}

// Close closes the pool and drops the schema, once.
func (r *releasable) Close() { r.once.Do(r.release) }

// openReleasable is openStore for a store that Close releases at once.
func openReleasable(tb testing.TB) *releasable {
	tb.Helper()
	dsn := testDSN(tb)
	opts := pgstore.Options{Schema: newSchemaName()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, withParams(dsn, "pool_max_conns=4"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	r := &releasable{Store: s}
	r.release = func() {
		s.Close()
		dropSchema(tb, dsn, opts.Schema)
	}
	tb.Cleanup(r.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return r
}

// openStore opens a Store on a fresh, migrated schema with a small pool. Cleanup
// closes it and drops the schema. params are extra connection parameters.
func openStore(tb testing.TB, opts pgstore.Options, params ...string) *pgstore.Store {
	tb.Helper()
	dsn := testDSN(tb)
	if opts.Schema == "" {
		opts.Schema = newSchemaName()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if !slices.ContainsFunc(params, func(p string) bool { return strings.HasPrefix(p, "pool_max_conns=") }) {
		params = append(params, "pool_max_conns=4")
	}
	s, err := pgstore.Open(ctx, withParams(dsn, params...), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dropSchema(tb, dsn, opts.Schema) })
	tb.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

func dropSchema(tb testing.TB, dsn, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
	}
}

// adminPool returns a pool on the test database for statements of the tests
// themselves.
func adminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(tb.Context(), withParams(testDSN(tb), "pool_max_conns=2"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// update runs fn in an Update and fails the test on an error.
func update(tb testing.TB, s store.Store, fn func(ctx context.Context, w store.Writer) error) {
	tb.Helper()
	if err := s.Update(tb.Context(), fn); err != nil {
		tb.Fatalf("update: %v", err)
	}
}

// view runs fn in a View and fails the test on an error.
func view(tb testing.TB, s store.Store, fn func(ctx context.Context, r store.Reader) error) {
	tb.Helper()
	if err := s.View(tb.Context(), fn); err != nil {
		tb.Fatalf("view: %v", err)
	}
}

// all collects a listing.
func all[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// must fails the test when err is not nil.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// wantErr fails the test unless err matches target.
func wantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("got error %v, want %v", err, target)
	}
}
