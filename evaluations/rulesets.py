"""Scoring rule sets stored and versioned: what a campaign scores by, and each edit of it.

A rule set (``ScoringRuleSet``) is a named ``ScoringRules`` (evaluations/core/scoring.py) as
JSON. Editing it never changes what forms were scored with: every edit that changes a rule
adds a ``ScoringRuleSetVersion`` (who, when, what changed, why), and a form records the
version it was scored with (``Evaluation.scoring_rules_version``). A campaign chooses a rule
set (``campaigns.Campaign.scoring_rules``); evaluations/rules.py picks the version in force.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from evaluations.core.rulesets import (
    NATIONAL,
    PRESETS,
    rules_fingerprint,
    rules_from_dict,
    rules_to_dict,
)
from evaluations.core.scoring import ScoringRules

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class ScoringRuleSet(models.Model):
    """A named, editable set of scoring rules; its versions are its history."""

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    description = models.TextField(_("说明"), blank=True)
    # The rules of the newest version (rules_to_dict); written only by rule_set_save.
    rules = models.JSONField(_("评分规则"), default=dict)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("评分规则")
        verbose_name_plural = _("评分规则")

    def __str__(self) -> str:
        return self.name

    def scoring_rules(self) -> ScoringRules:
        """The rules of the newest version as the scoring takes them."""
        return rules_from_dict(self.rules)


class ScoringRuleSetVersion(models.Model):
    """One version of a rule set: never changed once written (forms point at it)."""

    rule_set = models.ForeignKey(
        ScoringRuleSet,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("评分规则"),
    )
    number = models.PositiveIntegerField(_("版本号"))
    rules = models.JSONField(_("评分规则"))
    fingerprint = models.CharField(_("规则指纹"), max_length=16)
    # [{"key": ..., "old": ..., "new": ...}] against the previous version ([] for the first).
    changes = models.JSONField(_("变更内容"), default=list, blank=True)
    note = models.TextField(_("修改说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["rule_set", "-number"]
        verbose_name = _("评分规则版本")
        verbose_name_plural = _("评分规则版本")
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "number"], name="scoring_rule_version_unique_number"
            ),
        ]

    def __str__(self) -> str:
        return _("%(rule_set)s 第 %(number)d 版") % {
            "rule_set": self.rule_set,
            "number": self.number,
        }

    def scoring_rules(self) -> ScoringRules:
        """This version's rules as the scoring takes them."""
        return rules_from_dict(self.rules)


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": key, "old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def rule_set_save(
    *,
    rule_set: ScoringRuleSet,
    rules: ScoringRules,
    user: AbstractBaseUser | None,
    note: str = "",
) -> ScoringRuleSetVersion | None:
    """Store a rule set's name and rules; a change of rules adds a version (None otherwise).

    The earlier versions stay as they are: forms scored with them keep them.
    """
    data = rules_to_dict(rules)
    with transaction.atomic():
        if rule_set.pk is not None:
            # One editor at a time: two saves must not both become version n + 1.
            ScoringRuleSet.objects.select_for_update().filter(pk=rule_set.pk).first()
        previous = (
            rule_set.versions.order_by("-number").first() if rule_set.pk is not None else None
        )
        rule_set.rules = data
        rule_set.save()
        if previous is not None and previous.rules == data:
            return None
        return ScoringRuleSetVersion.objects.create(
            rule_set=rule_set,
            number=previous.number + 1 if previous is not None else 1,
            rules=data,
            fingerprint=rules_fingerprint(rules),
            changes=_changes(previous.rules, data) if previous is not None else [],
            note=note,
            created_by=user if user is not None and user.is_authenticated else None,
        )


def shipped_rule_set(code: str = NATIONAL) -> ScoringRuleSet:
    """A rule set that ships with the application (made here if a flush removed it)."""
    found = ScoringRuleSet.objects.filter(code=code).first()
    if found is not None:
        return found
    preset = PRESETS[code]
    rule_set = ScoringRuleSet(code=preset.code, name=preset.name, description=preset.description)
    rule_set_save(rule_set=rule_set, rules=preset.rules, user=None, note="随系统提供")
    return rule_set


def shipped_rule_sets() -> list[ScoringRuleSet]:
    """Every rule set that ships with the application (made where a flush removed them)."""
    return [shipped_rule_set(code) for code in PRESETS]


def national_rule_set() -> ScoringRuleSet:
    """The national rule set: the default of every campaign."""
    return shipped_rule_set(NATIONAL)


def national_rule_set_pk() -> int:
    """Default of ``Campaign.scoring_rules``: the national rule set."""
    return national_rule_set().pk


def newest_version(rule_set: ScoringRuleSet) -> ScoringRuleSetVersion:
    """The version in force of a rule set (a first one is written if it has none)."""
    version = rule_set.versions.order_by("-number").first()
    if version is None:
        version = rule_set_save(rule_set=rule_set, rules=rule_set.scoring_rules(), user=None)
        assert version is not None
    version.rule_set = rule_set
    return version
