"""Browser test of the review loop: submit, return with a row comment, fix, resubmit, approve."""

from __future__ import annotations

import pytest

from evaluations.models import EventAction, Status
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(driver) -> None:
    driver.delete_all_cookies()


def test_it_runs_the_whole_review_loop_in_a_browser(
    live_server,
    dept_a,
    staff_a,
    finance,
    browser,
    artifacts_dir,
):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a, project_name="浏览器审核流程项目")
    base = live_server.url

    # Department staff submit from the detail page.
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/")
    click(browser, browser.find_element(By.ID, "submit-link"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "submit-button")))
    wait_for(browser, lambda d: "已提交财政局审核" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED

    # Finance returns it with a comment on indicator row 5.
    sign_out(browser)
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/")
    click(browser, browser.find_element(By.LINK_TEXT, "审核"))
    wait_for(browser, lambda d: d.find_elements(By.NAME, "comment-indicator-5"))
    browser.find_element(By.NAME, "comment-indicator-5").send_keys("请说明检查费用的测算依据")
    browser.find_element(By.NAME, "reason").send_keys("成本指标说明不足")
    click(browser, browser.find_element(By.ID, "return-button"))
    wait_for(browser, lambda d: "已退回" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED

    # Staff see the comment beside that row on the edit page, fix it and resubmit.
    sign_out(browser)
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/")
    assert browser.find_elements(By.CSS_SELECTOR, f"[data-unread='{evaluation.pk}']")
    browser.get(f"{base}/evaluations/{evaluation.pk}/edit/")
    row5 = browser.find_element(By.CSS_SELECTOR, "tbody.indicator[data-form-index='4']")
    assert "请说明检查费用的测算依据" in row5.find_element(By.CSS_SELECTOR, ".review-comment").text
    assert "成本指标说明不足" in browser.find_element(By.ID, "return-reason").text
    full_page_screenshot(browser, artifacts_dir / "edit-page-returned.png")
    deviation = row5.find_element(By.CSS_SELECTOR, "textarea[name$='-deviation']")
    deviation.send_keys("按合同价测算，已附明细。")
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next'][value='detail']"))
    wait_for(browser, lambda d: "/edit/" not in d.current_url)
    browser.get(f"{base}/evaluations/{evaluation.pk}/submit/")
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "submit-button")))
    wait_for(browser, lambda d: "已提交财政局审核" in d.page_source)

    # Finance sees what changed since the return, and approves.
    sign_out(browser)
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/{evaluation.pk}/")
    changes = browser.find_element(By.ID, "changes").text
    assert "第5行指标·偏差原因分析及改进措施" in changes
    assert "按合同价测算，已附明细。" in changes
    full_page_screenshot(browser, artifacts_dir / "review-page.png")
    click(browser, browser.find_element(By.ID, "approve-button"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "confirm-approve-button")))
    wait_for(browser, lambda d: "已审核通过" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
    assert [e.action for e in evaluation.events.order_by("id")][-5:] == [
        EventAction.SUBMITTED,
        EventAction.RETURNED,
        EventAction.EDITED,
        EventAction.SUBMITTED,
        EventAction.APPROVED,
    ]

    # The approved form can no longer be edited by the department.
    sign_out(browser)
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/edit/")
    wait_for(browser, lambda d: "/edit/" not in d.current_url)
    assert "不能修改" in browser.page_source
    assert not browser.find_elements(
        By.CSS_SELECTOR, f"a[href='/evaluations/{evaluation.pk}/edit/']"
    )
