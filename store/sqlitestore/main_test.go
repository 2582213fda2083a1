package sqlitestore_test

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// Environment variables that make the test binary a helper process of a test (see
// helperCommand) instead of running the tests.
const (
	envHelper = "SQLITESTORE_TEST_HELPER" // the helper to run: "crash" or "revoke"
	envDB     = "SQLITESTORE_TEST_DB"     // the database file it works on
	envArg    = "SQLITESTORE_TEST_ARG"    // a number for it
)

// raceChecks is the number of rapid runs of the conformance suite's state machines
// under the race detector, which slows SQLite (Go code translated from C) about
// tenfold, so that the package's tests stay within a few minutes: a tenth of rapid's
// default. Without the race detector they run in full; -rapid.checks or RAPID_CHECKS
// overrides this.
const raceChecks = "10"

// rapidChecksSet records that the number of rapid runs was given (-rapid.checks or
// RAPID_CHECKS), which the tests then keep.
var rapidChecksSet bool

func TestMain(m *testing.M) {
	if h := os.Getenv(envHelper); h != "" {
		arg, _ := strconv.Atoi(os.Getenv(envArg))
		if err := runHelper(h, os.Getenv(envDB), arg); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	flag.Parse()
	flag.Visit(func(f *flag.Flag) { rapidChecksSet = rapidChecksSet || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); env {
		rapidChecksSet = true
	}
	if raceEnabled && !rapidChecksSet {
		if err := flag.Set("rapid.checks", raceChecks); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
