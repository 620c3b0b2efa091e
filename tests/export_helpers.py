"""Helpers shared by the export tests: sample forms, stored evaluations, PDF text."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from departments.models import Department
from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.importer.text import parse_text
from evaluations.models import Evaluation, Status
from evaluations.services import evaluation_create
from exports import bulk
from exports.compose import evaluation_pdf
from tests.conftest import SAMPLE_DIR

APPROVED_AT = datetime(2022, 3, 1, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@cache
def _sample_forms() -> tuple[tuple[str, int, FormData], ...]:
    found = []
    for path in sorted(SAMPLE_DIR.glob("*.txt")):
        for index, form in enumerate(parse_text(path.read_bytes()).forms):
            found.append((path.name[:3], index, form))
    return tuple(found)


def sample_forms() -> list[tuple[str, int, FormData]]:
    """Every form of every sample file as (file prefix, index in file, form)."""
    return list(_sample_forms())


def sample_ids() -> list[str]:
    """Test ids of the sample forms ("000-3")."""
    return [f"{prefix}-{index}" for prefix, index, _form in _sample_forms()]


def sample_form(prefix: str, index: int = 0) -> FormData:
    """One sample form (parsed anew, so tests may change it)."""
    path = next(SAMPLE_DIR.glob(f"{prefix}_*.txt"))
    return parse_text(path.read_bytes()).forms[index]


def store(
    form: FormData,
    department: Department | None = None,
    *,
    status: str = Status.DRAFT,
    approved_at: datetime | None = None,
) -> Evaluation:
    """Save a form as an evaluation of its department (created on demand) with a status."""
    if department is None:
        department, _created = Department.objects.get_or_create(name=form.department)
    evaluation, _result = evaluation_create(department=department, data=form, user=None)
    if status != Status.DRAFT:
        Evaluation.objects.filter(pk=evaluation.pk).update(
            status=status, approved_at=approved_at if status == Status.APPROVED else None
        )
        evaluation.refresh_from_db()
    return evaluation


def forty_indicator_form() -> FormData:
    """A form with 40 indicators, some with long texts: it needs several pages."""
    groups = [
        ("产出指标", "数量指标", 14),
        ("产出指标", "质量指标", 8),
        ("产出指标", "时效指标", 6),
        ("产出指标", "成本指标", 4),
        ("效益指标", "社会效益指标", 4),
        ("效益指标", "可持续影响指标", 2),
        ("满意度指标", "满意度指标", 2),
    ]
    indicators = []
    n = 0
    for level1, level2, count in groups:
        for _i in range(count):
            n += 1
            long = "（含较长的说明文字，用于检查单元格内换行是否完整）" if n % 5 == 0 else ""
            indicators.append(
                IndicatorData(
                    level1=level1,
                    level2=level2,
                    name=f"第{n}项指标完成任务数量{long}",
                    target=f">={n}个",
                    actual=f"{n}个",
                    weight=Decimal("2.25"),
                    score=Decimal("2.25"),
                    deviation="偏差说明：原计划任务调整，今后将及时调整预算。"
                    if n % 7 == 0
                    else "",
                )
            )
    return FormData(
        year=2021,
        project_name="四十项指标测试项目",
        department="昌吉回族自治州住房和城乡建设局",
        implementing_unit="测试实施单位",
        goal_target="完成四十项任务。",
        goal_actual="已完成四十项任务。",
        funding=[
            FundingData("total", Decimal(100), Decimal(100), Decimal(100)),
            FundingData("current_year", Decimal(100), Decimal(100), Decimal(100)),
            FundingData("carryover", Decimal(0), Decimal(0), Decimal(0)),
            FundingData("other", Decimal(0), Decimal(0), Decimal(0)),
        ],
        execution_weight=Decimal(10),
        execution_score=Decimal(10),
        stated_total=Decimal(100),
        indicators=indicators,
    )


def squash(text: str) -> str:
    """Text without any whitespace or word joiner, for searching wrapped cell text.

    The printed HTML joins each figure's characters with U+2060 (exports/pdf.py
    ``nobreak_html``), which prints nothing.
    """
    return "".join(text.replace("\u2060", "").split())


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF, whitespace removed."""
    return [squash(page.extract_text() or "") for page in PdfReader(BytesIO(data)).pages]


def unexpected(problems, form) -> list[str]:
    """Every problem reading a file back: this application's own files give none, even a
    form with a blank stated total (exported as 总分 | 100 | an empty cell)."""
    return [p.message for p in problems]


def merged_pdf(evaluations, target) -> int:
    """The merged PDF of these forms as ``manage.py export_pdf`` writes it (each rendered now)."""
    return bulk.write_merged(
        bulk.with_campaign_flags(evaluations), target, bulk.NoProgress(), pdf_of=evaluation_pdf
    )


def pdf_zip(evaluations, target) -> int:
    """The ZIP of these forms' PDFs as ``manage.py export_pdf`` writes it (each rendered now)."""
    return bulk.write_zip(
        bulk.with_campaign_flags(evaluations), target, bulk.NoProgress(), pdf_of=evaluation_pdf
    )
