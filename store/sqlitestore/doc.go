// Package sqlitestore is a store.Store on an SQLite database file, through
// modernc.org/sqlite (SQLite translated to Go: no cgo), for a single service that wants
// its access control to survive restarts without running a database server.
//
// # Usage
//
//	s, err := sqlitestore.Open(ctx, "/var/lib/app/tenantry.db", sqlitestore.Options{})
//	if err != nil { ... }
//	defer s.Close()
//	if err := s.Migrate(ctx); err != nil { ... }
//	// s is a store.Store (and a store.Checker) for packages account and profile.
//
// As with pgstore, Open does not create the tables: Migrate does, at start-up, or a
// deployment step does with goose (see Migrations). Open creates the file when it is
// missing and sets its journal mode to WAL.
//
// # Guarantees
//
//   - Transactions are serializable. Updates take turns: the Store has one writer
//     connection, and each Update begins with BEGIN IMMEDIATE, which takes the
//     database's write lock, so that Updates of several Stores or processes on one
//     file take turns too (waiting up to Options.BusyTimeout for the lock, then trying
//     again up to Options.MaxRetries times before returning an error matching
//     store.ErrConflict, without having run the closure). Views run concurrently, with
//     each other and with an Update, on reader connections (WAL mode): a View sees
//     the last commit before its first read, and nothing of an Update in progress.
//   - Update commits when its closure returns nil and rolls back when the closure
//     returns an error, panics (the panic is re-raised after the rollback) or exits
//     the goroutine. The closure's error is returned unchanged.
//   - A commit is durable once Update returns (PRAGMA synchronous=FULL: the WAL is
//     synced at each commit; Options.SynchronousNormal trades the last commits before
//     a power failure for speed). A process killed at any moment leaves every
//     transaction committed or absent, never in part.
//   - Contexts are honoured: a done context makes View and Update return its error
//     without running the closure, ends a wait for the write lock, and makes every
//     Reader and Writer method return its error without running a statement. When the
//     context of an Update is done while its closure runs, the transaction is rolled
//     back and Update returns the context's error: nothing is written. A statement
//     that has started runs to its end (SQLite rolls back a whole transaction when a
//     write is interrupted); all of them are index look-ups or changes of one record
//     with its cascades.
//   - Values unique without regard to case (emails, team names, invitation emails)
//     are compared through store.FoldKey, computed in Go and stored in *_fold columns,
//     as pgstore does: uniqueness agrees with strings.EqualFold. Text compares
//     bytewise (SQLite's BINARY collation), as Go's strings.Compare does.
//   - Unique violations are reported as store.ErrExists, missing records as
//     store.ErrNotFound, and a write lock that could not be had as store.ErrConflict.
//     Writer methods check what they need before writing, so a closure may go on with
//     its transaction after ErrExists or ErrNotFound.
//   - Cascades are foreign keys (PRAGMA foreign_keys is on for every connection) and
//     triggers: deleting an account deletes its sub-accounts, resources, grants,
//     memberships, teams, invitations and tokens, and the grants of its teams,
//     invitations and tokens; deleting a user, team, token or invitation deletes its
//     grants. Users and events stay.
//   - Audit events get their Seq from an AUTOINCREMENT key: write transactions run one
//     at a time, so Seq increases in commit order across the whole database, in every
//     process; the numbers of a rolled-back transaction are used again.
//   - The change feed (store.Feed): Changes reads every tenant's events by Seq, a
//     prefix of the committed ones. Wait is woken at once by the commits of the same
//     Store, and sees those of other processes (or other Stores on the file) within
//     FeedPollInterval (250 ms), reading the database only when the wal-index shows a
//     commit since its last read.
//   - Loading a copy (store.Loader): Load streams the authorization data, table by
//     table and parents first, from one read transaction, and returns the greatest
//     Seq it sees, the feed's position at that read.
//   - Records are copied in and out; times are stored in UTC to the nanosecond and
//     read back in UTC. A zero Event.Time is replaced by the time the transaction
//     began. IP allowlists are stored as JSON arrays of prefixes in net/netip's text,
//     and read back as they were given, IPv6 included.
//
// # Checks
//
// The Store is a store.Checker. The check of a user or a team that is not cached is
// one SQL statement on a reader connection, which reads the path, the grants that reach
// the scope and the security policies of the account and organization on the path
// (one look-up of a primary key per tenant, and one of users for the user's address
// when a policy enforces single sign-on), then rbac.Decide and, for a user allowed,
// rbac.ApplyPolicyTo on the Auth of the context: about 50 µs on this project's machine,
// most of it SQLite's read transaction. The check of an API token runs that statement,
// then reads the token (its own IP allowlist) and its creator's access, in one read
// transaction; Sees runs in a read transaction. Checks far outnumber writes, so the
// Store keeps the answers of that statement, policies and address included, for recent checks
// (Options.CheckCacheSize of them) for exactly one state of the database: it
// reads the header of SQLite's wal-index, which every connection of every process
// maps from the -shm file and which each commit rewrites (https://sqlite.org/walformat.html),
// and uses a cached answer only when the header is the one it was read at. A commit
// by any connection, in any process, makes every cached answer stale. A cached check
// costs a few hundred nanoseconds and allocates nothing. On systems where the Store
// cannot map the -shm file (other than Unix), or with a negative CheckCacheSize, every
// check runs its statement.
//
// # Limits
//
//   - One writer at a time per database file, across processes: a long Update delays
//     every other Update (not Views or checks).
//   - The file must be on a local file system (WAL mode needs shared memory between
//     processes); ":memory:" and file: URIs are refused.
//   - A closure must not call the Store's own methods (View, Update, Check); it uses
//     the Reader or Writer it was given, which must not be used after the closure has
//     returned. Listings are read in full when the range loop starts, so a closure may
//     call other Reader methods while it ranges over one.
//   - A grant's Tenant is derived from its scope; the Tenant given to PutGrant is not
//     stored. ScopeGrants with subtree on an organization includes its sub-accounts.
//   - Migrate and goose keep separate records of the migrations they applied: migrate
//     a database with one of them only.
//
// # Migrations
//
// Migrations returns the schema as plain SQL files in goose's format
// (github.com/pressly/goose/v3): NNNN_name.sql, each with an Up and a Down section.
// Migrate applies their Up sections that the database has not seen, in one
// transaction, recording each version in the table tenantry_schema_version. To apply
// them with goose's command instead, from the files in this package's migrations
// directory (in the module cache, or copied out of Migrations):
//
//	goose -dir "$(go list -m -f '{{.Dir}}' github.com/tenantry/tenantry)/store/sqlitestore/migrations" sqlite3 /var/lib/app/tenantry.db up
//
// or from Go, with the files embedded in this package:
//
//	db, _ := sql.Open("sqlite", "/var/lib/app/tenantry.db") // modernc.org/sqlite
//	p, _ := goose.NewProvider(goose.DialectSQLite3, db, sqlitestore.Migrations())
//	_, err := p.Up(ctx)
//
// then open the Store and do not call Migrate.
//
// # Tests
//
// The tests run the conformance suite (storetest.Run) on a fresh file per store, the
// same suite on files that goose migrated, a crash test that kills a writing process
// with SIGKILL and checks that nothing committed is lost and nothing is torn, and
// tests of the check cache against commits of other connections and processes.
// Under the race detector the suite's state machines run 10 times instead of 100
// (5 for the goose-migrated stores).
package sqlitestore
