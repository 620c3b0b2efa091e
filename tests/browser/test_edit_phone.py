"""Browser tests of the edit page on a phone and for screen readers.

At 390 × 844 the edit page is as wide as the window: the same inputs laid out as cards
(labelled funding boxes, one card per indicator row), a compact save bar; at 1400 × 1000
the official grid. At both sizes every box has a name that says its row and its column,
and a failed save puts the focus on a summary whose links lead to the boxes.
Screenshots: test-artifacts/phone-edit*.png, wide-edit.png.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.models import Evaluation
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)
WIDE = (1400, 1000)

# Every box the clerk types into, by the part of its name that must be announced.
EXPECTED_NAMES = {
    "year": "年度",
    "project_name": "项目名称",
    "implementing_unit": "实施单位",
    "funding-total-initial_budget": "年度资金总额 年初预算数",
    "funding-current_year-annual_budget": "其中：当年财政拨款 全年预算数",
    "funding-other-executed": "其他资金 全年执行数",
    "execution_weight": "年度资金总额 分值",
    "goal_target": "预期目标",
    "goal_actual": "实际完成情况",
    "ind-0-level1": "第 1 行 一级指标",
    "ind-0-level2": "第 1 行 二级指标",
    "ind-1-name": "第 2 行 三级指标",
    "ind-2-target": "第 3 行 年度指标值",
    "ind-2-actual": "第 3 行 实际完成值",
    "ind-3-weight": "第 4 行 分值",
    "ind-3-score": "第 4 行 得分",
    "ind-4-deviation": "第 5 行 偏差原因分析及改进措施",
    "unit_head": "单位负责人",
    "filler_name": "填报人",
    "filler_phone": "联系电话",
}


def at_size(browser, size: tuple[int, int], url: str) -> None:
    browser.set_window_size(*size)
    browser.get(url)
    wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.execute_script("return window.innerWidth") == size[0]


def boxes_without_names(browser) -> list[str]:
    """The visible boxes of the form whose accessible name is empty."""
    from selenium.webdriver.common.by import By

    missing = []
    for el in browser.find_elements(By.CSS_SELECTOR, "#evaluation-form input, select, textarea"):
        if el.get_attribute("type") == "hidden" or not el.is_displayed():
            continue
        if not (el.accessible_name or "").strip():
            missing.append(el.get_attribute("name"))
    return missing


def test_the_edit_page_fits_a_phone_and_saves_from_the_cards(
    live_server, dept_a, staff_a, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a, project_name="手机填报项目")
    url = f"{live_server.url}/evaluations/{evaluation.pk}/edit/"
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)

    at_size(browser, PHONE, url)
    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= inner, (scroll, inner)
    # Cards, not the grid: each indicator row is a block as wide as the page, titled 第 N 行.
    assert (
        browser.execute_script(
            "return getComputedStyle(document.getElementById('indicator-table')).display"
        )
        == "block"
    )
    card = browser.find_elements(By.CSS_SELECTOR, "tbody.indicator")[1]
    assert card.find_element(By.CSS_SELECTOR, ".row-number").text.replace(" ", "") == "第2行"
    assert card.rect["width"] <= inner
    # Every box is readable (at 390 px the grid made them 15 px wide) and labelled on the
    # card by its column's heading.
    widths = browser.execute_script(
        """const boxes = '#evaluation-form input:not([type=hidden]), '
             + '#evaluation-form select, #evaluation-form textarea';
           return Array.from(document.querySelectorAll(boxes))
             .filter((el) => el.getClientRects().length)
             .map((el) => [el.name, Math.round(el.getBoundingClientRect().width)]);"""
    )
    narrow = [(name, width) for name, width in widths if width < 90 and name != "year"]
    assert not narrow, narrow
    labels = browser.execute_script(
        """const row = document.querySelectorAll('tbody.indicator')[1];
           return Array.from(row.querySelectorAll('td[data-label]')).map(
             (td) => getComputedStyle(td, '::before').content);"""
    )
    assert all(label.startswith('"') for label in labels), labels
    shown = " ".join(labels)
    for heading in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"):
        assert heading in shown
    funding_labels = browser.execute_script(
        """return Array.from(document.querySelectorAll('tr.funding-row td[data-label]'))
           .filter((td) => td.getClientRects().length)
           .map((td) => getComputedStyle(td, '::before').content);"""
    )
    assert any("年初预算数" in label for label in funding_labels)
    assert any("执行率" in label for label in funding_labels)
    # The save bar is compact: it covers less than a seventh of the screen (was a fifth).
    bar = browser.find_element(By.CSS_SELECTOR, ".save-bar")
    assert bar.rect["height"] < PHONE[1] / 7, bar.rect
    assert browser.find_element(By.ID, "save-draft").is_displayed()
    assert not boxes_without_names(browser)
    full_page_screenshot(browser, artifacts_dir / "phone-edit.png", width=PHONE[0])

    # Typing on the card saves like the grid.
    score = browser.find_element(By.NAME, "ind-1-score")
    click(browser, score)
    score.clear()
    score.send_keys("3")
    click(browser, browser.find_element(By.ID, "save-draft"))
    wait_for(browser, lambda d: "已保存" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.indicators.get(position=2).score == Decimal("3")

    # A failed save on the phone: the summary takes the focus; its link leads to the box.
    weight = browser.find_element(By.NAME, "ind-2-weight")
    click(browser, weight)
    weight.clear()
    weight.send_keys("十分")
    click(browser, browser.find_element(By.ID, "save-draft"))
    wait_for(browser, lambda d: d.find_elements(By.ID, "input-errors"))
    assert browser.execute_script("return document.activeElement.id") == "input-errors"
    link = browser.find_element(By.CSS_SELECTOR, "#error-links a[data-field-id='id_ind-2-weight']")
    assert link.text == "第 3 行 分值"
    full_page_screenshot(browser, artifacts_dir / "phone-edit-errors.png", width=PHONE[0])
    click(browser, link)
    assert browser.execute_script("return document.activeElement.name") == "ind-2-weight"
    box = browser.find_element(By.NAME, "ind-2-weight")
    assert box.get_attribute("value") == "十分"
    assert box.get_attribute("aria-invalid") == "true"
    described = browser.execute_script(
        """const ids = arguments[0].getAttribute('aria-describedby').split(/\\s+/);
           return ids.map((id) => document.getElementById(id).textContent).join(' ');""",
        box,
    )
    assert "只填数字" in described
    # Still on the phone layout after the failed save, and nothing was written.
    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= inner
    assert Evaluation.objects.get(pk=evaluation.pk).revision == evaluation.revision


def test_every_box_names_its_row_and_column_at_both_sizes(
    live_server, dept_a, staff_a, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    evaluation = make_evaluation(dept_a, staff_a, project_name="读屏检查项目")
    evaluation.indicators.filter(position=3).update(score=99)  # an error on row 3
    url = f"{live_server.url}/evaluations/{evaluation.pk}/edit/"
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    for size in (WIDE, PHONE):
        at_size(browser, size, url)
        for name, expected in EXPECTED_NAMES.items():
            assert browser.find_element(By.NAME, name).accessible_name == expected, (size, name)
        assert not boxes_without_names(browser), size
    full_page_screenshot(browser, artifacts_dir / "wide-edit.png", width=WIDE[0])

    # The grid is back on a wide screen, and moving a row renames its boxes.
    at_size(browser, WIDE, url)
    assert (
        browser.execute_script(
            "return getComputedStyle(document.getElementById('indicator-table')).display"
        )
        == "table"
    )
    name = browser.find_element(By.NAME, "ind-0-name")
    click(browser, name)
    name.send_keys(Keys.ALT, Keys.ARROW_DOWN)
    wait_for(
        browser,
        lambda d: d.find_element(By.NAME, "ind-0-name").accessible_name == "第 2 行 三级指标",
    )
    assert browser.find_element(By.NAME, "ind-1-name").accessible_name == "第 1 行 三级指标"
    # A row added by the page is named like the others.
    click(browser, browser.find_element(By.ID, "add-indicator"))
    count = len(evaluation.indicators.all())
    added = browser.find_element(By.NAME, f"ind-{count}-weight")
    assert added.accessible_name == f"第 {count + 1} 行 分值"
    # A finding says its kind to a screen reader, not only by its colour and mark.
    finding = browser.find_element(By.CSS_SELECTOR, ".row-findings li.finding-error")
    assert (
        finding.find_element(By.CSS_SELECTOR, ".visually-hidden").get_attribute("textContent")
        == "错误："
    )


def test_a_returned_form_shows_the_comments_in_its_cards_on_a_phone(
    live_server, dept_a, staff_a, finance, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By

    from evaluations.models import Status
    from evaluations.workflow import evaluation_return

    evaluation = make_evaluation(dept_a, staff_a, project_name="退回后手机修改项目")
    Evaluation.objects.filter(pk=evaluation.pk).update(status=Status.SUBMITTED)
    evaluation.refresh_from_db()
    assert evaluation_return(
        evaluation=evaluation,
        user=finance,
        reason="请补充佐证材料",
        comments=[
            {"target": "indicator", "position": 2, "funding_kind": "", "text": "请附检查台账"},
            {"target": "funding", "position": None, "funding_kind": "total", "text": "执行数有误"},
        ],
    )
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    at_size(browser, PHONE, f"{live_server.url}/evaluations/{evaluation.pk}/edit/")
    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= inner
    reason = browser.find_element(By.ID, "return-reason")
    assert "请补充佐证材料" in reason.text and "执行数有误" in reason.text
    # The row's comment is inside the row's card, below its boxes.
    card = browser.find_elements(By.CSS_SELECTOR, "tbody.indicator")[1]
    comment = card.find_element(By.CSS_SELECTOR, ".review-comment")
    assert comment.is_displayed() and "请附检查台账" in comment.text
    assert comment.rect["y"] > card.find_element(By.NAME, "ind-1-deviation").rect["y"]
    assert comment.rect["x"] >= card.rect["x"]
    assert comment.rect["x"] + comment.rect["width"] <= card.rect["x"] + card.rect["width"] + 1
    full_page_screenshot(browser, artifacts_dir / "phone-edit-returned.png", width=PHONE[0])
