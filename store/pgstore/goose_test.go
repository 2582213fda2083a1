package pgstore_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	// goose is the well-kept library of its field for running plain SQL migration
	// files; a test-only dependency, to prove that Migrations runs as it is.
	"github.com/pressly/goose/v3"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
	"github.com/tenantry/tenantry/storetest"
)

var databaseSeq atomic.Int64

// freshDatabase creates a database of its own on the test server and returns its
// configuration. Cleanup drops it.
func freshDatabase(t *testing.T) *pgx.ConnConfig {
	t.Helper()
	base, err := pgx.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("pgstore_goose_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, databaseSeq.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + ident); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := admin("DROP DATABASE " + ident + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg := base.Copy()
	cfg.Database = name
	return cfg
}

// gooseUp runs the files of pgstore.Migrations with goose on the database of cfg.
func gooseUp(t *testing.T, cfg *pgx.ConnConfig) *goose.Provider {
	t.Helper()
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, pgstore.Migrations(), goose.WithVerbose(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Up(t.Context())
	if err != nil {
		t.Fatalf("goose up: %v", err)
	}
	if want := len(migrationFiles(t)); len(res) != want {
		t.Fatalf("goose applied %d migrations, want %d", len(res), want)
	}
	if v := res[len(res)-1].Source.Version; v != int64(pgstore.SchemaVersion) {
		t.Fatalf("goose's last migration is version %d, want SchemaVersion %d", v, pgstore.SchemaVersion)
	}
	return p
}

// migrationFiles returns the names of the files of pgstore.Migrations. Their versions
// increase but need not be consecutive; the last one is SchemaVersion.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(pgstore.Migrations(), "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("Migrations holds %v (%v)", names, err)
	}
	if last := fmt.Sprintf("%04d_", pgstore.SchemaVersion); !strings.HasPrefix(names[len(names)-1], last) {
		t.Fatalf("Migrations holds %v, want the last one's name to start with %s", names, last)
	}
	return names
}

// openOn opens a Store with default options (DefaultSchema) on the database of cfg,
// without migrating it. Cleanup closes it.
func openOn(t *testing.T, cfg *pgx.ConnConfig) *pgstore.Store {
	t.Helper()
	pcfg, err := pgxpool.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	pcfg.ConnConfig.Database = cfg.Database
	pcfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(t.Context(), pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pgstore.New(pool, pgstore.Options{})
}

// TestMigrationsWithGoose runs the conformance suite on stores whose schema goose
// made from the files of Migrations, as they are, and not Migrate: each store gets a
// fresh schema "tenantry" (the previous one there dropped, with goose's record of
// it), which the Store, with default options, finds. The stores take turns between
// two databases of the test's own, so that a clause may hold two stores at once (the
// Loader's copies one into the other).
func TestMigrationsWithGoose(t *testing.T) {
	testDSN(t)
	var cfgs [2]*pgx.ConnConfig
	var conns [2]*pgx.Conn
	for i := range cfgs {
		cfgs[i] = freshDatabase(t)
		conn, err := pgx.ConnectConfig(t.Context(), cfgs[i])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		conns[i] = conn
	}
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		i := n % 2
		n++
		_, err := conns[i].Exec(t.Context(), "DROP SCHEMA IF EXISTS "+pgstore.DefaultSchema+" CASCADE; DROP TABLE IF EXISTS goose_db_version")
		if err != nil {
			t.Fatal(err)
		}
		gooseUp(t, cfgs[i])
		return openOn(t, cfgs[i])
	})
}

// TestMigrationsFiles checks the layout of Migrations: NNNN_name.sql files at the
// root, each in goose's format, which goose lists as pending on a fresh database, then
// applies, and whose Down sections remove what the Up sections made.
func TestMigrationsFiles(t *testing.T) {
	names := migrationFiles(t)
	for _, n := range names {
		body, err := fs.ReadFile(pgstore.Migrations(), n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "-- +goose Up\n") || !strings.Contains(string(body), "-- +goose Down\n") {
			t.Errorf("%s: want goose's Up and Down annotations", n)
		}
	}
	testDSN(t)
	cfg := freshDatabase(t)
	p := gooseUp(t, cfg)
	ctx := t.Context()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func() int {
		var n int
		must(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = $1 AND c.relkind = 'r'`, pgstore.DefaultSchema).Scan(&n))
		return n
	}
	if n := count(); n != 14 {
		t.Errorf("after goose up: %d tables in schema %s, want 14", n, pgstore.DefaultSchema)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("goose down: %v", err)
	}
	if n := count(); n != 0 {
		t.Errorf("after goose down: %d tables in schema %s, want none", n, pgstore.DefaultSchema)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("goose up after down: %v", err)
	}
	s := openOn(t, cfg)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{ID: "u1", Email: "ann@example.test"})
	})

	// Migrate makes the same tables, columns, indexes and triggers in a schema of
	// another name (one that needs quoting).
	const other = `other "schema"`
	pcfg, err := pgxpool.ParseConfig(testDSN(t))
	must(t, err)
	pcfg.ConnConfig.Database = cfg.Database
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	must(t, err)
	defer pool.Close()
	must(t, pgstore.New(pool, pgstore.Options{Schema: other}).Migrate(ctx))
	describe := func(schema string) []string {
		rows, err := conn.Query(ctx, `
			SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(collation_name, '')
			FROM information_schema.columns WHERE table_schema = $1 AND table_name <> 'tenantry_schema_version'
			UNION ALL
			SELECT 'index ' || replace(indexdef, quote_ident($1), 'S') FROM pg_indexes
			WHERE schemaname = $1 AND tablename <> 'tenantry_schema_version'
			UNION ALL
			SELECT 'trigger ' || event_object_table || ' ' || trigger_name || ' ' || replace(action_statement, quote_ident($1), 'S')
			FROM information_schema.triggers WHERE trigger_schema = $1
			ORDER BY 1`, schema)
		must(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		must(t, err)
		return out
	}
	want, got := describe(pgstore.DefaultSchema), describe(other)
	if len(want) < 50 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Migrate made in %q:\n%s\n\ngoose made in %q:\n%s", other, strings.Join(got, "\n"), pgstore.DefaultSchema, strings.Join(want, "\n"))
	}
}
