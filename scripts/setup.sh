#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine: system packages, then the virtualenv from the lock file.
# As root the packages are installed with apt-get; otherwise the exact command is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Fonts and HarfBuzz's subsetter for PDFs, Chromium for browser tests, PostgreSQL for the
# PostgreSQL test run, Redis for the RQ test run (scripts/with-redis.sh), poppler-utils for PDF
# text checks, qpdf to check merged PDFs independently of pypdf, gettext for translations;
# slapd for the directory sign-in tests (scripts/with-slapd.sh), and python-ldap's headers and a
# compiler (pip builds python-ldap from source: it has no wheels).
APT_PACKAGES=(
  chromium chromium-driver
  fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
  postgresql redis-server poppler-utils qpdf gettext
  slapd ldap-utils libldap2-dev libsasl2-dev build-essential
)
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  APT_PACKAGES+=(python3-venv)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing system packages. Run this once, then try again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "Python 3.11 or newer is required (found $("$PYTHON" --version))." >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-dev.lock.sha256
want=$(sha256sum requirements-dev.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> pip install -r requirements-dev.lock"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.lock
  echo "$want" > "$stamp"
fi

# Chinese for what Django and the third-party apps leave in English (the .po file's header
# says what); the compiled catalogue is not kept in git.
echo "==> msgfmt locale/zh_Hans/LC_MESSAGES/django.po"
msgfmt --check -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po
