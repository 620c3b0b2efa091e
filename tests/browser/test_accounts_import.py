"""Accounts from a workbook in a browser, down to the printed form.

The administrator uploads a workbook of 10 people of 3 departments, previews, confirms and
downloads the initial passwords; one filler signs in with hers, is made to choose her own
password first, starts a due form, and the PDF's signature block prints her 姓名.
"""

from __future__ import annotations

import datetime
import subprocess
import time
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook, load_workbook

from campaigns.models import Campaign, DueProject
from departments.accounts_import import COLUMNS
from departments.models import Department, Membership, Role
from evaluations.models import Evaluation
from exports import compose
from tests.browser import click, sign_in, wait_for
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEPARTMENTS = ("昌吉州住房和城乡建设局", "昌吉州民政局", "昌吉州教育局")
FILLER = ("韩梅梅", "hanmeimei")


def accounts_file(path) -> None:
    """Ten people: a filler and a head of each department, one more filler, three reviewers."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "账号"
    sheet.append([header for _key, header in COLUMNS])
    sheet.append([FILLER[0], FILLER[1], DEPARTMENTS[0], "填报人", "", "13800000001", "", ""])
    people = [
        ("李雷", "lilei", DEPARTMENTS[0], "部门审核人"),
        ("王芳芳", "wangff", DEPARTMENTS[1], "填报人"),
        ("赵强", "zhaoq", DEPARTMENTS[1], "部门审核人"),
        ("孙丽", "sunli", DEPARTMENTS[2], "填报人"),
        ("周杰", "zhoujie", DEPARTMENTS[2], "部门审核人"),
        ("吴敏", "wumin", DEPARTMENTS[2], "填报人"),
        ("郑华", "zhenghua", "", "财政局审核人"),
        ("冯军", "fengjun", "", "财政局审核人"),
        ("陈晨", "chenchen", "", "财政局审核人"),
    ]
    for name, username, department, role in people:
        sheet.append([name, username, department, role])
    out = BytesIO()
    workbook.save(out)
    path.write_bytes(out.getvalue())


def downloaded(folder, timeout: float = 20) -> bytes:
    """The one finished download in ``folder``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = [p for p in folder.iterdir() if p.suffix == ".xlsx"]
        if files:
            time.sleep(0.2)  # renamed from .crdownload once complete
            return files[0].read_bytes()
        time.sleep(0.1)
    raise AssertionError("no download")


def test_the_administrator_imports_people_and_a_filler_prints_her_name(
    live_server, admin_user, browser, tmp_path, artifacts_dir
):
    from selenium.webdriver.common.by import By

    base = live_server.url
    # The year's campaign with a due project of the first department (known to the system).
    department = Department.objects.create(name=DEPARTMENTS[0])
    campaign = Campaign.objects.create(
        year=2021,
        title="2021年度项目支出绩效自评",
        deadline=datetime.date.today() + datetime.timedelta(days=30),
        is_open=True,
    )
    due = DueProject.objects.create(
        campaign=campaign,
        department=department,
        implementing_unit=DEPARTMENTS[0],
        project_name="农村危房改造质量监督",
        initial_budget=Decimal("100"),
        annual_budget=Decimal("100"),
    )
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )

    # The administrator uploads the workbook: the preview names the new departments.
    path = tmp_path / "人员.xlsx"
    accounts_file(path)
    sign_in(browser, base, admin_user.username, PASSWORD)
    click(browser, browser.find_element(By.LINK_TEXT, "人员"))
    click(browser, browser.find_element(By.LINK_TEXT, "导入账号"))
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "input[type='file']"))
    browser.find_element(By.CSS_SELECTOR, "input[type='file']").send_keys(str(path))
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '上传并预览')]"))
    wait_for(browser, lambda d: "账号导入预览" in d.page_source)
    assert "将新建 10 个账号" in browser.page_source
    assert f"{DEPARTMENTS[1]}、{DEPARTMENTS[2]}" in browser.page_source
    assert not get_user_model().objects.filter(username=FILLER[1]).exists()

    browser.save_screenshot(str(artifacts_dir / "accounts-import-preview.png"))
    # ... confirms, and downloads the initial passwords once.
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '确认导入')]"))
    wait_for(browser, lambda d: "账号导入结果" in d.page_source)
    assert Membership.objects.filter(must_change_password=True).count() == 10
    assert Department.objects.count() == 3
    browser.save_screenshot(str(artifacts_dir / "accounts-import-done.png"))
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '下载初始密码')]"))
    sheet = load_workbook(BytesIO(downloaded(downloads)))["初始密码"]
    passwords = {row[1]: row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(passwords) == 10

    # The filler signs in with hers and must choose her own password before anything else.
    browser.delete_all_cookies()
    sign_in(browser, base, FILLER[1], passwords[FILLER[1]])
    wait_for(browser, lambda d: "/accounts/password_change/" in d.current_url)
    assert "请先设置您自己的密码" in browser.page_source
    browser.save_screenshot(str(artifacts_dir / "accounts-password-change.png"))
    browser.get(f"{base}/evaluations/")
    assert "/accounts/password_change/" in browser.current_url  # nothing else opens
    new = "Harbor-kettle-73"
    browser.find_element(By.NAME, "old_password").send_keys(passwords[FILLER[1]])
    browser.find_element(By.NAME, "new_password1").send_keys(new)
    browser.find_element(By.NAME, "new_password2").send_keys(new)
    click(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    wait_for(browser, lambda d: "/accounts/password_change/done/" in d.current_url)
    assert not Membership.objects.get(user__username=FILLER[1]).must_change_password

    # Her name is in the navbar; she starts the due form, signed with her name.
    browser.get(f"{base}/evaluations/")
    assert f"{FILLER[0]} · 部门填报人" in browser.find_element(By.TAG_NAME, "nav").text
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '开始填报')]"))
    wait_for(browser, lambda d: "/edit/" in d.current_url)
    assert browser.find_element(By.NAME, "filler_name").get_attribute("value") == FILLER[0]
    evaluation = Evaluation.objects.get(due_project=due)
    assert evaluation.department == Department.objects.get(name=DEPARTMENTS[0])

    printed = tmp_path / "form.pdf"
    printed.write_bytes(compose.evaluation_pdf(evaluation))
    text = subprocess.run(
        ["pdftotext", "-layout", str(printed), "-"], capture_output=True, text=True, check=True
    ).stdout
    squashed = "".join(text.split())
    assert f"填报人{FILLER[0]}" in squashed or ("填报人" in squashed and FILLER[0] in squashed)
    assert FILLER[1] not in text
    assert Membership.objects.get(user__username=FILLER[1]).role == Role.STAFF
