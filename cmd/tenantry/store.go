package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/store/pgstore"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// openedStore is the store of --store, open.
type openedStore struct {
	st   store.Store
	kind string // "memory", "sqlite" or "postgres"
	desc string // for messages: "memory:", "sqlite:FILE", "postgres (schema tenantry)"
	// fresh: the store held nothing when it was opened (memory:, or an SQLite file
	// that did not exist or was empty).
	fresh bool
	// migrate runs the store's migrations and returns the schema version (0 for
	// memory:, which has none).
	migrate func(ctx context.Context) (int, error)
	close   func()
}

// openStore opens the store that opt.store names; an SQLite file is migrated when a
// seed is asked for. A SQLite file that does not exist is created only when migrating
// is set (the migrate command) or a seed is asked for: other commands refuse it, so
// that a mistyped path does not read as an empty world.
func openStore(ctx context.Context, opt *options, migrating bool) (*openedStore, error) {
	spec := opt.store
	if opt.schema != "" && !isPostgres(spec) {
		return nil, usagef("--schema applies to a postgres:// store only")
	}
	switch {
	case spec == "memory:" || spec == "memory":
		return &openedStore{
			st: memstore.New(), kind: "memory", desc: "memory:", fresh: true,
			migrate: func(context.Context) (int, error) { return 0, nil },
			close:   func() {},
		}, nil

	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, usagef("--store sqlite:FILE needs a file name")
		}
		info, err := os.Stat(path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if exists && info.IsDir() {
			return nil, fmt.Errorf("sqlite: %s is a directory", path)
		}
		if !exists && !migrating && opt.seed == "" {
			return nil, fmt.Errorf("sqlite: %s does not exist (create it with 'tenantry --store sqlite:%s migrate', or try --seed demo)", path, path)
		}
		s, err := sqlitestore.Open(ctx, path, sqlitestore.Options{})
		if err != nil {
			return nil, err
		}
		o := &openedStore{
			st: s, kind: "sqlite", desc: "sqlite:" + path,
			fresh: !exists || info.Size() == 0,
			migrate: func(ctx context.Context) (int, error) {
				return sqlitestore.SchemaVersion, s.Migrate(ctx)
			},
			close: func() { s.Close() },
		}
		if opt.seed != "" {
			if _, err := o.migrate(ctx); err != nil {
				s.Close()
				return nil, err
			}
		}
		return o, nil

	case isPostgres(spec):
		if opt.seed != "" {
			return nil, usagef("--seed applies to memory: and to a new SQLite file, not to PostgreSQL")
		}
		schema := opt.schema
		if schema == "" {
			schema = pgstore.DefaultSchema
		}
		s, err := pgstore.Open(ctx, spec, pgstore.Options{Schema: opt.schema})
		if err != nil {
			return nil, err
		}
		return &openedStore{
			st: s, kind: "postgres", desc: "postgres (schema " + schema + ")",
			migrate: func(ctx context.Context) (int, error) {
				return pgstore.SchemaVersion, s.Migrate(ctx)
			},
			close: s.Close,
		}, nil
	}
	return nil, usagef("--store %q: want memory:, sqlite:FILE or postgres://...", spec)
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// seedIfNew builds the demo world in s unless it holds it already. A store that is
// neither new nor the demo world is refused, so the demo never mixes with real data.
func seedIfNew(ctx context.Context, s *openedStore) (bool, error) {
	present, err := demoPresent(ctx, s.st)
	if err != nil || present {
		return false, err
	}
	if !s.fresh {
		return false, usagef("--seed demo: %s is not new and does not hold the demo world; seed a new file", s.desc)
	}
	if _, err := seedDemo(ctx, s.st); err != nil {
		return false, fmt.Errorf("seeding the demo world: %w", err)
	}
	return true, nil
}
