"""Stored scoring rule sets: a campaign's choice, the version each form records, their history."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from lxml import html as lxml_html

from campaigns.models import Campaign
from evaluations.core.rulesets import BANDS_50, EXECUTION_20, NATIONAL, PRESETS
from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status
from evaluations.rules import rules_for
from evaluations.rulesets import (
    ScoringRuleSet,
    ScoringRuleSetVersion,
    national_rule_set,
    rule_set_save,
    shipped_rule_set,
)
from evaluations.services import evaluation_score
from evaluations.workflow import evaluation_approve, evaluation_submit, warning_key
from tests.evaluations.test_evaluation_pages import post_data
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

D = Decimal


def half_spent(**overrides):
    """A clean 2021 form with 38.50 of 70 万元 spent: 55%, explained.

    National rules: 10 × 0.55 = 5.50, total 5.50 + 90 = 95.50. With the cap by execution
    rate (below 60% → at most 69): 69.00.
    """
    data = clean_form_data(**overrides)
    data.funding[0].executed = D("38.5")
    data.funding[1].executed = D("38.5")
    data.indicators[0].deviation = "部分资金未拨付。"
    data.execution_score = D("5.5")
    data.stated_total = D("95.5")
    return data


def make_half_spent(department, user, **overrides) -> Evaluation:
    data = half_spent(**overrides)
    return make_evaluation(
        department,
        user,
        funding=data.funding,
        indicators=data.indicators,
        execution_score=data.execution_score,
        stated_total=data.stated_total,
        **overrides,
    )


def campaign_with(code: str, year: int = 2021) -> Campaign:
    return Campaign.objects.create(
        year=year,
        title=f"{year}年度自评",
        deadline=date(year + 1, 3, 31),
        scoring_rules=shipped_rule_set(code),
    )


def edit_national(user=None, **changes) -> ScoringRuleSetVersion:
    rule_set = national_rule_set()
    version = rule_set_save(
        rule_set=rule_set,
        rules=replace(rule_set.scoring_rules(), **changes),
        user=user,
        note="本地规则：按执行率封顶",
    )
    assert version is not None
    return version


def test_the_shipped_rule_sets_are_stored_and_a_campaign_takes_the_national_one():
    assert set(ScoringRuleSet.objects.values_list("code", flat=True)) >= set(PRESETS)
    campaign = Campaign.objects.create(year=2021, title="2021年度自评", deadline=date(2022, 3, 31))
    assert campaign.scoring_rules.code == NATIONAL
    assert [v.number for v in campaign.scoring_rules.versions.all()] == [1]


def test_a_form_is_scored_with_its_campaigns_rule_set_and_records_the_version(dept_a, staff_a):
    campaign_with(BANDS_50)
    evaluation = make_half_spent(dept_a, staff_a)
    # 5.50 + 90 = 95.50, capped at 69 below 60% execution by this rule set
    assert evaluation.computed_total == D("69.00")
    version = evaluation.scoring_rules_version
    assert (version.rule_set.code, version.number) == (BANDS_50, 1)
    # A form of a year without a campaign: the national rules, no cap
    other = make_half_spent(dept_a, staff_a, year=2020)
    assert other.computed_total == D("95.50")
    assert other.scoring_rules_version.rule_set.code == NATIONAL


def test_an_edit_makes_a_new_version_and_a_submitted_form_keeps_the_old_one(
    dept_a, staff_a, finance, admin_user
):
    campaign_with(NATIONAL)
    approved = make_half_spent(dept_a, staff_a)
    evaluation_submit(
        evaluation=approved, user=staff_a, acknowledgements=_acknowledge_all(approved)
    )
    evaluation_approve(evaluation=approved, user=finance)
    draft = make_half_spent(dept_a, staff_a, project_name="另一个项目")

    version = edit_national(admin_user, execution_rate_cap=True)

    assert (version.number, version.created_by, version.note) == (
        2,
        admin_user,
        "本地规则：按执行率封顶",
    )
    assert version.changes == [{"key": "execution_rate_cap", "old": False, "new": True}]
    approved.refresh_from_db()
    draft.refresh_from_db()
    # The approved form keeps version 1: neither its stored nor its shown total changes.
    assert approved.scoring_rules_version.number == 1
    assert approved.computed_total == D("95.50")
    assert evaluation_score(evaluation=approved).computed_total == D("95.50")
    # The draft is the department's still: shown by the version in force, stored on save.
    assert evaluation_score(evaluation=draft).computed_total == D("69.00")
    assert rules_for(draft).execution_rate_cap is True


def _acknowledge_all(evaluation: Evaluation) -> dict[str, str]:
    result = evaluation_score(evaluation=evaluation)
    return {warning_key(w): "已核实。" for w in result.warnings}


def test_recompute_scores_says_what_would_change_and_changes_only_when_asked(
    dept_a, staff_a, finance
):
    campaign_with(NATIONAL)
    approved = make_half_spent(dept_a, staff_a)
    evaluation_submit(
        evaluation=approved, user=staff_a, acknowledgements=_acknowledge_all(approved)
    )
    evaluation_approve(evaluation=approved, user=finance)
    draft = make_half_spent(dept_a, staff_a, project_name="另一个项目")
    edit_national(execution_rate_cap=True)

    out = StringIO()
    call_command("recompute_scores", "--year", "2021", stdout=out)
    text = out.getvalue()
    assert f"{draft.pk} 2021 {dept_a.name}“另一个项目”：总分 95.50 → 69.00" in text
    assert "（全国通用规则 第 1 版 → 全国通用规则 第 2 版）" in text
    assert "已通过，未修改（加 --include-approved 才修改）" in text
    assert "未修改（加 --apply 才修改）" in text
    draft.refresh_from_db()
    assert draft.computed_total == D("95.50")
    assert draft.scoring_rules_version.number == 1

    call_command("recompute_scores", "--year", "2021", "--apply", stdout=StringIO())
    draft.refresh_from_db()
    approved.refresh_from_db()
    assert (draft.computed_total, draft.scoring_rules_version.number) == (D("69.00"), 2)
    assert (approved.computed_total, approved.scoring_rules_version.number) == (D("95.50"), 1)
    assert not approved.events.filter(action=EventAction.RESCORED).exists()

    out = StringIO()
    call_command("recompute_scores", "--apply", "--include-approved", stdout=out)
    approved.refresh_from_db()
    assert (approved.computed_total, approved.scoring_rules_version.number) == (D("69.00"), 2)
    assert approved.status == Status.APPROVED
    event = EvaluationEvent.objects.get(evaluation=approved, action=EventAction.RESCORED)
    assert event.reason == (
        "按评分规则“全国通用规则 第 2 版”重新计分（原为“全国通用规则 第 1 版”）：总分 95.50 → 69.00"
    )
    assert "已重新计算 2 张自评表，其中 1 张的结果有变化。" in out.getvalue()


def test_the_live_check_scores_by_the_campaigns_rule_set(client_a):
    campaign_with(BANDS_50)
    result = client_a.post("/evaluations/score-preview/", post_data(half_spent())).json()
    assert result["computed_total"] == "69.00"
    # The same page for a year without a campaign: national rules
    body = post_data(half_spent(year=2020))
    assert client_a.post("/evaluations/score-preview/", body).json()["computed_total"] == "95.50"


def test_the_administrator_edits_a_rule_set_into_a_new_version(client_admin, admin_user):
    rule_set = shipped_rule_set(EXECUTION_20)
    url = f"/admin/evaluations/scoringruleset/{rule_set.pk}/change/"
    page = client_admin.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    body = {name: form.initial.get(name, "") for name in form.fields}
    body.update(
        {
            "name": rule_set.name,
            "description": rule_set.description,
            "over_achievement_deduction": "",
            "execution_rate_cap": "on",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
        }
    )
    body.pop("code")
    body = {k: str(v) for k, v in body.items() if v is not None}
    body["execution_rate_cap"] = "on"

    refused = client_admin.post(url, {**body, "note": ""})
    assert refused.status_code == 200
    assert "修改了评分规则，请填写修改说明。" in refused.content.decode()
    assert rule_set.versions.count() == 1

    response = client_admin.post(url, {**body, "note": "省厅通知：按执行率封顶"})
    assert response.status_code == 302
    newest = rule_set.versions.order_by("-number").first()
    assert (newest.number, newest.created_by, newest.note) == (
        2,
        admin_user,
        "省厅通知：按执行率封顶",
    )
    assert newest.changes == [{"key": "execution_rate_cap", "old": False, "new": True}]
    assert newest.scoring_rules() == replace(PRESETS[EXECUTION_20].rules, execution_rate_cap=True)
    # Version 1 is as it was: the forms scored with it keep it.
    assert rule_set.versions.get(number=1).scoring_rules() == PRESETS[EXECUTION_20].rules


def test_a_new_form_starts_with_the_execution_weight_of_the_campaigns_rule_set(client_a):
    campaign_with(EXECUTION_20, year=date.today().year)
    page = lxml_html.fromstring(client_a.get("/evaluations/new/").content)
    assert page.xpath('//input[@name="execution_weight"]/@value') == ["20"]
