"""Browser test of the department's sign-off: submit, the head returns with a row comment,
the filler fixes and resubmits, the head passes it on, finance approves."""

from __future__ import annotations

import pytest

from evaluations.models import EventAction, Status
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.evaluations.workflow.test_transitions import due_evaluation, require_sign_off

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_runs_the_department_sign_off_in_a_browser(
    live_server, dept_a, staff_a, head_a, finance, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By

    require_sign_off(2021)
    evaluation = due_evaluation(dept_a, staff_a, project_name="浏览器部门审核项目")
    base = live_server.url

    # The filler submits: it goes to the department's head first.
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/")
    click(browser, browser.find_element(By.ID, "submit-link"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "submit-button")))
    wait_for(browser, lambda d: "已提交本部门审核人审核" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW

    # The head opens the form from the navigation and returns it with a row comment.
    browser.delete_all_cookies()
    sign_in(browser, base, head_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/")
    click(browser, browser.find_element(By.LINK_TEXT, "部门审核"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.LINK_TEXT, "审核")))
    wait_for(browser, lambda d: d.find_elements(By.NAME, "comment-indicator-5"))
    browser.find_element(By.NAME, "comment-indicator-5").send_keys("请附检查费用明细")
    browser.find_element(By.NAME, "reason").send_keys("成本指标依据不足")
    full_page_screenshot(browser, artifacts_dir / "sign-off-page.png")
    click(browser, browser.find_element(By.ID, "return-button"))
    wait_for(browser, lambda d: "填报人将看到退回原因和意见" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED

    # The filler sees the head's comment beside the row, fixes it and resubmits.
    browser.delete_all_cookies()
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/edit/")
    row5 = browser.find_element(By.CSS_SELECTOR, "tbody.indicator[data-form-index='4']")
    assert "请附检查费用明细" in row5.find_element(By.CSS_SELECTOR, ".review-comment").text
    reason = browser.find_element(By.ID, "return-reason").text
    assert "部门审核人退回意见" in reason and "成本指标依据不足" in reason
    deviation = row5.find_element(By.CSS_SELECTOR, "textarea[name$='-deviation']")
    deviation.send_keys("已补充费用明细。")
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next'][value='detail']"))
    wait_for(browser, lambda d: "/edit/" not in d.current_url)
    browser.get(f"{base}/evaluations/{evaluation.pk}/submit/")
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "submit-button")))
    wait_for(browser, lambda d: "已提交本部门审核人审核" in d.page_source)

    # The head sees what changed and passes it on to the bureau.
    browser.delete_all_cookies()
    sign_in(browser, base, head_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/sign-off/")
    assert "已补充费用明细。" in browser.find_element(By.ID, "changes").text
    click(browser, browser.find_element(By.ID, "approve-button"))
    wait_for(browser, lambda d: "已审核通过并报送财政局" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED

    # Finance approves it as any submitted form.
    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/{evaluation.pk}/")
    click(browser, browser.find_element(By.ID, "approve-button"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "confirm-approve-button")))
    wait_for(browser, lambda d: "已审核通过" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
    assert list(evaluation.events.order_by("id").values_list("action", flat=True)) == [
        EventAction.CREATED,
        EventAction.SENT_FOR_SIGN_OFF,
        EventAction.DEPARTMENT_RETURNED,
        EventAction.EDITED,
        EventAction.SENT_FOR_SIGN_OFF,
        EventAction.SIGNED_OFF,
        EventAction.APPROVED,
    ]
