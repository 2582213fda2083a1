#!/usr/bin/env bash
# The SDK contract: the platform's official Node SDK (npm mailtrap, pinned in
# examples/apiserver/sdk/package-lock.json), unchanged, against the example service.
# Installs the npm packages from the lock file, builds and starts the service on
# loopback with its demo data and the forward proxy through which the SDK reaches it
# (tlsproxy: the SDK only calls https://mailtrap.io, and honours HTTPS_PROXY), type-
# checks the contract program with tsc --noEmit, compiles and runs it with the demo's
# tokens, and stops what it started. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
sdk=examples/apiserver/sdk

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "-- npm ci ($sdk)"
(cd "$sdk" && npm ci --no-audit --no-fund --loglevel=error)

echo "-- build the service and the proxy"
go build -o "$tmp/apiserver" ./examples/apiserver
go build -o "$tmp/tlsproxy" ./examples/apiserver/sdk/tlsproxy

# wait_for FILE: until FILE exists and is not empty (10 s at most).
wait_for() {
	for _ in $(seq 1 200); do
		[[ -s "$1" ]] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $1" >&2
	return 1
}

echo "-- start the service on a free loopback port"
"$tmp/apiserver" -addr 127.0.0.1:0 -demo -demo-out "$tmp/demo.json" 2>"$tmp/apiserver.log" &
pids+=($!)
wait_for "$tmp/demo.json"
for _ in $(seq 1 200); do
	addr=$(sed -n 's/.*"msg":"listening","addr":"\([0-9.:]*\)".*/\1/p' "$tmp/apiserver.log" | head -1)
	[[ -n "$addr" ]] && break
	sleep 0.05
done
[[ -n "${addr:-}" ]] || { cat "$tmp/apiserver.log" >&2; exit 1; }
echo "service at $addr"

"$tmp/tlsproxy" -to "http://$addr" -hosts mailtrap.io -ca-out "$tmp/ca.pem" -addr-out "$tmp/proxy.addr" 2>"$tmp/tlsproxy.log" &
pids+=($!)
wait_for "$tmp/proxy.addr"
proxy=$(cat "$tmp/proxy.addr")
echo "proxy at $proxy"

echo "-- type-check, compile and run the contract program"
cd "$sdk"
npx --no-install tsc --noEmit -p .
npx --no-install tsc -p .
env -u http_proxy -u HTTP_PROXY -u no_proxy -u NO_PROXY \
	HTTPS_PROXY="http://$proxy" https_proxy="http://$proxy" \
	NODE_EXTRA_CA_CERTS="$tmp/ca.pem" DEMO_FIXTURE="$tmp/demo.json" \
	node dist/contract.js
