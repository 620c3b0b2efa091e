"""The scoring rules in force: the year's campaign's rule set, or the form's recorded one.

A form is scored with its year's campaign's rule set (newest version; the national rule set
when the year has no campaign) while its department writes it (草稿, 已退回); it records the
version when saved and when it leaves the department, and from then on keeps it: a later
edit of the rule set never rescores a submitted or approved form (``recompute_scores``
does, when asked). The two local-rule settings (SCORING_OVER_ACHIEVEMENT_DEDUCTION,
SCORING_EXECUTION_RATE_CAP) still switch those rules on in the national rule set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from evaluations.core.rulesets import NATIONAL, PRESETS, rules_fingerprint, with_local_switches
from evaluations.core.scoring import ScoringRules
from evaluations.rulesets import (
    ScoringRuleSet,
    ScoringRuleSetVersion,
    national_rule_set,
    newest_version,
)

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from evaluations.models import Evaluation


def _with_settings(rules: ScoringRules, rule_set: ScoringRuleSet) -> ScoringRules:
    if rule_set.code != NATIONAL:
        return rules
    return with_local_switches(
        rules,
        over_achievement_deduction=settings.SCORING_OVER_ACHIEVEMENT_DEDUCTION,
        execution_rate_cap=settings.SCORING_EXECUTION_RATE_CAP,
    )


def version_rules(version: ScoringRuleSetVersion) -> ScoringRules:
    """The rules a version scores by (the national one with the settings' local rules)."""
    return _with_settings(version.scoring_rules(), version.rule_set)


def current_rules() -> ScoringRules:
    """The national rules as shipped, with the local rules switched by settings.

    Without the database: for scripts and tests that score form data of no year. A form is
    scored with ``rules_for`` or ``rules_for_year``.
    """
    return with_local_switches(
        PRESETS[NATIONAL].rules,
        over_achievement_deduction=settings.SCORING_OVER_ACHIEVEMENT_DEDUCTION,
        execution_rate_cap=settings.SCORING_EXECUTION_RATE_CAP,
    )


def year_version(year: int | None) -> ScoringRuleSetVersion:
    """The version in force for a year: its campaign's rule set's newest, else the national."""
    rule_set = ScoringRuleSet.objects.filter(campaigns__year=year).first() if year else None
    return newest_version(rule_set or national_rule_set())


def rules_for_year(year: int | None) -> ScoringRules:
    """The rules a new or edited form of ``year`` is scored with."""
    return version_rules(year_version(year))


def scoring_version(evaluation: Evaluation) -> ScoringRuleSetVersion:
    """The version a form is scored with: its year's while editable, else the one recorded."""
    if evaluation.scoring_rules_version_id is not None and not evaluation.is_editable:
        return ScoringRuleSetVersion.objects.select_related("rule_set").get(
            pk=evaluation.scoring_rules_version_id
        )
    return year_version(evaluation.year)


def rules_for(evaluation: Evaluation) -> ScoringRules:
    """The rules a stored form is scored with (see the module's docstring)."""
    return version_rules(scoring_version(evaluation))


class RulesCache:
    """``rules_for`` over many forms (an export, a command): each version is read once."""

    def __init__(self) -> None:
        self._years: dict[int | None, ScoringRuleSetVersion] = {}
        self._versions: dict[int, ScoringRuleSetVersion] = {}
        self._rules: dict[int, ScoringRules] = {}

    def version_of_year(self, year: int | None) -> ScoringRuleSetVersion:
        """``year_version``, remembered."""
        if year not in self._years:
            self._years[year] = year_version(year)
        return self._years[year]

    def version(self, evaluation: Evaluation) -> ScoringRuleSetVersion:
        """``scoring_version``, remembered."""
        pk = evaluation.scoring_rules_version_id
        if pk is None or evaluation.is_editable:
            return self.version_of_year(evaluation.year)
        if pk not in self._versions:
            self._versions[pk] = scoring_version(evaluation)
        return self._versions[pk]

    def rules_of_year(self, year: int | None) -> ScoringRules:
        """``rules_for_year``, remembered."""
        return self.rules_of_version(self.version_of_year(year))

    def rules(self, evaluation: Evaluation) -> ScoringRules:
        """``rules_for``, remembered."""
        return self.rules_of_version(self.version(evaluation))

    def rules_of_version(self, version: ScoringRuleSetVersion) -> ScoringRules:
        """``version_rules``, remembered."""
        if version.pk not in self._rules:
            self._rules[version.pk] = version_rules(version)
        return self._rules[version.pk]


def rules_fingerprints(evaluations: QuerySet[Evaluation]) -> list[str]:
    """Fingerprints of the rules these forms are scored with: one query, plus one a version."""
    cache = RulesCache()
    model = evaluations.model
    triples = evaluations.order_by().values_list("year", "status", "scoring_rules_version")
    found = {
        rules_fingerprint(
            cache.rules(model(year=year, status=status, scoring_rules_version_id=version))
        )
        for year, status, version in triples.distinct()
    }
    return sorted(found)
