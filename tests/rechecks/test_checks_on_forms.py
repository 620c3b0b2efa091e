"""The re-check rules' checks on stored forms: evidence, the year's rule set, other departments."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign
from evaluations.core.recheck_checks import (
    RECHECK_COPIED_INDICATOR,
    RECHECK_DUPLICATE_INDICATOR,
    RECHECK_NO_EVIDENCE,
    RECHECK_SURVEY_MISSING,
)
from evaluations.services import evaluation_score
from evaluations.workflow import TransitionError, evaluation_submit, warning_key
from rechecks.models import RecheckRuleSet
from tests.conftest import client_for, sample_path
from tests.evaluations.test_evaluation_pages import post_data
from tests.evidence.test_evidence import evidence_on
from tests.factories import clean_form_data, make_evaluation
from tests.rechecks.national import national_rule_set

pytestmark = pytest.mark.django_db


def campaign_with(rule_set: RecheckRuleSet, year: int = 2021) -> Campaign:
    return Campaign.objects.create(
        year=year,
        title=f"{year}",
        deadline=datetime.date(year + 1, 3, 31),
        recheck_rules=rule_set,
        allow_unlisted=True,
    )


def located(result, code):
    return [(f.indicator, f.severity) for f in result.findings if f.code == code]


def test_the_evidence_rules_run_where_the_years_rule_set_asks_for_evidence(
    dept_a, staff_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ev = make_evaluation(dept_a, staff_a)
    assert located(evaluation_score(evaluation=ev), RECHECK_NO_EVIDENCE) == []

    rule_set = national_rule_set()
    rule_set.requires_evidence = True
    rule_set.save()
    campaign_with(rule_set)
    assert located(evaluation_score(evaluation=ev), RECHECK_NO_EVIDENCE) == [(None, "warning")]

    keys = [ind.key for ind in ev.indicators.order_by("position")]
    for key in keys[:7]:
        evidence_on(ev, staff_a, name="验收报告.pdf", row=key)
    result = evaluation_score(evaluation=ev)
    assert located(result, RECHECK_NO_EVIDENCE) == []
    # Row 8 (群众满意度): neither a file nor a survey.
    assert located(result, RECHECK_SURVEY_MISSING) == [(7, "warning")]
    evidence_on(ev, staff_a, name="满意度调查问卷.pdf", row=keys[7])
    assert located(evaluation_score(evaluation=ev), RECHECK_SURVEY_MISSING) == []


def test_a_warning_of_a_rule_is_acknowledged_at_submission_and_a_blocking_rule_refuses(
    dept_a, staff_a
):
    rule_set = national_rule_set()
    campaign_with(rule_set)
    ev = make_evaluation(dept_a, staff_a)
    row = ev.indicators.get(position=7)
    row.name = "改造农村住房户数"  # under 效益, as row 1 under 产出 (rule 9)
    row.save()
    result = evaluation_score(evaluation=ev)
    assert located(result, RECHECK_DUPLICATE_INDICATOR) == [(6, "warning")]
    with pytest.raises(TransitionError):
        evaluation_submit(evaluation=ev, user=staff_a)

    rule = rule_set.rules.get(code="9")
    rule.blocks = True
    rule.save()
    result = evaluation_score(evaluation=ev)
    assert located(result, RECHECK_DUPLICATE_INDICATOR) == [(6, "error")]
    acks = {warning_key(w): "" for w in result.warnings}
    with pytest.raises(TransitionError, match="错误"):
        evaluation_submit(evaluation=ev, user=staff_a, acknowledgements=acks)

    rule.active = False
    rule.save()
    assert located(evaluation_score(evaluation=ev), RECHECK_DUPLICATE_INDICATOR) == []


def test_a_row_worded_as_another_departments_form_of_the_year_is_a_hint_on_the_page(
    dept_a, dept_b, staff_a, staff_b
):
    mine = make_evaluation(dept_a, staff_a, project_name="甲项目")
    make_evaluation(dept_b, staff_b, project_name="乙项目")
    make_evaluation(dept_b, staff_b, project_name="乙上年", year=2020)
    result = evaluation_score(evaluation=mine)
    assert located(result, RECHECK_COPIED_INDICATOR) == [(0, "hint")]
    assert result.warnings == []
    page = client_for(staff_a).get(f"/evaluations/{mine.pk}/").content.decode()
    assert "与其他部门本年度自评表中的指标逐字相同" in page
    assert "复核口径第2条" in page


def test_the_live_check_while_typing_runs_the_rules(dept_a, staff_a):
    form = clean_form_data()
    form.indicators[6].name = "改造农村住房户数"  # under 效益, as row 1 under 产出 (rule 9)
    response = client_for(staff_a).post("/evaluations/score-preview/", post_data(form))
    findings = response.json()["findings"]
    assert [f["code"] for f in findings] == [RECHECK_DUPLICATE_INDICATOR]
    assert "复核口径第9条" in findings[0]["message"]


def test_an_import_reports_the_rules_the_file_breaks(client_a):
    upload = SimpleUploadedFile("003.txt", sample_path("003").read_bytes())
    page = client_a.post("/evaluations/import/", {"files": upload}).content.decode()
    assert "三级指标没有说明是什么的比率" in page
