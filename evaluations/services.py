"""Write operations on evaluations: saving form data and keeping computed figures current."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.access import is_admin, membership_of
from departments.models import Department, Role
from evaluations.core.formdata import FormData
from evaluations.core.limits import COMMENT_MAX_LENGTH, MAX_INDICATORS, REASON_MAX_LENGTH
from evaluations.core.safetext import clean_text
from evaluations.core.scoring import ScoreResult, ScoringRules, evaluate
from evaluations.core.values import db_fields
from evaluations.models import (
    FUNDING_ORDER,
    CommentTarget,
    Evaluation,
    EvaluationEvent,
    EvaluationVersion,
    EventAction,
    FundingKind,
    FundingRow,
    Indicator,
    Notification,
    ReviewComment,
    Status,
)
from evaluations.snapshots import diff_snapshots, snapshot

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def current_rules() -> ScoringRules:
    """The scoring rules in force, with the local rules switched by settings."""
    return ScoringRules(
        over_achievement_deduction=settings.SCORING_OVER_ACHIEVEMENT_DEDUCTION,
        execution_rate_cap=settings.SCORING_EXECUTION_RATE_CAP,
    )


def evaluation_score(*, evaluation: Evaluation) -> ScoreResult:
    """Run the scoring engine on a stored evaluation."""
    return evaluate(evaluation.as_form_data(), current_rules())


_COMPUTED_FIELDS = [
    "computed_execution_rate",
    "computed_execution_score",
    "computed_total",
    "error_count",
    "warning_count",
]


def _store_computed(evaluation: Evaluation, result: ScoreResult) -> None:
    evaluation.computed_execution_rate = (
        result.execution_rate.quantize(Decimal("0.000001"))
        if result.execution_rate is not None
        else None
    )
    evaluation.computed_execution_score = result.execution_score
    evaluation.computed_total = result.computed_total
    evaluation.error_count = len(result.errors)
    evaluation.warning_count = len(result.warnings)


def evaluation_recompute(*, evaluation: Evaluation) -> ScoreResult:
    """Recompute and store the cached figures (execution rate, total, finding counts)."""
    result = evaluation_score(evaluation=evaluation)
    _store_computed(evaluation, result)
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
        who = evaluation.updated_by.get_username() if evaluation.updated_by else _("其他用户")
        when = timezone.localtime(evaluation.updated_at).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            _(
                "保存失败：此表已于 %(when)s 被 %(who)s 修改（当前版本 %(revision)s）。"
                "您填写的内容仍保留在页面上，请先在新窗口中查看最新内容，再合并您的修改后保存。"
            )
            % {"when": when, "who": who, "revision": evaluation.revision}
        )


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
    """
    is_new = evaluation.pk is None
    before: dict | None = None
    if not is_new:
        locked = Evaluation.objects.select_for_update(of=("self",)).get(pk=evaluation.pk)
        if expected_revision is not Revision.ANY and locked.revision != expected_revision:
            raise StaleEvaluationError(locked)
        evaluation.revision = locked.revision
        before = snapshot(locked.as_form_data())

    evaluation.year = data.year or evaluation.year
    evaluation.project_name = data.project_name.strip()
    evaluation.implementing_unit = data.implementing_unit.strip()
    evaluation.goal_target = data.goal_target
    evaluation.goal_actual = data.goal_actual
    evaluation.execution_weight = (
        data.execution_weight if data.execution_weight is not None else Decimal("10")
    )
    evaluation.stated_execution_score = data.execution_score
    evaluation.stated_total = data.stated_total
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
    result = evaluate(stored, current_rules())
    _store_computed(evaluation, result)
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

    after = snapshot(stored)
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

    Raises ValidationError (Chinese messages, naming the indicator row) when a value
    does not fit the model, or when the form has more rows than any way in allows.
    """
    if len(data.indicators) > MAX_INDICATORS:
        raise ValidationError(
            _("每张表最多 %(limit)d 行指标，此表有 %(count)d 行。")
            % {"limit": MAX_INDICATORS, "count": len(data.indicators)}
        )
    funding = []
    for row in sorted(data.funding, key=lambda r: FUNDING_ORDER.index(r.kind)):
        obj = FundingRow(
            kind=row.kind,
            initial_budget=row.initial_budget,
            annual_budget=row.annual_budget,
            executed=row.executed,
        )
        # Field validation only: constraint checks would cost one query per row; the
        # database enforces them anyway.
        obj.full_clean(exclude=["evaluation"], validate_constraints=False)
        funding.append(obj)
    indicators = []
    for position, ind in enumerate(data.indicators, start=1):
        t_cmp, t_num, t_unit = db_fields(ind.target)
        a_cmp, a_num, a_unit = db_fields(ind.actual)
        obj = Indicator(
            position=position,
            level1=ind.level1.strip(),
            level2=ind.level2.strip(),
            name=ind.name.strip(),
            target=ind.target.strip(),
            actual=ind.actual.strip(),
            target_comparator=t_cmp,
            target_number=_fit(t_num),
            target_unit=t_unit[:20],
            actual_comparator=a_cmp,
            actual_number=_fit(a_num),
            actual_unit=a_unit[:20],
            weight=ind.weight if ind.weight is not None else Decimal("0"),
            score=ind.score,
            deviation=ind.deviation,
        )
        try:
            if obj.weight < 0:
                raise ValidationError({"weight": [_("分值不能为负数。")]})
            obj.full_clean(exclude=["evaluation"], validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError(
                {f"第{position}行指标": [m for msgs in exc.message_dict.values() for m in msgs]}
            ) from exc
        indicators.append(obj)

    return funding, indicators


def _json_safe(changes: list[dict]) -> list[dict]:
    return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in c.items()} for c in changes]


def _fit(number: Decimal | None) -> Decimal | None:
    """Keep a parsed number only if it fits the database column (20 digits, 6 places)."""
    if number is None:
        return None
    if abs(number) >= Decimal("1e14"):
        return None
    return number.quantize(Decimal("0.000001"))


def evaluation_create(
    *,
    department: Department,
    data: FormData,
    user: AbstractBaseUser | None,
    source: str = "",
    action: str | None = None,
) -> tuple[Evaluation, ScoreResult]:
    """Create a new evaluation from form data."""
    evaluation = Evaluation(department=department, year=data.year or 0, source=source[:300])
    result = evaluation_write(evaluation=evaluation, data=data, user=user, action=action)
    return evaluation, result


# --- Workflow: draft → submitted → returned | approved; returned → submitted; approved → draft (admin).


class TransitionError(Exception):
    """A transition that is not allowed now, for this user; the message is for the user."""

    def __init__(self, message: str, findings: list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.findings = findings or []


def warning_key(finding: Any) -> str:
    """A stable key for one warning of a form, used to acknowledge it on submission."""
    where = finding.indicator if finding.indicator is not None else (finding.funding or "form")
    return f"{finding.code}:{where}"


def _lock(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("department")
        .get(pk=evaluation.pk)
    )


def _record(
    evaluation: Evaluation,
    *,
    action: str,
    actor: AbstractBaseUser,
    from_status: str,
    reason: str = "",
    acknowledgements: list | None = None,
) -> EvaluationEvent:
    return EvaluationEvent.objects.create(
        evaluation=evaluation,
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=evaluation.status,
        revision=evaluation.revision,
        reason=reason,
        acknowledgements=acknowledgements or [],
    )


def _notify(event: EvaluationEvent, users: Any) -> None:
    Notification.objects.bulk_create(
        [Notification(user=u, evaluation=event.evaluation, event=event) for u in users]
    )
    emails = [u.email for u in users if u.email]
    if emails:
        subject = _("绩效自评表“%(name)s”：%(action)s") % {
            "name": event.evaluation.project_name,
            "action": event.get_action_display(),
        }
        body = subject + ("\n\n" + event.reason if event.reason else "")
        # Mail only once the transition is committed; a rolled-back step sends nothing.
        transaction.on_commit(lambda: send_mail(subject, body, None, emails, fail_silently=True))


def _department_staff(evaluation: Evaluation) -> Any:
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            membership__role=Role.STAFF,
            membership__department_id=evaluation.department_id,
        )
    )


def _finance_users() -> Any:
    User = get_user_model()
    return list(User.objects.filter(is_active=True, membership__role=Role.FINANCE))


def _require_department_member(user: AbstractBaseUser, evaluation: Evaluation) -> None:
    m = membership_of(user)
    if m is None or m.role != Role.STAFF or m.department_id != evaluation.department_id:
        raise TransitionError(_("只有本部门的填报人可以提交此表。"))


def _require_finance(user: AbstractBaseUser) -> None:
    m = membership_of(user)
    if m is None or m.role != Role.FINANCE:
        raise TransitionError(_("只有财政局审核人可以执行此操作。"))


def _workflow_text(text: str | None, *, limit: int, what: str) -> str:
    """A reason or comment as stored: control characters removed, trimmed, within ``limit``."""
    text = clean_text(text or "").strip()
    if len(text) > limit:
        raise TransitionError(
            _("%(what)s最多 %(limit)d 字（现有 %(count)d 字），请删减后再提交。")
            % {"what": what, "limit": limit, "count": len(text)}
        )
    return text


_TRANSITIONS = [
    EventAction.SUBMITTED,
    EventAction.RETURNED,
    EventAction.APPROVED,
    EventAction.REOPENED,
]


def _last_transition(evaluation: Evaluation) -> str | None:
    """The action of the evaluation's latest state change (edits and imports excluded)."""
    return (
        EvaluationEvent.objects.filter(evaluation=evaluation, action__in=_TRANSITIONS)
        .order_by("-created_at", "-id")
        .values_list("action", flat=True)
        .first()
    )


@transaction.atomic
def evaluation_submit(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    acknowledgements: dict[str, str] | None = None,
) -> bool:
    """Submit a draft or returned form to the finance bureau; returns False if already submitted.

    Refused while the form has error findings; every warning must be acknowledged
    (``acknowledgements`` maps warning_key → an optional explanation).
    """
    ev = _lock(evaluation)
    _require_department_member(user, ev)
    if ev.status == Status.SUBMITTED:
        return False
    if ev.status not in (Status.DRAFT, Status.RETURNED):
        raise TransitionError(
            _("此表当前状态为“%(status)s”，不能提交。") % {"status": ev.get_status_display()}
        )
    result = evaluation_score(evaluation=ev)
    if result.errors:
        raise TransitionError(
            _("此表还有 %(n)d 个错误，请修改后再提交。") % {"n": len(result.errors)},
            findings=list(result.errors),
        )
    acknowledgements = acknowledgements or {}
    pending = [w for w in result.warnings if warning_key(w) not in acknowledgements]
    if pending:
        raise TransitionError(
            _("请逐条确认或说明以下 %(n)d 个警告后再提交。") % {"n": len(pending)},
            findings=pending,
        )
    acks = [
        {
            "key": warning_key(w),
            "code": w.code,
            "indicator": w.indicator,
            "message": str(w.message),
            "comment": _workflow_text(
                acknowledgements.get(warning_key(w)), limit=COMMENT_MAX_LENGTH, what=_("说明")
            ),
        }
        for w in result.warnings
    ]
    from_status = ev.status
    ev.status = Status.SUBMITTED
    ev.submitted_at = timezone.now()
    ev.save(update_fields=["status", "submitted_at", "updated_at"])
    event = _record(
        ev, action=EventAction.SUBMITTED, actor=user, from_status=from_status, acknowledgements=acks
    )
    _notify(event, _finance_users())
    evaluation.status, evaluation.submitted_at = ev.status, ev.submitted_at
    return True


@transaction.atomic
def evaluation_return(
    *,
    evaluation: Evaluation,
    user: AbstractBaseUser,
    reason: str,
    comments: list[dict[str, Any]] | None = None,
) -> bool:
    """Return a submitted form to its department with a reason; False if already returned.

    ``comments`` are {"target": "indicator"|"funding", "position": int | None,
    "funding_kind": str, "text": str} attached to individual rows.
    """
    ev = _lock(evaluation)
    _require_finance(user)
    if ev.status == Status.RETURNED:
        return False
    if ev.status != Status.SUBMITTED:
        raise TransitionError(
            _("此表当前状态为“%(status)s”，只有已提交的表可以退回。")
            % {"status": ev.get_status_display()}
        )
    reason = _workflow_text(reason, limit=REASON_MAX_LENGTH, what=_("退回原因"))
    if not reason:
        raise TransitionError(_("退回时必须填写退回原因。"))
    texts = [
        _workflow_text(c.get("text"), limit=COMMENT_MAX_LENGTH, what=_("审核意见"))
        for c in comments or []
    ]
    from_status = ev.status
    ev.status = Status.RETURNED
    ev.save(update_fields=["status", "updated_at"])
    event = _record(
        ev, action=EventAction.RETURNED, actor=user, from_status=from_status, reason=reason
    )
    data = ev.as_form_data()
    rows = []
    for c, text in zip(comments or [], texts, strict=True):
        if not text:
            continue
        if c.get("target") == CommentTarget.INDICATOR:
            position = c.get("position")
            # Rows that do not exist (any more) have nothing to attach a comment to.
            if not isinstance(position, int) or not 1 <= position <= len(data.indicators):
                continue
            label = data.indicators[position - 1].name
            rows.append(
                ReviewComment(
                    event=event,
                    evaluation=ev,
                    target=CommentTarget.INDICATOR,
                    position=position,
                    label=label[:500],
                    text=text,
                )
            )
        elif (
            c.get("target") == CommentTarget.FUNDING and c.get("funding_kind") in FundingKind.values
        ):
            rows.append(
                ReviewComment(
                    event=event,
                    evaluation=ev,
                    target=CommentTarget.FUNDING,
                    funding_kind=c["funding_kind"],
                    label=str(FundingKind(c["funding_kind"]).label),
                    text=text,
                )
            )
    ReviewComment.objects.bulk_create(rows)
    _notify(event, _department_staff(ev))
    evaluation.status = ev.status
    return True


@transaction.atomic
def evaluation_approve(*, evaluation: Evaluation, user: AbstractBaseUser) -> bool:
    """Approve a submitted form, locking it; False if already approved."""
    ev = _lock(evaluation)
    _require_finance(user)
    if ev.status == Status.APPROVED:
        return False
    if ev.status != Status.SUBMITTED:
        raise TransitionError(
            _("此表当前状态为“%(status)s”，只有已提交的表可以审核通过。")
            % {"status": ev.get_status_display()}
        )
    from_status = ev.status
    ev.status = Status.APPROVED
    ev.approved_at = timezone.now()
    ev.save(update_fields=["status", "approved_at", "updated_at"])
    event = _record(ev, action=EventAction.APPROVED, actor=user, from_status=from_status)
    _notify(event, _department_staff(ev))
    evaluation.status, evaluation.approved_at = ev.status, ev.approved_at
    return True


@transaction.atomic
def evaluation_reopen(*, evaluation: Evaluation, user: AbstractBaseUser, reason: str) -> bool:
    """Reopen an approved form as a draft (administrators only, with a reason).

    Returns False when the form was reopened already and has not changed state since
    (a second click); any other form that is not approved is refused (TransitionError).
    """
    ev = _lock(evaluation)
    if not is_admin(user):
        raise TransitionError(_("只有系统管理员可以重新开放已通过的表。"))
    if ev.status == Status.DRAFT and _last_transition(ev) == EventAction.REOPENED:
        return False
    if ev.status != Status.APPROVED:
        raise TransitionError(
            _("此表当前状态为“%(status)s”，只有已通过的表可以重新开放。")
            % {"status": ev.get_status_display()}
        )
    reason = _workflow_text(reason, limit=REASON_MAX_LENGTH, what=_("原因"))
    if not reason:
        raise TransitionError(_("重新开放时必须填写原因。"))
    from_status = ev.status
    ev.status = Status.DRAFT
    ev.approved_at = None
    ev.save(update_fields=["status", "approved_at", "updated_at"])
    event = _record(
        ev, action=EventAction.REOPENED, actor=user, from_status=from_status, reason=reason
    )
    _notify(event, _department_staff(ev))
    evaluation.status, evaluation.approved_at = ev.status, ev.approved_at
    return True


def notifications_mark_read(*, user: AbstractBaseUser, evaluation: Evaluation) -> int:
    """Mark the user's notifications about one evaluation as read."""
    return Notification.objects.filter(
        user=user, evaluation=evaluation, read_at__isnull=True
    ).update(read_at=timezone.now())
