"""The year's campaign end to end in a browser.

Finance uploads a due list of three departments; a filler starts a due form with its
approved targets pre-filled and changes one (a warning, explained at submission); the
department head returns it with a row comment; the filler fixes it; the head passes it
on; finance approves. The PDF carries the signature block with the names typed, and the
dashboard's counts move at each step.
"""

from __future__ import annotations

import datetime
import subprocess
from io import BytesIO

import pytest
from openpyxl import Workbook

from campaigns.due_list import PROJECT_COLUMNS, PROJECTS_SHEET, TARGET_COLUMNS, TARGETS_SHEET
from campaigns.models import Campaign, DueProject
from departments.models import Department
from evaluations.models import Evaluation, EventAction, Status
from exports import compose
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROJECT = "农村危房改造质量监督"
OTHERS = ("昌吉州民政局", "昌吉回族自治州发展和改革委员会本级")


def due_list_file(path, department_a: str) -> None:
    """A due list of three departments; department A's project has two approved targets."""
    workbook = Workbook()
    projects = workbook.active
    projects.title = PROJECTS_SHEET
    projects.append([header for _key, header in PROJECT_COLUMNS])
    projects.append([department_a, department_a, PROJECT, "A-001", 100, 100])
    projects.append([OTHERS[0], OTHERS[0], "社会救助专项", "B-001", 50, 50])
    projects.append([OTHERS[1], OTHERS[1], "重点项目前期经费", "C-001", 30, 30])
    targets = workbook.create_sheet(TARGETS_SHEET)
    targets.append([header for _key, header in TARGET_COLUMNS])
    targets.append(
        [department_a, PROJECT, "A-001", "产出指标", "数量指标", "监督户数", ">=1600户", 50]
    )
    targets.append(
        [department_a, PROJECT, "A-001", "产出指标", "质量指标", "质量达标率", ">=95%", 40]
    )
    out = BytesIO()
    workbook.save(out)
    path.write_bytes(out.getvalue())


def dashboard_row(browser, base, department: Department) -> dict[str, str]:
    """The due-list counts of one department on the dashboard, by column."""
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/dashboard/?year=2021&q={department.name}")
    row = wait_for(
        browser,
        lambda d: [
            r for r in d.find_elements(By.CSS_SELECTOR, "tbody tr") if department.name in r.text
        ],
    )[0]
    columns = ("due", "not-started", "draft", "department-review", "submitted", "approved")
    return {c: row.find_element(By.CSS_SELECTOR, f".num-{c}").text for c in columns}


def sign_out(browser) -> None:
    browser.delete_all_cookies()


def submit_with_explanations(browser, base, pk: int) -> None:
    """Tick every warning on the submit page, explain each, and submit."""
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/evaluations/{pk}/submit/")
    wait_for(browser, lambda d: d.find_element(By.ID, "submit-button"))
    assert "TARGET_CHANGED" in browser.page_source or "批复" in browser.page_source
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name^='ack-']"):
        if not box.is_selected():
            click(browser, box)
    for text in browser.find_elements(By.CSS_SELECTOR, "textarea[name^='comment-']"):
        text.clear()
        text.send_keys("按实际工程量调整目标，已报主管领导同意。")
    click(browser, browser.find_element(By.ID, "submit-button"))
    wait_for(browser, lambda d: "已提交本部门审核人审核" in d.page_source)


def test_a_campaign_runs_end_to_end(
    live_server, dept_a, staff_a, head_a, finance, browser, artifacts_dir, tmp_path
):
    from selenium.webdriver.common.by import By

    base = live_server.url
    finance.first_name = "钱审核"
    finance.save(update_fields=["first_name"])
    Campaign.objects.create(
        year=2021,
        title="2021年度项目支出绩效自评",
        deadline=datetime.date.today() + datetime.timedelta(days=30),
        requires_sign_off=True,
    )

    # Finance uploads the due list: a preview names the departments it will create.
    path = tmp_path / "应评项目清单.xlsx"
    due_list_file(path, dept_a.name)
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/campaigns/2021/import/")
    browser.find_element(By.CSS_SELECTOR, "input[type='file']").send_keys(str(path))
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '上传并预览')]"))
    wait_for(browser, lambda d: "清单导入预览" in d.page_source)
    assert all(name in browser.page_source for name in OTHERS)
    assert DueProject.objects.count() == 0  # a preview writes nothing
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '确认导入')]"))
    wait_for(browser, lambda d: "清单导入结果" in d.page_source)
    assert DueProject.objects.count() == 3
    due = DueProject.objects.get(department=dept_a)
    assert [t.target for t in due.targets.order_by("position")] == [">=1600户", ">=95%"]
    assert dashboard_row(browser, base, dept_a) == {
        "due": "1",
        "not-started": "1",
        "draft": "0",
        "department-review": "0",
        "submitted": "0",
        "approved": "0",
    }

    # The filler starts the due form: names, budget and approved targets are pre-filled.
    sign_out(browser)
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/")
    assert PROJECT in browser.find_element(By.ID, "due-list").text
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '开始填报')]"))
    wait_for(browser, lambda d: "/edit/" in d.current_url)
    evaluation = Evaluation.objects.get(due_project=due)
    assert browser.find_element(By.NAME, "project_name").get_attribute("value") == PROJECT
    target = browser.find_element(By.NAME, "ind-1-target")
    assert target.get_attribute("value") == ">=95%"

    # ... changes one approved target, fills in what was achieved and the signature block.
    target.clear()
    target.send_keys(">=90%")
    browser.find_element(By.NAME, "funding-total-executed").send_keys("100")
    for index, (actual, score) in enumerate((("1600户", "50"), ("92%", "40"))):
        browser.find_element(By.NAME, f"ind-{index}-actual").send_keys(actual)
        browser.find_element(By.NAME, f"ind-{index}-score").send_keys(score)
    browser.find_element(By.NAME, "goal_target").send_keys("完成全州危房改造质量监督。")
    browser.find_element(By.NAME, "goal_actual").send_keys("已完成全州危房改造质量监督。")
    for name, value in (
        ("filler_name", "王小明"),
        ("filler_phone", "0994-2345678"),
        ("unit_head", "李建国"),
    ):
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next'][value='detail']"))
    wait_for(browser, lambda d: "/edit/" not in d.current_url)
    evaluation.refresh_from_db()
    assert evaluation.filler_name == "王小明" and evaluation.unit_head == "李建国"
    row = evaluation.indicators.get(position=2)
    assert (row.target, row.approved_target) == (">=90%", ">=95%")
    assert "批复" in browser.page_source  # the approved value beside the changed one

    # Submitting asks for an explanation of the changed target; it goes to the head.
    submit_with_explanations(browser, base, evaluation.pk)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW
    submitted = evaluation.events.filter(action=EventAction.SENT_FOR_SIGN_OFF).get()
    changed = [a for a in submitted.acknowledgements if a["code"] == "TARGET_CHANGED"]
    assert changed and changed[0]["comment"]

    # The head returns it with a comment on the changed row.
    sign_out(browser)
    sign_in(browser, base, head_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/sign-off/")
    wait_for(browser, lambda d: d.find_elements(By.NAME, "comment-indicator-2"))
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "批复：>=95%" in page and ">=90%" in page  # the head sees old and new
    browser.find_element(By.NAME, "comment-indicator-2").send_keys("请写明偏差原因")
    browser.find_element(By.NAME, "reason").send_keys("质量指标调整缺少偏差说明")
    click(browser, browser.find_element(By.ID, "return-button"))
    wait_for(browser, lambda d: "填报人将看到退回原因和意见" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED

    # The filler fixes the row and submits again; the head passes it on.
    sign_out(browser)
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/edit/")
    row2 = browser.find_element(By.CSS_SELECTOR, "tbody.indicator[data-form-index='1']")
    assert "请写明偏差原因" in row2.find_element(By.CSS_SELECTOR, ".review-comment").text
    row2.find_element(By.CSS_SELECTOR, "textarea[name$='-deviation']").send_keys(
        "部分农户自建，按实际调整。"
    )
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next'][value='detail']"))
    wait_for(browser, lambda d: "/edit/" not in d.current_url)
    submit_with_explanations(browser, base, evaluation.pk)

    sign_out(browser)
    sign_in(browser, base, head_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/sign-off/")
    assert "部分农户自建，按实际调整。" in browser.find_element(By.ID, "changes").text
    click(browser, browser.find_element(By.ID, "approve-button"))
    wait_for(browser, lambda d: "已审核通过并报送财政局" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED

    # Finance sees it counted as submitted, approves it, and the count moves again.
    sign_out(browser)
    sign_in(browser, base, finance.username, PASSWORD)
    assert dashboard_row(browser, base, dept_a)["submitted"] == "1"
    browser.get(f"{base}/review/{evaluation.pk}/")
    full_page_screenshot(browser, artifacts_dir / "campaign-review-page.png")
    click(browser, browser.find_element(By.ID, "approve-button"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "confirm-approve-button")))
    wait_for(browser, lambda d: "已审核通过" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
    counts = dashboard_row(browser, base, dept_a)
    assert (counts["due"], counts["not-started"], counts["approved"]) == ("1", "0", "1")
    full_page_screenshot(browser, artifacts_dir / "campaign-dashboard.png")

    # The PDF ends with the signature block: the names typed and the bureau's approval.
    printed = tmp_path / "form.pdf"
    printed.write_bytes(compose.evaluation_pdf(evaluation))
    text = subprocess.run(
        ["pdftotext", "-layout", str(printed), "-"], capture_output=True, text=True, check=True
    ).stdout
    squashed = "".join(text.split())
    for expected in (
        "填报单位（盖章）",
        "单位负责人",
        "李建国",
        "王小明",
        "0994-2345678",
        "审核单位",
        "财政局",
        "钱审核",  # the approver's 姓名 (a printed form never shows a username)
    ):
        assert expected in squashed, expected
