#!/usr/bin/env bash
# Entry point compatible with the official postgres image.
#
# Honoured environment (VAR_FILE reads the value from a file, as upstream):
#   POSTGRES_USER              superuser name (default: postgres)
#   POSTGRES_PASSWORD          its password (required unless
#                              POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_DB                database to create (default: $POSTGRES_USER)
#   POSTGRES_INITDB_ARGS       extra initdb arguments
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for host connections
#                              (default: scram-sha-256)
#   PGDATA                     data directory (default /var/lib/postgresql/data)
#
# On first start (no PG_VERSION in $PGDATA) the cluster is initialised, the
# database created and /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz run.
# postgres then runs in the foreground as PID 1 under the postgres user.
set -Eeo pipefail

log() { printf '%s entrypoint: %s\n' "$(date -u '+%F %T UTC')" "$*" >&2; }

# file_env VAR [DEFAULT]: VAR or VAR_FILE (not both) or DEFAULT
file_env() {
	local var=$1 fvar="${1}_FILE" def=${2:-} val
	if [ -n "${!var:-}" ] && [ -n "${!fvar:-}" ]; then
		log "error: both $var and $fvar are set (they are exclusive)"
		exit 1
	fi
	val=$def
	if [ -n "${!var:-}" ]; then
		val=${!var}
	elif [ -n "${!fvar:-}" ]; then
		val=$(<"${!fvar}")
	fi
	export "$var=$val"
	unset "$fvar"
}

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

if [ "$1" != postgres ]; then
	exec "$@"
fi

# As root: make the data dir (possibly a fresh volume) ours, then re-exec
# this script as postgres. setpriv execs directly, so PID 1 stays PID 1.
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 3777 /var/run/postgresql
	chown postgres:postgres /var/run/postgresql
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	chmod 700 "$PGDATA" 2>/dev/null || true
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_USER postgres
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		log "error: database is uninitialized and POSTGRES_PASSWORD is not set."
		log "  Set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to allow"
		log "  all connections without a password (not recommended)."
		exit 1
	fi

	log "initialising database cluster in $PGDATA"
	initdb_args=(--username="$POSTGRES_USER" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")
	# shellcheck disable=SC2086
	if [ -n "$POSTGRES_PASSWORD" ]; then
		initdb "${initdb_args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS >/dev/null
	else
		initdb "${initdb_args[@]}" $POSTGRES_INITDB_ARGS >/dev/null
	fi
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

	# Temporary server on the Unix socket only.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -s start

	export PGUSER=$POSTGRES_USER PGPORT=5432
	psql_cmd=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password -q)
	if [ "$POSTGRES_DB" != postgres ]; then
		exists=$("${psql_cmd[@]}" -d postgres -tA -v db="$POSTGRES_DB" \
			<<<"SELECT 1 FROM pg_database WHERE datname = :'db'")
		if [ -z "$exists" ]; then
			"${psql_cmd[@]}" -d postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
		fi
	fi

	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then log "running $f"; "$f"
			else log "sourcing $f"; . "$f"; fi ;;
		*.sql)    log "running $f"; "${psql_cmd[@]}" -d "$POSTGRES_DB" -f "$f" ;;
		*.sql.gz) log "running $f"; gunzip -c "$f" | "${psql_cmd[@]}" -d "$POSTGRES_DB" ;;
		*)        log "ignoring $f" ;;
		esac
	done

	pg_ctl -D "$PGDATA" -m fast -w -s stop
	unset PGUSER PGPORT
	log "init done; starting postgres"
fi

exec "$@"
