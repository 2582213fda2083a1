package main

import (
	"bytes"
	"os"
	"testing"
)

// POLICY.md must be what the generator writes from the current table.
func TestPolicyFileIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../../POLICY.md")
	if err != nil {
		t.Fatalf("reading POLICY.md: %v (run go generate ./...)", err)
	}
	if !bytes.Equal(got, Render()) {
		t.Fatal("POLICY.md is stale: run `go generate ./...` and commit the result")
	}
}
