"""The .docx importer: Word tables in the official layout, merged cells included."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import docx
import pytest
from docx.shared import Pt

from evaluations.core.evaluation_data import FormData
from evaluations.core.formats import format_money, format_percent, format_points
from evaluations.importer.docx import parse_docx
from evaluations.importer.service import import_file
from evaluations.importer.text import parse_text
from evaluations.mapping import snapshot
from evaluations.models import Evaluation
from exports.excel import MONEY, PERCENT, POINTS, TITLE, form_grid
from tests.conftest import SAMPLE_DIR
from tests.export_helpers import sample_form, sample_forms, sample_ids, unexpected


def _text(value, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if kind == MONEY:
            return format_money(value)
        if kind == PERCENT:
            return format_percent(value)
        if kind == POINTS:
            return format_points(value)
    return str(value)


def form_docx(forms: list[FormData], *, title_in_table: bool = False) -> bytes:
    """A Word document with each form as the departments write it.

    Title and year are paragraphs before the table (or its first rows); the table has
    the nine columns of the official layout with 项目资金, 年度总体目标 and
    年度绩效指标完成情况 merged down, 一级/二级指标 merged down over their groups and
    the header cells merged across.
    """
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(9)
    for number, form in enumerate(forms):
        if number:
            document.add_page_break()
        grid = form_grid(form)
        body = [cell for cell in grid if cell.kind != TITLE or title_in_table]
        first_row = 1 if title_in_table else 3
        if not title_in_table:
            for cell in grid:
                if cell.kind == TITLE:
                    document.add_paragraph(str(cell.value))
        rows = max(cell.row + cell.rows - 1 for cell in body) - first_row + 1
        table = document.add_table(rows=rows, cols=9)
        table.style = "Table Grid"
        # Cells looked up once (table.cell() rebuilds the whole grid on every call); the
        # merged regions are disjoint, so each merge only touches cells of its own region.
        cells = table._cells
        for cell in body:
            top = cells[(cell.row - first_row) * 9 + cell.col - 1]
            if cell.rows > 1 or cell.cols > 1:
                bottom_right = (cell.row + cell.rows - 1 - first_row) * 9 + cell.col + cell.cols - 2
                top = top.merge(cells[bottom_right])
            top.text = _text(cell.value, cell.kind)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("prefix,index,form", sample_forms(), ids=sample_ids())
def test_it_reads_a_word_table_like_the_text_dump(prefix, index, form):
    result = parse_docx(form_docx([form]))
    assert len(result.forms) == 1
    assert snapshot(result.forms[0]) == snapshot(form)
    assert unexpected(result.problems, form) == []


@pytest.mark.parametrize("prefix", ["000", "001", "003"])
def test_it_reads_every_form_of_a_whole_document(prefix):
    path = next(SAMPLE_DIR.glob(f"{prefix}_*.txt"))
    forms = parse_text(path.read_bytes()).forms
    result = parse_docx(form_docx(forms))
    assert [snapshot(f) for f in result.forms] == [snapshot(f) for f in forms]


def test_it_reads_a_title_inside_the_table():
    form = sample_form("003")
    result = parse_docx(form_docx([form], title_in_table=True))
    assert [snapshot(f) for f in result.forms] == [snapshot(form)]


def test_the_generated_table_really_has_merged_cells():
    data = form_docx([sample_form("000")])
    table = docx.Document(BytesIO(data)).tables[0]
    xml = table._tbl.xml
    assert 'w:vMerge w:val="restart"' in xml and "<w:vMerge/>" in xml
    assert 'w:gridSpan w:val="8"' in xml  # 项目名称 value over eight columns
    # python-docx repeats a merged cell in every grid position it covers.
    row = table.rows[0]
    assert row.cells[1]._tc is row.cells[8]._tc
    assert len(row._tr.tc_lst) == 2


def test_it_keeps_line_breaks_inside_cells():
    form = sample_form("000")
    form.goal_target = "目标一：完成监督检查。\n目标二：完成宣传培训。"
    result = parse_docx(form_docx([form]))
    assert result.forms[0].goal_target == form.goal_target


def test_a_text_where_a_number_belongs_is_reported_with_table_row_and_cell():
    form = sample_form("000")
    data = form_docx([form])
    document = docx.Document(BytesIO(data))
    table = document.tables[0]
    # Row 11 of the table (1-based) is the first indicator; its 分值 is the 7th cell.
    table.rows[10].cells[6].text = "十分"
    buffer = BytesIO()
    document.save(buffer)
    result = parse_docx(buffer.getvalue())
    assert result.forms[0].indicators[0].weight is None
    messages = [p.message for p in result.problems]
    assert any(m.startswith("表格1 第11行第7格：") and "十分" in m for m in messages), messages


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"not a word file", "不是有效的 .docx 文档"),
        (b"PK\x03\x04broken", "不是有效的 .docx 文档"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "另存为 .docx"),
    ],
)
def test_a_file_that_is_not_a_docx_gives_a_report(data, expected):
    result = parse_docx(data)
    assert result.forms == []
    assert len(result.problems) == 1 and expected in result.problems[0].message


def test_an_empty_document_gives_a_report():
    buffer = BytesIO()
    docx.Document().save(buffer)
    result = parse_docx(buffer.getvalue())
    assert result.forms == []
    assert [p.message for p in result.problems] == ["文档是空的：没有找到任何段落或表格。"]


def test_a_document_without_a_form_is_reported():
    document = docx.Document()
    document.add_paragraph("会议纪要")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "一级指标"
    table.cell(0, 1).text = "数量指标"
    buffer = BytesIO()
    document.save(buffer)
    result = parse_docx(buffer.getvalue())
    assert result.forms == []
    assert result.problems


@pytest.mark.django_db
def test_the_import_service_reads_docx_files(dept_a, staff_a):
    form = sample_form("000", 1)
    report = import_file(
        data=form_docx([form]), name="自评表.docx", department=dept_a, user=staff_a
    )
    assert report.count("created") == 1
    evaluation = Evaluation.objects.get(department=dept_a, project_name=form.project_name)
    assert snapshot(evaluation.as_form_data())["indicators"] == snapshot(form)["indicators"]
