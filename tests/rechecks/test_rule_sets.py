"""The re-check rule sets (复核口径): the national default, finance's edits and their history."""

from __future__ import annotations

import datetime

import pytest

from campaigns.models import Campaign
from rechecks.forms import RULE_SET_DESCRIPTION_MAX_LENGTH, RULE_WORDING_MAX_LENGTH
from rechecks.models import NATIONAL_RULE_SET, RecheckRule, RecheckRuleSet, RuleEffect
from rechecks.rule_sets import rule_set_for_year

pytestmark = pytest.mark.django_db


def national() -> RecheckRuleSet:
    return RecheckRuleSet.objects.get(name=NATIONAL_RULE_SET)


def test_it_ships_the_national_rules():
    rules = list(national().rules.all())
    assert [r.code for r in rules] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "14"]
    by_code = {r.code: r for r in rules}
    assert by_code["1"].effect == RuleEffect.ZERO
    assert by_code["3"].effect == RuleEffect.PERCENT and by_code["3"].percent_list == [30, 60, 100]
    assert by_code["7"].percent_list == [30]
    assert by_code["5"].effect == RuleEffect.NONE
    assert by_code["9"].effect == RuleEffect.ONCE
    assert not any(r.blocks for r in rules)


def test_a_new_campaign_uses_the_national_rules_and_may_choose_another(finance):
    campaign = Campaign.objects.create(year=2021, title="2021", deadline=datetime.date(2022, 3, 1))
    assert campaign.recheck_rules == national()
    assert rule_set_for_year(2021) == national()
    local = RecheckRuleSet.objects.create(name="本州口径")
    campaign.recheck_rules = local
    campaign.save()
    assert rule_set_for_year(2021) == local
    assert rule_set_for_year(2019) == national()


def test_finance_changes_a_rule_and_the_change_is_recorded(client_finance, finance):
    rs = national()
    rule = rs.rules.get(code="3")
    response = client_finance.post(
        f"/rechecks/rules/{rs.pk}/{rule.pk}/",
        {
            "code": "3",
            "wording": rule.wording,
            "effect": "percent",
            "percentages": "20,50,100",
            "position": rule.position,
            "active": "on",
            "blocks": "on",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.percent_list == [20, 50, 100] and rule.blocks
    (change,) = rs.changes.all()
    assert change.actor == finance and change.code == "3"
    assert "30,60,100 → 20,50,100" in change.detail
    assert "提交前必须改正：否 → 是" in change.detail
    page = client_finance.get(f"/rechecks/rules/{rs.pk}/").content.decode()
    assert "30,60,100 → 20,50,100" in page


def test_a_percent_rule_without_percentages_is_refused_and_keeps_what_was_typed(client_finance):
    rs = national()
    response = client_finance.post(
        f"/rechecks/rules/{rs.pk}/new/",
        {
            "code": "11",
            "wording": "新口径文字",
            "effect": "percent",
            "percentages": "",
            "position": 11,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "按分值比例扣分的口径须填写扣分比例" in page and "新口径文字" in page
    assert not RecheckRule.objects.filter(rule_set=rs, code="11").exists()
    assert not rs.changes.exists()


def test_finance_adds_a_rule_and_copies_a_set(client_finance, finance):
    rs = national()
    response = client_finance.post(
        f"/rechecks/rules/{rs.pk}/new/",
        {
            "code": "11",
            "wording": "偏差原因未说明的，扣减50%。",
            "effect": "percent",
            "percentages": "50",
            "position": 11,
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert rs.rules.get(code="11").percent_list == [50]
    assert "新增第11条" in rs.changes.get().detail
    response = client_finance.post("/rechecks/rules/", {"source": rs.pk, "name": "本州口径"})
    copy = RecheckRuleSet.objects.get(name="本州口径")
    assert response.status_code == 302
    assert [r.code for r in copy.rules.all()] == [r.code for r in rs.rules.all()]


def test_only_finance_sees_the_rule_sets(client_a, client_admin):
    rs = national()
    for client in (client_a, client_admin):
        assert client.get("/rechecks/rules/").status_code == 404
        assert client.post(f"/rechecks/rules/{rs.pk}/", {"name": "x"}).status_code == 404


def test_a_rule_or_a_set_described_past_its_bound_is_refused_and_nothing_changes(client_finance):
    rs = national()
    rule = rs.rules.get(code="1")
    response = client_finance.post(
        f"/rechecks/rules/{rs.pk}/{rule.pk}/",
        {
            "code": "1",
            "wording": "长" * (RULE_WORDING_MAX_LENGTH + 1),
            "effect": rule.effect,
            "percentages": rule.percentages,
            "position": rule.position,
            "active": "on",
        },
    )
    assert response.status_code == 400
    rule.refresh_from_db()
    assert len(rule.wording) < RULE_WORDING_MAX_LENGTH
    response = client_finance.post(
        f"/rechecks/rules/{rs.pk}/",
        {
            "name": rs.name,
            "description": "长" * (RULE_SET_DESCRIPTION_MAX_LENGTH + 1),
            "execution_threshold": rs.execution_threshold,
        },
    )
    assert response.status_code == 400
    rs.refresh_from_db()
    assert len(rs.description) <= RULE_SET_DESCRIPTION_MAX_LENGTH
    assert not rs.changes.exists()
