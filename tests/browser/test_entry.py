"""A department staff member fills in a self-evaluation in a real (headless) browser."""

from __future__ import annotations

import pytest

from evaluations.core.categories import level2_choices
from evaluations.models import Evaluation
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

HEADER = {
    "year": "2022",
    "project_name": "农村危房改造质量监督检查",
    "implementing_unit": "昌吉州住建局本级",
    "goal_target": "完成全州农村危房改造质量监督检查，改善群众居住条件。",
    "goal_actual": "全年完成检查 12 次，群众居住条件明显改善。",
}
FUNDING = {
    "total": ("100", "100", "90"),
    "current_year": ("80", "80", "72.5"),
    "carryover": ("20", "20", "17.5"),
    "other": ("0", "0", "0"),
}
# level1, level2, name, target, actual, weight, score, deviation
INDICATORS = [
    ("产出指标", "数量指标", "完成质量检查次数", ">=10次", "12次", "20", "20", ""),
    ("产出指标", "质量指标", "检查问题整改率", ">=95%", "98%", "10", "10", ""),
    ("产出指标", "时效指标", "检查完成时间", "2022年12月31日", "2022年12月20日", "10", "10", ""),
    ("产出指标", "成本指标", "检查工作经费", "<=100万元", "90万元", "10", "10", ""),
    ("效益指标", "社会效益指标", "群众居住条件", "有效改善", "有效改善", "10", "10", ""),
    (
        "效益指标",
        "经济效益指标",
        "带动建材消费",
        "逐步提高",
        "部分提高",
        "10",
        "9",
        "受疫情影响部分项目延期开工，明年提前安排检查计划。",
    ),
    ("效益指标", "可持续影响指标", "质量监管长效机制", "持续有效", "持续有效", "10", "10", ""),
    ("满意度指标", "满意度指标", "群众满意度", ">=95%", "96%", "10", "10", ""),
]
# 90 / 100 → 9.00 for execution; indicators 89 → 98.
EXPECTED_TOTAL = "98.00"


def _select(element, text: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(element).select_by_visible_text(text)


def _type(element, text: str) -> None:
    element.clear()
    if text:
        element.send_keys(text)


def _rows(driver):
    from selenium.webdriver.common.by import By

    return [
        row
        for row in driver.find_elements(By.CSS_SELECTOR, "tbody.indicator")
        if "is-deleted" not in (row.get_attribute("class") or "")
    ]


def _cell(row, name: str):
    from selenium.webdriver.common.by import By

    return row.find_element(By.CSS_SELECTOR, f'[name$="-{name}"]')


def _fit_rows(driver, count: int) -> None:
    """Add rows with the button, or remove surplus ones with ✕ (a new form starts with the
    template's standard rows)."""
    from selenium.webdriver.common.by import By

    while len(_rows(driver)) < count:
        click(driver, driver.find_element(By.ID, "add-indicator"))
    while len(_rows(driver)) > count:
        click(driver, _rows(driver)[-1].find_element(By.CSS_SELECTOR, '[data-action="remove"]'))


@pytest.mark.django_db(transaction=True)
def test_it_lets_staff_fill_in_save_and_reopen_a_form(
    live_server,
    staff_a,
    browser,
    artifacts_dir,
):
    from selenium.webdriver.common.by import By

    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    assert "绩效自评表" in browser.page_source

    browser.get(f"{live_server.url}/evaluations/new/")
    by_name = lambda name: browser.find_element(By.NAME, name)  # noqa: E731
    for name, value in HEADER.items():
        _type(by_name(name), value)
    for kind, values in FUNDING.items():
        for column, value in zip(
            ("initial_budget", "annual_budget", "executed"), values, strict=True
        ):
            _type(by_name(f"funding-{kind}-{column}"), value)

    _fit_rows(browser, len(INDICATORS))
    rows = _rows(browser)
    assert len(rows) == len(INDICATORS)
    for row, values in zip(rows, INDICATORS, strict=True):
        level1, level2, name, target, actual, weight, score, deviation = values
        _select(_cell(row, "level1"), level1)
        # The second level only offers the names of the chosen first level.
        options = [o.text for o in _cell(row, "level2").find_elements(By.TAG_NAME, "option")]
        assert options[1:] == level2_choices()[level1]
        _select(_cell(row, "level2"), level2)
        for field, value in zip(
            ("name", "target", "actual", "weight", "score", "deviation"),
            (name, target, actual, weight, score, deviation),
            strict=True,
        ):
            _type(_cell(row, field), value)

    # The server's scoring engine recomputes the total while typing.
    wait_for(
        browser,
        lambda d: d.find_element(By.ID, "computed-total").text == EXPECTED_TOTAL,
    )
    assert (
        browser.find_element(By.CSS_SELECTOR, '[data-computed="execution_rate"]').text == "90.00%"
    )

    click(browser, browser.find_element(By.ID, "save-draft"))
    wait_for(browser, lambda d: "/edit/" in d.current_url)
    assert "已保存" in browser.page_source
    evaluation = Evaluation.objects.get(project_name=HEADER["project_name"])
    assert evaluation.department == staff_a.membership.department
    assert str(evaluation.computed_total) == "98.00"
    assert evaluation.indicators.count() == len(INDICATORS)

    # Reopen the edit page: every value is there as typed.
    browser.get(f"{live_server.url}/evaluations/{evaluation.pk}/edit/")
    for name, value in HEADER.items():
        assert by_name(name).get_attribute("value") == value, name
    for kind, values in FUNDING.items():
        for column, value in zip(
            ("initial_budget", "annual_budget", "executed"), values, strict=True
        ):
            assert by_name(f"funding-{kind}-{column}").get_attribute("value") == value
    rows = _rows(browser)
    assert len(rows) == len(INDICATORS)
    for row, values in zip(rows, INDICATORS, strict=True):
        fields = ("level1", "level2", "name", "target", "actual", "weight", "score", "deviation")
        typed = tuple(_cell(row, f).get_attribute("value") for f in fields)
        assert typed == values
    assert browser.find_element(By.ID, "computed-total").text == EXPECTED_TOTAL

    full_page_screenshot(browser, artifacts_dir / "edit-page.png")


@pytest.mark.django_db(transaction=True)
def test_it_moves_and_removes_indicator_rows(live_server, staff_a, browser):
    from selenium.webdriver.common.by import By

    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/new/")
    browser.find_element(By.NAME, "year").send_keys("2022")
    browser.find_element(By.NAME, "project_name").send_keys("顺序测试项目")
    _fit_rows(browser, 3)
    for row, name in zip(_rows(browser), ("甲", "乙", "丙"), strict=True):
        _type(_cell(row, "name"), name)
        _type(_cell(row, "weight"), "5")
    rows = _rows(browser)
    click(browser, rows[2].find_element(By.CSS_SELECTOR, '[data-action="up"]'))  # 甲 丙 乙
    click(browser, rows[0].find_element(By.CSS_SELECTOR, '[data-action="remove"]'))  # 丙 乙
    click(browser, browser.find_element(By.ID, "save-draft"))
    wait_for(browser, lambda d: "/edit/" in d.current_url)
    evaluation = Evaluation.objects.get(project_name="顺序测试项目")
    assert list(evaluation.indicators.values_list("name", flat=True)) == ["丙", "乙"]
