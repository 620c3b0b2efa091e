"""What the re-check rules' checks read beside a stored form: evidence, peers, the rule set.

The checks themselves are pure (``core/recheck_checks.py``); this gathers their context on
the server, never from a posted page. The evidence, the campaign and its 复核口径 belong to
apps a layer above the form: they are reached through the form's own relations (the
evidence's reverse accessor, ``Evaluation.due_project`` → campaign → rule set), never by
importing those apps, as ``mapping`` reaches the due list.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import Any

from evaluations.core.evaluation_data import FormData, RecheckContext
from evaluations.core.recheck_checks import norm
from evaluations.models import Evaluation, Indicator

# A file marked as a survey (rule 4) by its caption or its name.
_SURVEY = re.compile(r"(问卷|调查|调研|满意度|survey)", re.IGNORECASE)


def _campaign_model() -> type[Any]:
    """``campaigns.Campaign``, reached through the form's due project."""
    return Evaluation.due_project.field.related_model.campaign.field.related_model


def _rule_set(year: int | None) -> Any:
    """The year's campaign's 复核口径; without a campaign (or a choice) the national set."""
    campaign_model = _campaign_model()
    field = campaign_model._meta.get_field("recheck_rules")
    pk = campaign_model.objects.filter(year=year).values_list("recheck_rules", flat=True).first()
    # The field's default is the national set (``rechecks.models.national_rule_set_pk``).
    pk = pk or field.get_default()
    if pk is None:
        return None
    return field.related_model.objects.filter(pk=pk).prefetch_related("rules").first()


def recheck_context(evaluation: Evaluation, form_data: FormData) -> RecheckContext:
    """The context of a stored form's checks (a few queries)."""
    files = list(evaluation.evidence.values_list("row", "caption", "original_name"))
    rule_set = _rule_set(evaluation.year)
    rules = list(rule_set.rules.all()) if rule_set is not None else []
    names = {ind.name for ind in form_data.indicators if ind.name}
    peers = (
        Indicator.objects.filter(evaluation__year=evaluation.year, name__in=names)
        .exclude(evaluation__department_id=evaluation.department_id)
        .order_by()
        .values_list("name", "target")
    )
    return RecheckContext(
        evidence_rows=frozenset(row for row, _c, _n in files if row),
        survey_rows=frozenset(row for row, c, n in files if row and _SURVEY.search(f"{c} {n}")),
        form_evidence=bool(files),
        requires_evidence=bool(rule_set and rule_set.requires_evidence),
        execution_threshold=(
            rule_set.execution_threshold / 100 if rule_set is not None else Decimal("0.9")
        ),
        peer_rows=frozenset((norm(n), norm(t)) for n, t in peers),
        inactive=frozenset(r.code for r in rules if not r.active),
        blocking=frozenset(r.code for r in rules if r.active and r.blocks),
    )


def with_recheck_context(evaluation: Evaluation, form_data: FormData) -> FormData:
    """``form_data`` with its checks' context, for a stored form."""
    if evaluation.pk is None:
        return form_data
    return dataclasses.replace(form_data, recheck=recheck_context(evaluation, form_data))
