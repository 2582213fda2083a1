//go:build unix

package sqlitestore_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// TestCrash kills a process that commits write transactions, with SIGKILL, at a
// random moment, several times, and then checks that every transaction it reported
// committed is in the database and that no transaction is there in part: every user
// and grant of the writer has its event and every event its user or grant.
func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	openStoreAt(t, path, sqlitestore.Options{}, true).Close()
	reported := map[string]bool{}
	var ids []int // every number a writer may have used
	for round := range 8 {
		start := round * 1_000_000
		cmd := helperCommand("crash", path, start)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		// Wait for some commits, then kill the writer a moment later, wherever it is.
		want, n := 20+rand.IntN(60), 0
		for ; n < want && lines.Scan(); n++ {
			reported[lines.Text()] = true
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() { // what it printed before it died
			reported[lines.Text()] = true
			n++
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the writer ended with %v after %d commits, want killed by SIGKILL", round, err, n)
		}
		// It committed in order; the transaction after the last it printed may be
		// committed too, and the one after that in part, if SQLite broke its promise.
		for i := start; i < start+n+3; i++ {
			ids = append(ids, i)
		}
		checkCrashed(t, path, reported, ids)
	}
}

// checkCrashed opens the database after a crash and checks it.
func checkCrashed(t *testing.T, path string, reported map[string]bool, ids []int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	db.Close()

	s := openStoreAt(t, path, sqlitestore.Options{}, false)
	defer s.Close()
	view(t, s, func(ctx context.Context, r store.Reader) error {
		events := map[string]bool{} // targets
		for _, tenant := range []rbac.Ref{{}, crashAccount} {
			for after := uint64(0); ; {
				evs, err := r.Events(ctx, tenant, after, 500)
				if err != nil {
					return err
				}
				for _, e := range evs {
					if events[e.Target] {
						t.Errorf("two events target %s", e.Target)
					}
					events[e.Target] = true
				}
				if len(evs) < 500 {
					break
				}
				after = evs[len(evs)-1].Seq
			}
		}
		found := map[string]bool{}
		for _, i := range ids {
			id := crashID(i)
			var err error
			if strings.HasPrefix(id, "u-") {
				_, err = r.User(ctx, id)
			} else {
				_, err = r.Grant(ctx, rbac.User(id), crashAccount)
			}
			switch {
			case err == nil:
				found[id] = true
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			switch {
			case reported[id] && !found[id]:
				t.Errorf("%s was reported committed but is not there", id)
			case found[id] != events[id]:
				t.Errorf("torn transaction: %s is there: %v, its event: %v", id, found[id], events[id])
			}
		}
		for target := range events {
			if !found[target] {
				t.Errorf("torn transaction: the event of %s is there without it", target)
			}
		}
		if len(found) < len(reported) {
			t.Errorf("%d transactions reported committed, %d found", len(reported), len(found))
		}
		return nil
	})
	if t.Failed() {
		t.FailNow()
	}
}
