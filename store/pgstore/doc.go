// Package pgstore is a store.Store on PostgreSQL, through pgx v5 and pgxpool, for
// services that run many instances against one database.
//
// # Usage
//
//	s, err := pgstore.Open(ctx, "postgres://app@db/app", pgstore.Options{})
//	if err != nil { ... }
//	defer s.Close()
//	if err := s.Migrate(ctx); err != nil { ... }
//	// s is a store.Store (and a store.Checker) for packages account and profile.
//
// New makes a Store on a pool the service already has. Tenantry's tables live in a
// schema of their own, DefaultSchema ("tenantry") unless Options.Schema names
// another; every statement names it explicitly, so the search_path of the
// connections does not matter.
//
// # Migrations
//
// The schema is created by Migrate, or by goose, never implicitly: a service runs
// Migrate at start-up, or a deployment step runs the migration files.
//
// Migrate applies the migrations that the database has not seen yet, in one
// transaction, and records each version in the table tenantry_schema_version of the
// schema. It is idempotent, and instances that run it at the same time take turns on
// an advisory lock. SchemaVersion is the version this package expects.
//
// Migrations returns the same migrations as plain SQL files in goose's format
// (github.com/pressly/goose/v3): NNNN_name.sql, each with an Up and a Down section.
// Plain SQL files take no parameter, so they name the schema: they create the schema
// "tenantry" (CREATE SCHEMA IF NOT EXISTS) and qualify every table, index, function and
// trigger with it, whatever the search_path; a Store with the default Options finds
// them there. (Migrate runs the same Up sections with "tenantry" replaced by the quoted
// Options.Schema.) To apply them with goose's command, from this package's migrations
// directory (in the module cache, or copied out of Migrations):
//
//	goose -dir "$(go list -m -f '{{.Dir}}' github.com/tenantry/tenantry)/store/pgstore/migrations" postgres "postgres://app@db/app" up
//
// or from Go, with the files embedded in this package:
//
//	db := stdlib.OpenDBFromPool(pool) // github.com/jackc/pgx/v5/stdlib
//	p, _ := goose.NewProvider(goose.DialectPostgres, db, pgstore.Migrations())
//	_, err := p.Up(ctx)
//
// then make the Store with Options.Schema empty (or "tenantry") and do not call
// Migrate: goose records what it applied in its own table (goose_db_version, in the
// connection's search_path), and Migrate in tenantry_schema_version, so a schema is
// migrated by one of them, not both. goose's down removes the tables and the functions
// and leaves the schema.
//
// # Isolation and retries
//
// Update runs its closure in a SERIALIZABLE transaction, so that the invariants the
// account and profile packages check inside it hold whatever runs concurrently,
// including in other instances. When PostgreSQL reports a serialization failure
// (SQLSTATE 40001) or a deadlock (40P01), from any statement or from the commit,
// Update rolls back and runs the closure again after an exponential backoff with full
// jitter, at most Options.MaxRetries times (DefaultMaxRetries when zero); then it
// returns an error matching store.ErrConflict. Before its transaction begins, each
// attempt takes the schema's writers lock (a session-level advisory lock, shared by
// every instance on the schema): in shared mode for a first attempt, so that writers
// run side by side, and in exclusive mode for a retry, which then runs alone and
// cannot meet the same conflict again — so conflicts at normal load cost one retry
// and never reach the caller. Transactions run with UpdateTx do not take the lock. The closure's own errors are returned
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
// # Checks
//
// Check, on the Store itself, decides as store.Check does. The check of a user or a
// team is one statement and one round trip: it reads the path, the grants that reach
// the scope and the security policies of the account and organization on the path
// (one look-up of the primary key of security_policies per tenant, and of users for
// the user's address when a policy enforces single sign-on), then decides with
// rbac.Decide and, for a user allowed, rbac.ApplyPolicyTo on the Auth of the context. The
// check of an API token runs that statement, then reads the token (with its own IP
// allowlist) and its creator's access, in one read transaction. IP allowlists are
// stored as cidr[]: their prefixes must be masked, as rbac.NormalizeAllowlist leaves
// them (a write of another is refused), and read back exactly, IPv6 included.
//
// Each read of the statement after the path's is an exact look-up of a key (a grant
// per holder and element of the path, a user's teams from the user's memberships), so
// that a check costs the same in a database of any size, whatever plan the
// connection keeps. A Store made by Open prepares and runs the statements of Check on
// each new connection of its pool (PrepareConn), so that the first check on a
// connection neither prepares nor plans; for a pool passed to New, call PrepareConn
// from the pool's AfterConnect for the same.
//
// # The change feed
//
// Store implements store.Feed. Changes reads the events of every tenant by Seq, on the
// events' primary key; the lock above makes what one read sees a prefix of the
// committed events, so a consumer reading on from its last Seq skips nothing. Wait
// does not poll: the statement that appends an event also notifies the schema's
// channel (pg_notify, delivered only when the transaction commits, UpdateTx's
// included), and the Store keeps one connection of its own, outside the pool, that
// LISTENs on it for every waiter of the Store; it is opened by the first Wait and
// closed by Close. A connection pooler in transaction mode between the Store and the
// server would not deliver the notifications: give the Store a direct session.
//
// Store also implements store.Loader, for a replica (package store/replica): Load
// streams the authorization data, table by table and parents first, from one
// REPEATABLE READ snapshot, and returns the greatest Seq that snapshot sees, which by
// the same lock is the feed's position at that snapshot.
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
// where they fail. Each test works in a schema of its own, dropped at the end; the
// tests of the goose files work in databases of their own, made and dropped on the
// server.
package pgstore
