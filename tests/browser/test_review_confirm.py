"""Browser test of the review's explanations, row comments, approve confirmation.

The filler explains a warning and submits; finance sees the explanation beside the warning,
has a return without a reason refused with the row comment kept, and returns the form; the
filler reads the row comment beside its row on the read-only page and resubmits with the
explanation carried over; finance clicks 审核通过, sees the confirmation, types a comment
and confirms; the filler reads the comment.
"""

from __future__ import annotations

import pytest

from evaluations.models import EventAction, Status
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import clean_form_data, make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVER = "OVER_ACHIEVEMENT:1"


def test_it_confirms_an_approval_with_a_comment_the_department_reads(
    live_server, dept_a, staff_a, finance, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By

    data = clean_form_data()
    data.indicators[1].actual = "20次"  # row 2 far above its target: a warning
    evaluation = make_evaluation(
        dept_a, staff_a, project_name="审核确认项目", indicators=data.indicators
    )
    base = live_server.url
    pk = evaluation.pk

    # The filler explains the warning and submits.
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{pk}/submit/")
    browser.find_element(By.NAME, f"comment-{OVER}").send_keys("年中追加了检查任务")
    click(browser, browser.find_element(By.ID, "submit-button"))
    wait_for(browser, lambda d: "已提交财政局审核" in d.page_source)

    # Finance sees the explanation beside the warning, and returns with a row comment.
    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/{pk}/")
    finding = browser.find_element(By.CSS_SELECTOR, "li[data-code='OVER_ACHIEVEMENT']")
    assert "部门说明：年中追加了检查任务" in finding.text
    row = browser.find_element(By.ID, "indicator-2")
    assert "年中追加了检查任务" in row.text
    full_page_screenshot(browser, artifacts_dir / "review-page-explanation.png")
    # A reason of blanks only passes the browser's check and is refused by the server: the
    # page comes back with the row comment as typed.
    browser.find_element(By.NAME, "comment-indicator-2").send_keys("请附检查台账")
    browser.find_element(By.NAME, "reason").send_keys("   ")
    click(browser, browser.find_element(By.ID, "return-button"))
    wait_for(browser, lambda d: "退回时必须填写退回原因" in d.page_source)
    kept = browser.find_element(By.NAME, "comment-indicator-2").get_attribute("value")
    assert kept == "请附检查台账"
    browser.find_element(By.NAME, "reason").send_keys("请补充佐证")
    click(browser, browser.find_element(By.ID, "return-button"))
    wait_for(browser, lambda d: "已退回" in d.page_source)

    # The filler reads the row comment beside its row on the read-only page, and resubmits:
    # the unchanged warning comes ticked, with its explanation.
    browser.delete_all_cookies()
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{pk}/")
    row = browser.find_element(By.ID, "indicator-2")
    assert "审核意见：请附检查台账" in row.find_element(By.CSS_SELECTOR, ".review-comment").text
    full_page_screenshot(browser, artifacts_dir / "detail-page-returned-comments.png")
    browser.get(f"{base}/evaluations/{pk}/submit/")
    assert browser.find_element(By.NAME, f"ack-{OVER}").is_selected()
    explanation = browser.find_element(By.NAME, f"comment-{OVER}")
    assert explanation.get_attribute("value") == "年中追加了检查任务"
    click(browser, browser.find_element(By.ID, "submit-button"))
    wait_for(browser, lambda d: "已提交财政局审核" in d.page_source)

    # Finance clicks 审核通过: a confirmation, not yet an approval.
    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/{pk}/")
    click(browser, browser.find_element(By.ID, "approve-button"))
    wait_for(browser, lambda d: d.find_elements(By.ID, "confirm-approve-button"))
    assert "确认审核通过" in browser.find_element(By.TAG_NAME, "h1").text
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    browser.find_element(By.NAME, "reason").send_keys("佐证齐全，请按时公开。")
    full_page_screenshot(browser, artifacts_dir / "approve-confirm.png")
    click(browser, browser.find_element(By.ID, "confirm-approve-button"))
    wait_for(browser, lambda d: "已审核通过" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
    approval = evaluation.events.get(action=EventAction.APPROVED)
    assert approval.reason == "佐证齐全，请按时公开。"

    # The department reads the comment near the state on the detail page, and in the history.
    browser.delete_all_cookies()
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{pk}/")
    note = browser.find_element(By.ID, "approval-comment")
    assert "财政局审核意见" in note.text and "佐证齐全，请按时公开。" in note.text
    full_page_screenshot(browser, artifacts_dir / "detail-page-approval-comment.png")
    browser.get(f"{base}/evaluations/{pk}/history/")
    approved = browser.find_element(By.CSS_SELECTOR, ".history-event[data-action='approved']")
    assert "佐证齐全，请按时公开。" in approved.text
