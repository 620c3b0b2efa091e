"""The importer writing to the database: the command, its JSON report, transactions."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from departments.models import Department
from evaluations.importer.service import import_file
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Indicator
from tests.conftest import sample_path

pytestmark = pytest.mark.django_db


def run_json(*args: str) -> dict:
    out = StringIO()
    call_command("import_evaluations", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_it_imports_every_sample_file_and_reports_json():
    paths = [str(sample_path(p)) for p in ("000", "001", "003")]
    report = run_json(*paths)
    assert [len(f["forms"]) for f in report["files"]] == [10, 21, 7]
    assert {f["action"] for file in report["files"] for f in file["forms"]} == {"created"}
    assert Evaluation.objects.count() == 38
    assert Department.objects.count() == 3
    first = report["files"][0]["forms"][0]
    assert first["project_name"] == "农村住房提升改造工程质量监督检查费"
    assert first["year"] == 2021
    assert first["funding"][0] == {
        "kind": "total",
        "initial_budget": 70,
        "annual_budget": 70,
        "executed": 57.55,
    }
    assert first["execution_weight"] == 10
    assert first["execution_score"] == 8.22
    assert first["indicators"][0] == {
        "level1": "产出指标",
        "level2": "数量指标",
        "name": "对农村住房提升工程进行工程质量安全监督的户数",
        "target": "=1600户",
        "actual": "1600",
        "weight": 10,
        "score": 10,
        "deviation": "",
    }
    # Every imported form records who/what created it in its history.
    assert EvaluationEvent.objects.filter(action=EventAction.IMPORTED).count() == 38


def test_it_changes_nothing_when_the_same_file_is_imported_twice():
    path = str(sample_path("003"))
    run_json(path)
    before = list(Indicator.objects.order_by("pk").values_list("pk", flat=True))
    events = EvaluationEvent.objects.count()
    report = run_json(path)
    assert [f["action"] for f in report["files"][0]["forms"]] == ["unchanged"] * 7
    assert list(Indicator.objects.order_by("pk").values_list("pk", flat=True)) == before
    assert EvaluationEvent.objects.count() == events


def test_it_updates_an_existing_evaluation_from_a_changed_file(tmp_path):
    path = sample_path("003")
    run_json(str(path))
    changed = tmp_path / "changed.txt"
    changed.write_text(
        path.read_text(encoding="utf-8").replace("为民办实事好事件数", "为民办实事件数", 1),
        encoding="utf-8",
    )
    report = run_json(str(changed))
    actions = [f["action"] for f in report["files"][0]["forms"]]
    assert actions.count("updated") == 1
    assert actions.count("unchanged") == 6
    assert Evaluation.objects.count() == 7
    assert Indicator.objects.filter(name="为民办实事件数").count() == 1


def test_it_writes_nothing_on_a_dry_run():
    report = run_json(str(sample_path("001")), "--dry-run")
    assert {f["action"] for f in report["files"][0]["forms"]} == {"would-create"}
    assert Evaluation.objects.count() == 0
    assert Department.objects.count() == 0


def test_it_rolls_back_the_whole_file_when_one_form_cannot_be_stored(monkeypatch):
    # A value the checks let through but the database refuses (simulated on the last form:
    # values that do not fit a column are refused per form by importer/checks.py, see
    # tests/evaluations/core/test_text_limits.py): the whole file must fail.
    from evaluations.importer import service

    forms = service.parse_file(sample_path("003").read_bytes(), "003.txt").forms
    last = forms[-1].project_name
    create = service.evaluation_create

    def failing_create(**kwargs):
        if kwargs["data"].project_name == last:
            raise ValidationError({"weight": ["确认总共不超过 7 个数字。"]})
        return create(**kwargs)

    monkeypatch.setattr(service, "evaluation_create", failing_create)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_evaluations", str(sample_path("003")), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert {f["action"] for f in report["files"][0]["forms"]} == {"failed"}
    assert any("未写入任何数据" in p["message"] for p in report["files"][0]["problems"])
    assert Evaluation.objects.count() == 0
    assert Department.objects.count() == 0


def test_it_reads_gb18030_and_utf8_with_bom(tmp_path):
    text = sample_path("003").read_text(encoding="utf-8")
    gb = tmp_path / "gb.txt"
    gb.write_bytes(text.encode("gb18030"))
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = run_json(str(gb), str(bom))
    assert [f["action"] for f in report["files"][0]["forms"]] == ["created"] * 7
    assert [f["action"] for f in report["files"][1]["forms"]] == ["unchanged"] * 7


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02\xff\xfe" * 200, "这不是自评表，只是一段说明文字。\n".encode()],
    ids=["empty", "binary", "prose"],
)
def test_it_reports_unreadable_files_with_a_message_and_non_zero_exit(tmp_path, content):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_evaluations", str(path), "--json", stdout=out)
    assert exc.value.returncode == 2
    report = json.loads(out.getvalue())
    assert report["files"][0]["forms"] == []
    assert report["files"][0]["problems"]
    assert all(p["message"] for p in report["files"][0]["problems"])
    assert Evaluation.objects.count() == 0


def test_it_reports_a_missing_file(tmp_path):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_evaluations", str(tmp_path / "nope.txt"), "--json", stdout=out)
    assert "无法打开文件" in json.loads(out.getvalue())["files"][0]["problems"][0]["message"]


def test_it_prints_a_human_summary():
    out = StringIO()
    call_command("import_evaluations", str(sample_path("003")), stdout=out)
    text = out.getvalue()
    assert "读取自评表 7 张" in text
    assert "新建 7" in text
    assert "WEIGHTS_NOT_100 × 2" in text


def test_it_imports_into_the_staff_department_when_given(dept_b):
    report = import_file(data=sample_path("000").read_bytes(), name="000.txt", department=dept_b)
    assert report.count("created") == 10
    assert set(Evaluation.objects.values_list("department__name", flat=True)) == {dept_b.name}
    assert any("将导入到您所在的部门" in p.message for p in report.problems)


SAMPLE_LINES = sample_path("003").read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.mark.django_db(transaction=True)
def test_it_never_half_writes_a_mutated_file():
    """Whatever happens to a file, the database holds exactly what the report says."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    mutation = st.tuples(
        st.sampled_from(["delete", "duplicate", "junk", "truncate", "number"]),
        st.integers(min_value=0, max_value=len(SAMPLE_LINES) - 1),
        st.text(min_size=0, max_size=12),
    )

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(mutation, min_size=1, max_size=6))
    def check(mutations):
        lines = list(SAMPLE_LINES)
        for kind, index, text in mutations:
            index %= max(len(lines), 1)
            if not lines:
                break
            if kind == "delete":
                del lines[index]
            elif kind == "duplicate":
                lines.insert(index, lines[index])
            elif kind == "junk":
                lines.insert(index, "\t" + text + "\n")
            elif kind == "truncate":
                lines = lines[:index]
            else:
                lines[index] = "\t99999999999" + text + "\n"
        before = set(Evaluation.objects.values_list("pk", flat=True))
        report = import_file(data="".join(lines).encode("utf-8"), name="mutated.txt")
        after = set(Evaluation.objects.values_list("pk", flat=True))
        created = {f.evaluation_id for f in report.forms if f.action == "created"}
        assert all(p.message for p in report.problems)
        if report.failed:
            assert after == before
        else:
            assert after - before == created

    check()


@pytest.mark.slow
def test_it_prints_only_json_on_stdout_from_the_command_line(tmp_path):
    """The real command in a subprocess: stdout parses as JSON, exit status 0."""
    import os
    import subprocess
    import sys

    from tests.conftest import PROJECT_DIR

    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "import_evaluations", str(sample_path("003")), "--json"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["files"][0]["forms"]) == 7
    bad = tmp_path / "junk.txt"
    bad.write_bytes(b"\x00\xff" * 100)
    done = subprocess.run(
        [sys.executable, "manage.py", "import_evaluations", str(bad), "--json"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert json.loads(done.stdout)["files"][0]["problems"][0]["message"]
