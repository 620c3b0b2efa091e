"""Text limits on the entry page in a browser: the character counters and the row limit."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from evaluations.core.evaluation_data import IndicatorData
from evaluations.core.limits import MAX_INDICATORS
from tests.browser import click, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import D, clean_form_data, make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _set_value(driver, element, text: str) -> None:
    """Put text into a field as a paste would, firing the page's input handlers."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        element,
        text,
    )


def _counter_of(element):
    return element.find_element(By.XPATH, "following-sibling::*[1]")


def test_it_counts_characters_and_stops_adding_rows_in_the_browser(
    live_server, staff_a, dept_a, browser
):
    row = clean_form_data().indicators[0]
    rows = [
        IndicatorData(row.level1, row.level2, f"指标{i}", row.target, row.actual, D("1"), D("1"))
        for i in range(MAX_INDICATORS)
    ]
    evaluation = make_evaluation(dept_a, indicators=rows)
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/{evaluation.pk}/edit/")

    goal = browser.find_element(By.NAME, "goal_target")
    counter = _counter_of(goal)
    assert counter.text == f"{len(evaluation.goal_target)} / 2000"
    assert "char-counter" in counter.get_attribute("class")
    _set_value(browser, goal, "目" * 1799 + "\n")
    assert counter.text == "1800 / 2000"
    assert "text-warning-emphasis" in counter.get_attribute("class")
    _set_value(browser, goal, "目" * 2001)
    assert counter.text == "2001 / 2000 （超出 1 字，请删减）"
    assert "text-danger" in counter.get_attribute("class")

    # A short text shows its counter only near the limit.
    target = browser.find_element(By.NAME, "ind-0-target")
    cell = target.find_element(By.XPATH, "..")
    assert cell.find_elements(By.CSS_SELECTOR, ".char-counter") == []
    _set_value(browser, target, "值" * 95)
    assert _counter_of(target).text == "95 / 100"

    # At the row limit the add button is off, and a click adds nothing.
    add = browser.find_element(By.ID, "add-indicator")
    assert not add.is_enabled()
    assert add.get_attribute("title") == "每张表最多 60 行指标"
    browser.execute_script("arguments[0].click()", add)
    total = browser.find_element(By.NAME, "ind-TOTAL_FORMS")
    assert total.get_attribute("value") == str(MAX_INDICATORS)
    click(browser, browser.find_elements(By.CSS_SELECTOR, '[data-action="remove"]')[0])
    wait_for(browser, lambda d: d.find_element(By.ID, "add-indicator").is_enabled())
