#!/usr/bin/env bash
# Vendor a release of axe-core (the accessibility checker of tests/a11y.py) from the npm
# registry into tests/vendor/axe-core/: axe.min.js, its LICENSE and a README with the version,
# the tarball's address and the file's sha256. The tests run the committed copy, offline.
# Usage: scripts/update-axe.sh VERSION   (e.g. scripts/update-axe.sh 4.14.1)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || ! [[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: $0 VERSION (for example 4.14.1)" >&2
  exit 2
fi
VERSION="$1"
DEST="tests/vendor/axe-core"
TARBALL_URL="https://registry.npmjs.org/axe-core/-/axe-core-${VERSION}.tgz"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@${VERSION}" >/dev/null)
tar -xzf "$work/axe-core-${VERSION}.tgz" -C "$work"
packed_version="$(node -p "require('$work/package/package.json').version")"
if [ "$packed_version" != "$VERSION" ]; then
  echo "npm packed axe-core $packed_version, not $VERSION" >&2
  exit 1
fi

mkdir -p "$DEST"
cp "$work/package/axe.min.js" "$DEST/axe.min.js"
cp "$work/package/LICENSE" "$DEST/LICENSE"
sha="$(sha256sum "$DEST/axe.min.js" | cut -d' ' -f1)"
tarball_sha="$(sha256sum "$work/axe-core-${VERSION}.tgz" | cut -d' ' -f1)"

cat > "$DEST/README.md" <<README
# axe-core ${VERSION} (vendored)

The accessibility engine that \`tests/a11y.py\` injects into each page of the browser
tests (\`tests/browser/test_a11y.py\`). The tests run this committed copy and need no network.

- Package: axe-core ${VERSION} from the npm registry (Mozilla Public License 2.0, see \`LICENSE\`)
- Source tarball: ${TARBALL_URL}
- Tarball sha256: \`${tarball_sha}\`
- \`axe.min.js\` sha256: \`${sha}\` (the \`package/axe.min.js\` of the tarball, unchanged)

## Updating

    scripts/update-axe.sh NEW_VERSION

runs \`npm pack axe-core@NEW_VERSION\` in a temporary folder, copies \`package/axe.min.js\` and
\`package/LICENSE\` here and rewrites this file. Then run the browser accessibility tests
(\`.venv/bin/python -m pytest -q tests/browser/test_a11y.py\`): a new release may add rules.
README

echo "axe-core ${VERSION}: ${DEST}/axe.min.js sha256 ${sha}"
