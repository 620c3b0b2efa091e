#!/usr/bin/env bash
# Run a command with the stored files on a throwaway S3-compatible server on loopback:
# start it on a free port with a temporary folder for its log, create a bucket, export the
# DJANGO_S3_* settings (config/settings.py), run the command, stop the server and clean up.
# Combines with the other two: scripts/with-postgres.sh scripts/with-redis.sh scripts/with-s3.sh CMD...
#
# The server is moto's standalone server (`moto_server`, PyPI `moto`, pinned in
# requirements-dev.lock): a separate process that speaks the S3 REST API over HTTP, so the
# application goes through django-storages, boto3, signing and HTTP exactly as against a
# bucket in production; nothing is patched inside the tested process. Why this one: it is
# the only maintained S3 server that installs from the registries this project uses
# (SeaweedFS and MinIO are in neither Debian bookworm nor PyPI; npm's s3rver was last
# released in 2021 and would add Node.js to the machine), and it needs only Flask, which the
# load test installs already. What it does not do: keep objects across restarts (they live
# in the server's memory, which suits a throwaway run) or check the signature's secret.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
MOTO_SERVER="${MOTO_SERVER:-$root/.venv/bin/moto_server}"
if [ ! -x "$MOTO_SERVER" ]; then
  echo "moto_server not found; run scripts/setup.sh first." >&2
  exit 1
fi
PY="$root/.venv/bin/python"

workdir=$(mktemp -d /tmp/perfeval-s3.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
pid=""

cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

"$MOTO_SERVER" -H 127.0.0.1 -p "$port" >"$workdir/server.log" 2>&1 &
pid=$!

export DJANGO_S3_BUCKET="perfeval-test"
export DJANGO_S3_ENDPOINT_URL="http://127.0.0.1:$port"
export DJANGO_S3_REGION="us-east-1"
export DJANGO_S3_ACCESS_KEY_ID="perfeval"
export DJANGO_S3_SECRET_ACCESS_KEY="perfeval-secret"
export DJANGO_S3_ADDRESSING_STYLE="path"

# Wait for it to answer (a few seconds on a busy machine), then create the bucket.
"$PY" - <<'EOF' || { echo "the S3 server did not start:" >&2; cat "$workdir/server.log" >&2; exit 1; }
import os
import time

import boto3
from botocore.config import Config

client = boto3.client(
    "s3",
    endpoint_url=os.environ["DJANGO_S3_ENDPOINT_URL"],
    region_name=os.environ["DJANGO_S3_REGION"],
    aws_access_key_id=os.environ["DJANGO_S3_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["DJANGO_S3_SECRET_ACCESS_KEY"],
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)
deadline = time.monotonic() + 60
while True:
    try:
        client.create_bucket(Bucket=os.environ["DJANGO_S3_BUCKET"])
        break
    except Exception:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
EOF

echo "==> S3 (moto_server) on 127.0.0.1:$port ($workdir), bucket $DJANGO_S3_BUCKET"
"$@"
