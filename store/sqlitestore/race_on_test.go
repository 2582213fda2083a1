//go:build race

package sqlitestore_test

// raceEnabled reports whether the test binary was built with the race detector.
const raceEnabled = true
