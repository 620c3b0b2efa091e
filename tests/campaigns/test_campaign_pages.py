"""The campaign pages (/campaigns/): campaign, notice file, due list, carry-over, extensions."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, DeadlineExtension, DueProject, DueTarget
from campaigns.selectors import open_campaign
from departments.models import Department
from evaluations.models import Status
from tests.conftest import PASSWORD, SAMPLE_DIR, client_for
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SAMPLE = SAMPLE_DIR / "due_list_2021.xlsx"
# Deadlines a form may set: a new or changed deadline cannot lie in the past.
SOON = timezone.localdate() + datetime.timedelta(days=15)
LATER = timezone.localdate() + datetime.timedelta(days=30)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        year=2021, title="2021年度项目支出绩效自评", deadline=datetime.date(2022, 3, 31)
    )


def campaign_post(**overrides) -> dict:
    data = {
        "year": "2022",
        "title": "2022年度项目支出绩效自评",
        "deadline": LATER.isoformat(),
        "notice": "请按期完成自评。",
        "requires_sign_off": "on",
        "is_open": "on",
    }
    data.update(overrides)
    return data


# --- who may use the pages -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["client_a", "client_admin"])
@pytest.mark.parametrize(
    "path",
    [
        "/campaigns/",
        "/campaigns/new/",
        "/campaigns/template.xlsx",
        "/campaigns/2021/",
        "/campaigns/2021/edit/",
        "/campaigns/2021/import/",
        "/campaigns/2021/carry-over/",
        "/campaigns/2021/extend/",
    ],
)
def test_it_answers_404_to_staff_and_the_administrator(who, path, request, campaign):
    client = request.getfixturevalue(who)
    assert client.get(path).status_code == 404


def test_staff_and_the_administrator_cannot_change_a_campaign(client_a, client_admin, campaign):
    for client in (client_a, client_admin):
        assert client.post("/campaigns/2021/open/", {"is_open": "0"}).status_code == 404
        assert client.post("/campaigns/new/", campaign_post()).status_code == 404
        response = client.post(
            "/campaigns/2021/extend/",
            {"department": "1", "deadline": "2022-05-01", "reason": "x"},
        )
        assert response.status_code == 404
    campaign.refresh_from_db()
    assert campaign.is_open
    assert not Campaign.objects.filter(year=2022).exists()
    assert DeadlineExtension.objects.count() == 0


def test_the_navigation_links_the_campaigns_for_finance_only(client_finance, client_a):
    assert 'href="/campaigns/"' in client_finance.get("/evaluations/").content.decode()
    assert 'href="/campaigns/"' not in client_a.get("/evaluations/").content.decode()


# --- the campaign ------------------------------------------------------------------------------


def test_it_creates_a_campaign(client_finance, finance):
    response = client_finance.post("/campaigns/new/", campaign_post())
    assert response.status_code == 302
    assert response["Location"] == "/campaigns/2022/"
    campaign = Campaign.objects.get(year=2022)
    assert campaign.title == "2022年度项目支出绩效自评"
    assert campaign.deadline == LATER
    assert campaign.requires_sign_off and campaign.is_open and not campaign.allow_unlisted
    assert campaign.created_by == finance


def test_it_refuses_a_second_campaign_for_the_same_year(client_finance, campaign):
    response = client_finance.post("/campaigns/new/", campaign_post(year="2021"))
    assert response.status_code == 200
    assert "年度" in response.context["form"].errors["year"][0]
    assert Campaign.objects.count() == 1


def test_it_edits_a_campaign(client_finance, campaign):
    response = client_finance.post(
        "/campaigns/2021/edit/",
        campaign_post(year="2021", title="改过的标题", deadline=SOON.isoformat()),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.title == "改过的标题"
    assert campaign.deadline == SOON


def test_it_closes_and_reopens_a_campaign(client_finance, campaign):
    assert client_finance.get("/campaigns/2021/open/").status_code == 405
    assert client_finance.post("/campaigns/2021/open/", {"is_open": "0"}).status_code == 302
    campaign.refresh_from_db()
    assert not campaign.is_open
    assert open_campaign() is None
    client_finance.post("/campaigns/2021/open/", {"is_open": "1"})
    campaign.refresh_from_db()
    assert campaign.is_open
    assert client_finance.post("/campaigns/2021/open/", {"is_open": "x"}).status_code == 400


# --- the notice file -----------------------------------------------------------------------


@pytest.mark.files
def test_the_notice_file_must_be_a_pdf(client_finance, campaign):
    upload = SimpleUploadedFile("notice.pdf", b"<html>not a pdf</html>", "application/pdf")
    response = client_finance.post(
        "/campaigns/2021/edit/", {**campaign_post(year="2021"), "notice_file": upload}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["notice_file"] == ["通知文件必须是 PDF 文件。"]
    campaign.refresh_from_db()
    assert not campaign.notice_file


@pytest.mark.files
def test_the_notice_file_is_bounded_by_the_setting(client_finance, campaign, settings):
    settings.CAMPAIGN_NOTICE_MAX_BYTES = 40
    upload = SimpleUploadedFile("notice.pdf", PDF, "application/pdf")
    response = client_finance.post(
        "/campaigns/2021/edit/", {**campaign_post(year="2021"), "notice_file": upload}
    )
    assert response.context["form"].errors["notice_file"] == ["通知文件不能超过 40\xa0字节。"]
    campaign.refresh_from_db()
    assert not campaign.notice_file


@pytest.mark.files
def test_the_notice_file_is_served_as_a_download_to_those_with_a_role(
    client_finance, client_a, client_admin, campaign
):
    upload = SimpleUploadedFile("../../通知.pdf", PDF, "application/pdf")
    client_finance.post(
        "/campaigns/2021/edit/", {**campaign_post(year="2021"), "notice_file": upload}
    )
    campaign.refresh_from_db()
    assert campaign.notice_file.name.startswith("campaigns/notice-")
    for client in (client_a, client_finance, client_admin):
        response = client.get("/campaigns/2021/notice/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
    nobody = get_user_model().objects.create_user(username="nobody", password=PASSWORD)
    assert client_for(nobody).get("/campaigns/2021/notice/").status_code == 404
    anonymous = client_for(nobody)
    anonymous.logout()
    assert anonymous.get("/campaigns/2021/notice/").status_code == 302


# --- the due list on the campaign page -----------------------------------------------------


def _projects(campaign: Campaign, department: Department, n: int) -> list[DueProject]:
    return [
        DueProject.objects.create(
            campaign=campaign, department=department, project_name=f"项目{i:03d}"
        )
        for i in range(n)
    ]


def test_the_page_shows_each_project_with_its_form_state(client_finance, campaign, dept_a, staff_a):
    started, _not_started = _projects(campaign, dept_a, 2)
    evaluation = make_evaluation(dept_a, staff_a, project_name="项目000")
    evaluation.due_project = started
    evaluation.save(update_fields=["due_project"])
    response = client_finance.get("/campaigns/2021/")
    rows = {p.project_name: p for p in response.context["page"]}
    assert rows["项目000"].evaluation.status == Status.DRAFT
    assert not hasattr(rows["项目001"], "evaluation") or rows["项目001"].evaluation is None
    html = response.content.decode()
    assert f'href="/evaluations/{evaluation.pk}/"' in html
    assert "未开始" in html


def test_the_page_needs_as_many_queries_for_many_projects_as_for_few(
    client_finance, campaign, dept_a, dept_b
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_finance.get("/campaigns/2021/").status_code == 200
        return len(captured)

    _projects(campaign, dept_a, 2)
    few = queries()
    more = _projects(campaign, dept_b, 45)
    for project in more[:10]:
        DueTarget.objects.create(project=project, position=1, level1="产出指标", name="指标")
        evaluation = make_evaluation(dept_b, project_name=project.project_name)
        evaluation.due_project = project
        evaluation.save(update_fields=["due_project"])
    assert queries() == few


def test_the_list_is_filtered_by_department_and_searched(client_finance, campaign, dept_a, dept_b):
    _projects(campaign, dept_a, 3)
    DueProject.objects.create(
        campaign=campaign, department=dept_b, project_name="养老服务补贴", project_code="MZ01"
    )
    response = client_finance.get("/campaigns/2021/", {"department": dept_b.pk})
    assert [p.project_name for p in response.context["page"]] == ["养老服务补贴"]
    response = client_finance.get("/campaigns/2021/", {"q": "MZ0"})
    assert [p.project_name for p in response.context["page"]] == ["养老服务补贴"]
    response = client_finance.get("/campaigns/2021/", {"q": "项目00"})
    assert len(response.context["page"]) == 3


def test_the_list_is_paginated(client_finance, campaign, dept_a):
    _projects(campaign, dept_a, 55)
    first = client_finance.get("/campaigns/2021/")
    assert len(first.context["page"]) == 50
    second = client_finance.get("/campaigns/2021/", {"page": 2})
    assert [p.project_name for p in second.context["page"]] == [
        f"项目{i:03d}" for i in range(50, 55)
    ]


def test_the_template_is_downloaded_as_xlsx(client_finance):
    from openpyxl import load_workbook

    response = client_finance.get("/campaigns/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["应评项目", "绩效目标"]


# --- upload: preview, then confirm ---------------------------------------------------------


def _upload(client, data: bytes, name: str = "清单.xlsx"):
    return client.post(
        "/campaigns/2021/import/", {"file": SimpleUploadedFile(name, data)}, follow=False
    )


def test_the_upload_previews_then_the_confirmation_imports_once(client_finance, campaign):
    response = _upload(client_finance, SAMPLE.read_bytes())
    assert response.status_code == 200
    html = response.content.decode()
    assert "将新建 3 个主管部门：" in html
    assert "昌吉州民政局" in html
    assert "将新建 38 个，更新 0 个，无变化 0 个，移出清单 0 个，保留 0 个（已有自评表）。" in html
    assert DueProject.objects.count() == 0 and Department.objects.count() == 0
    batch = response.context["batch"]

    done = client_finance.post("/campaigns/2021/import/confirm/", {"batch": str(batch)})
    assert done.status_code == 200
    assert DueProject.objects.filter(campaign=campaign).count() == 38
    assert Department.objects.count() == 3
    again = client_finance.post("/campaigns/2021/import/confirm/", {"batch": str(batch)})
    assert again.status_code == 302
    assert DueProject.objects.count() == 38


def test_a_file_with_problems_cannot_be_confirmed_and_writes_nothing(client_finance, campaign):
    from tests.campaigns.test_due_list import xlsx

    data = xlsx([["部门甲", "单位", "", "", 1, 1], ["部门甲", "单位", "好项目", "", 1, 1]])
    response = _upload(client_finance, data)
    html = response.content.decode()
    assert "<code>应评项目!C2</code>：项目名称为空。" in html
    assert "文件有 1 个问题，修改后才能导入。" in html
    client_finance.post(
        "/campaigns/2021/import/confirm/", {"batch": str(response.context["batch"])}
    )
    assert DueProject.objects.count() == 0
    assert not Department.objects.filter(name="部门甲").exists()


def test_the_upload_takes_xlsx_only(client_finance, campaign):
    response = _upload(client_finance, b"a,b", name="list.csv")
    assert response.context["form"].errors["file"] == ["只能导入 .xlsx 文件。"]


def test_an_evaluation_preview_cannot_be_confirmed_as_a_due_list(client_finance, finance, campaign):
    from evaluations.importer.uploads import upload_store

    stored = upload_store(owner=finance, files=[("forms.xlsx", SAMPLE.read_bytes())])
    response = client_finance.post("/campaigns/2021/import/confirm/", {"batch": str(stored.batch)})
    assert response.status_code == 302
    assert DueProject.objects.count() == 0


# --- 沿用上年项目 -------------------------------------------------------------------------------


def _approved(department, user, finance, name: str, year: int = 2020):
    from evaluations.workflow import evaluation_approve, evaluation_submit

    evaluation = make_evaluation(department, user, project_name=name, year=year)
    evaluation_submit(evaluation=evaluation, user=user)
    evaluation_approve(evaluation=evaluation, user=finance)
    return evaluation


def test_carry_over_creates_the_list_from_last_years_approved_forms_once(
    client_finance, campaign, dept_a, staff_a, finance
):
    approved = _approved(dept_a, staff_a, finance, "农村住房质量监督")
    make_evaluation(dept_a, staff_a, project_name="草稿项目", year=2020)
    _approved(dept_a, staff_a, finance, "前年的项目", year=2019)
    page = client_finance.get("/campaigns/2021/carry-over/")
    assert [e.pk for e in page.context["candidates"]] == [approved.pk]
    assert client_finance.get("/campaigns/2021/").context["carry_over_count"] == 1

    response = client_finance.post("/campaigns/2021/carry-over/")
    assert response.status_code == 302
    project = DueProject.objects.get(campaign=campaign)
    assert (project.department, project.project_name, project.implementing_unit) == (
        dept_a,
        "农村住房质量监督",
        "实施单位甲",
    )
    targets = list(project.targets.order_by("position").values_list("name", "target", "weight"))
    indicators = list(
        approved.indicators.order_by("position").values_list("name", "target", "weight")
    )
    assert targets == indicators and len(targets) == 8

    client_finance.post("/campaigns/2021/carry-over/")
    assert DueProject.objects.count() == 1
    assert client_finance.get("/campaigns/2021/").context["carry_over_count"] == 0
    assert DueTarget.objects.count() == 8


# --- deadline extensions -------------------------------------------------------------------


def test_finance_extends_one_departments_deadline_and_the_page_lists_its_history(
    client_finance, finance, campaign, dept_a, dept_b
):
    response = client_finance.post(
        "/campaigns/2021/extend/",
        {"department": dept_a.pk, "deadline": SOON.isoformat(), "reason": "机构改革，人员调整"},
    )
    assert response.status_code == 302
    client_finance.post(
        "/campaigns/2021/extend/",
        {"department": dept_a.pk, "deadline": LATER.isoformat(), "reason": "再次延期"},
    )
    assert campaign.deadline_for(dept_a) == LATER
    assert campaign.deadline_for(dept_b) == datetime.date(2022, 3, 31)
    latest = DeadlineExtension.objects.filter(department=dept_a).first()
    assert (latest.created_by, latest.reason) == (finance, "再次延期")
    html = client_finance.get("/campaigns/2021/").content.decode()
    assert "机构改革，人员调整" in html and "再次延期" in html
    assert html.index("再次延期") < html.index("机构改革，人员调整")


def test_an_extension_must_be_later_than_the_campaign_deadline_and_give_a_reason(
    client_finance, campaign, dept_a
):
    Campaign.objects.filter(pk=campaign.pk).update(deadline=SOON)
    response = client_finance.post(
        "/campaigns/2021/extend/",
        {"department": dept_a.pk, "deadline": SOON.isoformat(), "reason": ""},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["deadline"] == [f"延长后的截止日期须晚于任务的截止日期（{SOON.isoformat()}）。"]
    assert "reason" in errors
    assert DeadlineExtension.objects.count() == 0


# --- the selector and the include for the start page ---------------------------------------


def test_open_campaign_is_the_years_open_one_or_the_latest_open(db):
    older = Campaign.objects.create(year=2020, title="2020", deadline=datetime.date(2021, 3, 31))
    newer = Campaign.objects.create(year=2021, title="2021", deadline=datetime.date(2022, 3, 31))
    Campaign.objects.create(
        year=2022, title="2022", deadline=datetime.date(2023, 3, 31), is_open=False
    )
    assert open_campaign() == newer
    assert open_campaign(year=2020) == older
    assert open_campaign(year=2022) is None
    assert open_campaign(year=2019) is None


def test_the_notice_include_shows_the_departments_own_deadline(campaign, dept_a, dept_b, finance):
    campaign.notice = "请于截止日期前提交。"
    campaign.save()
    DeadlineExtension.objects.create(
        campaign=campaign,
        department=dept_a,
        deadline=datetime.date(2022, 4, 30),
        created_by=finance,
        created_at=timezone.now(),
    )
    own = render_to_string("campaigns/_notice.html", {"campaign": campaign, "department": dept_a})
    assert "截止日期：2022-04-30" in own
    assert "原截止日期 2022-03-31" in own
    assert "请于截止日期前提交。" in own
    other = render_to_string("campaigns/_notice.html", {"campaign": campaign, "department": dept_b})
    assert "截止日期：2022-03-31" in other
    assert "/campaigns/2021/notice/" not in other  # no notice file
    assert render_to_string("campaigns/_notice.html", {"campaign": None}).strip() == ""


# --- the demo ----------------------------------------------------------------------------------


def test_load_demo_creates_an_open_2021_campaign_with_the_sample_due_list(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    campaign = Campaign.objects.get(year=2021)
    assert campaign.is_open
    assert campaign.deadline == timezone.localdate() + datetime.timedelta(days=30)
    assert campaign.projects.count() == 38
    assert set(campaign.projects.values_list("department__name", flat=True).distinct()) == {
        "昌吉回族自治州住房和城乡建设局",
        "昌吉回族自治州发展和改革委员会本级",
        "昌吉州民政局",
    }
    call_command("load_demo", stdout=io.StringIO())
    assert Campaign.objects.get(year=2021).projects.count() == 38


# --- deadlines in the past and the year of a campaign in use --------------------------------


def test_a_new_campaign_cannot_have_a_deadline_in_the_past(client_finance):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client_finance.post("/campaigns/new/", campaign_post(deadline=yesterday.isoformat()))
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert response.context["form"].errors["deadline"] == [f"截止日期不能早于今天（{today}）。"]
    assert 'value="2022年度项目支出绩效自评"' in response.content.decode()  # kept as typed
    assert not Campaign.objects.exists()


def test_an_edit_keeps_a_past_deadline_but_cannot_move_it_to_another_past_day(
    client_finance, campaign
):
    # Last year's campaign (deadline 2022-03-31, long past) stays editable as it is...
    unchanged = campaign_post(year="2021", title="改过的标题", deadline="2022-03-31")
    assert client_finance.post("/campaigns/2021/edit/", unchanged).status_code == 302
    # ...but a new deadline in the past is refused.
    moved = campaign_post(year="2021", deadline="2022-04-30")
    response = client_finance.post("/campaigns/2021/edit/", moved)
    assert response.status_code == 200
    assert response.context["form"].errors["deadline"][0].startswith("截止日期不能早于今天")
    campaign.refresh_from_db()
    assert (campaign.title, campaign.deadline) == ("改过的标题", datetime.date(2022, 3, 31))


def test_a_deadline_cannot_be_extended_to_a_day_in_the_past(client_finance, campaign, dept_a):
    # Later than the campaign's deadline (2022-03-31), but before today.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client_finance.post(
        "/campaigns/2021/extend/",
        {"department": dept_a.pk, "deadline": yesterday.isoformat(), "reason": "补报"},
    )
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert response.context["form"].errors["deadline"] == [
        f"延长后的截止日期不能早于今天（{today}）。"
    ]
    assert DeadlineExtension.objects.count() == 0


@pytest.mark.parametrize("in_use", ["due_project", "form"])
def test_the_year_of_a_campaign_in_use_cannot_change(client_finance, campaign, dept_a, in_use):
    if in_use == "due_project":
        DueProject.objects.create(campaign=campaign, department=dept_a, project_name="项目一")
    else:
        make_evaluation(dept_a)  # a 2021 form outside the list
    data = campaign_post(year="2025", deadline="2022-03-31")
    response = client_finance.post("/campaigns/2021/edit/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["year"] == [
        "2021 年度已有应评项目或自评表，不能再修改任务的年度。"
    ]
    campaign.refresh_from_db()
    assert campaign.year == 2021


def test_the_year_of_an_unused_campaign_can_be_corrected(client_finance, campaign):
    data = campaign_post(year="2025", deadline="2022-03-31")
    assert client_finance.post("/campaigns/2021/edit/", data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.year == 2025


@pytest.mark.files
def test_a_replaced_notice_file_is_deleted_once_the_change_is_committed(
    client_finance, campaign, django_capture_on_commit_callbacks
):
    def upload(content: bytes) -> str:
        file = SimpleUploadedFile("通知.pdf", content, "application/pdf")
        with django_capture_on_commit_callbacks(execute=True):
            response = client_finance.post(
                "/campaigns/2021/edit/",
                {**campaign_post(year="2021", deadline="2022-03-31"), "notice_file": file},
            )
        assert response.status_code == 302
        campaign.refresh_from_db()
        return campaign.notice_file.name

    storage = campaign.notice_file.storage
    first = upload(PDF)
    assert storage.exists(first)
    second = upload(PDF + b"% the second notice\n")
    assert second != first
    assert not storage.exists(first)
    assert storage.exists(second)
    with storage.open(second) as handle:
        assert handle.read().endswith(b"% the second notice\n")
