package sqlitestore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// A store in a file: open it, create its tables, write a user in one transaction and
// read it back in another.
func Example() {
	dir, err := os.MkdirTemp("", "sqlitestore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, filepath.Join(dir, "tenantry.db"), sqlitestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	err = s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{
			ID:      "u1",
			Email:   "Ann@Example.test",
			Name:    "Ann",
			Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		})
	})
	if err != nil {
		log.Fatal(err)
	}

	err = s.View(ctx, func(ctx context.Context, r store.Reader) error {
		u, err := r.UserByEmail(ctx, "ann@example.TEST") // emails match ignoring case
		if err != nil {
			return err
		}
		fmt.Println(u.ID, u.Name, u.Email, u.Created.Format(time.DateOnly))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output: u1 Ann Ann@Example.test 2026-01-02
}
