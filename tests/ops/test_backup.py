"""Backups: dumpdata from a populated database, loaddata into an empty one, same content."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

# Each test restores a whole database in a child process (10 s or more): make test-fast
# leaves them out, make test runs them.
pytestmark = pytest.mark.slow

# The command documented in docs/backup.md.
DUMP_ARGS = [
    "dumpdata",
    "--natural-foreign",
    "--indent",
    "1",
    "--exclude",
    "contenttypes",
    "--exclude",
    "auth.permission",
    "--exclude",
    "sessions",
    "--exclude",
    "axes",
]

SETUP = """
import json, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
"""

POPULATE = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from departments.models import Department, Membership, Role
from evaluations import services
from evaluations import workflow
from evaluations.importer.uploads import upload_store
from tests.factories import make_evaluation

User = get_user_model()
a = Department.objects.create(name="昌吉州住房和城乡建设局")
b = Department.objects.create(name="昌吉州民政局")
alice = User.objects.create_user("alice", password="备份测试-1")
Membership.objects.create(user=alice, role=Role.STAFF, department=a)
bob = User.objects.create_user("bob", password="备份测试-2")
Membership.objects.create(user=bob, role=Role.STAFF, department=b)
fin = User.objects.create_user("fin", password="备份测试-3")
Membership.objects.create(user=fin, role=Role.FINANCE)
draft = make_evaluation(a, alice, project_name="草稿 =1+2")
approved = make_evaluation(a, alice, project_name="已通过项目")
workflow.evaluation_submit(evaluation=approved, user=alice)
workflow.evaluation_approve(evaluation=approved, user=fin)
returned = make_evaluation(b, bob, project_name="已退回项目", year=2020)
workflow.evaluation_submit(evaluation=returned, user=bob)
workflow.evaluation_return(evaluation=returned, user=fin, reason="请补充说明。")
upload_store(owner=alice, files=[("表.txt", "项目支出绩效自评表\\n".encode() + bytes(range(256)))])
"""

FINGERPRINT = """
from django.apps import apps

def ms(value):
    # JSON fixtures keep datetimes to the millisecond (DjangoJSONEncoder): compare at that precision.
    return value and value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat()

from django.contrib.auth import get_user_model
from evaluations.models import Evaluation, EvaluationEvent, ImportUpload

counts = {
    m._meta.label: m.objects.count()
    for m in apps.get_models()
    if m._meta.app_label in ("auth", "departments", "evaluations")
    and m._meta.label != "auth.Permission"
}
evaluations = [
    [e.department.name, e.year, e.project_name, e.status, str(e.computed_total), e.revision,
     e.error_count, e.warning_count, ms(e.submitted_at), ms(e.updated_at),
     [[f.kind, str(f.annual_budget), str(f.executed)] for f in e.funding_rows.order_by("kind")],
     [[i.position, i.name, i.target, i.actual, str(i.weight), str(i.score)] for i in e.indicators.all()]]
    for e in Evaluation.objects.order_by("pk")
]
events = [
    [ev.evaluation.project_name, ev.action, ev.actor and ev.actor.username,
     ms(ev.created_at), ev.from_status, ev.to_status, ev.revision, ev.reason, ev.changes]
    for ev in EvaluationEvent.objects.order_by("pk")
]
users = [[u.username, u.password, getattr(getattr(u, "membership", None), "role", None)]
         for u in get_user_model().objects.order_by("pk")]
uploads = [[u.name, bytes(u.data).hex()] for u in ImportUpload.objects.all()]
print(json.dumps({"counts": counts, "evaluations": evaluations, "events": events,
                  "users": users, "uploads": uploads}, ensure_ascii=False))
"""


def _env(var_dir: Path) -> dict[str, str]:
    """A development process on its own SQLite file (never the test run's PostgreSQL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.update(
        {"DJANGO_DEBUG": "1", "DJANGO_VAR_DIR": str(var_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    )
    return env


def _run(args: list[str], var_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=_env(var_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _script(var_dir: Path, body: str) -> str:
    return _run(["-c", textwrap.dedent(SETUP) + textwrap.dedent(body)], var_dir)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A development folder whose SQLite database is migrated and empty (migrate runs once)."""
    var_dir = tmp_path_factory.mktemp("migrated")
    _run(["manage.py", "migrate", "--noinput", "-v", "0"], var_dir)
    return var_dir


def _migrate(migrated: Path, var_dir: Path) -> None:
    """What ``manage.py migrate`` does to an empty folder: a copy of the migrated one."""
    shutil.copytree(migrated, var_dir)


def test_it_restores_a_dump_into_an_empty_database(tmp_path, migrated):
    source, target = tmp_path / "source", tmp_path / "target"
    dump = tmp_path / "backup.json"
    _migrate(migrated, source)
    _script(source, POPULATE)
    before = json.loads(_script(source, FINGERPRINT).splitlines()[-1])
    _run(["manage.py", *DUMP_ARGS, "--output", str(dump)], source)
    assert dump.stat().st_size > 0

    _migrate(migrated, target)
    empty = json.loads(_script(target, FINGERPRINT).splitlines()[-1])
    assert empty["counts"]["evaluations.Evaluation"] == 0
    _run(["manage.py", "loaddata", str(dump), "-v", "0"], target)
    after = json.loads(_script(target, FINGERPRINT).splitlines()[-1])

    assert (source / "db.sqlite3").exists() and (target / "db.sqlite3").exists()
    assert after == before
    counts = after["counts"]
    assert counts["evaluations.Evaluation"] == 3
    assert counts["evaluations.Indicator"] == 24
    assert counts["evaluations.FundingRow"] == 12
    assert (
        counts["evaluations.EvaluationEvent"] == 7
    )  # 3 created, 2 submitted, 1 approved, 1 returned
    assert counts["evaluations.ImportUpload"] == 1
    assert [e[3] for e in after["evaluations"]] == ["draft", "approved", "returned"]
    assert after["evaluations"][0][2] == "草稿 =1+2"
    assert any(event[1] == "returned" and event[7] == "请补充说明。" for event in after["events"])


def test_it_logs_in_with_a_restored_password(tmp_path, migrated):
    source, target = tmp_path / "source", tmp_path / "target"
    dump = tmp_path / "users.json"
    _migrate(migrated, source)
    _script(
        source,
        """
        from django.contrib.auth import get_user_model
        get_user_model().objects.create_user("restored", password="还原后的密码-1")
        """,
    )
    _run(["manage.py", *DUMP_ARGS, "--output", str(dump)], source)
    _migrate(migrated, target)
    _run(["manage.py", "loaddata", str(dump), "-v", "0"], target)
    result = _script(
        target,
        """
        from django.contrib.auth import get_user_model
        print(get_user_model().objects.get(username="restored").check_password("还原后的密码-1"))
        """,
    )
    assert result.strip().splitlines()[-1] == "True"


EVIDENCE = """
from django.core.files.uploadedfile import SimpleUploadedFile
from departments.models import Department, Membership, Role
from django.contrib.auth import get_user_model
from evidence.services import evidence_add
from tests.factories import make_evaluation
from tests.evidence.test_evidence import pdf_bytes, png_bytes

department = Department.objects.create(name="昌吉州住房和城乡建设局")
alice = get_user_model().objects.create_user("alice", password="备份测试-1")
Membership.objects.create(user=alice, role=Role.STAFF, department=department)
draft = make_evaluation(department, alice, project_name="有佐证材料的项目")
for name, data in (("验收报告.pdf", pdf_bytes("验收")), ("照片.png", png_bytes())):
    evidence_add(evaluation=draft, user=alice, upload=SimpleUploadedFile(name, data),
                 caption="", row="")
"""


def _check_files(var_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check_files"],
        cwd=PROJECT_DIR,
        env=_env(var_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_restore_needs_the_media_folder_beside_the_dump(tmp_path, migrated):
    source, target = tmp_path / "source", tmp_path / "target"
    dump, media = tmp_path / "backup.json", tmp_path / "media.tar.gz"
    _migrate(migrated, source)
    _script(source, EVIDENCE)
    _run(["manage.py", *DUMP_ARGS, "--output", str(dump)], source)
    # The files after the rows, as docs/backup.md says.
    subprocess.run(["tar", "-C", str(source), "-czf", str(media), "media"], check=True)
    _migrate(migrated, target)
    _run(["manage.py", "loaddata", str(dump), "-v", "0"], target)

    # The database alone loses every evidence file, and the check names each one.
    rows_only = _check_files(target)
    assert rows_only.returncode == 1
    missing = [line for line in rows_only.stdout.splitlines() if line.startswith("missing  ")]
    assert len(missing) == 2
    assert "(有佐证材料的项目 / 验收报告.pdf): evidence/" in missing[0]

    subprocess.run(["tar", "-C", str(target), "-xzf", str(media)], check=True)
    full = _check_files(target)
    assert full.returncode == 0, full.stdout[-3000:]
    assert "checked 2 evidence files, 0 notices, 0 export files: 0 problems" in full.stdout
