"""The operator's documents name tests that exist: a renamed test cannot leave them stale."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import PROJECT_DIR


def test_it_names_only_tests_that_exist_in_the_security_document():
    text = (PROJECT_DIR / "docs" / "security.md").read_text(encoding="utf-8")
    defined = set()
    for path in (PROJECT_DIR / "tests").rglob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M))
    named = set(re.findall(r"::(test_\w+)", text))
    # "::…_on_create" abbreviates a name given in full just before it.
    assert len(named) > 60
    assert sorted(named - defined) == []


def test_it_names_only_tests_that_exist_in_the_accessibility_document():
    text = (PROJECT_DIR / "docs" / "accessibility.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text)
    assert len(named) >= 10
    for module, name in named:
        source = (PROJECT_DIR / module).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), (module, name)


def test_the_backup_document_backs_up_and_restores_the_files_with_the_database():
    text = (PROJECT_DIR / "docs" / "backup.md").read_text(encoding="utf-8")
    compose = (PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert "database backup is a complete backup" not in " ".join(text.split())
    # The files live under DJANGO_VAR_DIR/media, on the compose file's media volume.
    var_dir = re.search(r"DJANGO_VAR_DIR=(\S+)", dockerfile).group(1)
    assert f"- media:{var_dir}" in compose
    assert f"tar -C {var_dir} -czf" in text and f"tar -C {var_dir} -xzf" in text
    assert "docker compose exec -T app tar" in text
    for folder in ("evidence/", "campaigns/", "exports/"):
        assert f"`{folder}`" in text
    # A new server needs the role before the restore; the check names what is missing.
    assert text.index("createuser") < text.index("pg_restore --no-owner --role=perfeval")
    assert "manage.py check_files" in text
    assert (PROJECT_DIR / "exports" / "management" / "commands" / "check_files.py").exists()


def test_the_code_cites_the_domain_document_of_the_repository():
    assert (PROJECT_DIR / "docs" / "domain.md").is_file()
    outside = [
        str(path.relative_to(PROJECT_DIR))
        for pattern in ("*.py", "*.md", "*.toml", "*.html")
        for path in PROJECT_DIR.rglob(pattern)
        if ".venv" not in path.parts
        and path.resolve() != Path(__file__).resolve()
        and "DOMAIN.md" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert outside == []
