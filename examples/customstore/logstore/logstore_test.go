package logstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/examples/customstore/logstore"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/storetest"
)

// The whole proof that a store keeps Tenantry's contract.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return logstore.New(memstore.New(), logstore.Options{}) })
}

// Every transaction is counted and logged once, with its outcome; a panic is logged
// and re-raised, and rolls back.
func TestLogsEveryTransaction(t *testing.T) {
	var buf bytes.Buffer
	s := logstore.New(memstore.New(), logstore.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	ctx := t.Context()
	boom := errors.New("boom")

	if err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		return w.InsertUser(ctx, store.User{ID: "u1", Email: "u1@example.test"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(ctx context.Context, w store.Writer) error {
		if err := w.InsertUser(ctx, store.User{ID: "u2", Email: "u2@example.test"}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the closure's error", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Errorf("recovered %v, want the closure's panic", p)
			}
		}()
		_ = s.Update(ctx, func(ctx context.Context, w store.Writer) error {
			_ = w.InsertUser(ctx, store.User{ID: "u3", Email: "u3@example.test"})
			panic("kaboom")
		})
	}()
	if err := s.View(ctx, func(ctx context.Context, r store.Reader) error {
		if _, err := r.User(ctx, "u1"); err != nil {
			return err
		}
		for _, id := range []string{"u2", "u3"} {
			if _, err := r.User(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("user %s: %v; a failed update left it behind", id, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	want := logstore.Stats{Views: 1, Updates: 3, Commits: 1, Rollbacks: 2, Attempts: 3}
	if got := s.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	log := buf.String()
	for _, frag := range []string{"outcome=commit", "outcome=error err=boom", "outcome=panic panic=kaboom", "tx=view"} {
		if !strings.Contains(log, frag) {
			t.Errorf("the log lacks %q:\n%s", frag, log)
		}
	}
	if n := strings.Count(log, "\n"); n != 4 {
		t.Errorf("%d log records, want 4 (one per transaction):\n%s", n, log)
	}
}
