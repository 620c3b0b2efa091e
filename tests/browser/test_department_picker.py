"""The searchable department picker in Chromium: type part of a name, pick with the keyboard,
the list filters."""

from __future__ import annotations

import pytest

from departments.models import Department
from evaluations.models import Evaluation, Status
from tests.browser import full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_type_part_of_a_name_pick_it_with_the_keyboard_and_the_list_filters(
    finance, live_server, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    departments = Department.objects.bulk_create(
        Department(name=f"昌吉回族自治州第{i:03d}局") for i in range(200)
    )
    water = Department.objects.create(name="昌吉回族自治州水利局")
    Evaluation.objects.create(
        year=2021, department=water, project_name="水库除险加固", status=Status.SUBMITTED
    )
    Evaluation.objects.create(
        year=2021, department=departments[5], project_name="别的项目", status=Status.SUBMITTED
    )
    sign_in(browser, live_server.url, finance.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/")
    box = wait_for(browser, lambda d: d.find_element(By.ID, "id_department-search"))
    # The plain select is hidden; its label now names the box.
    select = browser.find_element(By.ID, "id_department")
    assert not select.is_displayed()
    assert box.get_attribute("role") == "combobox"
    label = browser.find_element(By.CSS_SELECTOR, 'label[for="id_department-search"]')
    assert label.text == "主管部门"
    assert browser.execute_script("return arguments[0].labels[0].textContent", box) == "主管部门"

    box.click()
    box.send_keys("水利")
    options = wait_for(
        browser,
        lambda d: [
            o for o in d.find_elements(By.CSS_SELECTOR, '[role="option"]') if o.is_displayed()
        ],
    )
    assert [o.text for o in options] == ["昌吉回族自治州水利局"]
    assert box.get_attribute("aria-expanded") == "true"
    full_page_screenshot(browser, artifacts_dir / "department-picker.png")
    box.send_keys(Keys.ARROW_DOWN)  # stays on the only match
    assert box.get_attribute("aria-activedescendant") == options[0].get_attribute("id")
    box.send_keys(Keys.ENTER)  # picks it (does not submit)
    assert box.get_attribute("aria-expanded") == "false"
    assert select.get_attribute("value") == str(water.pk)
    assert "department=" not in browser.current_url
    box.send_keys(Keys.ENTER)  # now submits the filter form
    wait_for(browser, lambda d: f"department={water.pk}" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-evaluation]")
    assert [r.find_element(By.CSS_SELECTOR, "a").text for r in rows] == ["水库除险加固"]
    box = browser.find_element(By.ID, "id_department-search")
    assert box.get_attribute("value") == "昌吉回族自治州水利局"

    # Esc closes the list and gives the chosen name back.
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(Keys.ESCAPE)
    assert box.get_attribute("value") == "昌吉回族自治州水利局"
    # Emptying the box and leaving it goes back to every department.
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(Keys.TAB)
    assert browser.find_element(By.ID, "id_department").get_attribute("value") == ""


def test_the_picker_works_on_the_review_queue(finance, live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    Department.objects.bulk_create(Department(name=f"昌吉回族自治州第{i:03d}局") for i in range(30))
    finance_bureau = Department.objects.create(name="昌吉回族自治州财政局")
    Evaluation.objects.create(
        year=2021, department=finance_bureau, project_name="预算评审", status=Status.SUBMITTED
    )
    sign_in(browser, live_server.url, finance.username, PASSWORD)
    browser.get(f"{live_server.url}/review/")
    box = wait_for(browser, lambda d: d.find_element(By.ID, "id_department-search"))
    box.send_keys("财政")
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, '[role="option"].active'))
    box.send_keys(Keys.ENTER)
    box.send_keys(Keys.ENTER)
    wait_for(browser, lambda d: f"department={finance_bureau.pk}" in d.current_url)
    assert "预算评审" in browser.page_source
