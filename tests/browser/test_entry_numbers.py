"""Numbers typed on the entry page, in a real (headless) browser: while typing, a refused
number gets a plain message under its box, a leniently read one says how it was read."""

from __future__ import annotations

import pytest

from tests.browser import full_page_screenshot, sign_in, wait_for
from tests.conftest import ARTIFACTS_DIR, PASSWORD
from tests.factories import make_evaluation

pytestmark = pytest.mark.browser

MESSAGE = "只填数字，例如 9.5"


def _box(driver, name: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.NAME, name)


def _feedback(driver, name: str, kind: str) -> str:
    """The text of the live message of ``kind`` ("error" / "note") under a box, or ""."""
    return driver.execute_script(
        """
        const input = document.querySelector(`[name="${arguments[0]}"]`);
        const el = Array.from(input.parentElement.querySelectorAll(`[data-live-${arguments[1]}]`))
          .find((e) => e.dataset[arguments[1] === "error" ? "liveError" : "liveNote"] === input.name);
        if (!el) return "";
        const style = getComputedStyle(el);
        // Shown in the page, not hidden and not a tooltip.
        return style.display === "none" || style.visibility === "hidden" ? "" : el.textContent;
        """,
        name,
        kind,
    )


def _retype(driver, name: str, text: str) -> None:
    box = _box(driver, name)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.clear()
    box.send_keys(text)


@pytest.mark.django_db(transaction=True)
def test_it_explains_a_number_while_it_is_typed(live_server, dept_a, staff_a, browser):
    evaluation = make_evaluation(dept_a, staff_a)
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/{evaluation.pk}/edit/")

    _retype(browser, "ind-0-weight", "十分")
    wait_for(browser, lambda d: _feedback(d, "ind-0-weight", "error") == MESSAGE)
    weight = _box(browser, "ind-0-weight")
    assert "is-invalid" in weight.get_attribute("class")
    assert not weight.get_attribute("title")  # in the page, not in a hover tooltip
    assert weight.get_attribute("value") == "十分"  # what was typed stays
    # A screen reader reads the message with the box.
    described = browser.execute_script(
        "return arguments[0].getAttribute('aria-describedby').split(' ')"
        ".map((id) => document.getElementById(id).textContent)",
        weight,
    )
    assert MESSAGE in described
    # No follow-on findings from the refused weight (no "超出范围", no weight sum).
    row_findings = browser.execute_script(
        "return document.querySelector('tbody.indicator .row-findings').textContent"
    )
    assert "超出范围" not in row_findings
    form_findings = browser.execute_script(
        "return document.getElementById('form-findings').textContent"
    )
    assert "分值合计为" not in form_findings

    _retype(browser, "ind-0-weight", "10分")
    wait_for(browser, lambda d: _feedback(d, "ind-0-weight", "note") == "已按 10 填写")
    assert _feedback(browser, "ind-0-weight", "error") == ""
    assert "is-invalid" not in _box(browser, "ind-0-weight").get_attribute("class")

    _retype(browser, "funding-total-executed", "57.55元")
    wait_for(browser, lambda d: "万元" in _feedback(d, "funding-total-executed", "error"))
    _retype(browser, "funding-total-executed", "1,000")
    wait_for(browser, lambda d: _feedback(d, "funding-total-executed", "note") == "已按 1000 填写")
    full_page_screenshot(browser, ARTIFACTS_DIR / "entry-numbers-live.png")


@pytest.mark.django_db(transaction=True)
def test_a_failed_save_keeps_the_text_and_the_live_check_clears_the_message(
    live_server, dept_a, staff_a, browser
):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a)
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/{evaluation.pk}/edit/")
    _retype(browser, "ind-1-score", "abc")
    _retype(browser, "ind-2-weight", "10分")
    browser.execute_script("document.getElementById('evaluation-form').requestSubmit()")
    wait_for(browser, lambda d: d.find_elements(By.ID, "input-errors"))
    assert _box(browser, "ind-1-score").get_attribute("value") == "abc"
    cell_text = browser.execute_script(
        "return document.querySelector('[name=\"ind-1-score\"]').parentElement.textContent"
    )
    assert MESSAGE in cell_text
    # The other box says how it was read.
    assert _feedback(browser, "ind-2-weight", "note") == "已按 10 填写"

    _retype(browser, "ind-1-score", "10")
    wait_for(
        browser,
        lambda d: (
            MESSAGE
            not in d.execute_script(
                "return document.querySelector('[name=\"ind-1-score\"]').parentElement.textContent"
            )
        ),
    )
