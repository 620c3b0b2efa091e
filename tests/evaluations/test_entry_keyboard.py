"""Keyboard entry on the server: a new form's standard rows and year, the 二级
options grouped under their 一级, the row buttons out of the Tab order with their shortcuts,
and post/redirect/get on saving a new or a stored form."""

from __future__ import annotations

import datetime

import pytest
from lxml import html as lxml_html

from campaigns.models import Campaign
from evaluations.core.categories import CENTRAL_2021, level2_choices, standard_rows
from evaluations.models import Evaluation
from tests.evaluations.test_evaluation_pages import post_data
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

STANDARD_ROWS = [
    ("产出指标", "数量指标"),
    ("产出指标", "质量指标"),
    ("产出指标", "时效指标"),
    ("产出指标", "成本指标"),
    ("效益指标", "经济效益指标"),
    ("效益指标", "社会效益指标"),
    ("效益指标", "生态效益指标"),
    ("效益指标", "可持续影响指标"),
    ("满意度指标", "服务对象满意度指标"),
]


def page_tree(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return lxml_html.fromstring(response.content.decode())


def selected(select) -> str:
    chosen = select.xpath(".//option[@selected]/@value")
    return chosen[0] if chosen else ""


def visible_rows(tree):
    return tree.xpath('//table[@id="indicator-table"]/tbody[contains(@class, "indicator")]')


# ---------------------------------------------------------------- the new form


def test_standard_rows_are_domain_templates_rows():
    assert standard_rows() == STANDARD_ROWS
    # The 2021 central template: 成本指标 as a first level with its three second levels.
    central = standard_rows(CENTRAL_2021)
    assert ("成本指标", "经济成本指标") in central
    assert ("产出指标", "成本指标") not in central
    assert central[-1] == ("满意度指标", "服务对象满意度指标")


def test_a_new_form_starts_with_the_standard_rows(client_a):
    tree = page_tree(client_a, "/evaluations/new/")
    rows = visible_rows(tree)
    categories = [
        (
            selected(row.xpath('.//select[@data-role="level1"]')[0]),
            selected(row.xpath('.//select[@data-role="level2"]')[0]),
        )
        for row in rows
    ]
    assert categories == STANDARD_ROWS
    assert tree.xpath('//input[@name="ind-TOTAL_FORMS"]/@value') == [str(len(STANDARD_ROWS))]
    # Only the categories: every content box is empty.
    for name in ("name", "target", "actual", "weight", "score", "deviation"):
        boxes = tree.xpath(
            f'//tbody//*[substring(@name, string-length(@name) - {len(name)})="-{name}"]'
        )
        assert len(boxes) == len(STANDARD_ROWS) + 1  # and the new row's template
        assert not any((box.value or "").strip() for box in boxes)


def test_a_new_form_takes_the_open_campaigns_year(client_a, dept_a):
    Campaign.objects.create(year=2020, title="2020", deadline=datetime.date(2021, 3, 31))
    Campaign.objects.create(
        year=2021, title="2021年度项目支出绩效自评", deadline=datetime.date(2022, 3, 31)
    )
    Campaign.objects.create(
        year=2022, title="closed", deadline=datetime.date(2023, 3, 31), is_open=False
    )
    Campaign.objects.filter(year=2020).update(is_open=False)
    tree = page_tree(client_a, "/evaluations/new/")
    assert tree.xpath('//input[@name="year"]/@value') == ["2021"]


def test_without_an_open_campaign_the_year_stays_blank(client_a):
    Campaign.objects.create(
        year=2021, title="2021", deadline=datetime.date(2022, 3, 31), is_open=False
    )
    tree = page_tree(client_a, "/evaluations/new/")
    assert tree.xpath('//input[@name="year"]/@value') in ([], [""])


def test_a_copy_keeps_its_own_year_and_rows(client_a, dept_a, staff_a):
    Campaign.objects.create(year=2030, title="2030", deadline=datetime.date(2031, 3, 31))
    source = make_evaluation(dept_a, staff_a, year=2021)
    tree = page_tree(client_a, f"/evaluations/new/?copy_from={source.pk}")
    assert tree.xpath('//input[@name="year"]/@value') == ["2022"]
    assert len(visible_rows(tree)) == source.indicators.count()


def test_a_new_form_saved_with_unused_standard_rows_keeps_only_the_typed_ones(client_a):
    form = clean_form_data()
    data = post_data(form)
    # The standard rows the clerk did not use stay on the page with their categories only.
    n = len(form.indicators)
    for extra, (level1, level2) in enumerate(STANDARD_ROWS[:2], start=n):
        data[f"ind-{extra}-level1"] = level1
        data[f"ind-{extra}-level2"] = level2
        data[f"ind-{extra}-ORDER"] = str(extra + 1)
    data["ind-TOTAL_FORMS"] = str(n + 2)
    response = client_a.post("/evaluations/new/", data)
    assert response.status_code == 302
    evaluation = Evaluation.objects.get(project_name=form.project_name)
    assert evaluation.indicators.count() == n


# ---------------------------------------------------------------- 二级 grouped by 一级


def test_second_level_options_are_grouped_under_their_first_level(client_a):
    tree = page_tree(client_a, "/evaluations/new/")
    first = visible_rows(tree)[0]
    level2 = first.xpath('.//select[@data-role="level2"]')[0]
    # 产出指标 chosen: its own second levels, under its label.
    groups = level2.xpath("./optgroup")
    assert [g.get("label") for g in groups] == ["产出指标"]
    assert groups[0].xpath("./option/text()") == level2_choices()["产出指标"]
    # The template of a new row (no 一级 yet): every group, each under its 一级.
    (select,) = tree.xpath('//template[@id="indicator-template"]//select[@data-role="level2"]')
    assert [g.get("label") for g in select.xpath("./optgroup")] == list(level2_choices())
    for group in select.xpath("./optgroup"):
        assert group.xpath("./option/text()") == level2_choices()[group.get("label")]


def test_an_imported_label_outside_the_groups_stays_selectable(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation.indicators.filter(name="监督检查次数").update(level2="产出数量")
    tree = page_tree(client_a, f"/evaluations/{evaluation.pk}/edit/")
    chosen = [selected(s) for s in tree.xpath('//tbody//select[@data-role="level2"]')]
    assert "产出数量" in chosen


# ---------------------------------------------------------------- row buttons and help


def test_row_buttons_are_out_of_the_tab_order_and_name_their_shortcuts(client_a):
    tree = page_tree(client_a, "/evaluations/new/")
    row = visible_rows(tree)[0]
    buttons = {b.get("data-action"): b for b in row.xpath(".//button[@data-action]")}
    assert set(buttons) == {"insert", "up", "down", "remove"}
    shortcuts = {
        "insert": "Alt+Insert",
        "up": "Alt+↑",
        "down": "Alt+↓",
        "remove": "Alt+Delete",
    }
    for action, button in buttons.items():
        assert button.get("tabindex") == "-1"
        assert shortcuts[action] in button.get("title")
        assert shortcuts[action] in button.get("aria-label")
    help_line = tree.xpath('//*[@id="keyboard-help"]')[0].text_content()
    for text in ("Enter", "Ctrl", "Alt", "Insert", "Delete", "S"):
        assert text in help_line
    save = tree.xpath('//button[@id="save-draft"]')[0]
    assert "Ctrl+S" in save.get("title")


def test_a_page_shown_again_after_a_failed_save_counts_as_unsaved(client_a):
    form = clean_form_data()
    data = post_data(form, year="20x1")
    response = client_a.post("/evaluations/new/", data)
    assert response.status_code == 200
    tree = lxml_html.fromstring(response.content.decode())
    assert tree.xpath('//form[@id="evaluation-form"]/@data-unsaved') == ["1"]
    # What was typed stays.
    assert tree.xpath('//input[@name="year"]/@value') == ["20x1"]
    fresh = page_tree(client_a, "/evaluations/new/")
    assert fresh.xpath('//form[@id="evaluation-form"]/@data-unsaved') == [""]


# ---------------------------------------------------------------- post/redirect/get


def test_saving_a_new_form_redirects(client_a):
    form = clean_form_data()
    response = client_a.post("/evaluations/new/", post_data(form, next="edit"))
    assert response.status_code == 302
    evaluation = Evaluation.objects.get(project_name=form.project_name)
    assert response["Location"] == f"/evaluations/{evaluation.pk}/edit/"
    response = client_a.post(
        "/evaluations/new/", post_data(clean_form_data(project_name="另一个项目"), next="detail")
    )
    assert response.status_code == 302
    other = Evaluation.objects.get(project_name="另一个项目")
    assert response["Location"] == f"/evaluations/{other.pk}/"


def test_saving_a_stored_form_redirects(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    data = post_data(evaluation.as_form_data(), revision=evaluation.revision, next="edit")
    data["goal_actual"] = "按期完成。"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/evaluations/{evaluation.pk}/edit/"
    evaluation.refresh_from_db()
    assert evaluation.goal_actual == "按期完成。"
    # The page the redirect lands on is an ordinary GET: reloading it posts nothing.
    page = client_a.get(response["Location"])
    assert page.status_code == 200
    assert "已保存" in page.content.decode()


def test_a_failed_save_shows_the_page_again_without_saving(client_a, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    data = post_data(evaluation.as_form_data(), revision=evaluation.revision)
    data["ind-0-weight"] = "十分"
    data["goal_actual"] = "新写的内容"
    response = client_a.post(f"/evaluations/{evaluation.pk}/edit/", data)
    assert response.status_code == 200
    assert "新写的内容" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.goal_actual != "新写的内容"
