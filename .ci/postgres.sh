#!/usr/bin/env bash
# postgres.sh starts and stops a throwaway PostgreSQL server for the pgstore tests,
# using the PostgreSQL binaries of the Debian packages (/usr/lib/postgresql/*/bin).
#
#   source .ci/postgres.sh start   # starts a server, exports TENANTRY_PG_DSN and TENANTRY_PG_DIR
#   source .ci/postgres.sh stop    # stops it and removes its directory
#
#   eval "$(.ci/postgres.sh start)"   # the same without sourcing: start prints export lines
#   .ci/postgres.sh stop [DIR]        # DIR defaults to $TENANTRY_PG_DIR
#   .ci/postgres.sh restart [DIR]     # a fast restart with the same options
#
# The server listens on 127.0.0.1 only (port $TENANTRY_PG_PORT, default 54329, or the
# next free one) and on a Unix socket in its temporary directory, with trust
# authentication, fsync off (unless TENANTRY_PG_FSYNC=on), and a database named
# "tenantry". When run as root, the cluster is created and run as the "postgres" OS
# user.
#
# Environment: PG_BIN (directory of initdb and pg_ctl; default: the newest
# /usr/lib/postgresql/*/bin), TENANTRY_PG_PORT, TENANTRY_PG_TIMEOUT (seconds to wait for
# the server; default 60), TENANTRY_PG_FSYNC.

_tenantry_pg() (
	set -euo pipefail

	die() {
		echo "postgres.sh: $*" >&2
		exit 1
	}

	find_bin() {
		if [[ -n "${PG_BIN:-}" ]]; then
			[[ -x "$PG_BIN/pg_ctl" ]] || die "PG_BIN=$PG_BIN has no pg_ctl"
			echo "$PG_BIN"
			return
		fi
		local d best=""
		shopt -s nullglob
		for d in /usr/lib/postgresql/*/bin; do
			[[ -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
			if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n1)" == "$d" ]]; then
				best="$d"
			fi
		done
		[[ -n "$best" ]] || die "no PostgreSQL server found under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
		echo "$best"
	}

	# as_owner runs a command as the owner of the cluster: postgres when we are root.
	as_owner() {
		if [[ "$(id -u)" == 0 ]]; then
			runuser -u postgres -- "$@"
		else
			"$@"
		fi
	}

	port_busy() {
		# A successful connection means something listens there.
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	}

	start() {
		local bin port timeout dir
		bin="$(find_bin)"
		timeout="${TENANTRY_PG_TIMEOUT:-60}"
		port="${TENANTRY_PG_PORT:-54329}"
		local tries=0
		while port_busy "$port"; do
			tries=$((tries + 1))
			((tries < 100)) || die "no free port from ${TENANTRY_PG_PORT:-54329}"
			port=$((port + 1))
		done

		dir="$(mktemp -d "${TMPDIR:-/tmp}/tenantry-pg.XXXXXX")"
		if [[ "$(id -u)" == 0 ]]; then
			getent passwd postgres >/dev/null || die "running as root but there is no postgres OS user"
			chown postgres: "$dir"
		fi
		chmod 700 "$dir"

		as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
			--no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }

		cat >"$dir/data/pg_hba.conf" <<-HBA
			# Throwaway test server: trust on the Unix socket and loopback only.
			local all all trust
			host  all all 127.0.0.1/32 trust
		HBA
		if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir/data/pg_hba.conf"; fi

		local opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300"
		if [[ "${TENANTRY_PG_FSYNC:-off}" != on ]]; then
			opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		fi
		if ! as_owner timeout "$((timeout + 5))" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
			-o "$opts" -w -t "$timeout" start >"$dir/pg_ctl.log" 2>&1; then
			cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null || true
			as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
			rm -rf "$dir"
			die "the server did not start"
		fi

		local deadline=$((SECONDS + timeout))
		until "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -t 2; do
			if ((SECONDS >= deadline)); then
				as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
				rm -rf "$dir"
				die "the server is not ready after ${timeout}s"
			fi
			sleep 0.2
		done
		"$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres tenantry ||
			die "createdb tenantry failed"

		echo "export TENANTRY_PG_DSN='postgres://postgres@127.0.0.1:$port/tenantry?sslmode=disable'"
		echo "export TENANTRY_PG_DIR='$dir'"
	}

	stop() {
		local dir="${1:-${TENANTRY_PG_DIR:-}}"
		[[ -n "$dir" ]] || die "stop: no directory given and TENANTRY_PG_DIR is not set"
		[[ -d "$dir/data" ]] || die "stop: $dir is not a server directory"
		local bin
		bin="$(find_bin)"
		as_owner timeout 60 "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$dir"
		echo "unset TENANTRY_PG_DSN TENANTRY_PG_DIR"
	}

	# restart stops the server (fast: its connections are cut) and starts it again
	# with the same options, as a server restart in production would.
	restart() {
		local dir="${1:-${TENANTRY_PG_DIR:-}}"
		[[ -n "$dir" ]] || die "restart: no directory given and TENANTRY_PG_DIR is not set"
		[[ -d "$dir/data" ]] || die "restart: $dir is not a server directory"
		local bin
		bin="$(find_bin)"
		as_owner timeout 90 "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >"$dir/pg_ctl.log" 2>&1 ||
			{ cat "$dir/pg_ctl.log" >&2; die "restart failed"; }
	}

	case "${1:-}" in
	start) start ;;
	stop) stop "${2:-}" ;;
	restart) restart "${2:-}" ;;
	*) die "usage: postgres.sh start|stop|restart [DIR]" ;;
	esac
)

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
	# Sourced: run in a subshell, then apply its export lines to the calling shell.
	if _tenantry_pg_out="$(_tenantry_pg "$@")"; then
		eval "$_tenantry_pg_out"
		[[ -n "${TENANTRY_PG_DSN:-}" ]] && echo "TENANTRY_PG_DSN=$TENANTRY_PG_DSN"
		unset _tenantry_pg_out
	else
		unset _tenantry_pg_out
		return 1
	fi
else
	_tenantry_pg "$@"
fi
