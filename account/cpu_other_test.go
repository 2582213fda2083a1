//go:build !unix

package account_test

import "time"

// cpuNow returns 0: the CPU time is not read on this system.
func cpuNow() time.Duration { return 0 }
