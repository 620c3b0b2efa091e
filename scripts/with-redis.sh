#!/usr/bin/env bash
# Run a command with the background tasks on a throwaway Redis on loopback (RQ):
# start redis-server on a free port in a temporary folder, without persistence, export
# REDIS_URL and TASKS_BACKEND=rq, stop and remove it at the end.
# Combines with scripts/with-postgres.sh: scripts/with-postgres.sh scripts/with-redis.sh CMD...
set -euo pipefail

REDIS_SERVER="${REDIS_SERVER:-$(command -v redis-server || true)}"
if [ -z "$REDIS_SERVER" ] || [ ! -x "$REDIS_SERVER" ]; then
  echo "redis-server not found; run scripts/setup.sh first." >&2
  exit 1
fi
REDIS_CLI="$(dirname "$REDIS_SERVER")/redis-cli"

workdir=$(mktemp -d /tmp/perfeval-redis.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cleanup() {
  if [ -f "$workdir/redis.pid" ]; then
    pid=$(cat "$workdir/redis.pid")
    kill "$pid" 2>/dev/null || true
    # Wait for it to go before removing its folder (a few seconds at most).
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# No RDB snapshots, no append-only file: nothing is kept once it stops.
"$REDIS_SERVER" --bind 127.0.0.1 --port "$port" --dir "$workdir" \
  --save "" --appendonly no --protected-mode yes \
  --daemonize yes --pidfile "$workdir/redis.pid" --logfile "$workdir/server.log" >/dev/null

for _ in $(seq 100); do
  if [ -x "$REDIS_CLI" ]; then
    "$REDIS_CLI" -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
  else
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
  fi
  sleep 0.1
done
if [ ! -f "$workdir/redis.pid" ]; then
  echo "redis-server did not start:" >&2
  cat "$workdir/server.log" >&2 || true
  exit 1
fi

export REDIS_URL="redis://127.0.0.1:$port/0"
export TASKS_BACKEND=rq
echo "==> Redis on 127.0.0.1:$port ($workdir), TASKS_BACKEND=rq"
"$@"
