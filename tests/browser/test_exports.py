"""Browser test of a bulk export: click 合并 PDF, watch the progress move, download the file.

The live server answers the page and its progress polls while a database-queue worker runs
the export's tasks in a thread of this process (as ``manage.py db_worker`` would beside the
web server). The worker starts only once the job's page is shown, so the page is seen
queued first and then moving, whatever the speed of the machine. The same for the page
that waits while the worker prints a long form's PDF.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from io import BytesIO

import pytest
from pypdf import PdfReader

from evaluations.models import Evaluation, Status
from exports import pdf as pdf_module
from exports import pdfcache
from exports.models import ExportJob, State
from exports.pdfcache import cached_pdf_bytes
from tests.a11y import axe_violations, format_violations
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.export_helpers import sample_forms, store
from tests.factories import make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Generous bounds for a slow machine; the assertions are about what the page shows.
EXPORT_TIMEOUT = 180


class BackgroundWorker:
    """``manage.py db_worker`` in a daemon thread of the test process."""

    def __init__(self) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        self.worker = Worker(
            queue_names=["default"],
            interval=0.1,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="browser-test",
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self._run, name="db-worker", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        from django.db import connections

        try:
            self.worker.run()
        except BaseException as error:  # noqa: BLE001 - reported by stop() and the wait
            self.error = error
        finally:
            connections.close_all()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker.running = False
        self.thread.join(timeout=60)
        assert self.error is None, repr(self.error)


def twelve_forms(department) -> list[Evaluation]:
    """Twelve 2021 forms in the department: 10 of sample 000 and 2 of sample 001."""
    chosen = [form for prefix, _i, form in sample_forms() if prefix == "000"][:10]
    chosen += [form for prefix, _i, form in sample_forms() if prefix == "001"][:2]
    return [store(form, department, status=Status.SUBMITTED) for form in chosen]


def progress_text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "export-progress-text").text


def fetch_with_browser_cookies(driver, url: str) -> tuple[dict[str, str], bytes]:
    """GET ``url`` with the browser's session (what a click on 下载 sends)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookies})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - live server
        return dict(response.headers), response.read()


def test_it_exports_a_year_in_the_background_and_downloads_it(
    live_server, dept_a, staff_a, browser, artifacts_dir, settings
):
    from selenium.webdriver.common.by import By

    settings.EXPORT_CHUNK_SIZE = 2  # six chunks: the count moves in steps the page can show
    evaluations = twelve_forms(dept_a)
    base = live_server.url
    sign_in(browser, base, staff_a.username, PASSWORD)

    # The list page's 合并 PDF button starts the job and lands on its page.
    browser.get(f"{base}/evaluations/?year=2021")
    form = browser.find_element(By.CSS_SELECTOR, "form.bulk-export-form")
    click(browser, form.find_element(By.CSS_SELECTOR, "button[name=format][value=pdf]"))
    wait_for(browser, lambda d: d.find_elements(By.ID, "export-progress-text"))
    job = ExportJob.objects.get()
    assert browser.current_url == f"{base}/exports/{job.pk}/"
    assert (job.user, job.total, job.format) == (staff_a, 12, "pdf")
    assert "已开始导出（共 12 张自评表）" in browser.page_source
    seen = [progress_text(browser)]
    assert seen == ["已生成 0 / 共 12 张"]
    assert browser.find_element(By.CSS_SELECTOR, "#export-state .export-state").text == "排队中"
    assert not browser.find_element(By.ID, "export-download").is_displayed()
    assert browser.find_element(By.ID, "export-cancel").is_displayed()

    worker = BackgroundWorker()
    worker.start()
    try:
        partial_shot = None

        def finished(driver) -> bool:
            nonlocal partial_shot
            assert worker.error is None, repr(worker.error)
            if driver.find_element(By.ID, "export-retry").is_displayed():
                message = driver.find_element(By.ID, "export-message").text
                raise AssertionError(f"the export failed: {message}")
            text = progress_text(driver)
            if text and text != seen[-1]:
                seen.append(text)
                if partial_shot is None and "已生成 12" not in text:
                    # The page mid-way, for the record (the count is partial here).
                    partial_shot = artifacts_dir / "export-progress-partial-1400.png"
                    driver.save_screenshot(str(partial_shot))
            return driver.find_element(By.ID, "export-download").is_displayed()

        wait_for(browser, finished, timeout=EXPORT_TIMEOUT)
    finally:
        worker.stop()
    if progress_text(browser) != seen[-1]:
        seen.append(progress_text(browser))

    (artifacts_dir / "export-progress-texts.txt").write_text("\n".join(seen) + "\n")
    # The page moved on its own (no reload): several counts, ending with the whole year.
    assert len(seen) >= 2, seen
    assert seen[-1] == "已生成 12 / 共 12 张，已合并 12 张", seen
    counts = [int(text.split(" / ")[0].removeprefix("已生成 ")) for text in seen]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 12, seen
    assert browser.find_element(By.CSS_SELECTOR, "#export-state .export-state").text == "已完成"
    assert browser.find_element(By.ID, "export-percent").text == "100%"
    assert not browser.find_element(By.ID, "export-cancel").is_displayed()
    job.refresh_from_db()
    assert job.state == State.DONE

    # Screenshots of the finished page, wide and narrow.
    for width, height, name in ((1400, 1000, "wide"), (390, 844, "narrow")):
        browser.set_window_size(width, height)
        browser.save_screenshot(str(artifacts_dir / f"export-done-{name}-{width}x{height}.png"))
    browser.set_window_size(1400, 1000)

    # The 下载 link, fetched with the browser's session: the merged PDF of the twelve forms.
    href = browser.find_element(By.ID, "export-download").get_attribute("href")
    assert href == f"{base}/exports/{job.pk}/download/"
    headers, data = fetch_with_browser_cookies(browser, href)
    assert headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    assert data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(data))
    assert len(reader.outline) == 12
    expected_pages = sum(len(PdfReader(BytesIO(cached_pdf_bytes(e))).pages) for e in evaluations)
    assert len(reader.pages) == expected_pages

    # Seen while it finished: the menu does not announce it afterwards.
    browser.get(f"{base}/exports/")
    assert not browser.find_elements(By.CSS_SELECTOR, ".export-news")
    assert browser.find_elements(By.CSS_SELECTOR, f"tr[data-job='{job.pk}'] .export-download")
    full_page_screenshot(browser, artifacts_dir / "export-list-1400.png")


def test_a_long_form_s_pdf_page_waits_for_the_task_worker_then_downloads(
    live_server, dept_a, staff_a, browser, monkeypatch, artifacts_dir
):
    from selenium.webdriver.common.by import By

    # This form counts as long (the longest forms do: tests/exports/test_pdf_cache.py).
    monkeypatch.setattr(pdf_module, "QUICK_PRINT_MAX_CHARACTERS", 10)
    evaluation = make_evaluation(dept_a, staff_a, project_name="很长的自评表")
    base = live_server.url
    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/pdf/")
    assert "正在生成 PDF：很长的自评表" in browser.page_source
    button = browser.find_element(By.ID, "pdf-waiting-download")
    assert button.text == "生成中…"
    violations = axe_violations(browser)
    assert not violations, format_violations(violations)
    browser.save_screenshot(str(artifacts_dir / "pdf-waiting-1400.png"))

    worker = BackgroundWorker()
    worker.start()
    try:
        # Stopped once the PDF is stored: the page's own poll must then find it.
        deadline = time.monotonic() + EXPORT_TIMEOUT
        while not pdfcache.pdf_ready(evaluation)["ready"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    wait_for(
        browser,
        lambda d: d.find_element(By.ID, "pdf-waiting-text").text.startswith("PDF 已生成"),
        timeout=EXPORT_TIMEOUT,
    )
    # The page asked for the file itself; the button downloads it again.
    assert button.text == "下载 PDF"
    assert button.get_attribute("href") == f"{base}/evaluations/{evaluation.pk}/pdf/"
    assert pdfcache.cached_pdf_name(evaluation, render=False) is not None
    headers, data = fetch_with_browser_cookies(browser, button.get_attribute("href"))
    assert headers["Content-Type"] == "application/pdf" and data.startswith(b"%PDF")
