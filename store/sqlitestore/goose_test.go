package sqlitestore_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	// goose is the well-kept library of its field for running plain SQL migration
	// files; a test-only dependency, to prove that Migrations runs as it is.
	"github.com/pressly/goose/v3"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
	"github.com/tenantry/tenantry/storetest"
)

// gooseUp runs the files of sqlitestore.Migrations with goose on the database at path
// and returns goose's provider on it.
func gooseUp(t *testing.T, path string) (*goose.Provider, *sql.DB) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_foreign_keys=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sqlitestore.Migrations())
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
	if v := res[len(res)-1].Source.Version; v != int64(sqlitestore.SchemaVersion) {
		t.Fatalf("goose's last migration is version %d, want SchemaVersion %d", v, sqlitestore.SchemaVersion)
	}
	return p, db
}

// migrationFiles returns the names of the files of sqlitestore.Migrations. Their
// versions increase but need not be consecutive; the last one is SchemaVersion.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(sqlitestore.Migrations(), "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("Migrations holds %v (%v)", names, err)
	}
	if last := fmt.Sprintf("%04d_", sqlitestore.SchemaVersion); !strings.HasPrefix(names[len(names)-1], last) {
		t.Fatalf("Migrations holds %v, want the last one's name to start with %s", names, last)
	}
	return names
}

// gooseRaceChecks is the number of rapid runs of the suite's state machines in
// TestMigrationsWithGoose under the race detector: TestConformance runs them in full
// on the same schema (TestMigrationsFiles shows that goose and Migrate make the same
// one), and the race detector slows SQLite about tenfold.
const gooseRaceChecks = "5"

// TestMigrationsWithGoose runs the conformance suite on stores whose database goose
// made from the files of Migrations, as they are, and that Migrate never touched.
// Under the race detector its state machines run gooseRaceChecks times, unless
// -rapid.checks or RAPID_CHECKS says otherwise.
func TestMigrationsWithGoose(t *testing.T) {
	if raceEnabled && !rapidChecksSet {
		old := flag.Lookup("rapid.checks").Value.String()
		must(t, flag.Set("rapid.checks", gooseRaceChecks))
		defer func() { must(t, flag.Set("rapid.checks", old)) }()
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "goose.db")
		_, db := gooseUp(t, path)
		db.Close()
		return openStoreAt(t, path, testOptions, false)
	})
}

// schemaOf returns the SQL of every table, index and trigger of the database at path,
// but the version tables of goose and Migrate.
func schemaOf(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema
		WHERE name NOT IN ('goose_db_version', 'tenantry_schema_version', 'sqlite_sequence')
			AND tbl_name NOT IN ('goose_db_version', 'tenantry_schema_version')
		ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMigrationsFiles checks the layout of Migrations (NNNN_name.sql files at the
// root, in goose's format), that goose's Down sections remove what the Up sections
// made, and that goose and Migrate make the same schema.
func TestMigrationsFiles(t *testing.T) {
	names := migrationFiles(t)
	for _, n := range names {
		body, err := fs.ReadFile(sqlitestore.Migrations(), n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "-- +goose Up\n") || !strings.Contains(string(body), "-- +goose Down\n") {
			t.Errorf("%s: want goose's Up and Down annotations", n)
		}
	}
	dir := t.TempDir()
	byGoose, byMigrate := filepath.Join(dir, "goose.db"), filepath.Join(dir, "migrate.db")
	p, db := gooseUp(t, byGoose)
	want := schemaOf(t, byGoose)
	if len(want) < 20 {
		t.Fatalf("goose made %d tables, indexes and triggers: %v", len(want), want)
	}
	if _, err := p.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("goose down: %v", err)
	}
	if got := schemaOf(t, byGoose); len(got) != 0 {
		t.Errorf("after goose down: %v, want nothing", got)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("goose up after down: %v", err)
	}
	db.Close()
	if got := schemaOf(t, byGoose); !slices.Equal(got, want) {
		t.Errorf("goose up after down made %v, want %v", got, want)
	}
	openStoreAt(t, byMigrate, testOptions, true)
	if got := schemaOf(t, byMigrate); !slices.Equal(got, want) {
		t.Errorf("Migrate made:\n%s\n\ngoose made:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s := openStoreAt(t, byGoose, testOptions, false)
	update(t, s, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{ID: "u1", Email: "ann@example.test"})
	})
}
