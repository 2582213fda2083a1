package storetest_test

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// TestMain sets rapid's process-wide flags for this package's tests, which run Check,
// and so the Model group's rapid.Check, on many stores in one process: fewer runs,
// little shrinking (the broken stores' Model failures are not what these tests
// assert), and no fail files (which every later Check from this directory would
// replay first, against every store). A flag given on the command line, or as a
// RAPID_ environment variable, wins.
func TestMain(m *testing.M) {
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, value := range map[string]string{
		"rapid.checks":     "10",
		"rapid.shrinktime": "10ms",
		"rapid.nofailfile": "true",
	} {
		env := "RAPID_" + strings.ToUpper(strings.TrimPrefix(name, "rapid."))
		if _, set := os.LookupEnv(env); given[name] || set {
			continue
		}
		if err := flag.Set(name, value); err != nil {
			panic(err)
		}
	}
	m.Run()
}
