package storetest_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/storetest"
)

// checkerClauses are the clauses about the optional store.Checker.
var checkerClauses = []string{
	"Context/CancelledContextIsHonouredByChecker",
	"Reach/CheckerReachAgreesWithReader",
	"Reach/CheckerAgreesWithCheck",
	"Reach/CheckerSeesAgreesWithSees",
}

// modelCheckerClauses are the clauses of the Model group about the optional
// store.Checker, which come after the Feed and Loader groups.
var modelCheckerClauses = []string{"Model/CheckerAgreesInRandomWorlds"}

// feedClauses are the clauses about the optional store.Feed.
var feedClauses = []string{
	"Feed/ChangesInCommitOrder",
	"Feed/CursorExactlyOnce",
	"Feed/RolledBackNeverAppear",
	"Feed/WaitWakesOnCommit",
	"Feed/WaitHonoursContext",
	"Feed/ConcurrentWritersNeverSkip",
	"Feed/ChangeLogAgreesWithFeed",
}

// loaderClauses are the clauses about the optional store.Loader.
var loaderClauses = []string{
	"Loader/CopyAgrees",
	"Loader/EmptyStore",
	"Loader/StopsAtWriterError",
}

// TestCheckSkipsWithoutChecker: a store without store.Checker, store.Feed and
// store.Loader passes, and Check reports the clauses about them as skipped, naming the
// absent interface.
func TestCheckSkipsWithoutChecker(t *testing.T) {
	skipped, err := storetest.Check(t.Context(), func() (store.Store, error) {
		return struct{ store.Store }{memstore.New()}, nil
	})
	if err != nil {
		t.Fatalf("a store without the optional store.Checker, store.Feed and store.Loader must pass:\n%v", err)
	}
	var names []string
	for _, s := range skipped {
		names = append(names, s.Clause)
		absent := "store.Checker"
		switch {
		case s.Clause == "Feed/ChangeLogAgreesWithFeed":
			absent = "store.ChangeLog"
		case slices.Contains(feedClauses, s.Clause):
			absent = "store.Feed"
		case slices.Contains(loaderClauses, s.Clause):
			absent = "store.Loader"
		}
		if !strings.Contains(s.Reason, "does not implement the optional "+absent) {
			t.Errorf("the reason to skip %s must name the absent interface, %s: %q", s.Clause, absent, s.Reason)
		}
	}
	if want := slices.Concat(checkerClauses, feedClauses, loaderClauses, modelCheckerClauses); !slices.Equal(names, want) {
		t.Errorf("Check skipped %v, want %v", names, want)
	}
}

// TestCheckStopsWhenContextDone: Check runs no clause on a done context and returns
// the context's error.
func TestCheckStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	made := 0
	_, err := storetest.Check(ctx, func() (store.Store, error) { made++; return memstore.New(), nil })
	if !errors.Is(err, context.Canceled) || made != 0 {
		t.Errorf("Check on a cancelled context made %d store(s) and returned %v; want none, and context.Canceled", made, err)
	}
}

// TestCheckReportsNewStoreErrors: an error from newStore fails each clause, saying so.
func TestCheckReportsNewStoreErrors(t *testing.T) {
	_, err := storetest.Check(t.Context(), func() (store.Store, error) { return nil, errors.New("no database") })
	failed := clauseErrors(t, err)
	for _, clause := range []string{"Tx/CommitOnNil", "Reach/CheckerAgreesWithCheck", "Audit/RolledBackEventsInvisible", "Model/RandomReadsAndWrites"} {
		if ce, ok := failed[clause]; !ok || !strings.Contains(ce.Error(), "storetest: newStore failed: no database") {
			t.Errorf("Check must fail %s when newStore fails, saying why; got %v", clause, ce)
		}
	}
}

// runEnv names, in the environment of a child test process, the store that
// TestRunHelper gives Run.
const runEnv = "STORETEST_RUN_STORE"

// TestRunHelper runs Run against the store named in the environment. It does nothing
// in a normal run: TestRunReportsThroughTesting runs it in a child process, the only
// way to observe what Run reports to *testing.T (failed, skipped and passed subtests,
// and which ran).
func TestRunHelper(t *testing.T) {
	name := os.Getenv(runEnv)
	if name == "" {
		return
	}
	mk := func() store.Store { return struct{ store.Store }{memstore.New()} }
	if name != "no-checker" {
		i := slices.IndexFunc(brokenCases, func(c brokenCase) bool { return c.name == name })
		if i < 0 {
			t.Fatalf("no broken store named %q", name)
		}
		mk = brokenCases[i].make
	}
	storetest.Run(t, func(*testing.T) store.Store { return mk() })
}

// TestRunReportsThroughTesting checks that Run names its subtests after the clauses,
// fails the ones that fail with their errors, skips the ones about an absent
// capability with the reason, and lets go test -run select one clause.
func TestRunReportsThroughTesting(t *testing.T) {
	for _, c := range []struct {
		name, store, run string
		want, not        []string
	}{
		{
			name: "failures", store: "email-unique-with-case", run: "^TestRunHelper$/^Users$",
			want: []string{
				"--- FAIL: TestRunHelper/Users/EmailUniqueIgnoringCase ",
				"store.go: Writer.InsertUser must refuse an email taken ignoring case",
				"--- FAIL: TestRunHelper/Users/UpdateKeepsUniqueness ",
				"--- PASS: TestRunHelper/Users/OAuthLinkUnique ",
			},
		},
		{
			name: "skips", store: "no-checker", run: "^TestRunHelper$/^(Reach|Context)$",
			want: []string{
				"--- SKIP: TestRunHelper/Reach/CheckerAgreesWithCheck ",
				"--- SKIP: TestRunHelper/Reach/CheckerSeesAgreesWithSees ",
				"--- SKIP: TestRunHelper/Reach/CheckerReachAgreesWithReader ",
				"--- SKIP: TestRunHelper/Context/CancelledContextIsHonouredByChecker ",
				"the store does not implement the optional store.Checker",
				"--- PASS: TestRunHelper/Reach/TeamGrants ",
				"--- PASS: TestRunHelper/Context/CancelledContextIsHonoured ",
			},
			not: []string{"--- FAIL"},
		},
		{
			name: "one-clause", store: "email-unique-with-case", run: "^TestRunHelper$/^Users$/^EmailUniqueIgnoringCase$",
			want: []string{"--- FAIL: TestRunHelper/Users/EmailUniqueIgnoringCase "},
			not:  []string{"TestRunHelper/Users/InsertAndGet", "TestRunHelper/Tx"},
		},
		{
			name: "model", store: "path-leaf-first", run: "^TestRunHelper$/^Model$",
			want: []string{
				"--- FAIL: TestRunHelper/Model/RandomReadsAndWrites ",
				`-run="TestRunHelper/Model/RandomReadsAndWrites"`, // rapid reports to the subtest's *testing.T
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+c.run, "-test.v", "-test.count=1",
				"-rapid.checks=100", "-rapid.nofailfile", "-rapid.shrinktime=10ms")
			cmd.Env = append(os.Environ(), runEnv+"="+c.store)
			out, _ := cmd.CombinedOutput()
			for _, s := range c.want {
				if !strings.Contains(string(out), s) {
					t.Errorf("Run's output must contain %q; output:\n%s", s, out)
				}
			}
			for _, s := range c.not {
				if strings.Contains(string(out), s) {
					t.Errorf("Run's output must not contain %q; output:\n%s", s, out)
				}
			}
		})
	}
}

// TestModelFindsDefects checks that the Model group's random searches find the
// defects that modelSearches names, with rapid's
// default number of runs: each clause alone, in a child process (rapid's flags are
// the process's), against its broken store, and nothing else.
func TestModelFindsDefects(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(modelSearches)) {
		for _, clause := range modelSearches[name] {
			t.Run(name+"/"+clause, func(t *testing.T) {
				t.Parallel()
				group, sub, _ := strings.Cut(clause, "/")
				cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRunHelper$/^"+group+"$/^"+sub+"$",
					"-test.v", "-test.count=1", "-rapid.checks=100", "-rapid.nofailfile", "-rapid.shrinktime=10ms")
				cmd.Env = append(os.Environ(), runEnv+"="+name)
				out, _ := cmd.CombinedOutput()
				if want := "--- FAIL: TestRunHelper/" + clause + " "; !strings.Contains(string(out), want) {
					t.Errorf("the random search of %s must find the defect of %s in 100 runs: the output has no %q:\n%s", clause, name, want, out)
				}
				if want := "store.go: "; !strings.Contains(string(out), want) {
					t.Errorf("the failure of %s must cite store.go:\n%s", clause, out)
				}
			})
		}
	}
}
