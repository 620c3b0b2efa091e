"""The production static files, collected once per test process for every test of settings.

A session fixture in a conftest.py is one fixture; imported into two test modules it would
be two, and collectstatic (half a minute) would run twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.test_production import production_env, run


@pytest.fixture(scope="session")
def production_static(tmp_path_factory) -> Path:
    """collectstatic once, as the production image does (hashed and compressed files)."""
    base = tmp_path_factory.mktemp("production")
    root = base / "static"
    env = production_env(base, DJANGO_STATIC_ROOT=str(root))
    collect = run(["manage.py", "collectstatic", "--noinput", "-v", "0"], env, timeout=300)
    assert collect.returncode == 0, collect.stderr
    assert (root / "staticfiles.json").exists()
    return root
