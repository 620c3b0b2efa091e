"""The national default re-check rules (复核口径), shipped with the application."""

from __future__ import annotations

from django.db import migrations

NAME = "全国通用复核口径"

# (code, wording, effect, percentages): the rules bureaus and their accounting firms publish.
RULES = [
    ("1", "指标无佐证材料的，该指标得0分。", "zero", ""),
    ("2", "指标与项目无关的，该指标得0分。", "zero", ""),
    (
        "3",
        "指标无法核实（如“≥95%”未说明衡量对象，形式上定量、实质定性）的，按严重程度扣减该指标分值的30%、60%或100%。",
        "percent",
        "30,60,100",
    ),
    ("4", "满意度指标无满意度调查问卷等佐证材料的，该指标得0分。", "zero", ""),
    ("5", "实际完成值超过指标值130%以上的，不扣分。", "none", ""),
    ("6", "数量指标设置为定性指标但与项目相关的，不扣分。", "none", ""),
    ("7", "多项任务中仅部分任务未按时完成的，时效指标扣减30%。", "percent", "30"),
    ("8", "定性效益指标已产生效果的，不扣分。", "none", ""),
    ("9", "同一指标在产出指标和效益指标中重复设置的，只计一次，另一处得0分。", "once", ""),
    (
        "10",
        "三级指标与二级指标不匹配（如在数量指标下设置资金支付、预算执行类指标）的，该指标得0分。",
        "zero",
        "",
    ),
    ("14", "每项扣分均应说明理由，注明所依据的复核口径及扣分比例。", "none", ""),
]


def create(apps, schema_editor):
    RuleSet = apps.get_model("rechecks", "RecheckRuleSet")
    Rule = apps.get_model("rechecks", "RecheckRule")
    rule_set, created = RuleSet.objects.get_or_create(
        name=NAME,
        defaults={"description": "按财政部门常用复核口径整理，可复制后按本地规定修改。"},
    )
    if not created:
        return
    Rule.objects.bulk_create(
        Rule(
            rule_set=rule_set,
            code=code,
            wording=wording,
            effect=effect,
            percentages=percentages,
            position=i + 1,
        )
        for i, (code, wording, effect, percentages) in enumerate(RULES)
    )


def remove(apps, schema_editor):
    apps.get_model("rechecks", "RecheckRuleSet").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("rechecks", "0002_recheck_rule_sets")]

    operations = [migrations.RunPython(create, remove)]
