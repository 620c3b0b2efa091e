#!/usr/bin/env bash
# `make run`'s server: the background-task worker (manage.py run_worker) beside runserver.
# Usage: scripts/run-dev.sh [HOST:PORT]. The worker stops with the server (Ctrl+C included):
# it runs in a process group of its own, which the exit trap stops as a whole (the worker and
# the autoreloader's child process), first gently, then for good.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
ADDR="${1:-127.0.0.1:8000}"
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"

worker=""
stop_worker() {
  [ -n "$worker" ] || return 0
  local group=$worker
  worker=""
  # The first TERM lets the worker finish its current task; a second stops it at once (an
  # interrupted export part is picked up again by the next worker, see docs/deployment.md).
  kill -TERM -- "-$group" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 -- "-$group" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -TERM -- "-$group" 2>/dev/null || true
  for _ in $(seq 20); do
    kill -0 -- "-$group" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$group" 2>/dev/null || true
}
trap stop_worker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# setsid: a session and process group of its own, so Ctrl+C reaches it only through the trap.
setsid "$PY" manage.py run_worker &
worker=$!
echo "==> task worker started (manage.py run_worker, pid $worker)"

"$PY" manage.py runserver "$ADDR"
