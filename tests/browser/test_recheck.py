"""Evidence and the bureau's re-check in a browser.

Staff attach a PDF to indicator row 3; the reviewer opens it in the review page and
approves; finance draws a 20% sample of the year's approved forms, re-checks the drawn
form with a lower score; the department then sees the result, and not before.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from evaluations.models import Evaluation, Status
from evaluations.services import evaluation_score
from evaluations.workflow import evaluation_submit, warning_key
from rechecks.models import Recheck, RecheckStatus
from rechecks.services import START, recheck_pick, recheck_transition_run
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import make_evaluation
from tests.rechecks.national import national_rule_set

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_evidence_review_sample_and_recheck_in_a_browser(
    live_server, dept_a, staff_a, finance, browser, artifacts_dir, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = live_server.url
    evaluation = make_evaluation(dept_a, staff_a, project_name="复核浏览器项目")

    # Staff attach a PDF to indicator row 3 of their draft.
    contract = tmp_path / "验收报告.pdf"
    contract.write_bytes(PDF_BYTES)
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/")
    browser.find_element(By.NAME, "evidence-0-file").send_keys(str(contract))
    browser.find_element(By.NAME, "evidence-0-caption").send_keys("验收报告")
    Select(browser.find_element(By.NAME, "evidence-0-row")).select_by_index(4)  # row 3
    click(browser, browser.find_element(By.CSS_SELECTOR, "form.evidence-upload button"))
    wait_for(browser, lambda d: evaluation.evidence.exists() and "验收报告.pdf" in d.page_source)
    stored = evaluation.evidence.get()
    assert stored.kind == "pdf" and stored.row == evaluation.indicators.get(position=3).key
    result = evaluation_score(evaluation=evaluation)
    assert evaluation_submit(
        evaluation=evaluation,
        user=staff_a,
        acknowledgements={warning_key(w): "" for w in result.warnings},
    )

    # The reviewer opens the file in the review page, then approves.
    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/{evaluation.pk}/")
    section = wait_for(browser, lambda d: d.find_element(By.ID, "evidence"))
    assert "第3行" in section.text or "3" in section.text
    click(browser, section.find_element(By.CSS_SELECTOR, "details.evidence-preview summary"))
    frame = section.find_element(By.CSS_SELECTOR, "details.evidence-preview iframe")
    assert "inline=1" in frame.get_attribute("src")
    full_page_screenshot(browser, artifacts_dir / "recheck-evidence-review.png")
    click(browser, browser.find_element(By.ID, "approve-button"))
    click(browser, wait_for(browser, lambda d: d.find_element(By.ID, "confirm-approve-button")))
    wait_for(browser, lambda d: "已审核通过" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED

    # Four more approved forms of the year: a 20% sample draws one of the five.
    for number in range(4):
        other = make_evaluation(dept_a, staff_a, project_name=f"复核样本项目{number}")
        Evaluation.objects.filter(pk=other.pk).update(
            status=Status.APPROVED, approved_at=timezone.now()
        )
    browser.get(f"{base}/rechecks/?year=2021")
    draw = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "form.recheck-draw"))
    for name, value in (("share", "20"), ("seed", "20211231")):
        field = draw.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    click(browser, draw.find_element(By.CSS_SELECTOR, "button[type='submit']"))
    wait_for(browser, lambda d: Recheck.objects.exists())
    drawn = Recheck.objects.get()
    assert Recheck.objects.count() == 1

    # Finance re-checks the drawn form with a lower score on its first row.
    browser.get(f"{base}/rechecks/{drawn.evaluation_id}/")
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '开始复核')]"))
    wait_for(browser, lambda d: Recheck.objects.get().status == RecheckStatus.IN_PROGRESS)
    score = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "input[name^='score_']"))
    score.clear()
    score.send_keys("0")
    browser.find_element(By.CSS_SELECTOR, "input[name^='opinion_']").send_keys("佐证不足")
    browser.find_element(By.NAME, "opinion").send_keys("第一项指标缺少佐证，扣分。")
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '保存复核')]"))
    wait_for(browser, lambda d: Recheck.objects.get().opinion)
    browser.get(f"{base}/rechecks/{drawn.evaluation_id}/")
    click(
        browser,
        wait_for(browser, lambda d: d.find_element(By.XPATH, "//button[contains(., '完成复核')]")),
    )
    wait_for(browser, lambda d: Recheck.objects.get().status == RecheckStatus.DONE)
    drawn.refresh_from_db()
    own = Evaluation.objects.get(pk=drawn.evaluation_id).computed_total
    assert drawn.total is not None and own is not None and drawn.total < own
    full_page_screenshot(browser, artifacts_dir / "recheck-page.png")

    # The department sees the result once it is done.
    browser.delete_all_cookies()
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{drawn.evaluation_id}/")
    result_text = wait_for(browser, lambda d: d.find_element(By.ID, "recheck-title")).text
    assert "财政复核结果" in result_text
    assert "第一项指标缺少佐证，扣分。" in browser.page_source


def leaving_asks(browser) -> bool:
    """Whether leaving the page now would ask first (its beforeunload handler cancels)."""
    return browser.execute_script(
        "const e = new Event('beforeunload', {cancelable: true});"
        "window.dispatchEvent(e); return e.defaultPrevented;"
    )


def test_the_recheck_total_follows_the_scores_typed_and_leaving_asks_first(
    live_server, dept_a, staff_a, finance, browser
):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a, project_name="复核实时总分")
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=Status.APPROVED, approved_at=timezone.now()
    )
    recheck, _ = recheck_pick(evaluation=evaluation, user=finance)
    recheck_transition_run(START, recheck=recheck, user=finance)
    first, sixth = (evaluation.indicators.get(position=p).key for p in (1, 6))

    sign_in(browser, live_server.url, finance.username, PASSWORD)
    browser.get(f"{live_server.url}/rechecks/{evaluation.pk}/")
    total = browser.find_element(By.CSS_SELECTOR, '[data-recheck="total"]')
    difference = browser.find_element(By.CSS_SELECTOR, '[data-recheck="difference"]')
    assert (total.text, difference.text) == ("100.00 优", "0.00")
    assert not leaving_asks(browser)

    # Rows 1 and 6 (weights 10 and 15) to 6 and 3: 100 - 4 - 12 = 84 (良), typed, not saved.
    for key, score in ((first, "6"), (sixth, "3")):
        box = browser.find_element(By.NAME, f"score_{key}")
        box.clear()
        box.send_keys(score)
    wait_for(browser, lambda d: total.text == "84.00 良")
    assert difference.text == "16.00"
    row = browser.find_element(By.CSS_SELECTOR, f'[data-row-difference="{sixth}"]')
    assert row.text == "12.00"
    badge = browser.find_element(By.CSS_SELECTOR, '[data-recheck="quality_poor"]')
    assert badge.is_displayed()  # 16 points: more than the threshold of 10
    recheck.refresh_from_db()
    assert recheck.total == 100  # only typed

    # Leaving with the change unsaved asks first. (WebDriver accepts a real beforeunload
    # prompt on its own, so the test asks the page's handler, as the browser does.)
    assert leaving_asks(browser)

    # Completing posts the page: no question, and everything typed is stored. Each
    # deduction states its reason.
    for key, reason in ((first, "佐证不足"), (sixth, "数量未达标")):
        browser.find_element(By.NAME, f"opinion_{key}").send_keys(reason)
    browser.find_element(By.NAME, "opinion").send_keys("两项扣分。")
    browser.execute_script(
        "document.querySelector('form.recheck-form')"
        ".dispatchEvent(new Event('submit', {cancelable: true}));"
    )
    assert not leaving_asks(browser)  # submitting: the page is left on purpose
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '完成复核')]"))
    wait_for(browser, lambda d: "复核已完成" in d.page_source)
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.DONE and recheck.total == 84
    assert recheck.opinion == "两项扣分。"


def test_three_deductions_chosen_by_rule_the_total_follows_and_a_missing_reason_refuses(
    live_server, dept_a, staff_a, finance, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    evaluation = make_evaluation(dept_a, staff_a, project_name="按口径扣分")
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=Status.APPROVED, approved_at=timezone.now()
    )
    recheck, _ = recheck_pick(evaluation=evaluation, user=finance)
    recheck_transition_run(START, recheck=recheck, user=finance)
    keys = {p: evaluation.indicators.get(position=p).key for p in (1, 3, 6)}
    rules = {r.code: r for r in national_rule_set().rules.all()}

    sign_in(browser, live_server.url, finance.username, PASSWORD)
    browser.get(f"{live_server.url}/rechecks/{evaluation.pk}/")
    total = browser.find_element(By.CSS_SELECTOR, '[data-recheck="total"]')
    assert total.text == "100.00 优"

    # Row 1 (10) by rule 1: 0; row 3 (10) by rule 3 at 30%: 7; row 6 (15) by rule 3 at 60%: 6.
    chosen = ((1, str(rules["1"].pk), "0.00"), (3, f"{rules['3'].pk}:30", "7.00"))
    chosen += ((6, f"{rules['3'].pk}:60", "6.00"),)
    for position, value, score in chosen:
        Select(browser.find_element(By.NAME, f"rule_{keys[position]}")).select_by_value(value)
        box = browser.find_element(By.NAME, f"score_{keys[position]}")
        assert box.get_attribute("value") == score
    wait_for(browser, lambda d: total.text == "78.00 中")  # 100 - 10 - 3 - 9
    percent = browser.find_element(By.CSS_SELECTOR, f'[data-row-percent="{keys[6]}"]')
    wait_for(browser, lambda d: percent.text == "（60.00%）")
    reason = browser.find_element(By.NAME, f"opinion_{keys[3]}")
    wait_for(browser, lambda d: "is-invalid" in reason.get_attribute("class"))

    # Reasons for two of the three: completing is refused, and the page keeps everything.
    browser.find_element(By.NAME, f"opinion_{keys[1]}").send_keys("无佐证材料")
    browser.find_element(By.NAME, f"opinion_{keys[6]}").send_keys("指标无法核实")
    browser.find_element(By.NAME, "opinion").send_keys("三项扣分。")
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '完成复核')]"))
    wait_for(browser, lambda d: "第3行扣分未说明理由" in d.page_source)
    full_page_screenshot(browser, artifacts_dir / "recheck-by-rule-refused.png")
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.IN_PROGRESS
    select = Select(browser.find_element(By.NAME, f"rule_{keys[6]}"))
    assert select.first_selected_option.get_attribute("value") == f"{rules['3'].pk}:60"
    assert (
        browser.find_element(By.NAME, f"opinion_{keys[1]}").get_attribute("value") == "无佐证材料"
    )
    assert browser.find_element(By.CSS_SELECTOR, '[data-recheck="total"]').text == "78.00 中"

    # The third reason given: completed, each deduction stored with its rule.
    browser.find_element(By.NAME, f"opinion_{keys[3]}").send_keys("达标率无计算口径")
    click(browser, browser.find_element(By.XPATH, "//button[contains(., '完成复核')]"))
    wait_for(browser, lambda d: "复核已完成" in d.page_source)
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.DONE and recheck.total == 78
    cited = {r.key: (r.rule.code, r.percent) for r in recheck.rows.exclude(rule=None)}
    assert cited == {keys[1]: ("1", None), keys[3]: ("3", 30), keys[6]: ("3", 60)}
    assert "第3条 扣分值的60%" in browser.page_source
    full_page_screenshot(browser, artifacts_dir / "recheck-by-rule-done.png")
