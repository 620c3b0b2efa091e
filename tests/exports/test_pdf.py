"""PDF export: every field printed, watermarks, page breaks, downloads, bulk and command."""

from __future__ import annotations

import subprocess
import zipfile
from io import BytesIO
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from common import pdf as printing
from evaluations.core.formats import format_money, format_percent, format_points
from evaluations.core.scoring import evaluate
from evaluations.models import Evaluation, Status
from exports import compose, pdf
from tests.export_helpers import (
    APPROVED_AT,
    forty_indicator_form,
    merged_pdf,
    pdf_pages,
    pdf_zip,
    sample_form,
    sample_forms,
    sample_ids,
    squash,
    store,
)
from tests.exports.test_export_pages import export_through_job

pytestmark = pytest.mark.django_db


def expected_fields(evaluation: Evaluation) -> list[str]:
    """Every value of the form as the PDF must print it."""
    form = evaluation.as_form_data()
    result = evaluate(form)
    fields = [
        "项目支出绩效自评表",
        f"（{form.year}年度）",
        form.project_name,
        form.department,
        form.implementing_unit,
        form.goal_target,
        form.goal_actual,
        format_points(form.execution_weight),
        format_points(form.stated_total),
    ]
    if result.execution_rate is not None:
        fields.append(format_percent(result.execution_rate))
    if form.execution_score is not None:
        fields.append(format_points(form.execution_score))
    for row in form.funding:
        fields += [
            format_money(row.initial_budget),
            format_money(row.annual_budget),
            format_money(row.executed),
        ]
    for ind in form.indicators:
        fields += [
            ind.level1,
            ind.level2,
            ind.name,
            ind.target,
            ind.actual,
            format_points(ind.weight),
            format_points(ind.score),
            ind.deviation,
        ]
    return [squash(f) for f in fields if squash(f)]


@pytest.mark.parametrize("prefix,index,form", sample_forms(), ids=sample_ids())
def test_it_prints_every_field_of_every_sample_form(prefix, index, form):
    evaluation = store(form)
    text = "".join(pdf_pages(compose.evaluation_pdf(evaluation)))
    missing = [field for field in expected_fields(evaluation) if field not in text]
    assert missing == []


def test_it_prints_the_known_figures_of_the_first_sample(artifacts_dir):
    evaluation = store(sample_form("000"), status=Status.APPROVED, approved_at=APPROVED_AT)
    data = compose.evaluation_pdf(evaluation)
    text = "".join(pdf_pages(data))
    # Stated figures of the form (docs/domain.md): 70.00 / 57.55 → 82.21% → 8.22; total 97.06.
    for figure in ("70.00", "57.55", "82.21%", "8.22", "97.06", "100"):
        assert figure in text
    # The department's 0.84 for a met cost target stays; the rule's 2 is only a note.
    assert "0.84计算值：2" in text
    assert "（2021年度）" in text
    (artifacts_dir / "sample-000-0.pdf").write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "70",
            "-png",
            str(artifacts_dir / "sample-000-0.pdf"),
            str(artifacts_dir / "sample-000-0"),
        ],
        check=True,
    )
    assert (artifacts_dir / "sample-000-0-1.png").stat().st_size > 10_000


def test_it_shows_a_computed_total_beside_a_wrong_stated_one():
    form = sample_form("000")
    form.stated_total = form.stated_total - 5
    text = "".join(pdf_pages(pdf.form_pdf(form)))
    assert f"{format_points(form.stated_total)}计算值：" in text


def test_it_uses_the_serif_cjk_font_and_a4_portrait():
    data = pdf.form_pdf(sample_form("000"))
    reader = PdfReader(BytesIO(data))
    page = reader.pages[0]
    assert round(float(page.mediabox.width)) == 595
    assert round(float(page.mediabox.height)) == 842
    fonts = {
        str(font["/BaseFont"]) for p in reader.pages for font in p["/Resources"]["/Font"].values()
    }
    # One regular serif face only: each extra face costs a font subset per PDF.
    assert len(fonts) == 1 and fonts.pop().endswith("+Noto-Serif-CJK-SC")


@pytest.mark.parametrize(
    "status,present,absent",
    [
        (Status.DRAFT, "草稿", "未审核"),
        (Status.RETURNED, "草稿", "未审核"),
        (Status.SUBMITTED, "未审核", "草稿"),
    ],
)
def test_it_watermarks_forms_not_yet_approved(status, present, absent):
    evaluation = store(sample_form("000"), status=status)
    pages = pdf_pages(compose.evaluation_pdf(evaluation))
    assert all(present in page for page in pages)
    assert not any(absent in page for page in pages)
    assert not any("审核通过日期" in page for page in pages)


def test_it_prints_approved_forms_without_watermark_and_with_the_approval_date():
    evaluation = store(sample_form("000"), status=Status.APPROVED, approved_at=APPROVED_AT)
    text = "".join(pdf_pages(compose.evaluation_pdf(evaluation)))
    assert "草稿" not in text
    assert "未审核" not in text
    assert "审核通过日期：2022年3月1日" in text


def test_it_spreads_forty_indicators_over_pages_with_the_header_repeated(artifacts_dir):
    form = forty_indicator_form()
    data = pdf.form_pdf(form)
    (artifacts_dir / "forty-indicators.pdf").write_bytes(data)
    pages = pdf_pages(data)
    assert len(pages) >= 2
    header = squash(
        "一级指标 二级指标 三级指标 年度指标值 实际完成值 分值 得分 偏差原因分析及改进措施"
    )
    assert all(header in page for page in pages)
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页，共{len(pages)}页" in page
    # No row is cut in half: each indicator's cells are all on one page, exactly once.
    for ind in form.indicators:
        holding = [p for p in pages if squash(ind.name) in p]
        assert len(holding) == 1, ind.name
        assert squash(ind.target) in holding[0]
        assert squash(ind.deviation) in holding[0]
    assert "100" in pages[-1] and "总分" in pages[-1]
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "70",
            "-png",
            str(artifacts_dir / "forty-indicators.pdf"),
            str(artifacts_dir / "forty-indicators"),
        ],
        check=True,
    )
    assert (artifacts_dir / "forty-indicators-2.png").exists()


def test_it_refuses_to_fetch_anything_outside_static():
    from weasyprint.urls import FatalURLFetchingError  # noqa: F401 - API present

    _css, _fonts, fetcher = printing.resources()
    with pytest.raises(ValueError):
        fetcher.fetch("https://example.com/x.css")
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
    assert fetcher.fetch(printing.stylesheet_path().as_uri()) is not None


def test_it_names_files_safely():
    assert pdf.safe_filename('a/b\\c:d*e?"f<g>h|') == "a_b_c_d_e_f_g_h"
    evaluation = store(sample_form("000"))
    name = pdf.export_filename(evaluation, "pdf")
    assert name.startswith("2021年度_") and name.endswith("_绩效自评表.pdf")
    assert "/" not in name


# --------------------------------------------------------------------------- bulk


def stored_department_a(dept_a, limit: int = 10) -> list[Evaluation]:
    """The first (up to ten) 2021 forms of sample 000, stored for department A."""
    forms = [form for prefix, _i, form in sample_forms() if prefix == "000"]
    return [store(form, dept_a) for form in forms[:limit]]


def outline_titles(data: bytes) -> list[str]:
    return [item.title for item in PdfReader(BytesIO(data)).outline]


def test_it_merges_forms_in_order_with_page_numbers_restarting(dept_a):
    evaluations = stored_department_a(dept_a)
    expected = sorted(evaluations, key=lambda e: (e.project_name, e.pk))
    target = BytesIO()
    count = merged_pdf(expected, target)
    data = target.getvalue()
    assert count == len(expected) == 10
    assert outline_titles(data) == [f"2021 {e.project_name}" for e in expected]
    pages = pdf_pages(data)
    # Each form starts on a page numbered 1, after its predecessor's last page.
    starts = [i for i, page in enumerate(pages) if "第1页，共" in page]
    assert len(starts) == 10
    for evaluation, start in zip(expected, starts, strict=True):
        assert squash(evaluation.project_name)[:20] in pages[start]
    reader = PdfReader(BytesIO(data))
    assert [reader.page_labels[i] for i in starts] == ["1"] * 10


def test_it_zips_one_pdf_per_form(dept_a):
    evaluations = stored_department_a(dept_a, 3)
    target = BytesIO()
    assert pdf_zip(evaluations, target) == 3
    with zipfile.ZipFile(BytesIO(target.getvalue())) as archive:
        names = archive.namelist()
        assert len(names) == 3
        assert names[0].startswith("001_2021年度_")
        for name, evaluation in zip(names, evaluations, strict=True):
            assert squash(evaluation.project_name)[:15] in "".join(pdf_pages(archive.read(name)))


@pytest.mark.slow
def test_export_pdf_command_writes_a_merged_pdf_and_a_zip(dept_a, tmp_path):
    stored_department_a(dept_a)
    merged = tmp_path / "out" / "all.pdf"
    call_command("export_pdf", year=2021, department=dept_a.name, output=str(merged))
    assert len(outline_titles(merged.read_bytes())) == 10
    archive_path = tmp_path / "all.zip"
    call_command("export_pdf", "--year", "2021", "--output", str(archive_path))
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
        assert len(names) == 10
        assert all(archive.read(n).startswith(b"%PDF-") for n in names)
    assert list(tmp_path.glob("*.zip.*")) == [] and len(list(tmp_path.iterdir())) == 2


def test_export_pdf_command_refuses_bad_arguments(dept_a, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_pdf", year=2021, output=str(tmp_path / "x.doc"))
    with pytest.raises(CommandError):
        call_command("export_pdf", year=2021, output=str(tmp_path / "x.pdf"))
    store(sample_form("000"), dept_a)
    with pytest.raises(CommandError):
        call_command(
            "export_pdf", year=2021, department="没有这个部门", output=str(tmp_path / "x.pdf")
        )
    assert not (tmp_path / "x.pdf").exists()


# --------------------------------------------------------------------------- views


def test_it_downloads_own_departments_pdf_with_a_chinese_filename(client_a, dept_a):
    evaluation = store(sample_form("000"), dept_a)
    response = client_a.get(reverse("evaluations:pdf", args=[evaluation.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    name = pdf.export_filename(evaluation, "pdf")
    assert disposition.startswith("attachment; ")
    assert f'filename="evaluation-{evaluation.pk}.pdf"' in disposition
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert disposition.isascii()
    assert squash(evaluation.project_name) in "".join(pdf_pages(response.content))


def test_it_hides_another_departments_pdf(client_b, dept_a):
    evaluation = store(sample_form("000"), dept_a)
    assert client_b.get(reverse("evaluations:pdf", args=[evaluation.pk])).status_code == 404
    assert client_b.get(reverse("evaluations:xlsx", args=[evaluation.pk])).status_code == 404


def test_finance_downloads_every_departments_pdf(client_finance, dept_a, dept_b):
    first = store(sample_form("000"), dept_a)
    second = store(sample_form("003"), dept_b)
    for evaluation in (first, second):
        response = client_finance.get(reverse("evaluations:pdf", args=[evaluation.pk]))
        assert response.status_code == 200
        assert response.content.startswith(b"%PDF-")


def test_anonymous_users_are_sent_to_login(dept_a):
    evaluation = store(sample_form("000"), dept_a)
    for url in (
        reverse("evaluations:pdf", args=[evaluation.pk]),
        reverse("evaluations:bulk_pdf") + "?year=2021",
    ):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_refuses_post_on_downloads(client_a, dept_a):
    evaluation = store(sample_form("000"), dept_a)
    assert client_a.post(reverse("evaluations:pdf", args=[evaluation.pk])).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_bulk_exports_a_departments_year(client_a, dept_a, dept_b):
    evaluations = stored_department_a(dept_a, 3)
    store(sample_form("003"), dept_b)  # another department's form stays out
    query = f"?year=2021&department={dept_a.pk}"
    # The old download URL leads to the pre-filled export form (a GET starts no job).
    response = client_a.get(reverse("evaluations:bulk_pdf") + query)
    assert response.status_code == 302
    assert response["Location"] == f"/exports/?year=2021&department={dept_a.pk}&format=pdf"

    _job, response = export_through_job(client_a, year=2021, department=dept_a.pk, format="pdf")
    data = b"".join(response.streaming_content)
    assert len(outline_titles(data)) == 3
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert 'filename="evaluations-2021.pdf"' in response["Content-Disposition"]

    response = client_a.get(reverse("evaluations:bulk_zip") + query)
    assert response["Location"] == f"/exports/?year=2021&department={dept_a.pk}&format=zip"
    _job, response = export_through_job(client_a, year=2021, department=dept_a.pk, format="zip")
    with zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))) as archive:
        assert len(archive.namelist()) == len(evaluations)

    # Staff without a department parameter get their own department only.
    response = client_a.get(reverse("evaluations:bulk_zip") + "?year=2021")
    assert response["Location"] == "/exports/?year=2021&format=zip"
    _job, response = export_through_job(client_a, year=2021, format="zip")
    with zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))) as archive:
        assert len(archive.namelist()) == 3


def test_bulk_views_refuse_other_departments_and_bad_parameters(client_a, client_b, dept_a, dept_b):
    stored_department_a(dept_a, 1)
    assert (
        client_b.get(
            reverse("evaluations:bulk_pdf") + f"?year=2021&department={dept_a.pk}"
        ).status_code
        == 404
    )
    assert client_b.get(reverse("evaluations:bulk_pdf") + "?year=2021").status_code == 404
    assert client_a.get(reverse("evaluations:bulk_pdf")).status_code == 400
    assert client_a.get(reverse("evaluations:bulk_pdf") + "?year=abc").status_code == 400
    assert (
        client_a.get(reverse("evaluations:bulk_pdf") + "?year=2021&department=x").status_code == 400
    )
    assert client_a.get(reverse("evaluations:bulk_pdf") + "?year=1999").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_finance_bulk_exports_all_departments(client_finance, dept_a, dept_b):
    store(sample_form("000"), dept_a)
    store(sample_form("000", 1), dept_a)
    store(sample_form("003"), dept_b)
    assert client_finance.get(reverse("evaluations:bulk_pdf") + "?year=2021").status_code == 302
    _job, response = export_through_job(client_finance, year=2021, format="pdf")
    assert len(outline_titles(b"".join(response.streaming_content))) == 2
    _job, response = export_through_job(
        client_finance, year=2020, department=dept_b.pk, format="pdf"
    )
    assert len(outline_titles(b"".join(response.streaming_content))) == 1


def test_the_list_page_offers_the_bulk_export_of_the_filtered_year(client_a, dept_a):
    store(sample_form("000"), dept_a)
    response = client_a.get(reverse("evaluations:list") + "?year=2021")
    assert response.status_code == 200
    html = response.content.decode()
    # Buttons of a POST form to /exports/ (a background job), no longer download links.
    form = html.split('<form method="post" action="/exports/"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="year" value="2021">' in form
    for fmt in ("pdf", "zip", "xlsx"):
        assert f'name="format" value="{fmt}"' in form
    assert reverse("evaluations:bulk_pdf") not in html
