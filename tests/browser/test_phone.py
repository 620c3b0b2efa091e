"""Browser test of the phone layout on the pages other than the edit page.

At 390 × 844 the list, the read-only page, the review page, the review queue and the
dashboard are as wide as the window (lists scroll inside their own box), and the official
grid gives way to cards; at 1400 × 1000 the grid is back and the cards are hidden.
Screenshots of every page at both sizes go to test-artifacts/ (phone-*.png, wide-*.png).
"""

from __future__ import annotations

import pytest

from evaluations.core import fields
from evaluations.core.formats import format_points
from evaluations.models import ReviewComment, Status
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)
WIDE = (1400, 1000)


def at_size(browser, size: tuple[int, int], url: str) -> None:
    browser.set_window_size(*size)
    browser.get(url)
    assert browser.execute_script("return window.innerWidth") == size[0]


def page_width(browser) -> tuple[int, int]:
    return tuple(
        browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    )


def check_page(browser, url: str, name: str, artifacts_dir, sheet: bool) -> None:
    """Both sizes: no sideways scrolling; cards on the phone, the grid on a wide screen."""
    from selenium.webdriver.common.by import By

    at_size(browser, PHONE, url)
    scroll, inner = page_width(browser)
    assert scroll <= inner, (name, scroll, inner)
    if sheet:
        assert browser.find_element(By.ID, "official-cards").is_displayed()
        assert not browser.find_element(By.ID, "official-table").is_displayed()
    # The navigation bar does not cover the top of the content.
    main_top = browser.execute_script(
        "return document.querySelector('main').getBoundingClientRect().top"
    )
    nav_bottom = browser.execute_script(
        "return document.querySelector('nav.navbar').getBoundingClientRect().bottom"
    )
    assert main_top >= nav_bottom
    full_page_screenshot(browser, artifacts_dir / f"phone-{name}.png", width=PHONE[0])

    at_size(browser, WIDE, url)
    scroll, inner = page_width(browser)
    assert scroll <= inner, (name, scroll, inner)
    if sheet:
        assert browser.find_element(By.ID, "official-table").is_displayed()
        assert not browser.find_element(By.ID, "official-cards").is_displayed()
    full_page_screenshot(browser, artifacts_dir / f"wide-{name}.png", width=WIDE[0])


def check_cards(browser, url: str, evaluation) -> None:
    """Each indicator's card shows its labels and the stored values."""
    from selenium.webdriver.common.by import By

    at_size(browser, PHONE, url)
    form = evaluation.as_form_data()
    for position, ind in enumerate(form.indicators, start=1):
        card = browser.find_element(By.ID, f"indicator-card-{position}")
        assert card.is_displayed()
        text = card.text
        for key in ("level1", "level2", "name", "target", "actual", "weight", "score"):
            assert str(fields.INDICATOR[key].label) in text
        for value in (ind.name, ind.target, ind.actual):
            assert value in text

        def shown(key: str, card=card, position=position) -> str:
            selector = f"[data-field='indicators.{position}.{key}']"
            return card.find_element(By.CSS_SELECTOR, selector).text.splitlines()[0]

        assert shown("weight") == format_points(ind.weight)
        assert shown("score") == format_points(ind.score)
        # 一级/二级 on every card, though the grid merges them over a group's rows.
        assert shown("level1") == ind.level1
        assert shown("level2") == ind.level2
    # The funding block as labelled fields.
    funding = browser.find_element(By.CSS_SELECTOR, "#official-cards [data-section='funding']")
    assert "年初预算数" in funding.text and "执行率" in funding.text


def test_the_pages_fit_a_phone(live_server, dept_a, staff_a, finance, browser, artifacts_dir):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a, project_name="手机版面检查项目")
    evaluation.indicators.filter(position=3).update(score=99)  # an error on row 3
    for n in range(3):
        make_evaluation(dept_a, staff_a, project_name=f"手机列表项目{n}")
    base = live_server.url

    # The department's pages.
    sign_in(browser, base, staff_a.username, PASSWORD)
    check_page(browser, f"{base}/evaluations/", "list", artifacts_dir, sheet=False)
    check_page(browser, f"{base}/evaluations/{evaluation.pk}/", "detail", artifacts_dir, sheet=True)
    check_cards(browser, f"{base}/evaluations/{evaluation.pk}/", evaluation)

    # The bureau's pages.
    type(evaluation).objects.filter(pk=evaluation.pk).update(status=Status.SUBMITTED)
    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    check_page(browser, f"{base}/review/", "queue", artifacts_dir, sheet=False)
    check_page(browser, f"{base}/review/{evaluation.pk}/", "review", artifacts_dir, sheet=True)
    check_cards(browser, f"{base}/review/{evaluation.pk}/", evaluation)
    check_page(browser, f"{base}/dashboard/", "dashboard", artifacts_dir, sheet=False)
    # The execution-rate chart's department names stay readable on the phone (they shrank
    # to 7 px with the chart): the chart scrolls in its own box, which the keyboard reaches.
    at_size(browser, PHONE, f"{base}/dashboard/")
    name_height = browser.execute_script(
        "return document.querySelector('.execution-chart .chart-label')"
        ".getBoundingClientRect().height"
    )
    assert name_height >= 10, name_height
    box = browser.find_element(By.CSS_SELECTOR, ".execution-chart")
    assert box.get_attribute("tabindex") == "0" and box.accessible_name
    assert page_width(browser)[0] <= PHONE[0]
    check_page(browser, f"{base}/evaluations/", "list-finance", artifacts_dir, sheet=False)

    # On the phone the reviewer types a row comment on the card and returns the form.
    at_size(browser, PHONE, f"{base}/review/{evaluation.pk}/")
    grid_field = browser.find_element(By.ID, "id_comment-indicator-5")
    card_field = browser.find_element(By.ID, "phone-id_comment-indicator-5")
    wait_for(browser, lambda d: card_field.is_enabled())
    assert not grid_field.is_enabled()
    click(browser, card_field)
    card_field.send_keys("请补充测算依据")
    # Turning the phone (here: widening the window) takes the typed text to the grid and back.
    browser.set_window_size(*WIDE)
    wait_for(browser, lambda d: grid_field.is_enabled())
    assert grid_field.get_attribute("value") == "请补充测算依据"
    assert not card_field.is_enabled()
    browser.set_window_size(*PHONE)
    wait_for(browser, lambda d: card_field.is_enabled())
    assert card_field.get_attribute("value") == "请补充测算依据"
    reason = browser.find_element(By.NAME, "reason")
    click(browser, reason)
    reason.send_keys("成本指标说明不足")
    click(browser, browser.find_element(By.ID, "return-button"))
    wait_for(browser, lambda d: "已退回" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED
    comment = ReviewComment.objects.get(evaluation=evaluation)
    assert (comment.position, comment.text) == (5, "请补充测算依据")
