"""The rule sets that ship with the application: the national one and two provincial ones.

The figures are written out here (not read from evaluations/core/rulesets.py) so that a
later change of the code's presets never changes what this migration stored.
"""

from django.db import migrations

RULE_SETS = [{'code': 'national',
  'name': '全国通用规则',
  'description': '预算执行率 10 分；产出 50、效益 30、满意度 10；反向指标（≤）得分 = 分值 × 指标值 ÷ 实际值；定性指标 80–100% / '
                 '60–80% / 0–60%。超额扣分与执行率封顶两项本地规则由服务器设置开启（见部署文档）。',
  'rules': {'execution_weight': '10',
            'category_weights': {'产出指标': '50', '效益指标': '30', '满意度指标': '10'},
            'total_weight': '100',
            'less_is_better': 'ratio',
            'qualitative_bands': ['0.8', '0.6'],
            'over_achievement_deduction': False,
            'over_achievement_threshold': '0.30',
            'over_achievement_points': '2',
            'execution_rate_cap': False,
            'execution_rate_caps': [['0.5', '59'], ['0.6', '69'], ['0.7', '79'], ['0.8', '89']],
            'tolerance': '0.01',
            'template': 'standard-2020'},
  'fingerprint': '95b6f30938f9fa85'},
 {'code': 'execution-20',
  'name': '执行率 20 分（一级指标 70/20/10）',
  'description': '预算执行率 20 分；其余 80 分按产出 70%、效益 20%、满意度 10% 分配（56 / 16 / 8 分）；反向指标（≤）得分 = 分值 × '
                 '(1 − (实际值 − 指标值) ÷ 指标值)，实际值达到指标值两倍时为 0。',
  'rules': {'execution_weight': '20',
            'category_weights': {'产出指标': '56', '效益指标': '16', '满意度指标': '8'},
            'total_weight': '100',
            'less_is_better': 'linear',
            'qualitative_bands': ['0.8', '0.6'],
            'over_achievement_deduction': False,
            'over_achievement_threshold': '0.30',
            'over_achievement_points': '2',
            'execution_rate_cap': False,
            'execution_rate_caps': [['0.5', '59'], ['0.6', '69'], ['0.7', '79'], ['0.8', '89']],
            'tolerance': '0.01',
            'template': 'standard-2020'},
  'fingerprint': '6f579606f75fb947'},
 {'code': 'bands-50',
  'name': '定性指标 50 分档',
  'description': '同全国通用规则，定性指标分档为 80–100% / 50–80% / 0–50%；实际值超出指标值 30% 以上扣 2 分；按执行率封顶总分。',
  'rules': {'execution_weight': '10',
            'category_weights': {'产出指标': '50', '效益指标': '30', '满意度指标': '10'},
            'total_weight': '100',
            'less_is_better': 'ratio',
            'qualitative_bands': ['0.8', '0.5'],
            'over_achievement_deduction': True,
            'over_achievement_threshold': '0.30',
            'over_achievement_points': '2',
            'execution_rate_cap': True,
            'execution_rate_caps': [['0.5', '59'], ['0.6', '69'], ['0.7', '79'], ['0.8', '89']],
            'tolerance': '0.01',
            'template': 'standard-2020'},
  'fingerprint': '5febf4b182cf4b37'}]


def create(apps, schema_editor):
    rule_sets = apps.get_model("evaluations", "ScoringRuleSet")
    versions = apps.get_model("evaluations", "ScoringRuleSetVersion")
    for item in RULE_SETS:
        if rule_sets.objects.filter(code=item["code"]).exists():
            continue
        rule_set = rule_sets.objects.create(
            code=item["code"],
            name=item["name"],
            description=item["description"],
            rules=item["rules"],
        )
        version = versions.objects.create(
            rule_set=rule_set,
            number=1,
            rules=item["rules"],
            fingerprint=item["fingerprint"],
            note="随系统提供",
        )
        if item["code"] == "national":
            # The forms stored so far were scored with the national rules.
            evaluations = apps.get_model("evaluations", "Evaluation")
            evaluations.objects.filter(scoring_rules_version=None).update(
                scoring_rules_version=version
            )


def remove(apps, schema_editor):
    rule_sets = apps.get_model("evaluations", "ScoringRuleSet")
    versions = apps.get_model("evaluations", "ScoringRuleSetVersion")
    codes = [item["code"] for item in RULE_SETS]
    apps.get_model("evaluations", "Evaluation").objects.update(scoring_rules_version=None)
    versions.objects.filter(rule_set__code__in=codes).delete()
    rule_sets.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0012_scoring_rule_sets")]

    operations = [migrations.RunPython(create, remove)]
