"""Recognising the parts of a form: title, header, funding, goal, indicator and total rows."""

from __future__ import annotations

import re

from evaluations.importer.cells import Cell, clean_cell
from evaluations.importer.indicator_columns import SPLIT_TARGET_COLUMNS, column_name

# ---------------------------------------------------------------- title and header

_YEAR_CELL = re.compile(r"^(?:\((\d{4})年度?\)|(\d{4})年度)$")
_YEAR_ANYWHERE = re.compile(r"(\d{4})年")
# 项目支出绩效自评表, 绩效目标自评表, 部门预算项目支出绩效自评表(2023年度), "<县>项目…".
_TITLE = re.compile(r"绩效(?:目标)?自评表(?:\(\d{4}年度?\))?$")
# The department-wide form (部门整体支出绩效自评表): its title, and its goal rows with a
# weight ("年度目标1:(80分)") that no project form has.
_DEPARTMENT_WIDE_TITLE = re.compile(r"(?:部门|单位|部门\(单位\))整体(?:支出)?绩效")
_DEPARTMENT_WIDE_GOAL = re.compile(r"^年度(?:绩效)?目标\d+")
_ATTACHMENT = re.compile(r"^附(?:件|表)\d*[:]?$")
_MAX_LABEL = 40
_HEADER_LABELS = (
    ("项目名称", "project_name"),
    ("主管部门", "department"),
    ("实施单位", "implementing_unit"),
)  # a label cell is short; longer cells are prose that may quote a label


def find_title(norms: list[str]) -> int | None:
    """Return the index of the title cell, if the row is a title row.

    The title leads its row (after 附件1：) and the row holds little else, so an
    indicator named like "报送绩效自评表" is not taken for the start of a form.
    """
    if sum(1 for n in norms if n) > 4:
        return None
    for i, norm in enumerate(norms):
        if not norm or _ATTACHMENT.match(norm):
            continue
        if len(norm) <= _MAX_LABEL and _TITLE.search(norm):
            return i
        return None
    return None


def is_department_wide(norm: str, *, title: bool) -> bool:
    """Whether a title (or, with title False, any cell) belongs to a 部门整体支出绩效自评表."""
    if title:
        return bool(_DEPARTMENT_WIDE_TITLE.search(norm))
    return bool(_DEPARTMENT_WIDE_GOAL.match(norm))


def next_value(cells: list[Cell], norms: list[str], i: int) -> tuple[int, str]:
    """Return the index and text of the value cell after the label at i."""
    for j in range(i + 1, len(cells)):
        if not norms[j]:
            continue
        if any(norms[j].startswith(label) for label, _attr in _HEADER_LABELS) or _YEAR_CELL.match(
            norms[j]
        ):
            return j - 1, ""
        return j, clean_cell(cells[j].text)
    return len(cells), ""


# ---------------------------------------------------------------- column maps

_INDICATOR_COLUMNS = {
    "一级指标": "level1",
    "二级指标": "level2",
    "三级指标": "name",
    "年度指标值": "target",
    "年度": "target",
    "指标值": "target",
    "年度目标值": "target",
    "目标值": "target",
    "实际完成值": "actual",
    "实际": "actual",
    "完成值": "actual",
    "实际值": "actual",
    "全年实际值": "actual",
    "年初目标值": "target",
    "分值": "weight",
    "权重": "weight",
    "得分": "score",
    "自评得分": "score",
}
# The printed layout: a merged label column, then the nine columns of the table.
_DEFAULT_INDICATORS = {
    "level1": 1,
    "level2": 2,
    "name": 3,
    "target": 4,
    "actual": 5,
    "weight": 6,
    "score": 7,
    "deviation": 8,
}
_DEFAULT_INDICATOR_WIDTH = 9
# First and second levels of the 2020-2021 templates and of the newer 成本指标 one,
# used only to recognise indicator rows when their header is missing.
_CATEGORY_LABELS = frozenset(
    {
        "产出指标",
        "效益指标",
        "满意度指标",
        "成本指标",
        "数量指标",
        "质量指标",
        "时效指标",
        "经济效益指标",
        "社会效益指标",
        "生态效益指标",
        "可持续影响指标",
        "服务对象满意度指标",
        "经济成本指标",
        "社会成本指标",
        "生态环境成本指标",
    }
)


def indicator_column(norm: str) -> str | None:
    """Return the indicator field a header cell names, if any."""
    norm = column_name(norm)
    if norm in _INDICATOR_COLUMNS:
        return _INDICATOR_COLUMNS[norm]
    if norm in SPLIT_TARGET_COLUMNS:
        return SPLIT_TARGET_COLUMNS[norm]
    # 偏差原因分析及改进措施, 未完成原因分析, 未完成原因及拟采取的改进措施
    if "偏差" in norm or "原因分析" in norm or ("原因" in norm and len(norm) <= 20):
        return "deviation"
    return None


_OTHER_SOURCES = {
    "财政资金": "fiscal",
    "财政专户管理资金": "special_account",
    "财政专户资金": "special_account",
    "单位资金": "unit",
    "单位自有资金": "unit",
}


def funding_kind_of(norm: str) -> str | None:
    """Return the funding row kind a label cell names, if any."""
    if len(norm) > 15:
        return None
    if "资金总额" in norm or norm in ("合计", "总计"):
        return "total"
    # Other templates' sources, by their exact label: an indicator named "财政资金到位率"
    # must stay an indicator.
    source = _OTHER_SOURCES.get(norm.removeprefix("其中").lstrip(":").rstrip(":"))
    if source:
        return source
    if "财政拨款" in norm:
        return "current_year"
    if "上年结转" in norm or "结转资金" in norm:
        return "carryover"
    if "其他资金" in norm:
        return "other"
    return None


# ---------------------------------------------------------------- body rows


def is_goal_header(norms: list[str]) -> bool:
    """Whether the row starts the goal part (年度总体目标, or 预期目标 | 实际完成情况)."""
    return any(n in ("年度总体目标", "总体目标") for n in norms) or (
        "预期目标" in norms and any(n.startswith("实际完成情况") for n in norms)
    )


def indicator_header(norms: list[str]) -> dict[str, int] | None:
    """Return the column of each indicator field, if the row is the indicator header."""
    if "一级指标" not in norms or not ("二级指标" in norms or "三级指标" in norms):
        return None
    columns: dict[str, int] = {}
    for i, norm in enumerate(norms):
        column = indicator_column(norm)
        if column and column not in columns:
            columns[column] = i
    return columns


def looks_like_indicator(norms: list[str]) -> bool:
    """Whether a row without an indicator header above it still reads as an indicator."""
    return len(norms) >= 5 and any(n in _CATEGORY_LABELS for n in norms[:4])


def is_total(norms: list[str]) -> bool:
    """Whether the row is the 总分 row that ends a form."""
    first = next((n for n in norms if n), "")
    return first == "总分" or (first.startswith("总分:") and len(first) <= 20)


def looks_like_form_content(norms: list[str]) -> bool:
    """Whether the row holds labels of a form's body (funding, indicators, goal, total)."""
    return any(
        funding_kind_of(n)
        or n in ("一级指标", "二级指标", "总分", "年度总体目标")
        or n.endswith(("产出指标", "效益指标", "满意度指标"))
        for n in norms
        if n
    )
