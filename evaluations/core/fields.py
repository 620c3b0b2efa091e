"""The fields of the form as data: key, label and kind of every value a form holds.

One catalogue for everything that names a field: the mapping between ``FormData``, the
models, the Django forms and the snapshots (``evaluations.mapping``), the history (which
stores keys and renders labels when shown) and the official layout (``core.layout``).
Adding a field to the form starts here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Kinds of value, which decide how a value is parsed, stored, compared and printed.
YEAR = "year"
TEXT = "text"  # one line
LONG_TEXT = "long_text"  # several lines (goals, deviation)
MONEY = "money"  # 万元, four decimal places stored
POINTS = "points"  # weights and scores, two decimal places stored
CHOICE = "choice"  # a category label (一级 / 二级指标)


@dataclass(frozen=True)
class Field:
    """One value of the form."""

    key: str  # FormData / FundingData / IndicatorData attribute and snapshot key
    label: str | Promise  # as shown in the history and diffs
    kind: str
    model: str = ""  # model field name where it differs from ``key``
    # Typed on the edit page (False: computed there, stated only by imported files).
    entered: bool = True
    # Copied into next year's form (docs/domain.md: same project, targets and weights; actuals,
    # scores, deviations and executed amounts start blank).
    next_year: bool = True
    # What the model stores for a blank row value (None: blank stays blank).
    default: Decimal | None = None

    @property
    def model_name(self) -> str:
        return self.model or self.key


HEADER_FIELDS: tuple[Field, ...] = (
    Field("year", _("年度"), YEAR),
    Field("project_name", _("项目名称"), TEXT),
    Field("department", _("主管部门"), TEXT),
    Field("implementing_unit", _("实施单位"), TEXT),
    Field("goal_target", _("年度总体目标：预期目标"), LONG_TEXT),
    Field("goal_actual", _("年度总体目标：实际完成情况"), LONG_TEXT, next_year=False),
    Field("execution_weight", _("预算执行分值"), POINTS),
    Field(
        "execution_score",
        _("预算执行得分"),
        POINTS,
        model="stated_execution_score",
        entered=False,
        next_year=False,
    ),
    Field("stated_total", _("总分"), POINTS, entered=False, next_year=False),
    # The signature block below the table. The people usually stay from one year to the
    # next, so next year's copy keeps them (the filler may correct them on the page).
    Field("unit_head", _("单位负责人"), TEXT),
    Field("filler_name", _("填报人"), TEXT),
    Field("filler_phone", _("联系电话"), TEXT),
)

FUNDING_FIELDS: tuple[Field, ...] = (
    Field("initial_budget", _("年初预算数"), MONEY),
    Field("annual_budget", _("全年预算数"), MONEY),
    Field("executed", _("全年执行数"), MONEY, next_year=False),
)

INDICATOR_FIELDS: tuple[Field, ...] = (
    Field("level1", _("一级指标"), CHOICE),
    Field("level2", _("二级指标"), CHOICE),
    Field("name", _("三级指标"), TEXT),
    Field("target", _("年度指标值"), TEXT),
    Field("actual", _("实际完成值"), TEXT, next_year=False),
    Field("weight", _("分值"), POINTS, default=Decimal("0")),
    Field("score", _("得分"), POINTS, next_year=False),
    Field("deviation", _("偏差原因分析及改进措施"), LONG_TEXT, next_year=False),
    # The approved target and weight from the campaign's due list. Never taken from a
    # posted page (a department must not clear them to hide a change): the write path
    # keeps the stored row's values, and only the due list sets them.
    Field("approved_target", _("批复指标值"), TEXT, entered=False, next_year=False),
    Field("approved_weight", _("批复分值"), POINTS, entered=False, next_year=False),
)

HEADER = {f.key: f for f in HEADER_FIELDS}
FUNDING = {f.key: f for f in FUNDING_FIELDS}
INDICATOR = {f.key: f for f in INDICATOR_FIELDS}


class FundingKind(models.TextChoices):
    TOTAL = "total", _("年度资金总额")
    CURRENT_YEAR = "current_year", _("其中：当年财政拨款")
    CARRYOVER = "carryover", _("上年结转资金")
    OTHER = "other", _("其他资金")
    # Rows of other provinces' templates: kept as the form writes them, printed only on the
    # forms that have them.
    FISCAL = "fiscal", _("财政资金")
    SPECIAL_ACCOUNT = "special_account", _("财政专户管理资金")
    UNIT = "unit", _("单位资金")


# The funding rows as the history names them (the printed form's "其中：" is left out).
FUNDING_ROW_LABELS: dict[str, str | Promise] = {
    FundingKind.TOTAL: _("年度资金总额"),
    FundingKind.CURRENT_YEAR: _("当年财政拨款"),
    FundingKind.CARRYOVER: _("上年结转资金"),
    FundingKind.OTHER: _("其他资金"),
    FundingKind.FISCAL: _("财政资金"),
    FundingKind.SPECIAL_ACCOUNT: _("财政专户管理资金"),
    FundingKind.UNIT: _("单位资金"),
}

# The national template's rows: the entry page and the paper form show them even blank.
FUNDING_STANDARD = (
    FundingKind.TOTAL,
    FundingKind.CURRENT_YEAR,
    FundingKind.CARRYOVER,
    FundingKind.OTHER,
)

# Every kind in the order printed: the sources of other templates beside the standard ones.
FUNDING_ORDER = [
    FundingKind.TOTAL,
    FundingKind.FISCAL,
    FundingKind.CURRENT_YEAR,
    FundingKind.CARRYOVER,
    FundingKind.SPECIAL_ACCOUNT,
    FundingKind.UNIT,
    FundingKind.OTHER,
]

# A source row that is a part ("其中：") of another source when the form has that one too:
# under 财政资金, 当年财政拨款 and 上年结转资金 are its parts and are counted once, inside it.
FUNDING_PART_OF: dict[str, str] = {
    FundingKind.CURRENT_YEAR: FundingKind.FISCAL,
    FundingKind.CARRYOVER: FundingKind.FISCAL,
}
