"""Builders for evaluations used across tests."""

from __future__ import annotations

from decimal import Decimal

from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
from evaluations.models import Evaluation
from evaluations.services import evaluation_create

D = Decimal

CLEAN_INDICATORS = [
    ("产出指标", "数量指标", "改造农村住房户数", "=1600户", "1600户", "10", "10"),
    ("产出指标", "数量指标", "监督检查次数", ">=10次", "12次", "10", "10"),
    ("产出指标", "质量指标", "工程质量达标率", ">=98%", "99%", "10", "10"),
    ("产出指标", "时效指标", "完成时间", "2021年12月31日", "2021年12月20日", "10", "10"),
    ("产出指标", "成本指标", "检查费用", "<=21.50万元", "21.50万元", "10", "10"),
    ("效益指标", "社会效益指标", "居民住房条件", "有效改善", "有效改善", "15", "15"),
    ("效益指标", "可持续影响指标", "长效机制", "逐步建立", "已建立", "15", "15"),
    ("满意度指标", "满意度指标", "群众满意度", ">=95%", "96%", "10", "10"),
]


def clean_form_data(
    project_name: str = "农村住房质量监督", year: int = 2021, **overrides
) -> FormData:
    """A form with no findings: weights 10/50/30/10, everything met, totals right."""
    form = FormData(
        year=year,
        project_name=project_name,
        department="",
        implementing_unit="实施单位甲",
        goal_target="保障居民住房质量安全。",
        goal_actual="完成全部监督检查任务。",
        funding=[
            FundingData("total", D("70"), D("70"), D("70")),
            FundingData("current_year", D("70"), D("70"), D("70")),
            FundingData("carryover", D("0"), D("0"), D("0")),
            FundingData("other", D("0"), D("0"), D("0")),
        ],
        execution_weight=D("10"),
        execution_score=D("10"),
        stated_total=D("100"),
        indicators=[
            IndicatorData(level1=a, level2=b, name=c, target=t, actual=x, weight=D(w), score=D(s))
            for a, b, c, t, x, w, s in CLEAN_INDICATORS
        ],
    )
    for key, value in overrides.items():
        setattr(form, key, value)
    return form


def make_evaluation(department, user=None, **overrides) -> Evaluation:
    """Create an evaluation from clean_form_data() in ``department``."""
    data = clean_form_data(**overrides)
    data.department = department.name
    evaluation, _ = evaluation_create(department=department, data=data, user=user)
    return evaluation
