#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster on loopback:
# initdb into a temporary folder, start on a free port, export DATABASE_URL, stop at the end.
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "PostgreSQL server binaries not found; run scripts/setup.sh first." >&2
  exit 1
fi

workdir=$(mktemp -d /tmp/perfeval-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg=()
if [ "$(id -u)" = "0" ]; then
  # initdb refuses to run as root: run the cluster as the postgres system user.
  chown postgres: "$workdir"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

"${as_pg[@]}" "$PG_BIN/initdb" -D "$workdir/data" -U perfeval --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w \
  -o "-h 127.0.0.1 -p $port -k $workdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U perfeval perfeval

export DATABASE_URL="postgres://perfeval@127.0.0.1:$port/perfeval"
echo "==> PostgreSQL on 127.0.0.1:$port ($workdir)"
"$@"
