"""Writes of the re-check: picking (by hand, by a seeded sample), saving, the transitions.

The re-check's states, as a table (the pattern of ``evaluations.workflow``):

    待复核 pending ──start──▶ 复核中 in_progress ──complete──▶ 已复核 done

Each row names its action, source states, target, and an optional check; one function,
``recheck_transition_run``, runs them in a transaction with the row locked and writes the
history entry. A repeated transition (double click) is harmless: it returns False.

Why a table of its own, beside ``evaluations.workflow.TRANSITIONS``, and not rows of that
one: the two tables share the shape (action, sources, target, refusal, check) and the
refusal (``TransitionError``, ``workflow_text``), but not what a row of the form's workflow
carries and its driver does. A re-check has one rule for every step (finance,
``permissions.RECHECK``), tells nobody (no notification, no mail: the department sees the
re-check only once 已复核, on the form), takes no reason or acknowledgements, changes no
state of the form, announces nothing, and writes its own history (``RecheckEvent``, not
``EvaluationEvent``); what its steps do besides moving the state is computing figures
(``prefills``, ``stamps_completion``). Driving it through ``workflow.transition_run``
would bend that driver to a second model with none of these; a third kind of state of
the same shape as the form's would be the time to share the driver.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluations import permissions
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.core.scoring import funding_totals
from evaluations.models import Evaluation, Status
from evaluations.rules import rules_for
from evaluations.workflow import TransitionError, workflow_text
from rechecks.models import (
    PickMethod,
    Recheck,
    RecheckAction,
    RecheckEvent,
    RecheckRow,
    RecheckStatus,
    Sample,
)
from rechecks.scoring import RecheckFigures, RowEntry, recheck_figures
from rechecks.selectors import quality_threshold, recheck_compute

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.utils.functional import Promise

__all__ = ["TransitionError"]


# --- the figures ---------------------------------------------------------------------------


def recheck_preview(
    recheck: Recheck,
    *,
    scores: dict[str, Decimal | None],
    execution_score: Decimal | None,
    opinions: dict[str, str] | None = None,
) -> RecheckFigures:
    """The figures finance's scores as typed would give (the page's live total); stores nothing."""
    return recheck_figures(
        recheck.evaluation.as_form_data(),
        scores=scores,
        opinions=opinions or {},
        execution_score=execution_score,
        threshold=quality_threshold(),
        rules=rules_for(recheck.evaluation),
    )


def _store_figures(recheck: Recheck) -> None:
    figures = recheck_compute(recheck)
    recheck.total = figures.total
    recheck.own_total = figures.own_total
    recheck.difference = figures.difference
    recheck.quality_poor = figures.quality_poor
    if not figures.execution_editable:
        recheck.execution_score = figures.recheck_execution


def _event(recheck: Recheck, action: str, user: Any, frm: str = "", to: str = "", reason: str = ""):
    return RecheckEvent.objects.create(
        recheck=recheck, action=action, actor=user, from_status=frm, to_status=to, reason=reason
    )


# --- picking -------------------------------------------------------------------------------


def approved_forms(year: int):
    """The year's approved forms, the population of picks and draws, ordered by pk."""
    return Evaluation.objects.for_year(year).filter(status=Status.APPROVED).order_by("pk")


def _create(evaluation: Evaluation, user: Any, sample: Sample | None) -> Recheck:
    # No scores, no total until finance starts: a pending re-check must not look done.
    recheck = Recheck.objects.create(
        evaluation=evaluation,
        method=PickMethod.SAMPLE if sample else PickMethod.BY_HAND,
        sample=sample,
        picked_by=user,
    )
    RecheckRow.objects.bulk_create(
        RecheckRow(recheck=recheck, key=ind.key) for ind in evaluation.as_form_data().indicators
    )
    recheck.own_total = recheck_compute(recheck).own_total
    recheck.save(update_fields=["own_total"])
    return recheck


def _prefill(recheck: Recheck) -> None:
    """Finance starts from the department's figures: every difference is 0 until it changes one."""
    own = {ind.key: ind.score for ind in recheck.evaluation.as_form_data().indicators}
    for row in recheck.rows.all():
        row.score = own.get(row.key)
        row.save(update_fields=["score"])
    recheck.execution_score = recheck_compute(recheck).own_execution
    _store_figures(recheck)


def recheck_pick(*, evaluation: Evaluation, user: AbstractBaseUser) -> tuple[Recheck, bool]:
    """Pick one approved form by hand; (its re-check, True if new). Finance only."""
    if not permissions.allowed(permissions.RECHECK, user):
        raise TransitionError(_("只有财政局可以选取复核。"))
    with transaction.atomic():
        ev = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        if ev.status != Status.APPROVED:
            raise TransitionError(_("只能复核已通过的自评表。"))
        existing = Recheck.objects.filter(evaluation=ev).first()
        if existing is not None:
            return existing, False
        recheck = _create(ev, user, None)
        _event(recheck, RecheckAction.PICKED, user, to=RecheckStatus.PENDING)
        return recheck, True


def sample_size(population: int, share: int) -> int:
    """share % of ``population``, rounded half up, at least 1 when there is any form."""
    if population == 0:
        return 0
    n = (Decimal(population) * share / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return max(1, min(population, int(n)))


def draw(candidates: list[tuple[int, Decimal]], *, n: int, seed: int, weighted: bool) -> list[int]:
    """Pick ``n`` pks from (pk, funds) pairs, repeatably from ``seed``; pure.

    Candidates are taken in pk order, so the same seed over the same forms gives the same
    draw. Unweighted: ``random.Random(seed).sample``. Weighted by funds, without replacement:
    each form gets the key u ** (1 / funds) (u uniform from the same generator; Efraimidis &
    Spirakis), the ``n`` largest keys win, so a form's chance grows with its funds. Forms
    without funds come last, in random order.
    """
    ordered = sorted(candidates)
    rng = random.Random(seed)
    if not weighted:
        return sorted(rng.sample([pk for pk, _ in ordered], n))
    keyed = []
    for pk, funds in ordered:
        u = rng.random()
        key = u ** (1 / float(funds)) if funds and funds > 0 else u - 1
        keyed.append((key, pk))
    keyed.sort(reverse=True)
    return sorted(pk for _, pk in keyed[:n])


def sample_draw(
    *, year: int, share: int, seed: int, weighted: bool, user: AbstractBaseUser
) -> Sample:
    """Draw ``share`` % of the year's approved forms and put each drawn form in re-check.

    Idempotent: the same parameters over the same approved forms give the same forms, so
    a repeat returns the earlier sample instead of recording a second one.
    """
    if not permissions.allowed(permissions.RECHECK, user):
        raise TransitionError(_("只有财政局可以抽取复核。"))
    if not 1 <= share <= 100:
        raise TransitionError(_("抽取比例应在 1% 到 100% 之间。"))
    with transaction.atomic():
        # The population locked: an identical draw posted at the same time (a double click)
        # waits for this one, then finds it below; no form leaves or joins it meanwhile.
        list(approved_forms(year).select_for_update().values_list("pk", flat=True))
        forms = list(approved_forms(year).prefetch_related("funding_rows"))
        if not forms:
            raise TransitionError(_("%(year)d年度没有已通过的自评表可供抽取。") % {"year": year})
        candidates = [(ev.pk, funding_totals(ev.as_form_data())[0] or Decimal(0)) for ev in forms]
        picked = draw(candidates, n=sample_size(len(forms), share), seed=seed, weighted=weighted)
        earlier = Sample.objects.filter(
            year=year, share=share, seed=seed, weighted=weighted, population=len(forms)
        )
        for sample in earlier.prefetch_related("evaluations"):
            if sorted(ev.pk for ev in sample.evaluations.all()) == picked:
                return sample  # the same draw over the same forms: drawn once, recorded once
        sample = Sample.objects.create(
            year=year,
            share=share,
            seed=seed,
            weighted=weighted,
            population=len(forms),
            drawn_by=user,
        )
        sample.evaluations.set(picked)
        note = _("抽取比例 %(share)d%%，随机种子 %(seed)d%(weighted)s") % {
            "share": share,
            "seed": seed,
            "weighted": _("，按资金规模加权") if weighted else "",
        }
        for ev in Evaluation.objects.filter(pk__in=picked).select_for_update().order_by("pk"):
            if Recheck.objects.filter(evaluation=ev).exists():
                continue  # picked before (by hand or an earlier draw): keeps its re-check
            recheck = _create(ev, user, sample)
            _event(recheck, RecheckAction.SAMPLED, user, to=RecheckStatus.PENDING, reason=note)
        return sample


# --- the transitions, as a table -------------------------------------------------------------


@dataclass(frozen=True)
class RecheckTransition:
    action: str
    sources: tuple[str, ...]
    target: str
    wrong_state: Promise
    check: Callable[[Recheck], None] | None = None
    prefills: bool = False  # the scores start as the department's
    stamps_completion: bool = False


def _has_opinion(recheck: Recheck) -> None:
    if not recheck.opinion.strip():
        raise TransitionError(_("请先填写总体复核意见，再完成复核。"))
    missing = recheck_compute(recheck).reasons_missing
    if missing:
        raise TransitionError(
            _("第%(rows)s行扣分未说明理由：每项扣分都须说明理由，注明依据的复核口径。")
            % {"rows": "、".join(str(r.number) for r in missing)}
        )


START = RecheckTransition(
    action=RecheckAction.STARTED,
    sources=(RecheckStatus.PENDING,),
    target=RecheckStatus.IN_PROGRESS,
    wrong_state=gettext_lazy("此复核当前为“%(status)s”，不能开始。"),
    prefills=True,
)
COMPLETE = RecheckTransition(
    action=RecheckAction.COMPLETED,
    sources=(RecheckStatus.IN_PROGRESS,),
    target=RecheckStatus.DONE,
    wrong_state=gettext_lazy("此复核当前为“%(status)s”，不能完成。"),
    check=_has_opinion,
    stamps_completion=True,
)
TRANSITIONS = {t.action: t for t in (START, COMPLETE)}


def _lock(recheck: Recheck) -> Recheck:
    return Recheck.objects.select_for_update().select_related("evaluation").get(pk=recheck.pk)


def recheck_transition_run(
    transition: RecheckTransition, *, recheck: Recheck, user: AbstractBaseUser
) -> bool:
    """Run one row on ``recheck``: True if done, False on a repeat; TransitionError if refused."""
    if not permissions.allowed(permissions.RECHECK, user):
        raise TransitionError(_("只有财政局可以复核。"))
    with transaction.atomic():
        done = _run(transition, _lock(recheck), user)
    recheck.refresh_from_db()
    return done


def _run(transition: RecheckTransition, rc: Recheck, user: Any) -> bool:
    # On a locked row, inside the caller's transaction.
    if rc.status == transition.target:
        return False
    if rc.status not in transition.sources:
        raise TransitionError(transition.wrong_state % {"status": rc.get_status_display()})
    if transition.check is not None:
        transition.check(rc)
    frm = rc.status
    rc.status = transition.target
    fields = ["status"]
    if transition.prefills or transition.stamps_completion:
        if transition.prefills:
            _prefill(rc)
        else:
            _store_figures(rc)
        fields += ["total", "own_total", "difference", "quality_poor", "execution_score"]
    if transition.stamps_completion:
        rc.completed_by = user
        rc.completed_at = timezone.now()
        fields += ["completed_by", "completed_at"]
    rc.save(update_fields=fields)
    reason = rc.opinion if transition.stamps_completion else ""
    _event(rc, transition.action, user, frm=frm, to=rc.status, reason=reason)
    return True


def recheck_save(
    *,
    recheck: Recheck,
    user: AbstractBaseUser,
    rows: dict[str, RowEntry],
    execution_score: Decimal | None,
    opinion: str,
) -> None:
    """Store finance's scores and opinions while the re-check is 复核中; recorded."""
    if not permissions.allowed(permissions.RECHECK, user):
        raise TransitionError(_("只有财政局可以复核。"))
    with transaction.atomic():
        _write(_lock(recheck), user, rows, execution_score, opinion)
    recheck.refresh_from_db()


def recheck_complete(
    *,
    recheck: Recheck,
    user: AbstractBaseUser,
    rows: dict[str, RowEntry],
    execution_score: Decimal | None,
    opinion: str,
) -> bool:
    """Store what the page holds and complete, in one transaction: both or neither.

    False on a repeat (already 已复核: a double click saves nothing again); TransitionError
    when refused (e.g. no overall opinion), and then nothing is stored.
    """
    if not permissions.allowed(permissions.RECHECK, user):
        raise TransitionError(_("只有财政局可以复核。"))
    with transaction.atomic():
        rc = _lock(recheck)
        if rc.status == COMPLETE.target:
            return False
        _write(rc, user, rows, execution_score, opinion)
        _run(COMPLETE, rc, user)
    recheck.refresh_from_db()
    return True


def _write(
    rc: Recheck,
    user: Any,
    rows: dict[str, RowEntry],
    execution_score: Decimal | None,
    opinion: str,
) -> None:
    # On a locked row, inside the caller's transaction.
    if rc.status != RecheckStatus.IN_PROGRESS:
        raise TransitionError(
            _("此复核当前为“%(status)s”，不能修改。") % {"status": rc.get_status_display()}
        )
    rc.opinion = workflow_text(opinion, limit=REASON_MAX_LENGTH, what=_("复核意见"))
    rc.execution_score = execution_score
    for row in rc.rows.all():
        if row.key in rows:
            entry = rows[row.key]
            row.score = entry.score
            row.opinion = workflow_text(entry.opinion, limit=COMMENT_MAX_LENGTH, what=_("复核意见"))
            row.rule_id = entry.rule.rule_id if entry.rule is not None else None
            row.percent = entry.rule.percent if entry.rule is not None else None
            row.save(update_fields=["score", "opinion", "rule", "percent"])
    _store_figures(rc)
    rc.save()
    _event(
        rc,
        RecheckAction.SAVED,
        user,
        reason=_("复核总分 %(total)s，差异 %(diff)s") % {"total": rc.total, "diff": rc.difference},
    )
