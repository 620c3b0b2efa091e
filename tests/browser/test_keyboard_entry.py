"""Entry by keyboard alone in a real browser, Enter never submitting,
Ctrl+S saving (post/redirect/get), the unsaved-changes prompt, the row shortcuts, and the
count of clicks and keystrokes for one 7-row sample form, typed the old way and the new.

How actions are counted (``Clerk``): a click is one mouse click (choosing from a dropdown with
the mouse is two: open it, pick the option); a keystroke is one key pressed, so a chord
counts each key (Alt+Insert is two, Ctrl+S two) and typed text one per character (Chinese
text as committed by the input method: the same text in both runs, so the difference is
all navigation and row handling).
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from campaigns.models import Campaign
from evaluations.core.evaluation_data import FormData, IndicatorData
from evaluations.importer.text import parse_text
from evaluations.models import Evaluation
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD, sample_path

pytestmark = pytest.mark.browser

ROW_FIELDS = ("name", "target", "actual", "weight", "score", "deviation")


def _key_names() -> dict[str, str]:
    from selenium.webdriver.common.keys import Keys

    return {
        Keys.ENTER: "Enter",
        Keys.TAB: "Tab",
        Keys.SHIFT: "Shift",
        Keys.CONTROL: "Ctrl",
        Keys.ALT: "Alt",
        Keys.INSERT: "Insert",
        Keys.DELETE: "Delete",
        Keys.ARROW_UP: "↑",
        Keys.ARROW_DOWN: "↓",
    }


KEY_NAMES = _key_names()


def sample_form(prefix: str, line: int) -> FormData:
    """One form of a sample file, as the importer reads it (the paper the clerk types from)."""
    (form,) = [f for f in parse_text(sample_path(prefix).read_bytes()).forms if f.line == line]
    return form


# 康养产业发展项目经费 (2020): 7 rows, four funding rows.
SEVEN_ROWS = ("003", 242)
# 2021年自治区访惠聚工作为民办实事经费: 10 rows, three second levels used twice.
TEN_ROWS = ("000", 456)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def header_values(form: FormData) -> dict[str, str]:
    """What the clerk types into the boxes above the indicator table, by input name."""
    values = {
        "year": text(form.year),
        "project_name": form.project_name,
        "implementing_unit": form.implementing_unit,
        "execution_weight": text(form.execution_weight),
        "goal_target": form.goal_target,
        "goal_actual": form.goal_actual,
    }
    for row in form.funding:
        for column in ("initial_budget", "annual_budget", "executed"):
            values[f"funding-{row.kind}-{column}"] = text(getattr(row, column))
    return {name: value for name, value in values.items() if value}


def row_values(row: IndicatorData) -> dict[str, str]:
    return {name: text(getattr(row, name)) for name in ROW_FIELDS}


@dataclass
class Clerk:
    """Drives the page and counts its own clicks and keystrokes."""

    driver: Any
    # How the clerk leaves a text of several lines: Ctrl+Enter, or Tab (one key).
    tab_out_of_text: bool = False
    clicks: int = 0
    keystrokes: int = 0
    # Of the keystrokes, characters of text typed.
    typed: int = 0
    # Keys pressed other than typed text, by name ("Enter", "Alt+Insert" …).
    keys: Counter = field(default_factory=Counter)

    # -- reading the page (not counted: the clerk looks) --------------------------------

    def active(self) -> Any:
        return self.driver.switch_to.active_element

    def active_name(self) -> str:
        return self.active().get_attribute("name") or ""

    def script(self, body: str, *args: Any) -> Any:
        return self.driver.execute_script(body, *args)

    def rows(self) -> list[tuple[str, str]]:
        """(一级, 二级) of each visible indicator row."""
        return [
            tuple(row)
            for row in self.script(
                "return Array.from(document.querySelectorAll('tbody.indicator:not(.is-deleted)'))"
                ".map(r => [r.querySelector('[data-role=level1]').value,"
                " r.querySelector('[data-role=level2]').value]);"
            )
        ]

    def active_row(self) -> int:
        """Index of the visible row the focus is in (-1 outside the table)."""
        return self.script(
            "const rows = Array.from(document.querySelectorAll("
            "'tbody.indicator:not(.is-deleted)'));"
            "return rows.indexOf(document.activeElement.closest('tbody.indicator'));"
        )

    # -- the keyboard ------------------------------------------------------------------

    def press(self, *keys: str) -> None:
        """One key or a chord (modifiers first), sent to the focused element."""
        from selenium.webdriver.common.action_chains import ActionChains

        actions = ActionChains(self.driver)
        *modifiers, key = keys
        for modifier in modifiers:
            actions.key_down(modifier)
        actions.send_keys(key)
        for modifier in reversed(modifiers):
            actions.key_up(modifier)
        actions.perform()
        self.keystrokes += len(keys)
        self.keys["+".join(KEY_NAMES.get(k, k) for k in keys)] += 1

    def type(self, value: str) -> None:
        """Type into the focused element (what is selected is replaced)."""
        if value:
            self.active().send_keys(value)
            self.keystrokes += len(value)
            self.typed += len(value)

    def next_box(self, multi_line: bool = False) -> None:
        from selenium.webdriver.common.keys import Keys

        if multi_line and self.tab_out_of_text:
            self.press(Keys.TAB)
        elif multi_line:
            self.press(Keys.CONTROL, Keys.ENTER)
        else:
            self.press(Keys.ENTER)

    def is_multi_line(self) -> bool:
        return bool(
            self.script(
                "const el = document.activeElement;"
                "return el.tagName === 'TEXTAREA' && !el.dataset.singleLine;"
            )
        )

    def choose_by_keys(self, wanted: str) -> None:
        """Pick an option of the focused (closed) select with the arrow keys."""
        from selenium.webdriver.common.keys import Keys

        values, current = self.script(
            "const s = document.activeElement;"
            "return [Array.from(s.options).map(o => o.value), s.selectedIndex];"
        )
        steps = values.index(wanted) - current
        for _ in range(abs(steps)):
            self.press(Keys.ARROW_DOWN if steps > 0 else Keys.ARROW_UP)
        assert self.active().get_attribute("value") == wanted

    def tab_to(self, name: str, limit: int = 40) -> None:
        from selenium.webdriver.common.keys import Keys

        for _ in range(limit):
            if self.active_name() == name:
                return
            self.press(Keys.TAB)
        raise AssertionError(f"Tab never reached {name}")

    def fill_header_by_keys(self, values: dict[str, str]) -> None:
        """From the year box, Enter by Enter down to the first indicator row."""
        while self.active_row() < 0:
            name = self.active_name()
            wanted = values.get(name, "")
            if wanted and self.active().get_attribute("value") != wanted:
                self.type(wanted)
            self.next_box(self.is_multi_line())

    def fill_row_by_keys(self, values: dict[str, str]) -> None:
        """From the row's name box through its deviation box and on to the next box."""
        for name in ROW_FIELDS:
            assert self.active_name().endswith(f"-{name}"), (self.active_name(), name)
            self.type(values[name])
            if name != "deviation":
                self.next_box()
        # The deviation box is several lines: Ctrl+Enter moves on.

    def fill_rows_by_keys(self, targets: list[IndicatorData]) -> None:
        """Type the rows into the standard rows, inserting, deleting and recategorising
        with the keyboard as needed. The focus starts in the first row's 一级 box."""
        from selenium.webdriver.common.keys import Keys

        wanted = [(t.level1, t.level2) for t in targets]
        i = 0
        at_name = False
        while i < len(targets):
            if not at_name:
                page = self.rows()
                here = self.active_row()
                assert self.active_name().endswith("-level1")
                if page[here] != wanted[i]:
                    later = page[here + 1 :]
                    if page[here] not in wanted[i:] and wanted[i] in later:
                        # A standard row this form does not use: delete it.
                        self.press(Keys.ALT, Keys.DELETE)
                        continue
                    self.choose_by_keys(wanted[i][0])
                    self.next_box()
                    self.choose_by_keys(wanted[i][1])
                    self.next_box()
                else:
                    self.next_box()
                    self.next_box()
            self.fill_row_by_keys(row_values(targets[i]))
            i += 1
            page = self.rows()
            here = self.active_row()
            following = page[here + 1] if here + 1 < len(page) else None
            if i < len(targets) and wanted[i] == wanted[i - 1] and following != wanted[i]:
                # The next indicator has the same categories: a row below this one.
                self.press(Keys.ALT, Keys.INSERT)
                at_name = True
            else:
                self.next_box(multi_line=True)
                at_name = False
        # Standard rows left over after the last indicator: delete them.
        while self.active_row() >= 0 and self.active_row() == len(targets):
            self.press(Keys.ALT, Keys.DELETE)

    # -- the mouse (the old way) -------------------------------------------------------

    def click(self, element: Any) -> None:
        click(self.driver, element)
        self.clicks += 1

    def click_and_type(self, element: Any, value: str) -> None:
        self.click(element)
        element.send_keys(value)
        self.keystrokes += len(value)
        self.typed += len(value)

    def choose_by_mouse(self, select: Any, value: str) -> None:
        """Open the dropdown and pick the option: two clicks."""
        from selenium.webdriver.support.ui import Select

        if select.get_attribute("value") == value:
            return
        self.click(select)
        Select(select).select_by_value(value)
        self.clicks += 1


def assert_saved(form: FormData, evaluation: Evaluation) -> None:
    rows = list(evaluation.indicators.all())
    assert [(r.level1, r.level2, r.name) for r in rows] == [
        (t.level1, t.level2, t.name) for t in form.indicators
    ]
    assert [r.weight for r in rows] == [t.weight for t in form.indicators]
    assert [r.score for r in rows] == [t.score for t in form.indicators]
    assert [(r.target, r.actual) for r in rows] == [(t.target, t.actual) for t in form.indicators]
    assert evaluation.goal_target == form.goal_target
    assert evaluation.project_name == form.project_name
    assert evaluation.year == form.year


def open_campaign(year: int) -> None:
    Campaign.objects.create(
        year=year, title=f"{year}年度项目支出绩效自评", deadline=datetime.date(year + 1, 3, 31)
    )


# ---------------------------------------------------------------- a 10-row form by keyboard


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [(1400, 1000), (390, 844)], ids=["wide", "phone"])
def test_a_ten_row_form_is_typed_and_saved_with_the_keyboard_alone(
    live_server, staff_a, browser, artifacts_dir, size
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    form = sample_form(*TEN_ROWS)
    assert len(form.indicators) == 10
    open_campaign(form.year)
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    new_url = f"{live_server.url}/evaluations/new/"
    # The official grid on a wide screen, the cards on a phone: the same keys.
    browser.set_window_size(*size)
    browser.get(new_url)
    clerk = Clerk(browser)
    # The year is the open campaign's; the typing starts in the first empty box.
    assert browser.find_element(By.NAME, "year").get_attribute("value") == str(form.year)
    assert clerk.active_name() == "project_name"

    clerk.fill_header_by_keys(header_values(form))
    clerk.fill_rows_by_keys(form.indicators)

    # Alt+↑ and Alt+↓ move the row the focus is in (the last one); the focus stays in its box.
    names = lambda: browser.execute_script(  # noqa: E731
        "return Array.from(document.querySelectorAll("
        "'tbody.indicator:not(.is-deleted) [data-single-line]')).map(e => e.value);"
    )
    # From the box after the table back into the last row.
    assert clerk.active_name() == "unit_head"
    clerk.press(Keys.SHIFT, Keys.ENTER)
    assert clerk.active_row() == 9
    focused = clerk.active_name()
    last = form.indicators[-1].name
    clerk.press(Keys.ALT, Keys.ARROW_UP)
    assert names()[8] == last
    assert clerk.active_name() == focused
    assert clerk.active_row() == 8
    clerk.press(Keys.ALT, Keys.ARROW_DOWN)
    assert names() == [t.name for t in form.indicators]

    # Nothing was saved by all those Enters: same page, no form.
    assert browser.current_url == new_url
    assert not Evaluation.objects.exists()
    wait_for(browser, lambda d: d.find_element(By.ID, "computed-total").text != "—")

    clerk.press(Keys.CONTROL, "s")
    wait_for(browser, lambda d: d.current_url.endswith("/edit/"))
    evaluation = Evaluation.objects.get()
    assert browser.current_url == f"{live_server.url}/evaluations/{evaluation.pk}/edit/"
    assert "已保存" in browser.page_source
    assert_saved(form, evaluation)
    # The page after the save came by a redirect (a GET): reloading it posts nothing again.
    assert (
        browser.execute_script("return performance.getEntriesByType('navigation')[0].type")
        == "navigate"
    )
    browser.refresh()
    assert browser.current_url.endswith(f"/evaluations/{evaluation.pk}/edit/")
    assert Evaluation.objects.count() == 1
    # The row buttons are out of the Tab order: Tab from a row's last box goes to the next
    # row's first box.
    for button in browser.find_elements(By.CSS_SELECTOR, "tbody.indicator button[data-action]"):
        assert button.get_attribute("tabindex") == "-1"
    browser.execute_script("document.querySelector('[name=ind-0-deviation]').focus()")
    clerk.press(Keys.TAB)
    assert clerk.active_name() == "ind-1-level1"
    suffix = "" if size[0] > 800 else "-phone"
    full_page_screenshot(
        browser, artifacts_dir / f"keyboard-entry-10-rows{suffix}.png", width=size[0]
    )
    print(f"10-row form by keyboard ({size[0]} px): {clerk.clicks} clicks, {clerk.keystrokes} keys")
    assert clerk.clicks == 0


@pytest.mark.django_db(transaction=True)
def test_enter_moves_on_and_ctrl_enter_leaves_a_text_of_several_lines(
    live_server, staff_a, browser
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/new/")
    clerk = Clerk(browser)
    browser.execute_script("document.querySelector('[name=project_name]').focus()")
    clerk.type("回车测试项目")
    clerk.press(Keys.ENTER)
    assert clerk.active_name() == "implementing_unit"
    clerk.press(Keys.SHIFT, Keys.ENTER)
    assert clerk.active_name() == "project_name"
    # In the goal text Enter starts a new line; Ctrl+Enter moves on.
    browser.execute_script("document.querySelector('[name=goal_target]').focus()")
    clerk.type("第一行")
    clerk.press(Keys.ENTER)
    clerk.type("第二行")
    assert clerk.active_name() == "goal_target"
    assert browser.find_element(By.NAME, "goal_target").get_attribute("value") == "第一行\n第二行"
    clerk.press(Keys.CONTROL, Keys.ENTER)
    assert clerk.active_name() == "goal_actual"
    # The indicator name is one line: Enter moves on to the target.
    browser.execute_script("document.querySelector('[name=ind-0-name]').focus()")
    clerk.type("指标名称")
    clerk.press(Keys.ENTER)
    assert clerk.active_name() == "ind-0-target"
    assert browser.find_element(By.NAME, "ind-0-name").get_attribute("value") == "指标名称"
    assert browser.current_url.endswith("/evaluations/new/")
    assert not Evaluation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_row_shortcuts_insert_delete_and_keep_the_second_level(live_server, staff_a, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/new/")
    clerk = Clerk(browser)
    start = clerk.rows()
    assert len(start) == 9
    # Alt+Insert: a row below, in the categories of the row above, the focus in its name.
    browser.execute_script("document.querySelector('[name=ind-0-target]').focus()")
    clerk.press(Keys.ALT, Keys.INSERT)
    assert clerk.rows() == [start[0], start[0], *start[1:]]
    assert clerk.active_row() == 1
    assert clerk.active_name().endswith("-name")
    numbers = browser.execute_script(
        "return Array.from(document.querySelectorAll("
        "'tbody.indicator:not(.is-deleted) [data-role=number]')).map(e => e.textContent);"
    )
    assert numbers == [str(n) for n in range(1, 11)]
    # Alt+Delete: the row goes, the focus takes the same box of the next row.
    clerk.press(Keys.ALT, Keys.DELETE)
    assert clerk.rows() == start
    assert clerk.active_row() == 1
    assert clerk.active_name().endswith("-name")
    # The insert button does the same with the mouse.
    click(browser, browser.find_elements(By.CSS_SELECTOR, '[data-action="insert"]')[3])
    assert len(clerk.rows()) == 10 and clerk.rows()[4] == start[3]

    # 二级 keeps its choice when it still belongs to the new 一级, and shows its 一级.
    level1 = browser.find_element(By.NAME, "ind-0-level1")
    level2 = browser.find_element(By.NAME, "ind-0-level2")
    labels = lambda: browser.execute_script(  # noqa: E731
        "return Array.from(arguments[0].querySelectorAll('optgroup')).map(g => g.label)", level2
    )
    assert labels() == ["产出指标"]
    from selenium.webdriver.support.ui import Select

    Select(level1).select_by_value("")
    assert level2.get_attribute("value") == "数量指标"
    assert labels() == ["产出指标", "效益指标", "满意度指标"]
    Select(level1).select_by_value("效益指标")
    assert level2.get_attribute("value") == ""
    assert labels() == ["效益指标"]
    # Choosing a 二级 first fills in its 一级.
    Select(level1).select_by_value("")
    Select(level2).select_by_value("服务对象满意度指标")
    assert level1.get_attribute("value") == "满意度指标"
    assert level2.get_attribute("value") == "服务对象满意度指标"


# Whether leaving would ask: the page's beforeunload handler, called as the browser calls it.
# (ChromeDriver accepts a beforeunload prompt by itself, as WebDriver prescribes, so the
# prompt never shows in a test: the handler's answer is what is checked.)
WOULD_ASK = """
const event = new Event("beforeunload", {cancelable: true});
window.dispatchEvent(event);
return event.defaultPrevented;
"""


@pytest.mark.django_db(transaction=True)
def test_leaving_with_unsaved_changes_asks_first_but_not_after_saving(
    live_server, staff_a, browser
):
    from selenium.webdriver.common.keys import Keys

    open_campaign(2022)
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/new/")
    clerk = Clerk(browser)
    # Nothing changed yet: leaving asks nothing.
    assert browser.execute_script(WOULD_ASK) is False
    clerk.tab_to("project_name")
    clerk.type("离开前提示项目")
    assert browser.execute_script(WOULD_ASK) is True
    # A row deleted by its shortcut is a change too (on a fresh page).
    browser.refresh()
    assert browser.execute_script(WOULD_ASK) is False
    clerk.tab_to("ind-0-level1")
    clerk.press(Keys.ALT, Keys.DELETE)
    assert browser.execute_script(WOULD_ASK) is True

    # Saving does not ask: the handler is off from the moment the form is sent (here the
    # sending is held back by the test to ask the handler).
    browser.execute_script(
        "document.getElementById('evaluation-form')"
        ".addEventListener('submit', (e) => e.preventDefault());"
    )
    clerk.press(Keys.CONTROL, "s")
    assert browser.execute_script(WOULD_ASK) is False

    # A real save, and the saved page asks nothing until something changes.
    browser.get(f"{live_server.url}/evaluations/new/")
    clerk.tab_to("project_name")
    clerk.type("离开前提示项目")
    clerk.press(Keys.CONTROL, "s")
    wait_for(browser, lambda d: d.current_url.endswith("/edit/"))
    assert Evaluation.objects.filter(project_name="离开前提示项目").exists()
    assert browser.execute_script(WOULD_ASK) is False
    clerk.tab_to("implementing_unit")
    clerk.type("本级")
    assert browser.execute_script(WOULD_ASK) is True


@pytest.mark.django_db(transaction=True)
def test_a_page_shown_again_after_a_failed_save_asks_before_leaving(live_server, staff_a, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    new_url = f"{live_server.url}/evaluations/new/"
    browser.get(new_url)
    clerk = Clerk(browser)
    # No campaign open: the year is blank, and the typing starts there.
    assert clerk.active_name() == "year"
    clerk.type("20x2")
    clerk.press(Keys.ENTER)
    clerk.type("年度写错的项目")
    clerk.press(Keys.CONTROL, "s")
    wait_for(browser, lambda d: d.find_elements(By.ID, "input-errors"))
    # Refused: the page again (not a redirect), everything typed kept, nothing saved.
    assert browser.current_url == new_url
    assert browser.find_element(By.NAME, "project_name").get_attribute("value") == "年度写错的项目"
    assert not Evaluation.objects.exists()
    # What is on it is not saved: leaving asks.
    assert browser.execute_script(WOULD_ASK) is True


# ---------------------------------------------------------------- clicks and keystrokes


def old_starting_page(driver: Any) -> None:
    """Put the page in the state the previous version served a new form in: three rows, one
    per 一级 with its first 二级, and no year (no campaign year). Not counted: setup."""
    driver.execute_script(
        """
        const keep = {"产出指标": "数量指标", "效益指标": "经济效益指标", "满意度指标": "满意度指标"};
        const seen = new Set();
        document.querySelectorAll("tbody.indicator").forEach((row) => {
          const l1 = row.querySelector("[data-role=level1]");
          const l2 = row.querySelector("[data-role=level2]");
          if (seen.has(l1.value)) { row.querySelector("[data-action=remove]").click(); return; }
          seen.add(l1.value);
          l2.value = keep[l1.value];
        });
        """
    )


@pytest.mark.django_db(transaction=True)
def test_count_clicks_and_keystrokes_of_a_seven_row_form_old_way_and_new(
    live_server, staff_a, browser, artifacts_dir
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    form = sample_form(*SEVEN_ROWS)
    assert len(form.indicators) == 7
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)

    # The old way: the mouse to every box, rows added with the button, categories chosen
    # from the dropdowns, the save button.
    browser.get(f"{live_server.url}/evaluations/new/")
    old_starting_page(browser)
    assert [r[0] for r in Clerk(browser).rows()] == ["产出指标", "效益指标", "满意度指标"]
    old = Clerk(browser)
    by_name = lambda name: browser.find_element(By.NAME, name)  # noqa: E731
    for name, value in header_values(form).items():
        if by_name(name).get_attribute("value") != value:
            old.click(by_name(name))
            by_name(name).clear()
            old.type(value)
    visible = lambda: browser.find_elements(  # noqa: E731
        By.CSS_SELECTOR, "tbody.indicator:not(.is-deleted)"
    )
    for index, target in enumerate(form.indicators):
        if index >= len(visible()):
            old.click(browser.find_element(By.ID, "add-indicator"))
        row = visible()[index]
        cell = lambda name, row=row: row.find_element(By.CSS_SELECTOR, f'[name$="-{name}"]')  # noqa: E731
        old.choose_by_mouse(cell("level1"), target.level1)
        old.choose_by_mouse(cell("level2"), target.level2)
        for name, value in row_values(target).items():
            if value:
                old.click_and_type(cell(name), value)
    wait_for(browser, lambda d: d.find_element(By.ID, "computed-total").text != "—")
    old.click(browser.find_element(By.ID, "save-draft"))
    wait_for(browser, lambda d: d.current_url.endswith("/edit/"))
    assert_saved(form, Evaluation.objects.get())
    # Out of the way of the second run (the same project may exist only once a year).
    Evaluation.objects.update(project_name="旧方式录入的表")

    # The new way: the keyboard alone, the standard rows, Alt+Insert / Alt+Delete, the
    # open campaign's year, Ctrl+S.
    open_campaign(form.year)
    browser.get(f"{live_server.url}/evaluations/new/")
    new = Clerk(browser, tab_out_of_text=True)
    assert new.active_name() == "project_name"
    new.fill_header_by_keys(header_values(form))
    new.fill_rows_by_keys(form.indicators)
    wait_for(browser, lambda d: d.find_element(By.ID, "computed-total").text != "—")
    new.press(Keys.CONTROL, "s")
    wait_for(browser, lambda d: d.current_url.endswith("/edit/"))
    assert_saved(form, Evaluation.objects.get(project_name=form.project_name))

    report = (
        f"7-row form《{form.project_name}》({len(form.indicators)} rows)\n"
        f"old way: {old.clicks} clicks, {old.keystrokes} keystrokes "
        f"({old.typed} characters of text)\n"
        f"new way: {new.clicks} clicks, {new.keystrokes} keystrokes "
        f"({new.typed} characters of text; keys: {dict(new.keys)})\n"
    )
    (artifacts_dir / "entry-counts.txt").write_text(report, encoding="utf-8")
    print(report)
    assert new.clicks * 2 <= old.clicks
    assert new.clicks == 0


@pytest.mark.django_db(transaction=True)
def test_back_after_a_save_does_not_bring_back_the_error_page(live_server, staff_a, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    new_url = f"{live_server.url}/evaluations/new/"
    browser.get(new_url)
    clerk = Clerk(browser)
    clerk.type("20x2")
    clerk.press(Keys.ENTER)
    clerk.type("返回键测试项目")
    clerk.press(Keys.CONTROL, "s")
    wait_for(browser, lambda d: d.find_elements(By.ID, "input-errors"))
    # Put the year right and save: the save redirects to the stored form's edit page.
    browser.execute_script("document.querySelector('[name=year]').select()")
    clerk.type("2022")
    clerk.press(Keys.CONTROL, "s")
    wait_for(browser, lambda d: d.current_url.endswith("/edit/"))
    evaluation = Evaluation.objects.get(project_name="返回键测试项目")
    # Back: not the old error page (no "未保存" alert, no resubmission), and nothing saved twice.
    browser.back()
    wait_for(browser, lambda d: d.current_url == new_url)
    wait_for(browser, lambda d: d.find_elements(By.ID, "evaluation-form"))
    assert not browser.find_elements(By.ID, "input-errors")
    assert "20x2" not in browser.find_element(By.NAME, "year").get_attribute("value")
    assert Evaluation.objects.count() == 1
    # Forward again: the saved form.
    browser.forward()
    wait_for(browser, lambda d: d.current_url.endswith(f"/evaluations/{evaluation.pk}/edit/"))
