package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// DefaultSchema is the PostgreSQL schema of Tenantry's tables when Options.Schema is
// empty, and the schema that the files of Migrations create.
const DefaultSchema = "tenantry"

// DefaultMaxRetries is the number of times Update runs a transaction again after a
// serialization failure or a deadlock when Options.MaxRetries is zero.
const DefaultMaxRetries = 10

const (
	backoffBase = time.Millisecond
	backoffMax  = 100 * time.Millisecond
	// cleanupTimeout bounds a rollback run after the caller's context is done.
	cleanupTimeout = 5 * time.Second
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Schema is the PostgreSQL schema that holds Tenantry's tables, a schema of their
	// own; empty means DefaultSchema ("tenantry"). Every statement the store runs
	// names it explicitly, so the connections' search_path does not matter (which
	// also holds for UpdateTx on a caller's transaction).
	Schema string
	// MaxRetries is how many times Update runs a transaction again after a
	// serialization failure (SQLSTATE 40001) or a deadlock (40P01), waiting an
	// exponential backoff with jitter in between. Zero means DefaultMaxRetries; a
	// negative value disables retries.
	MaxRetries int
	// Logger receives a debug record for each retry, an info record for each
	// migration applied and a warning when the database's schema is newer than this
	// package. Nil: nothing is logged.
	Logger *slog.Logger
}

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, including by
// several processes sharing one database. It also implements store.Checker,
// store.Feed, store.ChangeLog and store.Loader.
type Store struct {
	pool       *pgxpool.Pool
	ownPool    bool
	schema     string
	writersKey int64  // the advisory lock key of the schema's writers (see updateOnce)
	prefix     string // the quoted schema and a dot
	maxRetries int
	log        *slog.Logger
	sql        [numQueries]string
	feedMu     sync.Mutex
	feed       *listener // the change feed's listening connection, from the first Wait (feed.go)
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// Open connects to the database at dsn (a PostgreSQL URL or key=value string, as
// pgxpool.ParseConfig accepts, including pool_max_conns and friends) and returns a
// Store that owns the pool: Close closes it. Open checks that the server answers; it
// does not create or migrate the schema (see Migrate).
//
// Unless dsn sets plan_cache_mode, Open starts the pool's connections with
// plan_cache_mode=force_generic_plan (PostgreSQL 12 or newer). With the server's
// default (auto), a connection plans each prepared statement afresh for its first five
// executions, then weighs a generic plan against those, so that the first checks on a
// new connection cost several times a steady one (on loopback, about 1 ms for the 2nd
// to 5th and 2 ms for the 6th, against 0.1 to 0.2 ms after; see BenchmarkCheckFirst10).
// Add plan_cache_mode=auto to dsn to keep the server's default. A Store made by New on
// a caller's pool keeps the pool's settings: set the parameter in the pool's
// ConnConfig.RuntimeParams for the same effect.
//
// Open also prepares the statements of Check on each new connection of the pool (see
// PrepareConn), so that the first check on a connection costs what later ones do.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	s := newStore(opts)
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		s.PrepareConn(ctx, conn)
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s.pool, s.ownPool = pool, true
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return s, nil
}

// New returns a Store on an existing pool. The caller keeps ownership of the pool:
// Close does not close it.
func New(pool *pgxpool.Pool, opts Options) *Store {
	s := newStore(opts)
	s.pool = pool
	return s
}

// newStore returns a Store without its pool.
func newStore(opts Options) *Store {
	s := &Store{schema: cmp.Or(opts.Schema, DefaultSchema), maxRetries: opts.MaxRetries, log: opts.Logger}
	if s.maxRetries == 0 {
		s.maxRetries = DefaultMaxRetries
	} else if s.maxRetries < 0 {
		s.maxRetries = 0
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.prefix = pgx.Identifier{s.schema}.Sanitize() + "."
	h := fnv.New64a()
	h.Write([]byte("tenantry writers " + s.schema))
	s.writersKey = int64(h.Sum64())
	// The events table's name is also written as a string literal (for regclass).
	lit := "'" + strings.ReplaceAll(s.prefix+"events", "'", "''") + "'"
	for i, q := range queryText {
		q = strings.ReplaceAll(q, "'$schema.events'", lit)
		q = strings.ReplaceAll(q, "'$schema.feed'", "'"+feedChannel(s.schema)+"'")
		s.sql[i] = strings.ReplaceAll(q, "$schema.", s.prefix)
	}
	return s
}

// PrepareConn prepares the statements of Check on conn, a new connection, and runs
// them, on a scope of the database if there is one, so that the server has
// planned them before the first check: under plan_cache_mode=force_generic_plan, a
// check on conn then neither prepares nor plans, and finds the server's caches (of the
// tables' and indexes' descriptions, and of the functions that compare and send
// values) filled, which on a fresh connection make the first check cost some
// milliseconds. It takes a few round trips. Open calls it on each connection of the
// pool it makes; for a Store made by New, call it from the pool's AfterConnect.
//
// PrepareConn does nothing when conn's DefaultQueryExecMode does not cache prepared
// statements (pgx.QueryExecModeCacheStatement, pgx's default), and ignores errors (the
// schema may not be migrated yet): a check then prepares and plans on first use.
func (s *Store) PrepareConn(ctx context.Context, conn *pgx.Conn) {
	if conn.Config().DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		return
	}
	// A scope and a user to check, if any: a check that finds them runs the parts of
	// the statement and sends rows, which also fills the caches of the functions that
	// compare, send and scan values. Each statement runs twice, as the second check of
	// a connection still costs more than later ones.
	var scope rbac.Ref
	var kind int16
	var user string
	if err := conn.QueryRow(ctx, s.sql[qAnyScope]).Scan(&kind, &scope.ID, &user); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return
	}
	scope.Kind = rbac.Kind(kind)
	r := rw{s: s, q: conn}
	var buf [8]rbac.Grant
	var pbuf [4]rbac.Ref
	path, grants := pbuf[:0], buf[:0]
	for range 2 {
		var pols pathPolicies
		path, grants, _ = r.reach(ctx, rbac.User(user), scope, path, grants, &pols)
		path, grants, _ = r.reach(ctx, rbac.User(user), scope, path, grants, nil)
		_, _ = r.Token(ctx, "")
	}
}

// Close closes the pool when the Store was made by Open, and the change feed's
// listening connection (see Wait) in any case; Waits in progress return an error. It
// waits for connections in use to be released.
func (s *Store) Close() {
	s.closeFeed()
	if s.ownPool {
		s.pool.Close()
	}
}

// Pool returns the store's connection pool, for a service that runs its own
// statements in the same database (see UpdateTx).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// View runs fn in a read-only REPEATABLE READ transaction: every read of fn sees the
// same snapshot of the database. fn's error is returned unchanged; a panic in fn rolls
// the transaction back and is raised again.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return wrapErr(ctx, "begin", err)
	}
	done := false
	defer func() {
		if !done {
			rollback(ctx, tx)
		}
	}()
	rw := &rw{s: s, q: tx}
	err = fn(ctx, rw)
	done = true
	if err != nil {
		rollback(ctx, tx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrapErr(ctx, "commit", err)
	}
	return nil
}

// Update runs fn in a SERIALIZABLE read-write transaction and commits it when fn
// returns nil. When fn returns an error or panics the transaction is rolled back and
// the error returned unchanged (or the panic raised again).
//
// When the transaction fails with a serialization failure or a deadlock, whether a
// statement of fn or the commit reported it, Update rolls back, waits an exponential
// backoff with jitter, and runs fn again, up to Options.MaxRetries times; then it
// returns an error matching store.ErrConflict. fn must therefore have no effect
// outside the transaction.
//
// When the connection fails during the commit, the transaction may or may not have
// been committed; Update returns the error and does not run fn again.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	for attempt := 0; ; attempt++ {
		conflict, err := s.updateOnce(ctx, fn, attempt > 0)
		if !conflict {
			return err
		}
		if attempt >= s.maxRetries {
			return fmt.Errorf("pgstore: %w after %d attempts: %w", store.ErrConflict, attempt+1, err)
		}
		d := backoff(attempt)
		s.log.DebugContext(ctx, "pgstore: retrying transaction", "attempt", attempt+1, "backoff", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff returns the wait before retry number attempt+1: a random duration up to an
// exponentially growing bound (full jitter).
func backoff(attempt int) time.Duration {
	ceil := backoffMax
	if attempt < 20 {
		ceil = min(backoffBase<<attempt, backoffMax)
	}
	return time.Duration(rand.Int64N(int64(ceil))) + 1
}

// updateOnce runs one attempt of Update. conflict reports a serialization failure or
// deadlock, after which fn may run again.
//
// Every attempt first takes the store's writers lock, a session-level advisory lock
// of the schema, on its connection before the transaction begins (so that the
// transaction's snapshot is taken after the wait): in shared mode for a first
// attempt, so that first attempts run side by side, and in exclusive mode for a retry,
// which then runs alone among the Updates of every instance on this schema and cannot
// meet the same conflict again. Conflicts at normal load therefore cost one retry and
// never reach the caller; MaxRetries still bounds conflicts with transactions that do
// not take the lock (UpdateTx's).
func (s *Store) updateOnce(ctx context.Context, fn func(ctx context.Context, w store.Writer) error, alone bool) (conflict bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, wrapErr(ctx, "acquire", err)
	}
	lock, unlock := "SELECT pg_advisory_lock_shared($1)", "SELECT pg_advisory_unlock_shared($1)"
	if alone {
		lock, unlock = "SELECT pg_advisory_lock($1)", "SELECT pg_advisory_unlock($1)"
	}
	if _, err := conn.Exec(ctx, lock, s.writersKey); err != nil {
		conn.Release()
		return false, wrapErr(ctx, "writers lock", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, err := conn.Exec(uctx, unlock, s.writersKey); err != nil {
			// The connection may still hold the lock: close it rather than pool it.
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return false, wrapErr(ctx, "begin", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked or called runtime.Goexit
			rollback(ctx, tx)
		}
	}()
	w := &rw{s: s, q: tx}
	err = fn(ctx, w)
	done = true
	if err != nil {
		rollback(ctx, tx)
		return w.conflict || isConflict(err), err
	}
	if cerr := tx.Commit(ctx); cerr != nil {
		conflict = isConflict(cerr) || (w.conflict && errors.Is(cerr, pgx.ErrTxCommitRollback))
		return conflict, wrapErr(ctx, "commit", cerr)
	}
	return false, nil
}

// UpdateTx runs fn on tx, a transaction the caller began, so that a service can make
// its own changes and Tenantry's atomically. UpdateTx neither begins, commits nor
// rolls back tx, and does not retry: choosing the isolation level (SERIALIZABLE is what
// Tenantry's invariants need), committing, rolling back and retrying on an error
// matching store.ErrConflict are the caller's job. fn's error is returned unchanged.
// After any error from a Writer method the PostgreSQL transaction may be aborted; the
// caller should roll it back.
func (s *Store) UpdateTx(ctx context.Context, tx pgx.Tx, fn func(ctx context.Context, w store.Writer) error) error {
	return fn(ctx, &rw{s: s, q: tx})
}

// Reach answers store.Reader.Reach outside a transaction, with one SQL statement (one
// round trip), which reads a consistent snapshot.
func (s *Store) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	r := rw{s: s, q: s.pool}
	return r.Reach(ctx, holder, scope, path, grants)
}

// Check implements store.Checker, deciding as store.Check does. For a user or team it
// runs one statement, which reads the path, the grants that reach the scope, the
// security policies of the tenants on the path and, when one of them enforces single
// sign-on, the user's address, then rbac.Decide and, for a user allowed,
// rbac.ApplyPolicyTo on the Auth of ctx. For a token it runs that statement,
// then reads the token and its creator's Reach, in one read transaction.
func (s *Store) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	if holder.Kind == rbac.HolderToken {
		return s.checkToken(ctx, holder, action, scope, now)
	}
	var buf [8]rbac.Grant
	var pbuf [4]rbac.Ref
	var pols pathPolicies
	r := rw{s: s, q: s.pool}
	path, grants, err := r.reach(ctx, holder, scope, pbuf[:0], buf[:0], &pols)
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	d := rbac.Decide(action, path, grants)
	if d.Allowed && holder.Kind == rbac.HolderUser && pols.n > 0 {
		d = rbac.ApplyPolicyTo(d, holder, pols.email, store.AuthFrom(ctx), now, nil, pols.list()...)
	}
	return d, nil
}

// checkToken is Check for a token: store.Check, with the policies read by the
// statement that reads the token's path and grants.
func (s *Store) checkToken(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	d := rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}
	err := s.View(ctx, func(ctx context.Context, r store.Reader) error {
		w := r.(*rw)
		var pols pathPolicies
		path, grants, err := w.reach(ctx, holder, scope, nil, nil, &pols)
		if err != nil {
			return err
		}
		d, err = store.CheckToken(ctx, w, holder, action, scope, now, path, grants, pols.list())
		return err
	})
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	return d, nil
}

// Sees implements store.Checker: store.Sees in one read transaction.
func (s *Store) Sees(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (bool, error) {
	return store.SeesIn(ctx, s, holder, scope)
}

// rollback rolls tx back, even when ctx is done, within cleanupTimeout. An error means
// the connection is broken; the pool discards it.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}
