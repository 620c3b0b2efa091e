#!/usr/bin/env bash
# Run a command with sign-in against a throwaway directory (LDAP) on loopback: Debian's slapd
# with its own slapd.conf in a temporary folder, on a free port, loaded with the test
# directory (tests/data/directory.ldif: ou=people with a few people, Chinese names, hashed
# passwords); export the DJANGO_LDAP_* settings that turn directory sign-in on, and
# LDAP_TEST_DIRECTORY (the ldap-marked tests run only when it is set); stop and remove it at the end.
# Combines with the others: scripts/with-postgres.sh scripts/with-slapd.sh CMD...
set -euo pipefail

SLAPD="${SLAPD:-/usr/sbin/slapd}"
SLAPADD="$(dirname "$SLAPD")/slapadd"
LDIF="${SLAPD_LDIF:-$(cd "$(dirname "$0")/.." && pwd)/tests/data/directory.ldif}"
if [ ! -x "$SLAPD" ] || [ ! -x "$SLAPADD" ]; then
  echo "slapd not found; run scripts/setup.sh first." >&2
  exit 1
fi

suffix="dc=bureau,dc=test"
workdir=$(mktemp -d /tmp/perfeval-slapd.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cleanup() {
  if [ -f "$workdir/slapd.pid" ]; then
    pid=$(cat "$workdir/slapd.pid")
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

mkdir "$workdir/db"
# The reader (the application's search account) reads people; a person may only bind as
# themselves (anonymous "auth"): nobody reads a password hash.
cat >"$workdir/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $workdir/slapd.pid
argsfile $workdir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "$suffix"
directory $workdir/db
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by dn.exact="cn=reader,$suffix" read
  by self read
  by * none
EOF

"$SLAPADD" -q -f "$workdir/slapd.conf" -l "$LDIF" >"$workdir/slapadd.log" 2>&1 || {
  echo "slapadd could not load $LDIF:" >&2
  cat "$workdir/slapadd.log" >&2
  exit 1
}
# slapd forks into the background once it listens, and writes its pid file.
"$SLAPD" -f "$workdir/slapd.conf" -h "ldap://127.0.0.1:$port/" -s 0 2>"$workdir/server.log" || {
  echo "slapd did not start:" >&2
  cat "$workdir/server.log" >&2 || true
  exit 1
}
for _ in $(seq 100); do
  python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
  sleep 0.1
done

export DJANGO_LDAP_SERVER_URI="ldap://127.0.0.1:$port"
export DJANGO_LDAP_BIND_DN="cn=reader,$suffix"
export DJANGO_LDAP_BIND_PASSWORD="reader-pass-1"
export DJANGO_LDAP_USER_SEARCH_BASE="ou=people,$suffix"
export DJANGO_LDAP_USER_SEARCH_FILTER="(uid=%(user)s)"
export LDAP_TEST_DIRECTORY="$suffix"
echo "==> slapd on 127.0.0.1:$port ($workdir), DJANGO_LDAP_SERVER_URI set"
"$@"
