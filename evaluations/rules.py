"""The scoring rules in force: the official rules with the local ones switched by settings."""

from __future__ import annotations

from django.conf import settings

from evaluations.core.scoring import ScoringRules


def current_rules() -> ScoringRules:
    """The scoring rules in force, with the local rules switched by settings."""
    return ScoringRules(
        over_achievement_deduction=settings.SCORING_OVER_ACHIEVEMENT_DEDUCTION,
        execution_rate_cap=settings.SCORING_EXECUTION_RATE_CAP,
    )
