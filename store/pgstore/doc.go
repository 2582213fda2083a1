// Package pgstore is a store.Store on PostgreSQL, through pgx v5 and pgxpool, for
// services that run many instances against one database.
//
// # Usage
//
//	s, err := pgstore.Open(ctx, "postgres://app@db/app", pgstore.Options{Schema: "tenantry"})
//	if err != nil { ... }
//	defer s.Close()
//	if err := s.Migrate(ctx); err != nil { ... }
//	// s is a store.Store (and a store.Checker) for packages account and profile.
//
// New makes a Store on a pool the service already has. Options.Schema names the
// schema of Tenantry's tables; every statement names it explicitly, so the search_path
// of the connections does not matter.
//
// # Migrations
//
// The schema is created by Migrate, never implicitly: a service runs it at start-up,
// or a deployment step does. Migrate applies the embedded migrations/NNNN_*.sql files
// that the database has not seen yet, in one transaction, and records each version in
// the table tenantry_schema_version. It is idempotent, and instances that run it at
// the same time take turns on an advisory lock. SchemaVersion is the version this
// package expects.
//
// # Isolation and retries
//
// Update runs its closure in a SERIALIZABLE transaction, so that the invariants the
// account and profile packages check inside it hold whatever runs concurrently,
// including in other instances. When PostgreSQL reports a serialization failure
// (SQLSTATE 40001) or a deadlock (40P01), from any statement or from the commit,
// Update rolls back and runs the closure again after an exponential backoff with full
// jitter, at most Options.MaxRetries times (DefaultMaxRetries when zero); then it
// returns an error matching store.ErrConflict. The closure's own errors are returned
// unchanged, and a panic in it rolls back before it goes on. View runs its closure in
// a READ ONLY REPEATABLE READ transaction: one snapshot for all its reads. Reach, on
// the Store itself (store.Checker), is one SQL statement and one round trip.
//
// Writer methods detect duplicates and missing records without raising a PostgreSQL
// error (ON CONFLICT DO NOTHING, INSERT ... SELECT ... WHERE EXISTS), so a closure may
// go on with its transaction after ErrExists or ErrNotFound, as with any store. A
// unique or foreign-key violation that a concurrent transaction causes between the
// check and the write is still mapped to ErrExists or ErrNotFound, but leaves the
// PostgreSQL transaction aborted.
//
// Listings are read in full when the range loop starts, so a closure may call other
// Reader methods while it ranges over one; paged listings (Members, Events) use keyset
// cursors. Strings are compared bytewise (IDs use the "C" collation), and values that
// are unique ignoring case (emails, team names) are compared as strings.EqualFold
// does. Times are stored with microsecond precision and read back in UTC.
//
// Audit events get their Seq from a sequence while the appending transaction holds a
// transaction-level advisory lock until it ends, so numbers increase in commit order
// and a reader following Events with a cursor never skips an event that commits
// later. Transactions that append events therefore commit one at a time from their
// first AppendEvent on; a rolled-back transaction leaves a gap in the numbers.
//
// # The service's own transaction
//
// UpdateTx runs a closure on a pgx.Tx that the service began, so that the service's
// own rows and Tenantry's change atomically:
//
//	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
//	...
//	err = s.UpdateTx(ctx, tx, func(ctx context.Context, w store.Writer) error {
//		_, err := account.Run(ctx, svc.Join(w), actor, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"})
//		return err
//	})
//	... tx.Commit(ctx)
//
// UpdateTx does not begin, commit, roll back or retry: the isolation level (it should
// be SERIALIZABLE), the commit, and running everything again on an error matching
// store.ErrConflict are the caller's.
//
// # Tests
//
// The tests need a PostgreSQL server; .ci/postgres.sh starts a throwaway one from the
// Debian packages (as the postgres OS user when run as root) and exports its DSN:
//
//	source .ci/postgres.sh start     # exports TENANTRY_PG_DSN and TENANTRY_PG_DIR
//	go test -race ./store/pgstore/
//	go test -run '^$' -bench . ./store/pgstore/
//	source .ci/postgres.sh stop
//
// Without TENANTRY_PG_DSN the tests and benchmarks are skipped, except when CI=true,
// where they fail. Each test works in a schema of its own, dropped at the end.
package pgstore
