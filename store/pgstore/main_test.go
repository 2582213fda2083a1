package pgstore_test

import (
	"flag"
	"os"
	"testing"
)

// pgChecks is the number of rapid runs of the conformance suite's state machines on
// PostgreSQL, where every step costs round trips: a quarter of rapid's default. The
// in-memory store runs them in full; -rapid.checks or RAPID_CHECKS overrides this.
const pgChecks = "25"

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); !set && !env {
		if err := flag.Set("rapid.checks", pgChecks); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
