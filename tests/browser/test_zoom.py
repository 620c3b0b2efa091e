"""Text enlarged to 200% loses nothing (GB/T 37668 / WCAG 1.4.4).

Browser zoom at 200% in a 1400 × 1000 window lays the page out on 700 × 500 CSS pixels at
two device pixels each; Chromium's device-metrics override does exactly that. On each page
the staff and the bureau use most: no sideways scrolling, every box that is there at 100%
is still shown and inside the window, no text cut off by a box too small for it, and the
page's key figures still on screen. Screenshots: test-artifacts/zoom200-*.png.
"""

from __future__ import annotations

import pytest

from evaluations.models import Status
from tests.browser import sign_in, wait_for
from tests.conftest import PASSWORD
from tests.factories import make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WINDOW = (1400, 1000)

# Boxes the user can type into or press, shown on the page (by name or id).
VISIBLE_CONTROLS = """
return Array.from(document.querySelectorAll(
    'main input:not([type=hidden]), main select, main textarea, main button'))
  .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => el.name || el.id || el.textContent.trim());
"""

# Controls wider than the window, or starting outside it.
OUTSIDE = """
const width = window.innerWidth;
return Array.from(document.querySelectorAll('main input, main select, main textarea, main button'))
  .filter((el) => el.getClientRects().length)
  .filter((el) => { const r = el.getBoundingClientRect(); return r.left < -1 || r.right > width + 1; })
  .map((el) => el.name || el.id || el.textContent.trim());
"""

# Text cut off: an element that hides its overflow while its content is wider or taller.
CLIPPED = """
const clipped = [];
for (const el of document.querySelectorAll('main *')) {
  if (!el.getClientRects().length || el.closest('.visually-hidden, .row-word')) continue;
  const style = getComputedStyle(el);
  if (style.position === 'absolute' && style.clip !== 'auto') continue;
  const hidesX = ['hidden', 'clip'].includes(style.overflowX);
  const hidesY = ['hidden', 'clip'].includes(style.overflowY);
  if ((hidesX && el.scrollWidth > el.clientWidth + 1)
      || (hidesY && el.scrollHeight > el.clientHeight + 1)) {
    if (el.textContent.trim()) clipped.push(el.tagName + '.' + el.className + ': '
                                             + el.textContent.trim().slice(0, 40));
  }
}
return clipped;
"""


def zoom(browser, factor: int, height: int | None = None) -> None:
    """Lay the page out as the browser's zoom at ``factor`` (1 or 2) in the window.

    ``height``: a taller viewport (CSS pixels), to take a screenshot of the whole page.
    """
    if factor == 1:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": WINDOW[0] // factor,
            "height": height or WINDOW[1] // factor,
            "deviceScaleFactor": factor,
            "mobile": False,
        },
    )


def check_zoom(browser, url: str, name: str, figures: list[str], artifacts_dir) -> None:
    browser.set_window_size(*WINDOW)
    zoom(browser, 1)
    browser.get(url)
    wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    at_100 = set(browser.execute_script(VISIBLE_CONTROLS))

    zoom(browser, 2)
    browser.get(url)
    wait_for(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.execute_script("return window.innerWidth") == WINDOW[0] // 2
    assert browser.execute_script("return window.devicePixelRatio") == 2
    scroll, inner = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= inner, (name, scroll, inner)
    at_200 = set(browser.execute_script(VISIBLE_CONTROLS))
    assert at_100 <= at_200, (name, sorted(at_100 - at_200))
    assert not browser.execute_script(OUTSIDE), name
    assert not browser.execute_script(CLIPPED), name
    text = browser.find_element("tag name", "main").text
    for figure in figures:
        assert figure in text, (name, figure)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    zoom(browser, 2, height=min(int(height), 4000))
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(artifacts_dir / f"zoom200-{name}.png"))
    zoom(browser, 1)


def test_pages_enlarged_to_200_percent_lose_nothing(
    live_server, dept_a, staff_a, finance, browser, artifacts_dir
):
    evaluation = make_evaluation(dept_a, staff_a, project_name="放大检查项目")
    evaluation.indicators.filter(position=3).update(score=99)  # an error on row 3
    base = live_server.url

    sign_in(browser, base, staff_a.username, PASSWORD)
    check_zoom(browser, f"{base}/evaluations/", "list", ["放大检查项目"], artifacts_dir)
    check_zoom(
        browser,
        f"{base}/evaluations/{evaluation.pk}/edit/",
        "edit",
        ["年度资金总额", "第 3 行", "总分"],
        artifacts_dir,
    )
    check_zoom(
        browser,
        f"{base}/evaluations/{evaluation.pk}/",
        "detail",
        ["放大检查项目", "年初预算数", "偏差原因分析及改进措施"],
        artifacts_dir,
    )

    type(evaluation).objects.filter(pk=evaluation.pk).update(status=Status.SUBMITTED)
    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    check_zoom(browser, f"{base}/review/", "queue", ["放大检查项目"], artifacts_dir)
    check_zoom(
        browser,
        f"{base}/review/{evaluation.pk}/",
        "review",
        ["放大检查项目", "退回"],
        artifacts_dir,
    )
    check_zoom(browser, f"{base}/dashboard/", "dashboard", [dept_a.name], artifacts_dir)
