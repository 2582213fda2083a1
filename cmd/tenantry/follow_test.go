package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// seededFile returns an SQLite file holding the demo world, and a store on it in the
// test process, to write to while the command reads.
func seededFile(t *testing.T) (string, store.Store) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "follow.db")
	st := openSQLite(t, file)
	if _, err := seedDemo(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	return file, st
}

// renameStaging writes an event to the demo account's log.
func renameStaging(t *testing.T, st store.Store, name string) {
	t.Helper()
	svc := account.New(st, account.Options{})
	if _, err := account.Do(t.Context(), svc, rbac.User(demoOwner), account.RenameResource{Resource: rbac.Inbox(demoStaging), Name: name}); err != nil {
		t.Fatal(err)
	}
}

// audit -f, run as a process, prints the log, then an event written meanwhile by
// another process, and stops on SIGINT with status 0, printing the cursor after it.
func TestAuditFollowUntilSignal(t *testing.T) {
	t.Parallel()
	file, st := seededFile(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--store", "sqlite:"+file, "audit", "acct-1", "-f", "--json", "--interval", "50ms")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := make(chan eventJSON)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev eventJSON
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev.Action = "not JSON: " + sc.Text()
			}
			events <- ev
		}
	}()
	next := func() eventJSON {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("audit -f ended early; stderr: %s", stderr.String())
			}
			return ev
		case <-ctx.Done():
			t.Fatal("audit -f printed nothing in time")
		}
		return eventJSON{}
	}
	for i, action := range demoLog {
		if ev := next(); ev.Action != action {
			t.Fatalf("audit -f event %d: %+v, want %s", i, ev, action)
		}
	}
	renameStaging(t, st, "Staging 2")
	ev := next()
	if ev.Action != "resource.rename" || ev.Target != "inbox:"+demoStaging || ev.Actor != "user:"+demoOwner {
		t.Fatalf("audit -f: the new event is %+v", ev)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for range events { // the rest of the output, if any, until the process closes it
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("audit -f on SIGINT: %v; stderr: %s", err, stderr.String())
	}
	if want := fmt.Sprintf("cursor: %d\n", ev.Seq); stderr.String() != want {
		t.Errorf("audit -f stderr %q, want %q", stderr.String(), want)
	}
}

// syncBuffer is a bytes.Buffer that a command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds, failing the test after 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// audit -f, run in this process, follows the log as a table and stops when its
// context ends, with status 0.
func TestAuditFollowUntilContextEnds(t *testing.T) {
	t.Parallel()
	file, st := seededFile(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--store", "sqlite:" + file, "audit", "account:acct-1", "-f", "--interval", "20ms"}, &stdout, &stderr)
	}()
	waitFor(t, "the log", func() bool { return strings.Count(stdout.String(), "\n") == len(demoLog)+1 })
	renameStaging(t, st, "Staging 3")
	waitFor(t, "the new event", func() bool { return strings.Contains(stdout.String(), "resource.rename") })
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("audit -f ended with %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("audit -f did not stop when its context ended")
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if len(lines) != len(demoLog)+2 || !strings.HasPrefix(lines[0], "SEQ") || last[3] != "resource.rename" {
		t.Fatalf("audit -f output:\n%s", stdout.String())
	}
	if want := "cursor: " + last[0] + "\n"; stderr.String() != want {
		t.Errorf("audit -f stderr %q, want %q", stderr.String(), want)
	}
}
