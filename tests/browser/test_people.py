"""Browser test of the people page (/people/) at phone and desktop width, checked with axe.

The administrator adds a person in one form, reads the one-time password, finds the person
in the list and resets the password; every page has no serious or critical axe violation,
every control a name, and no page scrolls sideways. Screenshots: test-artifacts/people-*.png.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from departments.models import Membership, RegisterChange, Role
from tests.a11y import axe_violations, format_violations, unnamed_controls
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (390, 844), "desktop": (1400, 1000)}


def check_page(browser, name: str, artifacts_dir) -> None:
    """No serious axe violation, every control named, no sideways scrolling."""
    violations = axe_violations(browser)
    assert violations == [], format_violations(violations)
    assert unnamed_controls(browser) == []
    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= inner, (name, scroll, inner)
    full_page_screenshot(browser, artifacts_dir / f"people-{name}.png", width=inner)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_administrator_adds_finds_and_resets_a_person(
    size, live_server, browser, admin_user, staff_a, artifacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    department = staff_a.membership.department
    browser.set_window_size(*SIZES[size])
    sign_in(browser, live_server.url, admin_user.username, PASSWORD)

    browser.get(f"{live_server.url}/people/new/")
    check_page(browser, f"{size}-new", artifacts_dir)
    browser.find_element(By.NAME, "name").send_keys("王五")
    browser.find_element(By.NAME, "username").send_keys("wangwu")
    Select(browser.find_element(By.NAME, "role")).select_by_value(Role.HEAD)
    # The searchable department picker: type part of the name, pick with Enter.
    box = browser.find_element(By.ID, "id_department-search")
    click(browser, box)
    box.send_keys("住房")
    wait_for(
        browser,
        lambda d: [
            o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]') if o.is_displayed()
        ],
    )
    box.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
    browser.find_element(By.NAME, "phone").send_keys("13912345678")
    click(browser, browser.find_element(By.CSS_SELECTOR, ".person-form button[type=submit]"))
    shown = wait_for(browser, lambda d: d.find_elements(By.ID, "one-time-password"))
    password = shown[0].text
    user = get_user_model().objects.get(username="wangwu")
    assert user.check_password(password)
    membership = Membership.objects.get(user=user)
    assert (membership.role, membership.department_id, membership.must_change_password) == (
        Role.HEAD,
        department.pk,
        True,
    )
    check_page(browser, f"{size}-created", artifacts_dir)

    browser.get(f"{live_server.url}/people/?q=王五")
    rows = browser.find_elements(By.CSS_SELECTOR, ".people-list .person-row")
    assert [r.find_element(By.TAG_NAME, "a").text for r in rows] == ["王五"]
    check_page(browser, f"{size}-list", artifacts_dir)

    click(browser, rows[0].find_element(By.TAG_NAME, "a"))
    wait_for(browser, lambda d: f"/people/{user.pk}/" in d.current_url)
    button = browser.find_element(By.XPATH, "//button[normalize-space()='重置密码']")
    click(browser, button)
    again = wait_for(browser, lambda d: d.find_elements(By.ID, "one-time-password"))[0].text
    assert again != password
    user.refresh_from_db()
    assert user.check_password(again)
    assert "重置密码" in browser.find_element(By.CSS_SELECTOR, ".person-changes").text
    assert RegisterChange.objects.filter(person=user).count() == 2
    check_page(browser, f"{size}-reset", artifacts_dir)

    browser.get(f"{live_server.url}/people/departments/")
    assert "王五" in browser.find_element(By.CSS_SELECTOR, ".department-staffing").text
    check_page(browser, f"{size}-departments", artifacts_dir)
