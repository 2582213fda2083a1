package tenantry_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tenantry/tenantry/"

// allowed lists, for each library package, the packages of this module and the
// outside modules its non-test files may import (doc.go, "Layers and what may import
// what"). The standard library is always allowed.
var allowed = map[string][]string{
	"rbac":                nil,
	"store":               {"rbac"},
	"store/memstore":      {"rbac", "store"},
	"store/pgstore":       {"rbac", "store", "internal/sqlmigrate", "github.com/jackc/pgx/v5"},
	"store/sqlitestore":   {"rbac", "store", "internal/sqlmigrate", "modernc.org/sqlite"},
	"store/replica":       {"rbac", "store", "store/memstore"},
	"storetest":           {"rbac", "store", "account", "profile", "account/accounttest", "pgregory.net/rapid"},
	"account/accounttest": {"account", "profile", "rbac", "store", "pgregory.net/rapid"},
	"account":             {"rbac", "store", "internal/txn"},
	"profile":             {"account", "rbac", "store", "internal/txn"},
	"internal/txn":        {"rbac", "store"},
	"internal/sqlmigrate": nil,
	"web":                 {"account", "profile", "rbac", "store"},
	"webhook":             {"account", "rbac", "store"},
}

func TestPackagesImportOnlyWhatTheDesignAllows(t *testing.T) {
	for pkg, ok := range allowed {
		files, err := filepath.Glob(filepath.Join(filepath.FromSlash(pkg), "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				first := strings.Split(path, "/")[0]
				switch {
				case strings.HasPrefix(path, module):
					if dep := strings.TrimPrefix(path, module); !slices.Contains(ok, dep) {
						t.Errorf("%s imports %s, which doc.go does not allow", f, dep)
					}
				case strings.Contains(first, "."):
					if !slices.ContainsFunc(ok, func(m string) bool { return path == m || strings.HasPrefix(path, m+"/") }) {
						t.Errorf("%s imports the outside module %s, which doc.go does not allow", f, path)
					}
				}
			}
		}
	}
}

// The browser driver is a test dependency: no file but a test imports it.
func TestBrowserDriverOnlyInTests(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		af, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range af.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/chromedp/") {
				t.Errorf("%s imports %s outside a test", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
