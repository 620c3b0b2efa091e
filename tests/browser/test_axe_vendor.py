"""The vendored axe-core (tests/vendor/axe-core) is the release its README names, unchanged."""

from __future__ import annotations

import hashlib
import re

from tests.a11y import AXE_JS


def test_the_vendored_axe_is_the_release_its_readme_names():
    readme = (AXE_JS.parent / "README.md").read_text(encoding="utf-8")
    version = re.search(r"^# axe-core (\d+\.\d+\.\d+) \(vendored\)", readme, re.M).group(1)
    sha = re.search(r"`axe\.min\.js` sha256: `([0-9a-f]{64})`", readme).group(1)
    source = AXE_JS.read_bytes()
    assert hashlib.sha256(source).hexdigest() == sha
    assert source.startswith(f"/*! axe v{version}\n".encode())
    assert f"https://registry.npmjs.org/axe-core/-/axe-core-{version}.tgz" in readme
    assert (AXE_JS.parent / "LICENSE").read_text(encoding="utf-8").startswith("Mozilla Public")
