#!/bin/sh
# Runs the side-by-side check benchmarks and prints the table of README.md.
# BENCHTIME and COUNT override the defaults.
set -eu
cd "$(dirname "$0")"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go version
go list -m github.com/casbin/casbin/v2
go test -run '^$' -bench '^BenchmarkCheck$' -benchtime="${BENCHTIME:-1s}" -count="${COUNT:-5}" . | tee "$out"
go run ./cmd/ratio < "$out"
