"""Evidence (佐证材料) in a browser: attached from the edit page, and previewed in the page.

Uploading or deleting a file replaces the evidence section in place: the edit form keeps
what was typed and not saved yet. An opened PDF preview is as wide as its column and most
of a window high, on a desktop and on a phone.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from evaluations.workflow import evaluation_submit
from evidence.services import evidence_add
from tests.browser import click, full_page_screenshot, sign_in, wait_for
from tests.conftest import PASSWORD
from tests.evidence.test_evidence import png_bytes
from tests.factories import make_evaluation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
DESKTOP = (1400, 1000)
PHONE = (390, 844)


def _type(browser, name: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.NAME, name)
    box.clear()
    box.send_keys(text)


def test_evidence_sent_from_the_edit_page_keeps_the_typed_values(
    live_server, dept_a, staff_a, browser, tmp_path
):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a)
    contract = tmp_path / "验收报告.pdf"
    contract.write_bytes(PDF_BYTES)
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.get(f"{live_server.url}/evaluations/{evaluation.pk}/edit/")
    _type(browser, "ind-0-actual", "1500户")
    _type(browser, "goal_actual", "完成了大部分任务。")
    # A page that is left and loaded again loses this mark.
    browser.execute_script("window.stillTheSamePage = true;")

    browser.find_element(By.NAME, "evidence-0-file").send_keys(str(contract))
    click(browser, browser.find_element(By.CSS_SELECTOR, "form.evidence-upload button"))
    wait_for(browser, lambda d: "已上传“验收报告.pdf”。" in d.find_element(By.ID, "evidence").text)
    assert evaluation.evidence.get().original_name == "验收报告.pdf"
    assert browser.execute_script("return window.stillTheSamePage") is True
    assert browser.find_element(By.NAME, "ind-0-actual").get_attribute("value") == "1500户"
    assert browser.find_element(By.NAME, "goal_actual").get_attribute("value") == (
        "完成了大部分任务。"
    )
    # The renewed section works as the first one did: the file is deleted in place as well.
    section = browser.find_element(By.ID, "evidence")
    click(browser, section.find_element(By.CSS_SELECTOR, ".evidence-file button[type='submit']"))
    wait_for(browser, lambda d: "已删除“验收报告.pdf”。" in d.find_element(By.ID, "evidence").text)
    assert not evaluation.evidence.exists()
    assert browser.execute_script("return window.stillTheSamePage") is True

    # What was typed is saved with the form.
    click(browser, browser.find_element(By.ID, "save-draft"))
    wait_for(browser, lambda d: "已保存" in d.page_source)
    evaluation.refresh_from_db()
    assert evaluation.indicators.get(position=1).actual == "1500户"
    assert evaluation.goal_actual == "完成了大部分任务。"


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_opened_pdf_preview_is_as_wide_as_its_column_and_readable(
    live_server, dept_a, staff_a, browser, size
):
    from selenium.webdriver.common.by import By

    evaluation = make_evaluation(dept_a, staff_a)
    evidence_add(
        evaluation=evaluation,
        user=staff_a,
        upload=SimpleUploadedFile("验收报告.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    sign_in(browser, live_server.url, staff_a.username, PASSWORD)
    browser.set_window_size(*size)
    browser.get(f"{live_server.url}/evaluations/{evaluation.pk}/")
    preview = browser.find_element(By.CSS_SELECTOR, "details.evidence-preview")
    click(browser, preview.find_element(By.TAG_NAME, "summary"))
    frame = wait_for(browser, lambda d: preview.find_element(By.TAG_NAME, "iframe"))
    width, height, column, window = browser.execute_script(
        "const frame = arguments[0].getBoundingClientRect();"
        "const body = arguments[0].closest('.card-body');"
        "const style = getComputedStyle(body);"
        "const inner = body.clientWidth - parseFloat(style.paddingLeft)"
        " - parseFloat(style.paddingRight);"
        "return [frame.width, frame.height, inner, window.innerHeight];",
        frame,
    )
    assert width >= column - 1, (width, column)
    assert height >= min(0.7 * window, 600), (height, window)
    # Within the page: no sideways scrolling on a phone.
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_staff_attach_a_photo_to_row_3_and_the_reviewer_sees_it_in_the_page(
    live_server, dept_a, staff_a, finance, browser, tmp_path, artifacts_dir
):
    evaluation = make_evaluation(dept_a, staff_a, project_name="佐证材料浏览器项目")
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(png_bytes())
    base = live_server.url

    sign_in(browser, base, staff_a.username, PASSWORD)
    browser.get(f"{base}/evaluations/{evaluation.pk}/edit/")
    browser.find_element(By.NAME, "evidence-0-file").send_keys(str(photo))
    browser.find_element(By.NAME, "evidence-0-caption").send_keys("验收现场")
    Select(browser.find_element(By.NAME, "evidence-0-row")).select_by_index(4)  # row 3
    click(browser, browser.find_element(By.CSS_SELECTOR, "form.evidence-upload button"))
    wait_for(browser, lambda d: "已上传“现场照片.png”" in d.page_source)
    evidence = evaluation.evidence.get()
    assert evidence.row == evaluation.indicators.order_by("position")[2].key
    evaluation_submit(evaluation=evaluation, user=staff_a)

    browser.delete_all_cookies()
    sign_in(browser, base, finance.username, PASSWORD)
    browser.get(f"{base}/review/{evaluation.pk}/")
    section = wait_for(browser, lambda d: d.find_element(By.ID, "evidence"))
    assert "第3行指标" in section.text
    click(browser, section.find_element(By.CSS_SELECTOR, "details.evidence-preview summary"))
    image = section.find_element(By.CSS_SELECTOR, "details.evidence-preview img")
    wait_for(browser, lambda d: d.execute_script("return arguments[0].naturalWidth", image) == 1)
    assert browser.current_url == f"{base}/review/{evaluation.pk}/"  # never left the page
    full_page_screenshot(browser, artifacts_dir / "evidence-review.png")
