"""Forms that start from their due project: 待填报, 开始填报, approved targets, signature block."""

from __future__ import annotations

import datetime
import html
from dataclasses import replace
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from lxml import html as lxml_html

from campaigns.models import Campaign, DeadlineExtension, DueProject, DueTarget
from departments.models import Membership, Role
from evaluations.core import layout as L
from evaluations.core.scoring import NOT_IN_DUE_LIST, TARGET_CHANGED, TARGET_MISSING, evaluate
from evaluations.due_evaluations import evaluation_start_from_due
from evaluations.models import Evaluation, Status
from evaluations.rules import current_rules
from evaluations.services import evaluation_score, evaluation_write
from evaluations.workflow import (
    TransitionError,
    evaluation_sign_off,
    evaluation_submit,
    warning_key,
)
from exports import compose, pdf
from tests.conftest import client_for, make_user
from tests.factories import CLEAN_INDICATORS, clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

D = Decimal
YEAR = 2021


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        year=YEAR, title="2021年度项目支出绩效自评", deadline=datetime.date(2099, 1, 31)
    )


@pytest.fixture
def project(campaign, dept_a) -> DueProject:
    """A due project with three approved targets (the first three clean indicator rows)."""
    project = DueProject.objects.create(
        campaign=campaign,
        department=dept_a,
        implementing_unit="实施单位甲",
        project_name="农村住房质量监督",
        project_code="650000-21-001",
        initial_budget=D("70"),
        annual_budget=D("72.5"),
    )
    for position, (l1, l2, name, target, _actual, weight, _score) in enumerate(
        CLEAN_INDICATORS[:3], start=1
    ):
        DueTarget.objects.create(
            project=project,
            position=position,
            level1=l1,
            level2=l2,
            name=name,
            target=target,
            weight=D(weight),
        )
    return project


@pytest.fixture
def profile(staff_a):
    staff_a.first_name = "李填报"
    staff_a.save()
    Membership.objects.filter(user=staff_a).update(phone="0994-2345678")
    return staff_a


def start(client, project):
    return client.post(f"/evaluations/due/{project.pk}/start/")


# --- 开始填报 -----------------------------------------------------------------------------


def test_it_starts_the_form_prefilled_from_the_due_project(project, profile, client_a):
    response = start(client_a, project)
    evaluation = Evaluation.objects.get(due_project=project)
    assert response.status_code == 302
    assert response["Location"] == f"/evaluations/{evaluation.pk}/edit/"
    data = evaluation.as_form_data()
    assert (data.year, data.project_name, data.department, data.implementing_unit) == (
        2021,
        "农村住房质量监督",
        "昌吉回族自治州住房和城乡建设局",
        "实施单位甲",
    )
    total = data.funding_row("total")
    assert (total.initial_budget, total.annual_budget, total.executed) == (D(70), D("72.5"), None)
    assert [(i.name, i.target, i.weight) for i in data.indicators] == [
        ("改造农村住房户数", "=1600户", D(10)),
        ("监督检查次数", ">=10次", D(10)),
        ("工程质量达标率", ">=98%", D(10)),
    ]
    assert [(i.approved_target, i.approved_weight) for i in data.indicators] == [
        ("=1600户", D(10)),
        (">=10次", D(10)),
        (">=98%", D(10)),
    ]
    assert (data.filler_name, data.filler_phone) == ("李填报", "0994-2345678")
    assert data.due is True
    assert evaluation.created_by == profile


def test_a_second_click_opens_the_same_form(project, staff_a, client_a, colleague_a):
    start(client_a, project)
    response = start(client_for(colleague_a), project)
    evaluation = Evaluation.objects.get(due_project=project)
    assert response["Location"] == f"/evaluations/{evaluation.pk}/edit/"
    assert Evaluation.objects.count() == 1


def test_it_links_a_form_of_the_same_name_instead_of_making_a_second(project, dept_a, client_a):
    existing = make_evaluation(dept_a)  # 农村住房质量监督, 2021
    start(client_a, project)
    existing.refresh_from_db()
    assert existing.due_project == project
    assert Evaluation.objects.count() == 1


def test_it_adds_last_years_rows_not_covered_by_the_approved_targets(project, dept_a, client_a):
    last = make_evaluation(dept_a, year=2020, unit_head="王局长")
    Evaluation.objects.filter(pk=last.pk).update(status=Status.APPROVED)
    start(client_a, project)
    data = Evaluation.objects.get(due_project=project).as_form_data()
    names = [i.name for i in data.indicators]
    assert names == [row[2] for row in CLEAN_INDICATORS]  # 3 approved + 5 from last year
    assert [i.approved_target for i in data.indicators[3:]] == [""] * 5
    assert data.indicators[3].actual == ""  # last year's actuals are not copied
    assert data.unit_head == "王局长"


def test_it_ignores_last_years_draft(project, dept_a, client_a):
    make_evaluation(dept_a, year=2020)  # a draft: the project did not run through
    start(client_a, project)
    assert len(Evaluation.objects.get(due_project=project).as_form_data().indicators) == 3


def test_without_approved_targets_it_takes_last_years_rows(project, dept_a, client_a):
    project.targets.all().delete()
    project.project_name = "新名称"
    project.save()
    last = make_evaluation(dept_a, year=2020, project_name="旧名称")
    last_due = DueProject.objects.create(
        campaign=Campaign.objects.create(
            year=2020, title="2020", deadline=datetime.date(2021, 3, 1)
        ),
        department=dept_a,
        project_name="旧名称",
        project_code=project.project_code,  # same code, renamed project
    )
    Evaluation.objects.filter(pk=last.pk).update(status=Status.SUBMITTED, due_project=last_due)
    start(client_a, project)
    data = Evaluation.objects.get(due_project=project).as_form_data()
    assert len(data.indicators) == len(CLEAN_INDICATORS)


def test_it_refuses_another_departments_staff_and_finance(project, client_b, client_finance):
    assert start(client_b, project).status_code == 404
    assert start(client_finance, project).status_code == 404
    assert not Evaluation.objects.exists()


def test_it_refuses_a_filler_limited_to_another_unit(project, dept_a):
    filler = make_user("unit_b", Role.STAFF, dept_a)
    Membership.objects.filter(user=filler).update(implementing_unit="实施单位乙")
    assert start(client_for(filler), project).status_code == 403
    Membership.objects.filter(user=filler).update(implementing_unit="实施单位甲")
    filler.refresh_from_db()
    assert start(client_for(filler), project).status_code == 302
    assert Evaluation.objects.filter(due_project=project).exists()


def test_start_needs_post(project, client_a):
    assert client_a.get(f"/evaluations/due/{project.pk}/start/").status_code == 405


# --- the 待填报 list ----------------------------------------------------------------------


def _due_rows(page: str) -> dict[str, str]:
    """The 待填报 list: project name → its state as read (badges separated by spaces)."""
    tree = lxml_html.fromstring(page)
    return {
        tr.xpath('.//span[@class="due-name"]')[0].text_content(): " ".join(
            t.strip() for t in tr.xpath('./td[@class="due-state"]')[0].itertext() if t.strip()
        )
        for tr in tree.xpath('//section[@id="due-list"]//tbody/tr')
    }


def test_the_start_page_lists_due_projects_with_their_state(project, campaign, dept_a, client_a):
    campaign.notice = "请于截止日期前完成自评。"
    campaign.save()
    other = DueProject.objects.create(
        campaign=campaign, department=dept_a, project_name="第二个项目"
    )
    page = client_a.get("/evaluations/").content.decode()
    assert "请于截止日期前完成自评。" in page
    assert _due_rows(page) == {"农村住房质量监督": "未开始", "第二个项目": "未开始"}
    assert f'action="/evaluations/due/{project.pk}/start/"' in page
    start(client_a, project)
    page = client_a.get("/evaluations/").content.decode()
    assert _due_rows(page) == {"农村住房质量监督": "草稿", "第二个项目": "未开始"}
    evaluation = Evaluation.objects.get(due_project=project)
    assert f'href="/evaluations/{evaluation.pk}/"' in page
    assert f'action="/evaluations/due/{other.pk}/start/"' in page


def test_overdue_projects_are_marked(project, campaign, dept_a, client_a):
    campaign.deadline = datetime.date(2020, 1, 1)
    campaign.save()
    done = DueProject.objects.create(campaign=campaign, department=dept_a, project_name="已交项目")
    evaluation = make_evaluation(dept_a, project_name="已交项目")
    Evaluation.objects.filter(pk=evaluation.pk).update(status=Status.SUBMITTED, due_project=done)
    page = client_a.get("/evaluations/").content.decode()
    assert _due_rows(page) == {"农村住房质量监督": "未开始 逾期", "已交项目": "已提交"}
    # An extension for the department puts it back in time.
    DeadlineExtension.objects.create(
        campaign=campaign, department=dept_a, deadline=datetime.date(2099, 1, 1)
    )
    page = client_a.get("/evaluations/").content.decode()
    assert _due_rows(page)["农村住房质量监督"] == "未开始"


def test_a_filler_limited_to_a_unit_sees_only_its_projects(project, campaign, dept_a):
    DueProject.objects.create(
        campaign=campaign,
        department=dept_a,
        project_name="乙单位项目",
        implementing_unit="实施单位乙",
    )
    filler = make_user("unit_b", Role.STAFF, dept_a)
    Membership.objects.filter(user=filler).update(implementing_unit="实施单位乙")
    page = client_for(filler).get("/evaluations/").content.decode()
    assert list(_due_rows(page)) == ["乙单位项目"]


def test_finance_and_other_departments_see_no_due_list(project, client_b, client_finance):
    assert 'id="due-list"' not in client_finance.get("/evaluations/").content.decode()
    page = client_b.get("/evaluations/").content.decode()
    assert "农村住房质量监督" not in page


# --- forms outside the list ---------------------------------------------------------------


def _new_form_post(name: str) -> dict[str, str]:
    return {
        "year": "2021",
        "project_name": name,
        "execution_weight": "10",
        "ind-TOTAL_FORMS": "0",
        "ind-INITIAL_FORMS": "0",
    }


def test_an_unlisted_form_is_refused_when_the_campaign_says_so(project, campaign, client_a):
    campaign.allow_unlisted = False
    campaign.save()
    response = client_a.get("/evaluations/new/", follow=True)
    assert response.redirect_chain[-1][0] == "/evaluations/"
    assert "只允许为应评项目清单中的项目填报" in response.content.decode()
    response = client_a.post("/evaluations/new/", _new_form_post("清单外项目"))
    assert response.status_code == 200
    assert "开始填报" in response.content.decode()
    assert not Evaluation.objects.exists()
    # A project of the list typed by hand is linked to it (and so allowed).
    response = client_a.post("/evaluations/new/", _new_form_post("农村住房质量监督"))
    assert response.status_code == 302
    assert Evaluation.objects.get().due_project == project


def test_an_unlisted_form_is_allowed_with_a_warning(project, campaign, client_a):
    response = client_a.post("/evaluations/new/", _new_form_post("清单外项目"))
    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert evaluation.due_project is None
    assert NOT_IN_DUE_LIST in evaluation_score(evaluation=evaluation).codes


def test_no_campaign_no_due_warning(dept_a):
    evaluation = make_evaluation(dept_a)
    assert evaluation.as_form_data().due is None
    assert NOT_IN_DUE_LIST not in evaluation_score(evaluation=evaluation).codes


def test_the_new_page_prefills_the_signature_from_the_profile(profile, client_a):
    tree = lxml_html.fromstring(client_a.get("/evaluations/new/").content.decode())
    assert tree.xpath('//input[@name="filler_name"]/@value') == ["李填报"]
    assert tree.xpath('//input[@name="filler_phone"]/@value') == ["0994-2345678"]
    assert tree.xpath('//input[@name="unit_head"]')


# --- approved targets ---------------------------------------------------------------------


def _started(project, user) -> Evaluation:
    evaluation, created = evaluation_start_from_due(project=project, user=user)
    assert created
    return evaluation


def test_a_posted_page_cannot_clear_or_set_approved_values(project, staff_a):
    evaluation = _started(project, staff_a)
    data = evaluation.as_form_data()
    rows = [
        replace(i, target=">=90%" if n == 2 else i.target, approved_target="", approved_weight=None)
        for n, i in enumerate(data.indicators)
    ]
    rows.append(replace(rows[0], key="", name="新指标", approved_target="=1户"))
    evaluation_write(
        evaluation=evaluation,
        data=replace(data, indicators=rows),
        user=staff_a,
        expected_revision=evaluation.revision,
    )
    stored = Evaluation.objects.get(pk=evaluation.pk).as_form_data()
    assert [i.approved_target for i in stored.indicators] == ["=1600户", ">=10次", ">=98%", ""]
    result = evaluate(stored, current_rules())
    changed = [f for f in result.findings if f.code == TARGET_CHANGED]
    assert [f.message for f in changed] == [
        "第3行“工程质量达标率”的年度指标值与批复目标不同：批复 >=98%，现为 >=90%，"
        "提交时请说明调整原因。"
    ]


def test_the_edit_page_post_keeps_the_approved_values(project, staff_a, client_a):
    evaluation = _started(project, staff_a)
    body = _page_body(client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode())
    body["ind-0-target"] = "=1500户"
    body["ind-0-approved_target"] = ""  # not a field of the page: ignored
    body["unit_head"] = "王局长"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", body)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Evaluation.objects.get(pk=evaluation.pk).as_form_data()
    assert (stored.indicators[0].target, stored.indicators[0].approved_target) == (
        "=1500户",
        "=1600户",
    )
    assert stored.unit_head == "王局长"


def test_submitting_a_changed_target_needs_a_written_reason(project, staff_a):
    evaluation = _started(project, staff_a)
    data = clean_form_data()
    data.department = evaluation.department.name
    stored = evaluation.as_form_data()
    # The clean form's first three rows are the approved ones: they keep their keys.
    rows = [
        replace(i, key=stored.indicators[n].key) if n < 3 else i
        for n, i in enumerate(data.indicators)
    ]
    rows[1] = replace(rows[1], target=">=12次")
    data = replace(data, indicators=rows, unit_head="王局长")
    evaluation_write(evaluation=evaluation, data=data, user=staff_a, expected_revision=1)
    warnings = evaluation_score(evaluation=evaluation).warnings
    assert [w.code for w in warnings] == [TARGET_CHANGED]
    key = warning_key(warnings[0])
    with pytest.raises(TransitionError, match="请逐条填写调整原因"):
        evaluation_submit(evaluation=evaluation, user=staff_a, acknowledgements={key: ""})
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT
    evaluation_submit(
        evaluation=evaluation, user=staff_a, acknowledgements={key: "检查任务按批复调整。"}
    )
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED


def test_the_approved_value_is_a_note_on_the_changed_cell(project, staff_a, client_a):
    evaluation = _started(project, staff_a)
    data = evaluation.as_form_data()
    data.indicators[0].target = "=1500户"
    data.indicators[1].weight = D(8)
    evaluation_write(evaluation=evaluation, data=data, user=staff_a, expected_revision=1)
    sheet = L.form_layout(evaluation.as_form_data(), None)
    assert sheet.cell("indicators.1.target").note == "批复：=1600户"
    assert sheet.cell("indicators.2.weight").note == "批复：10"
    assert sheet.cell("indicators.3.target").note == ""
    page = client_a.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert "批复：=1600户" in page
    printed = render_to_string(pdf.TEMPLATE, compose.evaluation_context(evaluation))
    assert "批复：=1600户" in printed


# --- imports ------------------------------------------------------------------------------


def test_an_imported_form_is_matched_to_its_due_project(project, dept_a, staff_a):
    from evaluations.importer.service import import_file

    data = clean_form_data()
    data.department = dept_a.name
    data.indicators[2].target = ">=97%"
    text = _as_text(data)
    report = import_file(data=text.encode(), name="a.txt", user=staff_a)
    assert [f.action for f in report.forms] == ["created"], report.problems
    evaluation = Evaluation.objects.get()
    assert evaluation.due_project == project
    stored = evaluation.as_form_data()
    assert [i.approved_target for i in stored.indicators[:4]] == ["=1600户", ">=10次", ">=98%", ""]
    assert TARGET_CHANGED in evaluation_score(evaluation=evaluation).codes


def _as_text(data) -> str:
    """A form as the seed files' text dump (one cell per TAB-led line, rows by blank lines)."""
    rows = [
        ["项目支出绩效自评表"],
        [f"（{data.year}年度）"],
        ["项目名称", data.project_name],
        ["主管部门", data.department, "实施单位", data.implementing_unit],
        [
            "项目资金（万元）",
            "",
            "年初预算数",
            "全年预算数",
            "全年执行数",
            "分值",
            "执行率",
            "得分",
        ],
        ["", "年度资金总额", "70", "70", "70", "10", "100%", "10"],
        ["", "其中：当年财政拨款", "70", "70", "70", "—", "—", "—"],
        ["年度总体目标", "预期目标", "实际完成情况"],
        ["", data.goal_target, data.goal_actual],
        [
            "年度绩效指标完成情况",
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ],
    ]
    for i in data.indicators:
        rows.append(
            ["", i.level1, i.level2, i.name, i.target, i.actual, str(i.weight), str(i.score), ""]
        )
    rows.append(["总分", "100", "100", ""])
    return "\n\n".join("\n".join("\t" + cell for cell in row) for row in rows) + "\n"


def test_the_due_list_costs_the_same_queries_for_2_or_20_projects(
    project, campaign, dept_a, client_a
):
    from tests.evaluations.test_evaluation_pages import QueryLog

    def count() -> int:
        client_a.get("/evaluations/")
        with QueryLog() as queries:
            client_a.get("/evaluations/")
        return len(queries.statements)

    DueProject.objects.create(campaign=campaign, department=dept_a, project_name="项目1")
    start(client_a, project)
    few = count()
    for n in range(2, 20):
        DueProject.objects.create(campaign=campaign, department=dept_a, project_name=f"项目{n}")
    assert count() == few


def _page_body(page: str) -> dict[str, str]:
    """What the browser posts for the edit page as shown."""
    tree = lxml_html.fromstring(page)
    body = {}
    for element in tree.xpath('//form[@id="evaluation-form"]//*[@name]'):
        name = element.get("name")
        if element.tag == "textarea":
            body[name] = element.text_content().removeprefix("\n")
        elif element.tag == "select":
            chosen = element.xpath(".//option[@selected]/@value")
            body[name] = chosen[0] if chosen else ""
        elif element.get("type") != "submit":
            body[name] = element.get("value") or ""
    return body


def test_the_edit_page_shows_approved_values_and_the_preview_knows_them(project, staff_a, client_a):
    evaluation = _started(project, staff_a)
    page = client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode()
    tree = lxml_html.fromstring(page)
    notes = [n.text_content() for n in tree.xpath('//*[contains(@class, "approved-note")]')]
    assert notes[:2] == ["批复：=1600户", "批复：10"]
    body = _page_body(page)
    body["ind-2-target"] = ">=90%"
    answer = client_a.post("/evaluations/score-preview/", body).json()
    changed = [f for f in answer["findings"] if f["code"] == TARGET_CHANGED]
    assert [(f["indicator"], f["row"]) for f in changed] == [(2, 2)]
    # Without the form's id (a new form) nothing is approved.
    del body["evaluation_id"]
    answer = client_a.post("/evaluations/score-preview/", body).json()
    assert TARGET_CHANGED not in [f["code"] for f in answer["findings"]]


def test_a_reimport_keeps_the_typed_signature_and_the_due_link(project, dept_a, staff_a):
    from evaluations.importer.service import import_file

    data = clean_form_data()
    data.department = dept_a.name
    text = _as_text(data).encode()
    import_file(data=text, name="a.txt", user=staff_a)
    evaluation = Evaluation.objects.get()
    Evaluation.objects.filter(pk=evaluation.pk).update(unit_head="王局长", filler_name="李填报")
    report = import_file(data=text, name="a.txt", user=staff_a)
    assert [f.action for f in report.forms] == ["unchanged"]
    evaluation.refresh_from_db()
    assert (evaluation.unit_head, evaluation.filler_name, evaluation.due_project) == (
        "王局长",
        "李填报",
        project,
    )


# --- the signature block in a real PDF ----------------------------------------------------


def test_the_pdf_ends_with_the_signature_block(project, staff_a, finance, tmp_path):
    import subprocess

    evaluation = _started(project, staff_a)
    data = evaluation.as_form_data()
    data = replace(data, unit_head="王局长", filler_name="李填报", filler_phone="0994-2345678")
    evaluation_write(evaluation=evaluation, data=data, user=staff_a, expected_revision=1)
    path = tmp_path / "form.pdf"
    path.write_bytes(compose.evaluation_pdf(Evaluation.objects.get(pk=evaluation.pk)))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    words = text.split()
    for word in ("填报单位（盖章）", "单位负责人", "王局长", "填报人", "李填报", "0994-2345678"):
        assert word in words, word
    assert "填报日期" in words
    assert "审核单位" not in text  # not approved: no bureau part


def test_the_excel_export_asks_for_the_campaigns_once(campaign, dept_a):
    from io import BytesIO

    from exports.excel import write_workbook
    from tests.evaluations.test_evaluation_pages import QueryLog

    def count() -> int:
        forms = list(
            Evaluation.objects.select_related("department").prefetch_related(
                "funding_rows", "indicators"
            )
        )
        with QueryLog() as queries:
            write_workbook(forms, BytesIO())
        return len(queries.statements)

    make_evaluation(dept_a, project_name="表1")
    few = count()
    for n in range(2, 6):
        make_evaluation(dept_a, project_name=f"表{n}")
    assert count() == few


# --- approved targets are the due list's, not the page's ----------------------------------


def _filled(project, user) -> Evaluation:
    """The project's form, started from the due list and filled in with no finding at all."""
    evaluation = _started(project, user)
    data = replace(clean_form_data(), department=evaluation.department.name, unit_head="王局长")
    evaluation_write(evaluation=evaluation, data=data, user=user, expected_revision=1)
    assert evaluation_score(evaluation=evaluation).findings == []
    return evaluation


def _edit(client, evaluation, change) -> Evaluation:
    """Post the edit page as shown after ``change(body)``; the stored form afterwards."""
    body = _page_body(client.get(f"/evaluations/{evaluation.pk}/edit/").content.decode())
    change(body)
    response = client.post(f"/evaluations/{evaluation.pk}/edit/", body)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Evaluation.objects.get(pk=evaluation.pk)


def _readd_third_row(body: dict[str, str], target: str) -> None:
    """Delete row 3 (an approved one) and add a new row with its names and ``target``."""
    n = int(body["ind-TOTAL_FORMS"])
    body["ind-2-DELETE"] = "1"
    for name in ("level1", "level2", "name", "actual", "weight", "score", "deviation"):
        body[f"ind-{n}-{name}"] = body[f"ind-2-{name}"]
    body.update({f"ind-{n}-target": target, f"ind-{n}-key": "", f"ind-{n}-ORDER": str(n + 1)})
    body["ind-TOTAL_FORMS"] = str(n + 1)


APPROVED_98 = (
    "第8行“工程质量达标率”的年度指标值与批复目标不同：批复 >=98%，现为 >=90%，"
    "提交时请说明调整原因。"
)


def test_a_deleted_approved_row_typed_again_with_another_target_is_target_changed(
    project, staff_a, client_a
):
    evaluation = _filled(project, staff_a)
    stored = _edit(client_a, evaluation, lambda body: _readd_third_row(body, ">=90%"))
    assert [i.name for i in stored.indicators.order_by("position")][-1] == "工程质量达标率"
    result = evaluation_score(evaluation=stored)
    assert [(f.code, f.message) for f in result.findings] == [(TARGET_CHANGED, APPROVED_98)]
    row = stored.indicators.get(position=8)
    assert (row.target, row.approved_target, row.approved_weight) == (">=90%", ">=98%", D(10))


@pytest.mark.parametrize("key", ["", "0123456789abcdef0123456789abcdef"])
def test_an_empty_or_forged_row_key_still_compares_with_the_approved_target(
    project, staff_a, client_a, key
):
    evaluation = _filled(project, staff_a)

    def change(body: dict[str, str]) -> None:
        body["ind-2-key"] = key
        body["ind-2-target"] = ">=90%"

    stored = _edit(client_a, evaluation, change)
    changed = [f for f in evaluation_score(evaluation=stored).findings if f.code == TARGET_CHANGED]
    assert [f.message for f in changed] == [APPROVED_98.replace("第8行", "第3行")]
    assert stored.indicators.get(position=3).approved_target == ">=98%"


def test_a_deleted_approved_row_is_a_warning_that_needs_a_reason(project, staff_a, client_a):
    evaluation = _filled(project, staff_a)

    def change(body: dict[str, str]) -> None:
        body["ind-2-DELETE"] = "1"
        body["ind-3-weight"] = body["ind-3-score"] = "20"  # the weights still add up to 100

    stored = _edit(client_a, evaluation, change)
    warnings = evaluation_score(evaluation=stored).warnings
    assert [(w.code, w.indicator, w.message) for w in warnings] == [
        (
            TARGET_MISSING,
            None,
            "批复绩效目标中有 1 项不在表中：“工程质量达标率”（产出指标/质量指标，批复 >=98%，"
            "分值 10）。提交时请说明删除或改动的原因。",
        )
    ]
    key = warning_key(warnings[0])
    with pytest.raises(TransitionError, match="请逐条填写调整原因"):
        evaluation_submit(evaluation=stored, user=staff_a, acknowledgements={key: ""})
    page = client_a.get(f"/evaluations/{stored.pk}/submit/").content.decode()
    assert 'data-code="TARGET_MISSING"' in page and "请填写调整原因（必填）" in page
    evaluation_submit(evaluation=stored, user=staff_a, acknowledgements={key: "质量由监理验收。"})
    stored.refresh_from_db()
    assert stored.status == Status.SUBMITTED


def test_the_review_pages_show_the_approved_values_and_the_reasons(
    campaign, project, staff_a, head_a, finance, client_a
):
    Campaign.objects.filter(pk=campaign.pk).update(requires_sign_off=True)
    evaluation = _filled(project, staff_a)

    def change(body: dict[str, str]) -> None:
        _readd_third_row(body, ">=90%")
        body["ind-1-DELETE"] = "1"  # 监督检查次数 (approved, weight 10) gone
        body["ind-3-weight"] = body["ind-3-score"] = "20"

    stored = _edit(client_a, evaluation, change)
    warnings = evaluation_score(evaluation=stored).warnings
    assert [w.code for w in warnings] == [TARGET_CHANGED, TARGET_MISSING]
    reasons = {warning_key(warnings[0]): "按验收标准调整。", warning_key(warnings[1]): "已合并。"}
    evaluation_submit(evaluation=stored, user=staff_a, acknowledgements=reasons)
    stored.refresh_from_db()
    assert stored.status == Status.DEPARTMENT_REVIEW
    head_page = client_for(head_a).get(f"/evaluations/{stored.pk}/sign-off/")
    evaluation_sign_off(evaluation=stored, user=head_a)
    bureau_page = client_for(finance).get(f"/review/{stored.pk}/")
    for response in (head_page, bureau_page):
        page = html.unescape(response.content.decode())
        # Each warning with the approved value and the department's reason.
        assert "批复 >=98%，现为 >=90%" in page and "按验收标准调整。" in page
        assert "“监督检查次数”（产出指标/数量指标，批复 >=10次，分值 10）" in page
        assert "已合并。" in page
        # The approved value also stands in the official table, on the changed cell.
        assert "批复：>=98%" in page


def test_a_due_list_reimport_changes_what_the_form_is_compared_with(project, staff_a):
    evaluation = _filled(project, staff_a)
    DueTarget.objects.filter(project=project, position=3).update(target=">=99%")
    changed = [f for f in evaluation_score(evaluation=evaluation).findings]
    assert [f.code for f in changed] == [TARGET_CHANGED]
    assert "批复 >=99%，现为 >=98%" in changed[0].message


def test_the_live_check_knows_a_deleted_or_retyped_approved_row(project, staff_a, client_a):
    evaluation = _filled(project, staff_a)
    body = _page_body(client_a.get(f"/evaluations/{evaluation.pk}/edit/").content.decode())
    _readd_third_row(body, ">=90%")
    body["ind-1-DELETE"] = "1"
    answer = client_a.post("/evaluations/score-preview/", body).json()
    found = [(f["code"], f["indicator"]) for f in answer["findings"] if f["code"].startswith("T")]
    assert found == [(TARGET_CHANGED, 6), (TARGET_MISSING, None)]
    assert "批复 >=10次" in answer["findings"][-1]["message"]
