"""The PDF cache (exports/pdfcache.py): rendered once per printed state, then reused.

Each kind of write (an edit, a transition, an import, evidence, a re-check, the department's
name, a campaign, the local rules, the layout) must make the next download render again;
reading must not. Renders are counted with a spy on WeasyPrint's entry point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from campaigns.models import Campaign
from common import pdf as printing
from common import pdffonts
from evaluations.core.rulesets import EXECUTION_20
from evaluations.importer.service import import_file
from evaluations.models import Evaluation, Status
from evaluations.rulesets import national_rule_set, rule_set_save, shipped_rule_set
from evaluations.services import evaluation_create, evaluation_write
from evaluations.workflow import (
    evaluation_approve,
    evaluation_reopen,
    evaluation_return,
    evaluation_submit,
)
from exports import pdf as pdf_module
from exports import pdfcache
from scripts.bench_pdf import FILLERS, longest_form
from tests.conftest import client_for
from tests.evaluations.test_evaluation_pages import post_data
from tests.factories import make_evaluation

pytestmark = [pytest.mark.django_db, pytest.mark.files]


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """One entry per PDF rendered (WeasyPrint's run), whatever asked for it."""
    calls: list[int] = []
    original = pdf_module.render_html_pdf

    def spy(html, target=None):
        calls.append(1)
        return original(html, target)

    monkeypatch.setattr(pdf_module, "render_html_pdf", spy)
    return calls


@pytest.fixture(autouse=True)
def _fresh_fingerprint():
    """Tests that change the layout must not leave their fingerprint to the next test."""
    pdfcache.layout_fingerprint.cache_clear()
    yield
    pdfcache.layout_fingerprint.cache_clear()


@pytest.fixture
def form(dept_a, staff_a) -> Evaluation:
    return make_evaluation(dept_a, staff_a, project_name="缓存测试项目")


def cached_files(evaluation: Evaluation) -> list[str]:
    try:
        _dirs, files = default_storage.listdir(f"pdf-cache/{evaluation.pk}")
    except FileNotFoundError:
        return []
    return sorted(files)


def download(user, evaluation: Evaluation) -> bytes:
    response = client_for(user).get(f"/evaluations/{evaluation.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response.content


def test_a_second_download_renders_nothing_and_sends_the_same_file(form, staff_a, renders):
    assert cached_files(form) == []
    first = download(staff_a, form)
    assert len(renders) == 1
    files = cached_files(form)
    assert len(files) == 1 and files[0] == f"{pdfcache.print_key(form)}.pdf"
    assert default_storage.exists(f"pdf-cache/{form.pk}/{files[0]}")

    second = download(staff_a, form)
    assert len(renders) == 1
    assert second == first
    assert pdfcache.cached_pdf_bytes(form) == first
    assert len(renders) == 1
    assert cached_files(form) == files


def test_reading_the_form_changes_nothing(form, staff_a, finance, renders):
    download(staff_a, form)
    key = pdfcache.print_key(form)
    for user in (staff_a, finance):
        assert client_for(user).get(f"/evaluations/{form.pk}/").status_code == 200
    assert pdfcache.print_key(form) == key
    download(finance, form)
    assert len(renders) == 1


def test_render_false_only_looks(form, renders):
    assert pdfcache.cached_pdf_name(form, render=False) is None
    assert not renders
    name = pdfcache.cached_pdf_name(form)
    assert pdfcache.cached_pdf_name(form, render=False) == name
    assert len(renders) == 1


# --- every kind of write renders again -------------------------------------------------------


def rendered_again(user, evaluation: Evaluation, renders: list[int], write: Callable[[], None]):
    """Download, write, download: the second download renders, one stored file remains."""
    download(user, evaluation)
    before = cached_files(evaluation)
    count = len(renders)
    write()
    data = download(user, evaluation)
    assert len(renders) == count + 1, "the write did not make the next download render"
    after = cached_files(evaluation)
    assert len(after) == 1 and after != before  # the older file of the form is gone
    with default_storage.open(f"pdf-cache/{evaluation.pk}/{after[0]}", "rb") as handle:
        assert handle.read() == data
    # And once rendered, it is reused again.
    download(user, evaluation)
    assert len(renders) == count + 1
    return data


def test_an_edit_through_the_edit_page(form, staff_a, renders):
    data = form.as_form_data()
    data.goal_actual = "全部完成，另有说明。"
    client = client_for(staff_a)

    def edit():
        response = client.post(
            f"/evaluations/{form.pk}/edit/", post_data(data, revision=form.revision)
        )
        assert response.status_code == 302

    rendered_again(staff_a, form, renders, edit)


def test_an_edit_through_the_service(form, staff_a, renders):
    def edit():
        data = form.as_form_data()
        data.indicators[0].actual = "1500户"
        form.refresh_from_db()
        evaluation_write(evaluation=form, data=data, user=staff_a, expected_revision=form.revision)

    rendered_again(staff_a, form, renders, edit)


def test_each_workflow_transition(form, staff_a, finance, admin_user, renders):
    steps = [
        lambda: evaluation_submit(evaluation=form, user=staff_a),
        lambda: evaluation_return(evaluation=form, user=finance, reason="请补充说明"),
        lambda: evaluation_submit(evaluation=form, user=staff_a),
        lambda: evaluation_approve(evaluation=form, user=finance),
        lambda: evaluation_reopen(evaluation=form, user=admin_user, reason="数据有误"),
    ]
    for step in steps:
        rendered_again(finance, form, renders, lambda step=step: step())
    form.refresh_from_db()
    assert form.status == Status.DRAFT


def test_reapproval_after_a_reopen_is_not_served_the_first_approvals_file(
    form, staff_a, finance, admin_user, renders
):
    """Approved twice: the second approval's date and approver are printed, not the first's."""
    evaluation_submit(evaluation=form, user=staff_a)
    evaluation_approve(evaluation=form, user=finance)
    first = pdfcache.print_key(form)
    download(finance, form)
    evaluation_reopen(evaluation=form, user=admin_user, reason="数据有误")
    evaluation_submit(evaluation=form, user=staff_a)
    evaluation_approve(evaluation=form, user=finance)
    assert pdfcache.print_key(form) != first
    count = len(renders)
    download(finance, form)
    assert len(renders) == count + 1


def test_an_import_that_replaces_the_form(dept_a, staff_a, renders):
    from evaluations.importer.service import import_file
    from tests.conftest import sample_path

    raw = sample_path("000").read_bytes()
    report = import_file(data=raw, name="000.txt", user=staff_a, department=dept_a)
    assert not report.failed
    evaluation = Evaluation.objects.get(project_name="农村住房提升改造工程质量监督检查费")
    text = raw.decode()
    assert "通过聘请17名专业技术人员" in text
    changed = text.replace("通过聘请17名专业技术人员", "通过聘请18名专业技术人员", 1).encode()

    def reimport():
        report = import_file(data=changed, name="000.txt", user=staff_a, department=dept_a)
        assert not report.failed
        assert Evaluation.objects.filter(pk=evaluation.pk).exists()  # replaced, not added

    rendered_again(staff_a, evaluation, renders, reimport)


def test_evidence_added_and_deleted(form, staff_a, renders):
    from evidence.models import EvidenceFile
    from evidence.services import evidence_add, evidence_delete
    from tests.evidence.test_evidence import pdf_bytes

    def add():
        upload = SimpleUploadedFile("合同.pdf", pdf_bytes(), content_type="application/pdf")
        evidence_add(evaluation=form, user=staff_a, upload=upload, caption="采购合同")

    rendered_again(staff_a, form, renders, add)

    def delete():
        evidence_delete(evidence=EvidenceFile.objects.get(evaluation=form), user=staff_a)

    rendered_again(staff_a, form, renders, delete)


def test_a_recheck_published(dept_a, staff_a, finance, renders):
    from rechecks import services
    from rechecks.scoring import RowEntry

    ev = make_evaluation(dept_a, staff_a, project_name="复核项目")
    evaluation_submit(evaluation=ev, user=staff_a)
    evaluation_approve(evaluation=ev, user=finance)
    recheck, _created = services.recheck_pick(evaluation=ev, user=finance)
    services.recheck_transition_run(services.START, recheck=recheck, user=finance)
    key = recheck.rows.order_by("key").first().key
    services.recheck_save(
        recheck=recheck,
        user=finance,
        rows={key: RowEntry(Decimal(3), "佐证不足")},
        execution_score=None,
        opinion="复核意见",
    )
    # Work in progress is not printed: the cached PDF stays valid.
    download(staff_a, ev)
    count = len(renders)
    download(staff_a, ev)
    assert len(renders) == count

    def publish():
        recheck.refresh_from_db()
        services.recheck_transition_run(services.COMPLETE, recheck=recheck, user=finance)

    data = rendered_again(staff_a, ev, renders, publish)
    assert "财政复核结果" in "".join(pdf_pages_text(data))


def pdf_pages_text(data: bytes) -> list[str]:
    from tests.export_helpers import pdf_pages

    return pdf_pages(data)


def test_a_department_renamed(form, staff_a, dept_a, renders):
    def rename():
        dept_a.name = "昌吉回族自治州住房和城乡建设局（新）"
        dept_a.save()

    rendered_again(staff_a, form, renders, rename)


def test_a_campaign_created_for_the_year(form, staff_a, renders):
    from campaigns.models import Campaign

    def create():
        Campaign.objects.create(year=form.year, title="2021年度自评", deadline=date(2022, 3, 31))

    rendered_again(staff_a, form, renders, create)


def test_an_approved_target_changed_on_the_due_list(form, staff_a, renders):
    from campaigns.models import Campaign, DueProject, DueTarget

    campaign = Campaign.objects.create(
        year=form.year, title="2021年度自评", deadline=date(2022, 3, 31)
    )
    form.due_project = DueProject.objects.create(
        campaign=campaign, department=form.department, project_name=form.project_name
    )
    form.save(update_fields=["due_project"])
    target = DueTarget.objects.create(
        project=form.due_project,
        position=1,
        level1="产出指标",
        level2="数量指标",
        name="改造农村住房户数",
        target="=1600户",
        weight=Decimal(10),
    )

    def change():
        target.target = "=1700户"
        target.save()

    rendered_again(staff_a, form, renders, change)


@pytest.mark.parametrize(
    "name", ["SCORING_OVER_ACHIEVEMENT_DEDUCTION", "SCORING_EXECUTION_RATE_CAP"]
)
def test_a_change_of_the_local_scoring_rules(form, staff_a, renders, settings, name):
    rendered_again(
        staff_a, form, renders, lambda: setattr(settings, name, not getattr(settings, name))
    )


def _cap_the_national_rules() -> None:
    rule_set = national_rule_set()
    rules = replace(rule_set.scoring_rules(), execution_rate_cap=True)
    rule_set_save(rule_set=rule_set, rules=rules, user=None, note="按执行率封顶")


def test_an_edit_of_the_campaigns_rule_set_for_a_form_still_written(form, staff_a, renders):
    # A draft is scored with the newest version of its year's rule set: a new version prints.
    rendered_again(staff_a, form, renders, _cap_the_national_rules)


def test_a_change_of_the_campaigns_rule_set(form, staff_a, finance, renders):
    campaign = Campaign.objects.create(year=form.year, title="自评", deadline=date(2022, 3, 31))
    rendered_again(
        staff_a,
        form,
        renders,
        lambda: Campaign.objects.filter(pk=campaign.pk).update(
            scoring_rules=shipped_rule_set(EXECUTION_20)
        ),
    )


def test_an_edit_of_the_rule_set_leaves_an_approved_forms_pdf(form, staff_a, finance, renders):
    evaluation_submit(evaluation=form, user=staff_a)
    evaluation_approve(evaluation=form, user=finance)
    download(staff_a, form)
    key = pdfcache.print_key(form)
    _cap_the_national_rules()
    # The approved form keeps the version it was scored with: same key, nothing rendered.
    assert pdfcache.print_key(form) == key
    download(staff_a, form)
    assert len(renders) == 1


def test_a_change_of_the_recheck_quality_threshold(form, staff_a, renders, settings):
    rendered_again(
        staff_a, form, renders, lambda: setattr(settings, "RECHECK_QUALITY_THRESHOLD", "5")
    )


def test_a_change_of_the_review_unit(form, staff_a, renders, settings):
    rendered_again(staff_a, form, renders, lambda: setattr(settings, "PDF_AUTHOR", "某某财政局"))


def test_the_approver_renamed(form, staff_a, finance, renders):
    evaluation_submit(evaluation=form, user=staff_a)
    evaluation_approve(evaluation=form, user=finance)

    def rename():
        finance.first_name, finance.last_name = "审核", "张"
        finance.save()

    rendered_again(staff_a, form, renders, rename)


def test_the_layout_version_and_the_stylesheet_are_in_the_key(form, monkeypatch, tmp_path):
    key = pdfcache.print_key(form)
    monkeypatch.setattr(pdfcache, "LAYOUT_VERSION", pdfcache.LAYOUT_VERSION + 1)
    assert pdfcache.print_key(form) == key  # remembered until cleared (a restart)
    pdfcache.layout_fingerprint.cache_clear()
    bumped = pdfcache.print_key(form)
    assert bumped != key

    monkeypatch.undo()
    pdfcache.layout_fingerprint.cache_clear()
    assert pdfcache.print_key(form) == key
    stylesheet = tmp_path / "print.css"
    stylesheet.write_bytes(printing.stylesheet_path().read_bytes() + b"\n/* changed */\n")
    monkeypatch.setattr(printing, "stylesheet_path", lambda: stylesheet)
    pdfcache.layout_fingerprint.cache_clear()
    assert pdfcache.print_key(form) not in (key, bumped)


def test_how_fonts_are_embedded_is_in_the_key(form, monkeypatch):
    key = pdfcache.print_key(form)
    monkeypatch.setattr(pdffonts, "VERSION", pdffonts.VERSION + "-changed")
    pdfcache.layout_fingerprint.cache_clear()
    assert pdfcache.print_key(form) != key


def test_an_unknown_form_has_no_key(form):
    pk = form.pk
    gone = Evaluation(pk=pk + 1000)
    with pytest.raises(Evaluation.DoesNotExist):
        pdfcache.print_key(gone)


# --- background render on approval, bulk exports ------------------------------------------------


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_an_approved_form_is_rendered_in_the_background(form, staff_a, finance, renders):
    from tests.tasks_helpers import run_worker

    evaluation_submit(evaluation=form, user=staff_a)
    evaluation_approve(evaluation=form, user=finance)  # its on_commit hooks ran: no outer atomic
    assert not renders  # not in the request
    assert pdfcache.cached_pdf_name(form, render=False) is None
    run_worker()
    assert len(renders) == 1
    assert pdfcache.cached_pdf_name(form, render=False) is not None
    download(staff_a, form)
    assert len(renders) == 1  # the first download renders nothing


@pytest.mark.jobs
@pytest.mark.django_db(transaction=True)
def test_a_bulk_export_reuses_the_cached_pdfs(dept_a, staff_a, finance, renders, settings):
    from exports import jobs
    from exports.models import State
    from tests.tasks_helpers import run_worker

    settings.EXPORT_CHUNK_SIZE = 2
    forms = [make_evaluation(dept_a, staff_a, project_name=f"批量{n}") for n in range(3)]
    download(staff_a, forms[0])  # one of them downloaded before
    assert len(renders) == 1
    first = jobs.export_create(user=finance, year=2021, format="pdf")
    run_worker()
    assert len(renders) == 3
    second = jobs.export_create(user=finance, year=2021, format="zip")
    run_worker()
    assert len(renders) == 3
    for job in (first, second):
        job.refresh_from_db()
        assert job.state == State.DONE
    for form in forms:
        download(staff_a, form)
    assert len(renders) == 3


# --- one render per printed state, long forms in the task worker ------------------------------


def slow_renders(monkeypatch, seconds: float) -> list[int]:
    """Like ``renders``, each render taking ``seconds`` longer (so that requests overlap)."""
    calls: list[int] = []
    original = pdf_module.render_html_pdf

    def spy(html, target=None):
        calls.append(1)
        time.sleep(seconds)
        return original(html, target)

    monkeypatch.setattr(pdf_module, "render_html_pdf", spy)
    return calls


def at_once(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads started together (each its own connection)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as exc:  # noqa: BLE001 - asserted on below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_downloads_at_once_of_an_uncached_pdf_render_it_once(form, staff_a, monkeypatch):
    renders = slow_renders(monkeypatch, 0.5)
    # What is asserted is one render for three downloads, not the bound of the wait: on a
    # loaded machine a render takes longer than DOWNLOAD_WAIT and the page would wait instead.
    monkeypatch.setattr(pdfcache, "DOWNLOAD_WAIT", 120.0)
    clients = [client_for(staff_a) for _ in range(3)]
    counter = iter(range(3))
    responses = at_once(3, lambda: clients[next(counter)].get(f"/evaluations/{form.pk}/pdf/"))
    assert [getattr(r, "status_code", r) for r in responses] == [200, 200, 200]
    assert len(renders) == 1
    assert len({r.content for r in responses}) == 1
    assert cached_files(form) == [f"{pdfcache.print_key(form)}.pdf"]  # no lock file left


@pytest.mark.django_db(transaction=True)
def test_renders_at_once_in_other_processes_render_once(form, monkeypatch):
    # The task worker, an export and a download asking for the same PDF together.
    renders = slow_renders(monkeypatch, 0.5)
    names = at_once(3, lambda: pdfcache.cached_pdf_name(Evaluation.objects.get(pk=form.pk)))
    assert len(set(names)) == 1 and isinstance(names[0], str)
    assert len(renders) == 1


def test_a_download_waits_a_few_seconds_for_another_render_then_shows_the_waiting_page(
    form, staff_a, renders, monkeypatch
):
    monkeypatch.setattr(pdfcache, "DOWNLOAD_WAIT", 0.2)
    with pdfcache._render_lock(form, pdfcache.print_key(form), wait=0):  # another render
        started = time.monotonic()
        response = client_for(staff_a).get(f"/evaluations/{form.pk}/pdf/")
        # Bounded by DOWNLOAD_WAIT, not by the render (held until the block ends); generous
        # for the storage's round trips on a loaded machine (make test-s3).
        assert time.monotonic() - started < 30
    assert response.status_code == 202
    assert "正在生成 PDF" in response.content.decode()
    assert not renders
    status = client_for(staff_a).get(f"/evaluations/{form.pk}/pdf/status/").json()
    assert status == {"ready": False, "queued": True}


def test_the_longest_forms_are_printed_by_the_task_worker_and_real_forms_at_once(dept_a):
    for filler in FILLERS.values():
        longest = evaluation_create(department=dept_a, data=longest_form(filler), user=None)[0]
        assert not pdf_module.prints_quickly(longest)
    for path in sorted((Path(settings.BASE_DIR) / "sample_data").glob("*.txt")):
        import_file(data=path.read_bytes(), name=path.name)
    samples = Evaluation.objects.exclude(department=dept_a)
    assert samples.count() > 20
    assert all(pdf_module.prints_quickly(evaluation) for evaluation in samples)


@pytest.mark.django_db(transaction=True)
def test_a_long_uncached_form_answers_a_waiting_page_and_the_task_worker_renders_it(
    form, staff_a, renders, monkeypatch
):
    from tests.tasks_helpers import run_worker

    # This form counts as long (the longest forms do: the test above).
    monkeypatch.setattr(pdf_module, "QUICK_PRINT_MAX_CHARACTERS", 10)
    url = f"/evaluations/{form.pk}/pdf/"
    client = client_for(staff_a)
    for _again in range(2):  # asking again (a reload) waits for the same render
        response = client.get(url)
        assert response.status_code == 202
        assert response["Cache-Control"] == "private, no-store"
        page = response.content.decode()
        assert "正在生成 PDF" in page and "生成后本页会自动开始下载" in page
        assert f'data-status-url="{url}status/"' in page
        assert "js/pdf_waiting.js" in page
    assert not renders  # nothing rendered in the request
    assert client.get(f"{url}status/").json() == {"ready": False, "queued": True}

    run_worker()
    assert len(renders) == 1
    assert client.get(f"{url}status/").json() == {"ready": True, "queued": False}
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert len(renders) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_background_render_is_reported_on_the_waiting_page(form, staff_a, monkeypatch):
    from tests.tasks_helpers import run_worker

    monkeypatch.setattr(pdf_module, "QUICK_PRINT_MAX_CHARACTERS", 10)

    def broken(html, target=None):
        raise OSError("disk full")

    monkeypatch.setattr(pdf_module, "render_html_pdf", broken)
    client = client_for(staff_a)
    assert client.get(f"/evaluations/{form.pk}/pdf/").status_code == 202
    run_worker()
    status = client.get(f"/evaluations/{form.pk}/pdf/status/").json()
    assert status == {"ready": False, "queued": False}  # the page offers to try again


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_another_machine_clears_the_mark_a_web_server_set(
    form, staff_a, monkeypatch, settings, tmp_path
):
    """Web servers and workers share the database, the queue and the storage, not a disk."""
    from tests.conftest import LOCAL_STORAGES
    from tests.tasks_helpers import run_worker

    if settings.STORAGES["default"]["BACKEND"] in LOCAL_STORAGES:  # object storage stands in
        default = {"BACKEND": "tests.storage_helpers.NoPathInMemoryStorage"}
        settings.STORAGES = {**settings.STORAGES, "default": default}
    monkeypatch.setattr(pdf_module, "QUICK_PRINT_MAX_CHARACTERS", 10)
    url = f"/evaluations/{form.pk}/pdf/"
    client = client_for(staff_a)
    settings.VAR_DIR = tmp_path / "web"
    assert client.get(url).status_code == 202
    assert client.get(f"{url}status/").json() == {"ready": False, "queued": True}

    def broken(html, target=None):
        raise OSError("disk full")

    settings.VAR_DIR = tmp_path / "worker"
    monkeypatch.setattr(pdf_module, "render_html_pdf", broken)
    run_worker()
    settings.VAR_DIR = tmp_path / "web"
    # The failure reaches the waiting page at once, not after the mark's 15 minutes.
    assert client.get(f"{url}status/").json() == {"ready": False, "queued": False}
