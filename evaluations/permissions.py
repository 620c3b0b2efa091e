"""Who may do what: the one definition of every role and right, as ``rules`` predicates.

Roles (from ``departments.Membership`` and Django's ``is_superuser``):

- **Department staff** (填报人, membership role ``staff``): their own department only.
  They create, edit, import and submit their department's forms, read them and
  download them.
- **限填实施单位**: a filler or head whose membership names one 实施单位 of the
  department has every right above only on that unit's forms; the department's other
  units' forms are to them as another department's (``departments.access``: how a form's
  unit is found and compared).
- **Department head** (部门审核人, membership role ``head``): their own department only.
  When the year's campaign requires the department's sign-off, a filler's submission
  stops with them (部门审核): they pass it on to the bureau or return it to the filler
  with a reason and row comments (``evaluations.sign_off``). They read and download
  their department's forms and see its dashboard, as staff do. Decision: *the head
  checks, the filler fills in.* A head does not create, edit, import or submit forms:
  what needs changing goes back to the filler with a return, so the one who signs is
  never the one who wrote, and every change of content is the filler's in the history.
- **Finance** (财政局审核人, membership role ``finance``): every department. They read and
  download every form, review (return or approve) submitted ones, and may create, edit
  and import forms for any department, as they always could.
- **Administrator** (系统管理员, a Django superuser). Decision: *a superuser is not
  finance.* The administrator manages accounts in /admin/ and reopens approved forms
  (with a reason); to find those forms they may READ every department's forms (list,
  detail, history, PDF/Excel downloads including the bulk ones, the dashboard). They do
  not create, edit, import or submit forms, and they do not review: the finance-only
  pages (/review/...) answer 404 to them as to department staff. A superuser who also
  holds a finance (or staff) membership has that role's rights through the membership.

Every view, service and template asks the rules below (``allowed`` in Python,
``{% load rules %}{% test_rule "evaluations.edit" user evaluation as can_edit %}`` in
templates). ``departments.access`` builds its scoping querysets from
``sees_all_departments`` and agrees with ``VIEW``; the tests check that they agree.

Why a ``rules`` RuleSet (``rules.add_rule`` / ``rules.test_rule`` / ``{% test_rule %}``)
and not Django permissions (``rules.add_perm``, ``user.has_perm``, ``{% has_perm %}``):
``User.has_perm`` answers True for every active superuser before any authentication
backend is asked, so any right written as a permission would silently be granted to the
administrator, who must not review or edit. The rules are therefore registered in the
shared RuleSet only and no ``ObjectPermissionBackend`` is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rules
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from departments.access import covers_evaluation, evaluation_unit, membership_covers
from departments.models import Role
from departments.roles import (
    has_membership,
    in_a_department,
    is_admin,
    is_department_staff,
    is_finance,
    is_head,
    role_in_department,
    sees_all_departments,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from evaluations.models import Evaluation

    User = AbstractBaseUser | AnonymousUser


# --- predicates: the roles ---------------------------------------------------------------


@rules.predicate
def is_department_member(user: User, evaluation: Evaluation | None) -> bool:
    """Staff of the evaluation's department (limited to a unit: to the evaluation's)."""
    return (
        evaluation is not None
        and role_in_department(user, Role.STAFF, evaluation.department_id)
        and covers_evaluation(user, evaluation)
    )


@rules.predicate
def is_department_head(user: User, evaluation: Evaluation | None) -> bool:
    """The head (部门审核人) of the evaluation's department (limited: of its unit)."""
    return (
        evaluation is not None
        and role_in_department(user, Role.HEAD, evaluation.department_id)
        and covers_evaluation(user, evaluation)
    )


@rules.predicate
def no_object(user: User, obj: Any) -> bool:
    """The rule is asked in general ("may this user export anything?"), not about one form."""
    return obj is None


# Staff or head of the evaluation's department.
is_of_department = is_department_member | is_department_head
# Anyone who sees at least one department's forms.
has_scope = sees_all_departments | in_a_department


# --- rules: the rights -------------------------------------------------------------------

VIEW = "evaluations.view"
CREATE = "evaluations.create"
IMPORT = "evaluations.import"
EDIT = "evaluations.edit"
SCORE_PREVIEW = "evaluations.score_preview"
SUBMIT = "evaluations.submit"
REVIEW = "evaluations.review"
REOPEN = "evaluations.reopen"
EXPORT = "evaluations.export"
SEE_DASHBOARD = "evaluations.see_dashboard"
SEE_ALL_DEPARTMENTS = "evaluations.see_all_departments"
SIGN_OFF = "evaluations.sign_off"
MANAGE_CAMPAIGNS = "evaluations.manage_campaigns"
READ_CAMPAIGN_NOTICE = "evaluations.read_campaign_notice"
RECHECK = "evaluations.recheck"
PUBLISH_RESULTS = "evaluations.publish_results"
SEE_MAIL = "evaluations.see_mail"
MANAGE_PEOPLE = "departments.manage_people"
SEE_STAFFING = "departments.see_staffing"

RULES: dict[str, rules.Predicate] = {
    # Read one form (detail, history): must agree with evaluations.selectors.visible_evaluations.
    VIEW: sees_all_departments | is_of_department,
    # Write new forms: staff for their department, finance for any (they pick it).
    CREATE: is_department_staff | is_finance,
    IMPORT: is_department_staff | is_finance,
    # Change a form's content (the state check, draft or returned, is the view's).
    EDIT: is_department_member | is_finance,
    # Score the entry form while typing: whoever may write forms.
    SCORE_PREVIEW: is_department_staff | is_finance,
    # Workflow (see evaluations.workflow): submit, return/approve, reopen.
    SUBMIT: is_department_member,
    REVIEW: is_finance,
    REOPEN: is_admin,
    # The department's sign-off (pass on or return a form in 部门审核): its head. Asked
    # without a form (the navigation, the list of forms awaiting sign-off): any head.
    SIGN_OFF: is_department_head | (no_object & is_head),
    # Downloads: one form as VIEW; without a form, anyone with a scope (bulk downloads
    # are then limited to visible_evaluations).
    EXPORT: sees_all_departments | is_of_department | (no_object & in_a_department),
    SEE_DASHBOARD: has_scope,
    # The department filter and column of the list, the department links of the dashboard.
    SEE_ALL_DEPARTMENTS: sees_all_departments,
    # The year's campaign (/campaigns/): notice, deadline, due list, extensions. Finance
    # only; the administrator manages accounts, not campaigns (the decision above).
    MANAGE_CAMPAIGNS: is_finance,
    # The campaign's notice file: anyone with a role (a membership) and the administrator.
    READ_CAMPAIGN_NOTICE: has_membership | is_admin,
    # The bureau's re-check (/rechecks/: picking, sampling, scoring again, the report):
    # finance only, like the review; the administrator is not finance.
    RECHECK: is_finance,
    # The year's results for publication (决算公开, /dashboard/results.xlsx): finance only.
    PUBLISH_RESULTS: is_finance,
    # Undelivered mail (/mail/) and sending it again: finance and the administrator.
    SEE_MAIL: sees_all_departments,
    # The people page (/people/): add, change, deactivate accounts, reset passwords, rename
    # departments. The administrator only: finance reviews forms, it does not run accounts.
    MANAGE_PEOPLE: is_admin,
    # Who fills in and who signs off for each department, and which have nobody
    # (/people/departments/): read by finance, who runs the campaign, and the administrator.
    SEE_STAFFING: sees_all_departments,
}

for _name, _predicate in RULES.items():
    rules.set_rule(_name, _predicate)


# --- asking the rules --------------------------------------------------------------------


def allowed(name: str, user: User, obj: Any = None) -> bool:
    """True when rule ``name`` lets ``user`` act (on ``obj``); unknown names are an error."""
    if not rules.rule_exists(name):
        raise KeyError(name)
    return rules.test_rule(name, user, obj)


def require_or_404(name: str, user: User, obj: Any = None) -> None:
    """Raise 404 unless allowed: pages a user may not use are invisible, like other forms."""
    if not allowed(name, user, obj):
        raise Http404


def require_or_403(name: str, user: User, obj: Any = None, *, message: str = "") -> None:
    """Raise 403 (with a Chinese ``message`` for the page) unless allowed."""
    if not allowed(name, user, obj):
        raise PermissionDenied(message)


# --- the same roles as querysets: who is notified ----------------------------------------


def finance_users() -> list[Any]:
    """Active users for whom ``is_finance`` holds (a superuser without membership is not one)."""
    User = get_user_model()
    return list(User.objects.filter(is_active=True, membership__role=Role.FINANCE))


def _department_users(evaluation: Evaluation, role: str) -> list[Any]:
    """Active users of ``role`` in the evaluation's department who are not limited elsewhere."""
    User = get_user_model()
    users = User.objects.filter(
        is_active=True, membership__role=role, membership__department_id=evaluation.department_id
    ).select_related("membership")
    unit = evaluation_unit(evaluation)
    return [user for user in users if membership_covers(user.membership, unit)]


def department_staff(evaluation: Evaluation) -> list[Any]:
    """Active users for whom ``is_department_member(user, evaluation)`` holds."""
    return _department_users(evaluation, Role.STAFF)


def department_heads(evaluation: Evaluation) -> list[Any]:
    """Active users for whom ``is_department_head(user, evaluation)`` holds."""
    return _department_users(evaluation, Role.HEAD)
