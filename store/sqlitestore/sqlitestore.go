package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Defaults of Options' zero values.
const (
	// DefaultBusyTimeout is how long a connection waits for a lock that another
	// process holds when Options.BusyTimeout is zero.
	DefaultBusyTimeout = 5 * time.Second
	// DefaultMaxRetries is how many more times Update tries to take the write lock,
	// after waiting BusyTimeout each time, when Options.MaxRetries is zero.
	DefaultMaxRetries = 3
	// DefaultCheckCacheSize is the number of check answers the Store keeps when
	// Options.CheckCacheSize is zero.
	DefaultCheckCacheSize = 16384
)

const (
	backoffBase = time.Millisecond
	backoffMax  = 100 * time.Millisecond
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// BusyTimeout is how long a statement, or Update taking the write lock, waits for
	// a lock that another process (or another Store on the same file) holds before
	// giving up. Zero means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// MaxRetries is how many more times Update tries to take the write lock after a
	// wait of BusyTimeout ran out, with a short jittered backoff in between; then it
	// returns an error matching store.ErrConflict. Zero means DefaultMaxRetries; a
	// negative value disables retries.
	MaxRetries int
	// MaxReaders bounds the connections that run Views and checks concurrently.
	// Zero means max(4, GOMAXPROCS).
	MaxReaders int
	// CheckCacheSize is how many answers of Reach the Checker keeps (see the package
	// documentation, Checks). Zero means DefaultCheckCacheSize; a negative value
	// disables the cache, so that every check runs its SQL statement.
	CheckCacheSize int
	// SynchronousNormal sets PRAGMA synchronous=NORMAL instead of FULL. In WAL mode a
	// commit then survives a crash of the process but the last commits before a power
	// failure or an operating-system crash may be lost (the database stays
	// consistent). Commits no longer wait for an fsync each.
	SynchronousNormal bool
	// Logger receives a debug record for each retry of the write lock, an info
	// record for each migration applied, and a warning when the check cache cannot
	// run or the database's schema is newer than this package. Nil: nothing is
	// logged.
	Logger *slog.Logger
}

// Store is a store.Store on an SQLite database file. It is safe for concurrent use,
// and several Stores (in one process or several) may open the same file. It also
// implements store.Checker, store.Feed, store.ChangeLog and store.Loader.
type Store struct {
	path    string
	writer  *sql.DB // one connection: writes are serialized
	readers *sql.DB // connections for View and the Checker, query_only
	// The statements prepared on each pool, once the tables exist; nil before.
	writerStmts, readerStmts atomic.Pointer[stmtSet]
	prepareMu                sync.Mutex
	// The check cache, when it runs: the wal-index mapping (nil once closed), the
	// answers, and the connection that keeps the -shm file in place.
	wal        atomic.Pointer[walIndex]
	cache      *checkCache
	pin        driver.Conn
	maxRetries int
	log        *slog.Logger
	signal     feedSignal // wakes the change feed's waiters (feed.go)
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// Open opens the SQLite database at path, creating the file when it does not exist,
// and returns a Store on it. It sets the journal mode to WAL (a lasting property of
// the file). Open does not create or migrate the tables: call Migrate, or run the
// files of Migrations with goose. Close releases the file.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlitestore: open %q: want the path of a database file", path)
	}
	path, err := realPath(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open: %w", err)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	sync := "FULL"
	if opts.SynchronousNormal {
		sync = "NORMAL"
	}
	s := &Store{path: path, maxRetries: opts.MaxRetries, log: opts.Logger}
	if s.maxRetries == 0 {
		s.maxRetries = DefaultMaxRetries
	} else if s.maxRetries < 0 {
		s.maxRetries = 0
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	params := url.Values{
		"_busy_timeout": {strconv.FormatInt(busy.Milliseconds(), 10)},
		"_foreign_keys": {"1"},
		"_synchronous":  {sync},
	}

	// The writer first: it makes the file and switches it to WAL, which readers
	// then find. BEGIN IMMEDIATE takes the write lock at the start of Update, so
	// that a transaction never fails to upgrade a read lock half-way.
	wp := cloneValues(params)
	wp.Set("_txlock", "immediate")
	wp.Set("_journal_mode", "WAL")
	if s.writer, err = sql.Open("sqlite", dsn(path, wp)); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	var mode string
	if err := s.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		s.writer.Close()
		return nil, openErr(ctx, path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		s.writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: journal mode is %q, not WAL", path, mode)
	}

	rp := cloneValues(params)
	rp.Set("_query_only", "1")
	if s.readers, err = sql.Open("sqlite", dsn(path, rp)); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	n := opts.MaxReaders
	if n <= 0 {
		n = max(4, runtime.GOMAXPROCS(0))
	}
	s.readers.SetMaxOpenConns(n)
	s.readers.SetMaxIdleConns(n)
	s.readers.SetConnMaxLifetime(0)
	s.readers.SetConnMaxIdleTime(0)
	if err := s.readers.PingContext(ctx); err != nil {
		s.Close()
		return nil, openErr(ctx, path, err)
	}
	if size := opts.CheckCacheSize; size >= 0 {
		if size == 0 {
			size = DefaultCheckCacheSize
		}
		if err := s.startCache(ctx, dsn(path, rp), size); err != nil {
			s.log.WarnContext(ctx, "sqlitestore: running without the check cache", "path", path, "err", err)
		}
	}
	return s, nil
}

// realPath returns path absolute and with its symbolic links resolved (those of its
// directory when the file does not exist yet), as SQLite names the -shm file.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}

// startCache opens the connection that keeps the -shm file in place, maps the
// wal-index and makes the check cache.
func (s *Store) startCache(ctx context.Context, name string, size int) error {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return err
	}
	// A read opens the WAL and its wal-index, which the connection then keeps.
	if _, err := c.(driver.ExecerContext).ExecContext(ctx, "SELECT count(*) FROM sqlite_schema", nil); err != nil {
		c.Close()
		return err
	}
	x, err := mapWALIndex(s.path)
	if err == nil {
		if _, ok := x.header(); !ok {
			err = fmt.Errorf("%s-shm: no valid wal-index header", s.path)
		}
	}
	if err != nil {
		c.Close()
		return err
	}
	s.pin, s.cache = c, newCheckCache(size)
	s.wal.Store(x)
	return nil
}

// dsn returns the driver's name of the database at path with the given parameters,
// as a file: URI (whose path escapes the characters that URIs reserve).
func dsn(path string, params url.Values) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + esc.Replace(path) + "?" + params.Encode()
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v)+2)
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func openErr(ctx context.Context, path string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("sqlitestore: open %s: %w", path, err)
}

// Close closes the Store's connections. It waits for transactions in progress to
// end, and must not be called while one of them waits for it. Waits of the change
// feed in progress return an error.
func (s *Store) Close() error {
	var errs []error
	s.signal.close()
	s.wal.Store(nil)
	if s.pin != nil {
		errs = append(errs, s.pin.Close())
	}
	for _, set := range []*stmtSet{s.readerStmts.Load(), s.writerStmts.Load()} {
		if set != nil {
			errs = append(errs, set.close())
		}
	}
	if s.readers != nil {
		errs = append(errs, s.readers.Close())
	}
	errs = append(errs, s.writer.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// Path returns the path of the database file.
func (s *Store) Path() string { return s.path }

// View runs fn in a read-only transaction on one of the reader connections: every
// read of fn sees the same snapshot, the last commit before its first read. Views run
// concurrently with each other and with an Update. fn's error is returned unchanged;
// a panic in fn ends the transaction and is raised again.
func (s *Store) View(ctx context.Context, fn func(ctx context.Context, r store.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stmts := s.statements(ctx, s.readers, &s.readerStmts)
	tx, err := s.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrapErr(ctx, "begin", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	err = fn(ctx, &rw{q: tx, tx: tx, stmts: stmts})
	done = true
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrapErr(ctx, "commit", err)
	}
	return nil
}

// Update runs fn in a read-write transaction and commits it when fn returns nil. When
// fn returns an error or panics the transaction is rolled back and the error returned
// unchanged (or the panic raised again).
//
// Updates take turns on the store's one writer connection, and each begins with
// BEGIN IMMEDIATE, which takes the database's write lock (waiting up to
// Options.BusyTimeout for another process to release it), so an Update never
// conflicts with another once fn runs. When the lock cannot be had in time, Update
// tries again up to Options.MaxRetries times, then returns an error matching
// store.ErrConflict; fn has not run then. When ctx is done while fn runs, the
// transaction is rolled back and Update returns ctx's error.
func (s *Store) Update(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		conflict, err := s.updateOnce(ctx, fn)
		if !conflict {
			return err
		}
		if attempt >= s.maxRetries {
			return fmt.Errorf("sqlitestore: %w after %d attempts: %w", store.ErrConflict, attempt+1, err)
		}
		d := backoff(attempt)
		s.log.DebugContext(ctx, "sqlitestore: retrying transaction", "attempt", attempt+1, "backoff", d, "err", err)
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

// updateOnce runs one attempt of Update. conflict reports that the write lock could
// not be had (SQLITE_BUSY), after which Update may try again.
func (s *Store) updateOnce(ctx context.Context, fn func(ctx context.Context, w store.Writer) error) (conflict bool, err error) {
	stmts := s.statements(ctx, s.writer, &s.writerStmts)
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return isBusy(err), wrapErr(ctx, "begin", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked or called runtime.Goexit
			_ = tx.Rollback()
		}
	}()
	w := &rw{q: tx, tx: tx, stmts: stmts, now: time.Now().UTC()}
	err = fn(ctx, w)
	done = true
	if err != nil {
		_ = tx.Rollback()
		return w.conflict, err
	}
	if cerr := tx.Commit(); cerr != nil {
		return isBusy(cerr), wrapErr(ctx, "commit", cerr)
	}
	if w.appended > 0 {
		s.signal.commit(w.appended)
	}
	return false, nil
}

// Reach answers store.Reader.Reach outside a transaction, as one consistent read:
// from the check cache when it holds the answer for the database's current state, else
// with one SQL statement on a reader connection.
func (s *Store) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	if err := ctx.Err(); err != nil {
		return path[:0], grants[:0], err
	}
	var pols pathPolicies
	p, g, _, _, cached, err := s.reach(ctx, holder, scope, path, grants, &pols)
	if err != nil || !cached {
		return p, g, err
	}
	return append(path[:0], p...), append(grants[:0], g...), nil
}

// Check implements store.Checker, deciding as store.Check does. For a user or team it
// reads the path, the grants that reach the scope, the security policies of the
// tenants on the path and, when one of them enforces single sign-on, the user's
// address, from the check cache or with one SQL statement, then decides with
// rbac.Decide and, for a user allowed, rbac.ApplyPolicyTo. For a token it runs, in
// one read transaction, that statement, then reads the token and its creator's Reach.
func (s *Store) Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error) {
	if err := ctx.Err(); err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	if holder.Kind == rbac.HolderToken {
		return s.checkToken(ctx, holder, action, scope, now)
	}
	var buf [8]rbac.Grant
	var pbuf [4]rbac.Ref
	var polBuf pathPolicies
	path, grants, pols, email, _, err := s.reach(ctx, holder, scope, pbuf[:0], buf[:0], &polBuf)
	if err != nil {
		return rbac.Decision{Action: action, Scope: scope, Rule: rbac.RuleInvalidScope}, err
	}
	d := rbac.Decide(action, path, grants)
	if d.Allowed && holder.Kind == rbac.HolderUser && len(pols) > 0 {
		d = rbac.ApplyPolicyTo(d, holder, email, store.AuthFrom(ctx), now, nil, pols...)
	}
	return d, nil
}

// checkToken is Check for a token: store.Check in one read transaction, with the
// policies read by the statement that reads the token's path and grants.
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

// reach answers the Checker's read, Reach's path and grants with the security
// policies of the tenants on the path and, when one of them enforces single sign-on,
// the user holder's address, from the check cache (cached true: the slices returned
// are the cache's, which must not be changed), or runs qCheck with path, grants and
// pols as buffers and caches the answer. Policies and the address are part of the
// cached answer: changing one, as any commit, changes the wal-index header, after
// which no answer cached before is used.
func (s *Store) reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant, pols *pathPolicies) (_ rbac.Path, _ []rbac.Grant, _ []rbac.Policy, email string, cached bool, _ error) {
	x := s.wal.Load()
	var hdr walHeader
	cacheable := false
	if x != nil {
		hdr, cacheable = x.header()
		if cacheable {
			if a, ok := s.cache.get(hdr, checkKey{holder, scope}); ok {
				if !a.found {
					return path[:0], grants[:0], nil, "", false, notFound("reach " + scope.String())
				}
				return a.path, a.grants, a.policies, a.email, true, nil
			}
		}
	}
	r := rw{q: s.readers, stmts: s.statements(ctx, s.readers, &s.readerStmts)}
	path, grants, err := r.reach(ctx, holder, scope, path, grants, pols)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return path, grants, nil, "", false, err
	}
	if cacheable {
		// The answer belongs to hdr when the header has not changed meanwhile.
		if again, ok := x.header(); ok && again == hdr {
			s.cache.put(hdr, checkKey{holder, scope}, &reachAnswer{
				path: slices.Clone(path), grants: slices.Clone(grants), policies: slices.Clone(pols.list()), email: pols.email,
				found: found,
			})
		}
	}
	return path, grants, pols.list(), pols.email, false, err
}

// stmtSet is every statement of the store prepared on one pool. database/sql
// prepares a statement again on each connection the first time it runs there.
type stmtSet [numQueries]*sql.Stmt

func (set *stmtSet) close() error {
	var errs []error
	for _, st := range set {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// statements returns the statements prepared on db (one of the store's pools), which
// p holds, preparing them when that has not been done yet. It returns nil when they
// cannot be prepared, as before the tables are created: the store then runs its
// statements from their text. It must not be called inside a transaction, whose
// connection preparing could wait for.
func (s *Store) statements(ctx context.Context, db *sql.DB, p *atomic.Pointer[stmtSet]) *stmtSet {
	if set := p.Load(); set != nil {
		return set
	}
	s.prepareMu.Lock()
	defer s.prepareMu.Unlock()
	if set := p.Load(); set != nil {
		return set
	}
	set := new(stmtSet)
	for q, text := range queryText {
		st, err := db.PrepareContext(ctx, text)
		if err != nil {
			_ = set.close()
			return nil
		}
		set[q] = st
	}
	p.Store(set)
	return set
}
