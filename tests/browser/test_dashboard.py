"""The bureau's dashboard in a browser: sorted and filtered against the due list, and 200
departments on a few screens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from campaigns.models import Campaign, DueProject
from departments.models import Department
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.campaigns.test_campaign_dashboard import seed_campaign
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign(dept_a, dept_b, staff_a, staff_b) -> Campaign:
    return seed_campaign(dept_a, dept_b, staff_a, staff_b)


def test_the_bureau_sorts_and_filters_in_the_browser(
    campaign, finance, dept_a, dept_b, live_server, browser, artifacts_dir
):
    Department.objects.bulk_create([Department(name=f"昌吉州第{i:02d}局") for i in range(8)])
    sign_in(browser, live_server.url, finance.username, PASSWORD)
    browser.get(f"{live_server.url}/dashboard/?year=2021")
    full_page_screenshot(browser, artifacts_dir / "dashboard-campaign.png")

    def order(driver) -> list[str]:
        rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-department]")
        return [row.get_attribute("data-department") for row in rows]

    assert len(order(browser)) == 11
    click(browser, browser.find_element(By.CSS_SELECTOR, "a.sort-overdue"))
    click(
        browser,
        wait_for(
            browser, lambda d: d.find_element(By.CSS_SELECTOR, "th[aria-sort] a.sort-overdue")
        ),
    )
    wait_for(browser, lambda d: "dir=desc" in d.current_url)
    assert order(browser)[0] == str(dept_a.pk)
    Select(browser.find_element(By.NAME, "show")).select_by_value("incomplete")
    click(browser, browser.find_element(By.CSS_SELECTOR, ".dashboard-filter button"))
    wait_for(browser, lambda d: "show=incomplete" in d.current_url)
    assert sorted(order(browser)) == sorted([str(dept_a.pk), str(dept_b.pk)])
    assert "sort=overdue" in browser.current_url  # the sort is kept


def test_the_dashboard_of_200_departments_fits_a_few_screens(
    finance, live_server, browser, artifacts_dir
):
    """Was 16,900 px at 200 departments: charts, then one 50-row table."""
    campaign = Campaign.objects.create(
        year=2021, title="2021年度自评", deadline=timezone.localdate() - timedelta(2)
    )
    departments = Department.objects.bulk_create(
        Department(name=f"昌吉回族自治州第{i:03d}局") for i in range(200)
    )
    DueProject.objects.bulk_create(
        DueProject(campaign=campaign, department=d, project_name=f"{d.name}项目")
        for d in departments
    )
    sign_in(browser, live_server.url, finance.username, PASSWORD)
    browser.get(f"{live_server.url}/dashboard/?year=2021")
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "table.dashboard-table"))
    height = browser.execute_script("return document.documentElement.scrollHeight")
    full_page_screenshot(browser, artifacts_dir / "dashboard-200-departments.png")
    assert height < 4500, height
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-department]")) == 50
