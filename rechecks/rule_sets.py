"""The re-check rule sets (复核口径): which set a year uses, and finance's edits, recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from evaluations import permissions
from evaluations.workflow import TransitionError
from rechecks.models import (
    NATIONAL_RULE_SET,
    RecheckRule,
    RecheckRuleChange,
    RecheckRuleSet,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

RULE_FIELDS = ["code", "wording", "effect", "percentages", "position", "active", "blocks"]
SET_FIELDS = ["name", "description", "requires_evidence", "execution_threshold"]


def national_rule_set() -> RecheckRuleSet | None:
    """The national default set shipped by the data migration."""
    return RecheckRuleSet.objects.filter(name=NATIONAL_RULE_SET).first()


def rule_set_for_year(year: int | None) -> RecheckRuleSet | None:
    """The set the year's campaign chose; the national set without a campaign or a choice."""
    if year is not None:
        chosen = (
            RecheckRuleSet.objects.filter(campaigns__year=year).prefetch_related("rules").first()
        )
        if chosen is not None:
            return chosen
    return national_rule_set()


def _shown(instance: models.Model, name: str) -> str:
    value = getattr(instance, name)
    display = getattr(instance, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _changes(before: dict[str, str], instance: models.Model, names: list[str]) -> list[str]:
    meta = instance._meta
    return [
        _("%(field)s：%(old)s → %(new)s")
        % {"field": meta.get_field(n).verbose_name, "old": before[n] or "—", "new": after or "—"}
        for n in names
        if (after := _shown(instance, n)) != before[n]
    ]


def _require_finance(user: Any) -> None:
    if not permissions.allowed(permissions.RECHECK, user):
        raise TransitionError(_("只有财政局可以修改复核口径。"))


def rule_set_update(*, rule_set: RecheckRuleSet, user: AbstractBaseUser, data: dict) -> bool:
    """Store a set's name and settings; the change recorded. False when nothing changed."""
    _require_finance(user)
    with transaction.atomic():
        locked = RecheckRuleSet.objects.select_for_update().get(pk=rule_set.pk)
        before = {n: _shown(locked, n) for n in SET_FIELDS}
        for name in SET_FIELDS:
            if name in data:
                setattr(locked, name, data[name])
        changes = _changes(before, locked, SET_FIELDS)
        if not changes:
            return False
        locked.save()
        RecheckRuleChange.objects.create(rule_set=locked, actor=user, detail="；".join(changes))
    rule_set.refresh_from_db()
    return True


def rule_save(*, rule_set: RecheckRuleSet, user: AbstractBaseUser, rule: RecheckRule) -> bool:
    """Create or change one rule (a validated, unsaved instance); recorded. False: unchanged."""
    _require_finance(user)
    with transaction.atomic():
        RecheckRuleSet.objects.select_for_update().get(pk=rule_set.pk)
        rule.rule_set = rule_set
        if rule.pk is None:
            detail = _("新增第%(code)s条：%(wording)s（%(effect)s%(pct)s）") % {
                "code": rule.code,
                "wording": rule.wording,
                "effect": rule.get_effect_display(),
                "pct": f" {rule.percentages}%" if rule.percentages else "",
            }
        else:
            stored = RecheckRule.objects.get(pk=rule.pk)
            before = {n: _shown(stored, n) for n in RULE_FIELDS}
            changes = _changes(before, rule, RULE_FIELDS)
            if not changes:
                return False
            detail = _("修改第%(code)s条：%(changes)s") % {
                "code": stored.code,
                "changes": "；".join(changes),
            }
        rule.save()
        RecheckRuleChange.objects.create(
            rule_set=rule_set, actor=user, code=rule.code, detail=detail
        )
    return True


def rule_set_copy(*, rule_set: RecheckRuleSet, name: str, user: AbstractBaseUser) -> RecheckRuleSet:
    """A new set with the same rules, to be changed to the local rules; recorded."""
    _require_finance(user)
    with transaction.atomic():
        copy = RecheckRuleSet.objects.create(
            name=name,
            description=rule_set.description,
            requires_evidence=rule_set.requires_evidence,
            execution_threshold=rule_set.execution_threshold,
        )
        RecheckRule.objects.bulk_create(
            RecheckRule(rule_set=copy, **{n: getattr(r, n) for n in RULE_FIELDS})
            for r in rule_set.rules.all()
        )
        RecheckRuleChange.objects.create(
            rule_set=copy,
            actor=user,
            detail=_("由“%(name)s”复制创建") % {"name": rule_set.name},
        )
    return copy
