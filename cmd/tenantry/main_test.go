package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bin is the tenantry command built by TestMain, which the tests run as a subprocess.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tenantry-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "tenantry")
	// Built without the race detector even under go test -race: an instrumented
	// binary starts about ten times slower, and the tests start it a hundred times.
	// The race detector watches the in-process tests of run (follow_test.go).
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tenantry:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a run of the command gave.
type result struct {
	stdout, stderr string
	code           int
}

// tenantry runs the command with args and returns its output and exit status. The
// environment's TENANTRY_STORE is left out, so that memory: is the default store.
func tenantry(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TENANTRY_STORE=") })
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return result{stdout.String(), stderr.String(), ee.ExitCode()}
	case err != nil:
		t.Fatalf("tenantry %q: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), 0}
}

// want runs the command and fails the test unless it exits with code.
func want(t *testing.T, code int, args ...string) result {
	t.Helper()
	r := tenantry(t, args...)
	if r.code != code {
		t.Fatalf("tenantry %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// decode decodes JSON output into v, failing the test when it is not JSON.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON (%v):\n%s", err, out)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		r := want(t, exitOK, args...)
		if r.stdout != usageText {
			t.Errorf("tenantry %s: stdout is not the usage text:\n%s", args[0], r.stdout)
		}
	}
	for _, want := range []string{"check ACTION HOLDER SCOPE", "who-can", "what-can", "policy", "audit", "review", "migrate",
		"0  success", "1  check or explain: denied", "2  usage error", "3  not found", "4  any other error", "account:acct-1"} {
		if !strings.Contains(usageText, want) {
			t.Errorf("usage text lacks %q", want)
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}, {"--store", "sqlite:/nonexistent/x.db", c.name, "-h"}} {
			r := want(t, exitOK, args...)
			if !strings.HasPrefix(r.stdout, "Usage: tenantry "+c.name+" [flags] "+c.args) || !strings.Contains(r.stdout, "-store STORE") ||
				!strings.Contains(r.stdout, "Exit status") || r.stderr != "" {
				t.Errorf("tenantry %s: help is\n%s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
			}
		}
	}
	if r := want(t, exitOK, "help", "what-can"); !strings.Contains(r.stdout, "-all") {
		t.Errorf("what-can's help lacks --all:\n%s", r.stdout)
	}
	if r := want(t, exitOK, "audit", "-h"); !strings.Contains(r.stdout, "-after CURSOR") || !strings.Contains(r.stdout, "-f") {
		t.Errorf("audit's help lacks its flags:\n%s", r.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--bogus", "policy"}, "flag provided but not defined: -bogus"},
		{[]string{"policy", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"policy", "extra"}, "want 0 arguments"},
		{[]string{"check", "inbox.read", "user:u"}, "want 3 arguments"},
		{[]string{"who-can", "inbox.read", "inbox:i", "more"}, "want 2 arguments"},
		{[]string{"--seed", "demo", "check", "inbox.nope", "user:user-1", "inbox:inbox-1"}, `unknown action "inbox.nope"`},
		{[]string{"--seed", "demo", "check", "inbox.read", "robot:r1", "inbox:inbox-1"}, `unknown kind "robot"`},
		{[]string{"--seed", "demo", "check", "inbox.read", "user-1", "inbox:inbox-1"}, "want user:ID"},
		{[]string{"--seed", "demo", "check", "inbox.read", "user:user-1", "mailbox:inbox-1"}, `unknown kind "mailbox"`},
		{[]string{"--seed", "demo", "what-can", "user:user-1", "inbox:inbox-1", "--all=maybe"}, "invalid boolean"},
		{[]string{"--seed", "demo", "audit", "acct-1", "--after", "yesterday"}, "a cursor is a sequence number"},
		{[]string{"--seed", "demo", "audit", "inbox:inbox-1"}, "is not an account or organization"},
		{[]string{"--seed", "forest", "review", "acct-1"}, `unknown world "forest"`},
		{[]string{"--store", "mongodb://x", "review", "acct-1"}, `--store "mongodb://x"`},
		{[]string{"--store", "sqlite:", "review", "acct-1"}, "needs a file name"},
		{[]string{"--schema", "s", "review", "acct-1"}, "--schema applies to a postgres:// store only"},
		{[]string{"--store", "postgres://nobody@127.0.0.1:1/x", "--seed", "demo", "review", "acct-1"}, "--seed applies to memory:"},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
	} {
		r := want(t, exitUsage, tc.args...)
		if !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
			t.Errorf("tenantry %s: stderr %q, want it to say %q; stdout %q", strings.Join(tc.args, " "), r.stderr, tc.msg, r.stdout)
		}
	}
}

// policy prints POLICY.md, byte for byte, and its JSON names every action.
func TestPolicy(t *testing.T) {
	md, err := os.ReadFile("../../POLICY.md")
	if err != nil {
		t.Fatal(err)
	}
	if r := want(t, exitOK, "policy"); r.stdout != string(md) {
		t.Errorf("tenantry policy differs from POLICY.md")
	}
	var doc struct {
		Levels  []struct{ Name string } `json:"levels"`
		Kinds   []struct{ Kind, Parent string }
		Actions []struct {
			Action    string   `json:"action"`
			Kinds     []string `json:"kinds"`
			Need      string   `json:"need"`
			NeedValue int      `json:"need_value"`
			Rules     []string `json:"rules"`
			Doc       string   `json:"doc"`
		} `json:"actions"`
		Rules []struct{ Rule, Text string } `json:"rules"`
	}
	decode(t, want(t, exitOK, "policy", "--json").stdout, &doc)
	if len(doc.Actions) == 0 || len(doc.Rules) == 0 || len(doc.Kinds) != 8 || len(doc.Levels) != 3 {
		t.Fatalf("policy --json: %d actions, %d rules, %d kinds, %d levels", len(doc.Actions), len(doc.Rules), len(doc.Kinds), len(doc.Levels))
	}
	for _, a := range doc.Actions {
		if !strings.Contains(string(md), "| `"+a.Action+"` |") || len(a.Kinds) == 0 || a.NeedValue == 0 || len(a.Rules) == 0 || a.Doc == "" {
			t.Errorf("policy --json: action %+v", a)
		}
	}
	// The JSON flag may come first, and policy reads no store, not even a missing one.
	want(t, exitOK, "--json", "--store", "sqlite:/nonexistent/dir/x.db", "policy")
}

// A store that cannot be opened or read is exit status 4.
func TestStoreErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--store", "postgres://nobody@127.0.0.1:1/x", "review", "acct-1"}, "connect"},
		{[]string{"--store", "sqlite:" + dir, "review", "acct-1"}, "is a directory"},
		{[]string{"--store", "sqlite:" + filepath.Join(dir, "missing.db"), "who-can", "inbox.read", "inbox:i"}, "does not exist"},
		{[]string{"--store", "sqlite:" + empty, "check", "inbox.read", "user:u", "inbox:i"}, "tenantry check: "}, // not migrated: SQLite has no table
	} {
		r := want(t, exitError, tc.args...)
		if !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("tenantry %s: stderr %q, want it to say %q", strings.Join(tc.args, " "), r.stderr, tc.msg)
		}
	}
}
