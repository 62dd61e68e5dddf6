#!/bin/sh
# Entry point compatible with the official redis image: arguments starting
# with '-' (or none) are passed to redis-server, which listens on all
# interfaces without protected mode and keeps its data in /data. The server
# runs in the foreground as the redis user (PID 1, so signals reach it).
set -e

DEFAULTS='--bind 0.0.0.0 --protected-mode no --port 6379 --dir /data'

if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
	# shellcheck disable=SC2086
	set -- redis-server $DEFAULTS "$@"
elif [ "$1" = redis-server ] && { [ $# -eq 1 ] || [ "${2#-}" != "$2" ]; }; then
	# "redis-server --appendonly yes": keep the defaults, later options win.
	shift
	# shellcheck disable=SC2086
	set -- redis-server $DEFAULTS "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
	find /data \! -user redis -exec chown redis:redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi

exec "$@"
