"""Plain data of one self-evaluation form, shared by scoring, importers, views and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class FundingData:
    """One funding row (万元); blank cells are None."""

    kind: str  # a FundingKind value (core/fields.py)
    initial_budget: Decimal | None = None  # 年初预算数
    annual_budget: Decimal | None = None  # 全年预算数
    executed: Decimal | None = None  # 全年执行数
    line: int | None = None  # source line (imports only)


@dataclass
class IndicatorData:
    """One row of the indicator table, as written on the form."""

    level1: str = ""  # 一级指标, e.g. 产出指标
    level2: str = ""  # 二级指标, e.g. 数量指标
    name: str = ""  # 三级指标
    target: str = ""  # 年度指标值, raw text
    actual: str = ""  # 实际完成值, raw text
    weight: Decimal | None = None  # 分值
    score: Decimal | None = None  # 得分 (department's own)
    deviation: str = ""  # 偏差原因分析及改进措施
    # The approved target and weight from the campaign's due list ("" / None: none).
    approved_target: str = ""
    approved_weight: Decimal | None = None
    # Stable identity of a stored row (Indicator.key); "" for a row not stored yet. After
    # the form's own fields so that positional construction keeps working.
    key: str = ""
    line: int | None = None  # source line (imports only)


@dataclass(frozen=True)
class ApprovedTarget:
    """An approved performance target (批复绩效目标) of the form's due project, as held there."""

    level1: str
    level2: str
    name: str
    target: str = ""
    weight: Decimal | None = None


@dataclass(frozen=True)
class RecheckContext:
    """What the re-check rules' checks need beyond the form, read on the server.

    Evidence, the other departments' forms of the year and the year's 复核口径 live outside
    the form; without a context (an imported file, a new form) only the checks of the form
    itself run (``core/recheck_checks.py``).
    """

    evidence_rows: frozenset[str] = frozenset()  # keys of indicator rows with a file
    survey_rows: frozenset[str] = frozenset()  # keys of rows with a file marked as a survey
    form_evidence: bool = False  # any file on the form
    requires_evidence: bool = False  # the year's rule set asks for evidence (rule 1)
    # Execution rate (fraction) below which every indicator at full marks is questioned.
    execution_threshold: Decimal = Decimal("0.9")
    # (三级指标, 年度指标值), normalised, of other departments' forms of the same year.
    peer_rows: frozenset[tuple[str, str]] = frozenset()
    inactive: frozenset[str] = frozenset()  # rule codes switched off: their checks do not run
    blocking: frozenset[str] = frozenset()  # rule codes whose checks block submission


@dataclass
class FormData:
    """One 项目支出绩效自评表 as written: nothing here is computed."""

    year: int | None = None
    project_name: str = ""
    department: str = ""
    implementing_unit: str = ""
    goal_target: str = ""  # 年度总体目标: 预期目标
    goal_actual: str = ""  # 年度总体目标: 实际完成情况
    funding: list[FundingData] = field(default_factory=list)
    execution_weight: Decimal | None = Decimal("10")  # 分值 of the total funding row
    execution_score: Decimal | None = None  # 得分 of the total funding row, as stated
    stated_total: Decimal | None = None  # 总分 as stated
    # True when nobody typed the execution score and total: the web form states what the
    # rules compute (``scoring.with_computed_totals``); False for totals read from a file.
    totals_computed: bool = False
    indicators: list[IndicatorData] = field(default_factory=list)
    # The signature block: 填报人, 联系电话, 单位负责人.
    filler_name: str = ""
    filler_phone: str = ""
    unit_head: str = ""
    # On the campaign's due list: True, False (a campaign exists and the project is not on
    # it: NOT_IN_DUE_LIST), or None (no campaign for the year; nothing to say).
    due: bool | None = None
    # The due project's approved targets, read from the due list on the server (never from
    # a posted page): rows are compared with them (TARGET_CHANGED, TARGET_MISSING). None:
    # the form has no due project, and its rows keep the approved values they carry.
    approved_targets: list[ApprovedTarget] | None = None
    # Evidence, peers and the year's re-check rules (server-side); None: the form alone.
    recheck: RecheckContext | None = None
    line: int | None = None  # source line of the title (imports only)
    sheet: str = ""  # the worksheet the form was read from (.xlsx imports only)

    def funding_row(self, kind: str) -> FundingData | None:
        """Return the funding row of the given kind, if the form has one."""
        for row in self.funding:
            if row.kind == kind:
                return row
        return None
