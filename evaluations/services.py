"""Write operations on evaluations: saving form data and keeping computed figures current.

The workflow's transitions (submit, return, approve, …) are a table in
evaluations/workflow.py; call them from there.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.access import evaluation_unit, membership_covers, unit_limit
from departments.models import Department
from departments.names import display_name
from departments.roles import membership_of
from evaluations.core.evaluation_data import FormData
from evaluations.core.limits import MAX_INDICATORS
from evaluations.core.scoring import ScoreResult, evaluate
from evaluations.history import diff_snapshots
from evaluations.mapping import (
    approved_targets,
    funding_values,
    header_to_model,
    indicator_values,
    snapshot,
    with_stored_approvals,
    with_trusted_keys,
)
from evaluations.models import (
    Evaluation,
    EvaluationEvent,
    EvaluationVersion,
    EventAction,
    FundingRow,
    Indicator,
    Notification,
)
from evaluations.recheck_context import with_recheck_context
from evaluations.rules import scoring_version, version_rules, year_version
from evaluations.rulesets import ScoringRuleSetVersion

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from campaigns.models import DueProject


def evaluation_score(*, evaluation: Evaluation) -> ScoreResult:
    """Run the scoring engine on a stored evaluation, with the rules it is scored by."""
    form_data = with_recheck_context(evaluation, evaluation.as_form_data())
    return evaluate(form_data, version_rules(scoring_version(evaluation)))


_COMPUTED_FIELDS = [
    "computed_execution_rate",
    "computed_execution_score",
    "computed_total",
    "error_count",
    "warning_count",
    "scoring_rules_version",
]


def _store_computed(
    evaluation: Evaluation, result: ScoreResult, version: ScoringRuleSetVersion
) -> None:
    evaluation.scoring_rules_version = version
    evaluation.computed_execution_rate = (
        result.execution_rate.quantize(Decimal("0.000001"))
        if result.execution_rate is not None
        else None
    )
    evaluation.computed_execution_score = result.execution_score
    evaluation.computed_total = result.computed_total
    evaluation.error_count = len(result.errors)
    evaluation.warning_count = len(result.warnings)


def evaluation_recompute(
    *, evaluation: Evaluation, version: ScoringRuleSetVersion | None = None
) -> ScoreResult:
    """Recompute and store the cached figures (execution rate, total, finding counts).

    With the rules it is scored by, or with ``version`` (recompute_scores), which the form
    then records.
    """
    version = version or scoring_version(evaluation)
    result = evaluate(evaluation.as_form_data(), version_rules(version))
    _store_computed(evaluation, result, version)
    evaluation.save(update_fields=_COMPUTED_FIELDS)
    return result


def evaluation_is_unchanged(*, evaluation: Evaluation, data: FormData) -> bool:
    """True when saving ``data`` would not change anything stored."""
    current = snapshot(evaluation.as_form_data())
    wanted = snapshot(data)
    wanted["department"] = current["department"]
    return current == wanted


class StaleEvaluationError(Exception):
    """The form was saved by someone else since this copy was loaded."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        who = display_name(evaluation.updated_by) or _("其他用户")
        when = timezone.localtime(evaluation.updated_at).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            _(
                "保存失败：此表已于 %(when)s 被 %(who)s 修改（当前版本 %(revision)s）。"
                "您填写的内容仍保留在页面上，请先在新窗口中查看最新内容，再合并您的修改后保存。"
            )
            % {"when": when, "who": who, "revision": evaluation.revision}
        )


def outside_unit(user: AbstractBaseUser | None, unit: str) -> str:
    """Why ``user`` may not write a form of ``unit`` (a ``unit_key``), or "" when they may.

    A filler limited to one 实施单位 (限填实施单位) writes only that unit's forms.
    """
    membership = membership_of(user) if user is not None else None
    if membership_covers(membership, unit):
        return ""
    assert membership is not None  # an unlimited user is covered
    return _(
        "您的账号限填实施单位“%(unit)s”，只能填写该单位的自评表；此表的实施单位不是该单位。"
    ) % {"unit": " ".join(membership.implementing_unit.split())}


def outside_unit_of(user: AbstractBaseUser | None, evaluation: Evaluation) -> str:
    """``outside_unit`` for ``evaluation`` (its unit looked up only for a limited user)."""
    if user is None or not unit_limit(user):
        return ""
    return outside_unit(user, evaluation_unit(evaluation))


class Revision(Enum):
    """What ``evaluation_write`` may overwrite without a revision to compare."""

    # The importer replaces the stored form on purpose, whatever its revision.
    ANY = "any"


@transaction.atomic
def evaluation_write(
    *,
    evaluation: Evaluation,
    data: FormData,
    user: AbstractBaseUser | None,
    expected_revision: int | None | Literal[Revision.ANY] = Revision.ANY,
    action: str | None = None,
) -> ScoreResult:
    """Replace the evaluation's header, funding rows and indicators with ``data``.

    The department is not changed here; callers decide it. ``expected_revision`` is the
    revision the editor's copy was loaded from: the save is refused (StaleEvaluationError)
    when the stored revision differs, and also when it is None (a web save whose page did
    not say which revision it holds cannot be told from a stale one). Only callers that
    replace the stored form on purpose (the importer) leave it at ``Revision.ANY``. Every
    write records a version and a history entry with the old and new values. Raises
    ValidationError (with Chinese messages) when a value does not fit the model.

    The rows' approved targets and weights never come from ``data``: a form of a due project
    is compared with the project's approved targets (by the rows' names), any other form
    keeps those of its stored rows with the same key (new rows have none).
    """
    is_new = evaluation.pk is None
    before: dict | None = None
    stored_keys: list[str] = []
    current = FormData()
    if not is_new:
        locked = Evaluation.objects.select_for_update(of=("self",)).get(pk=evaluation.pk)
        if expected_revision is not Revision.ANY and locked.revision != expected_revision:
            raise StaleEvaluationError(locked)
        # A form of another unit is not the limited filler's to change (nor to take over).
        if refused := outside_unit_of(user, locked):
            raise ValidationError({"implementing_unit": [refused]})
        evaluation.revision = locked.revision
        current = locked.as_form_data()
        before = snapshot(current, with_keys=True)
        stored_keys = [row.key for row in current.indicators]
    # Row keys come back from the browser: only this form's own keys are kept; the other
    # rows are new and get a key when their row is built, before scoring and snapshotting.
    data = with_trusted_keys(data, stored_keys)
    # The due project may be new to the evaluation (starting its form, an import linking it).
    current.approved_targets = approved_targets(evaluation)
    data = with_stored_approvals(data, current)

    header_to_model(evaluation, data)
    # Nor does the limited filler write a form that would be another unit's.
    if refused := outside_unit_of(user, evaluation):
        raise ValidationError({"implementing_unit": [refused]})
    if user is not None and user.is_authenticated:
        evaluation.updated_by = user
        if is_new:
            evaluation.created_by = user
    if not is_new:
        evaluation.revision += 1
    # Field checks here; of the constraints only the key needs a friendly message (the
    # database enforces the rest), and one query is cheaper than validating them all.
    evaluation.full_clean(exclude=["created_by", "updated_by"], validate_constraints=False)
    if _is_duplicate(evaluation):
        raise ValidationError({"project_name": [_("该部门在该年度已有同名项目的自评表。")]})
    funding, indicators = form_rows(data)
    # Score the rows as they will be stored, then write everything once.
    stored = evaluation.form_data_with(funding, indicators)
    # Written forms are the department's: scored with the year's rules in force.
    version = year_version(evaluation.year)
    result = evaluate(with_recheck_context(evaluation, stored), version_rules(version))
    _store_computed(evaluation, result, version)
    try:
        # A savepoint: two saves may pass the check above at once (PostgreSQL runs them
        # side by side); the loser gets the same message instead of a database error.
        with transaction.atomic():
            evaluation.save()
    except IntegrityError as exc:
        if _is_duplicate(evaluation):
            raise ValidationError(
                {"project_name": [_("该部门在该年度已有同名项目的自评表。")]}
            ) from exc
        raise
    if not is_new:
        evaluation.funding_rows.all().delete()
        evaluation.indicators.all().delete()
    for obj in [*funding, *indicators]:
        obj.evaluation = evaluation
    FundingRow.objects.bulk_create(funding)
    Indicator.objects.bulk_create(indicators)
    # Drop prefetched rows: they are stale now.
    if hasattr(evaluation, "_prefetched_objects_cache"):
        evaluation._prefetched_objects_cache.clear()

    after = snapshot(stored, with_keys=True)
    changes = diff_snapshots(before, after) if before is not None else []
    EvaluationVersion.objects.create(
        evaluation=evaluation, revision=evaluation.revision, data=after
    )
    EvaluationEvent.objects.create(
        evaluation=evaluation,
        action=action or (EventAction.CREATED if is_new else EventAction.EDITED),
        actor=user if user is not None and user.is_authenticated else None,
        from_status=evaluation.status,
        to_status=evaluation.status,
        revision=evaluation.revision,
        changes=_json_safe(changes),
    )
    return result


def _is_duplicate(evaluation: Evaluation) -> bool:
    """True when another form of the department and year has the same project name."""
    return (
        Evaluation.objects.filter(
            department_id=evaluation.department_id,
            year=evaluation.year,
            project_name=evaluation.project_name,
        )
        .exclude(pk=evaluation.pk)
        .exists()
    )


def form_rows(data: FormData) -> tuple[list[FundingRow], list[Indicator]]:
    """Unsaved funding and indicator rows for ``data``, field-validated, without evaluation.

    An indicator row keeps its ``key``; a row without one gets a new key (the model's
    default). Raises ValidationError (Chinese messages, naming the indicator row) when a
    value does not fit the model, or when the form has more rows than any way in allows.
    """
    if len(data.indicators) > MAX_INDICATORS:
        raise ValidationError(
            _("每张表最多 %(limit)d 行指标，此表有 %(count)d 行。")
            % {"limit": MAX_INDICATORS, "count": len(data.indicators)}
        )
    funding = []
    for values in funding_values(data):
        row = FundingRow(**values)
        # Field validation only: constraint checks would cost one query per row; the
        # database enforces them anyway.
        row.full_clean(exclude=["evaluation"], validate_constraints=False)
        funding.append(row)
    indicators = []
    for values in indicator_values(data):
        indicator = Indicator(**values)
        try:
            if indicator.weight < 0:
                raise ValidationError({"weight": [_("分值不能为负数。")]})
            indicator.full_clean(exclude=["evaluation"], validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError(
                {
                    f"第{indicator.position}行指标": [
                        m for msgs in exc.message_dict.values() for m in msgs
                    ]
                }
            ) from exc
        indicators.append(indicator)
    return funding, indicators


def _json_safe(changes: list[dict]) -> list[dict]:
    return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in c.items()} for c in changes]


def evaluation_create(
    *,
    department: Department,
    data: FormData,
    user: AbstractBaseUser | None,
    source: str = "",
    action: str | None = None,
    due_project: DueProject | None = None,
) -> tuple[Evaluation, ScoreResult]:
    """Create a new evaluation from form data (``due_project``: compared with its approvals)."""
    evaluation = Evaluation(
        department=department, year=data.year or 0, source=source[:300], due_project=due_project
    )
    result = evaluation_write(
        evaluation=evaluation,
        data=data,
        user=user,
        action=action,
    )
    return evaluation, result


def notifications_mark_read(*, user: AbstractBaseUser, evaluation: Evaluation) -> int:
    """Mark the user's notifications about one evaluation as read."""
    return Notification.objects.filter(
        user=user, evaluation=evaluation, read_at__isnull=True
    ).update(read_at=timezone.now())
