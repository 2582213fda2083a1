package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, log bytes.Buffer
	if err := run(t.Context(), &out, &log); err != nil {
		t.Fatal(err)
	}
	// Register and CreateProject commit, the transfer to a non-member rolls back, and
	// the check goes to the wrapped memstore's Checker (found through Unwrap).
	if want := "transactions: 0 views, 3 updates (2 committed, 1 rolled back)"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	if !strings.Contains(out.String(), "check: allowed: inbox.create") {
		t.Errorf("the owner may not create an inbox:\n%s", out.String())
	}
	if n := strings.Count(log.String(), "tenantry store transaction"); n != 3 {
		t.Errorf("%d transactions logged, want 3:\n%s", n, log.String())
	}
}
