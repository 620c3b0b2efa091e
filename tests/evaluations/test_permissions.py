"""The rules of evaluations/permissions.py, and the superuser decision route by route.

Decision: a superuser is the system administrator, not finance. They read every
department's forms (list, detail, history, downloads, dashboard) and reopen approved
forms; they do not create, edit, import, submit, return or approve.
"""

from __future__ import annotations

import datetime

import pytest
import rules
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template

from campaigns.models import Campaign, DueProject
from departments.access import visible_departments
from departments.models import Membership, Role
from evaluations import permissions as p
from evaluations.models import Evaluation, EvaluationEvent, Status
from evaluations.selectors import visible_evaluations
from evaluations.workflow import (
    TransitionError,
    evaluation_approve,
    evaluation_return,
    evaluation_submit,
)
from tests.conftest import client_for, make_user
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_finance(db, django_user_model):
    """A superuser who also holds a finance membership: finance by that membership."""
    user = django_user_model.objects.create_superuser(username="root-fin", password="x-1-y-2-z")
    Membership.objects.create(user=user, role=Role.FINANCE, department=None)
    return user


@pytest.fixture
def nobody(db, django_user_model):
    """Signed in, but without membership and not a superuser."""
    return django_user_model.objects.create_user(username="nobody", password="x-1-y-2-z")


@pytest.fixture
def forms(dept_a, dept_b, staff_a, staff_b):
    """One form of department A ("own" for alice) and one of department B."""
    return {
        "own": make_evaluation(dept_a, staff_a, project_name="甲部门的项目"),
        "other": make_evaluation(dept_b, staff_b, project_name="乙部门的项目"),
    }


@pytest.fixture
def unit_staff_a(dept_a):
    """Staff of department A limited to the 实施单位 of its form (written with other spaces)."""
    user = make_user("unit-own", Role.STAFF, dept_a)
    Membership.objects.filter(user=user).update(implementing_unit=" 实施单位　甲\t")
    return user


@pytest.fixture
def other_unit_staff_a(dept_a):
    """Staff of department A limited to another 实施单位 than its form's."""
    user = make_user("unit-other", Role.STAFF, dept_a)
    Membership.objects.filter(user=user).update(implementing_unit="实施单位乙")
    return user


@pytest.fixture
def other_unit_head_a(dept_a):
    """A head of department A limited to another 实施单位 than its form's."""
    user = make_user("unit-other-head", Role.HEAD, dept_a)
    Membership.objects.filter(user=user).update(implementing_unit="实施单位乙")
    return user


USERS = [
    "staff_a",
    "staff_b",
    "head_a",
    "head_b",
    "unit_staff_a",
    "other_unit_staff_a",
    "other_unit_head_a",
    "finance",
    "admin_user",
    "admin_finance",
    "nobody",
    "anonymous",
]
# Members of department A limited to one 实施单位 (限填实施单位): a form of another unit of
# their department is not theirs, for every rule; without a form they are what their role is.
UNIT_LIMITED = {"unit_staff_a", "other_unit_staff_a", "other_unit_head_a"}

# rule: the users (fixture names) for whom it holds on department A's form; None: asked
# without a form.
ON_FORM_A = {
    p.VIEW: {"staff_a", "head_a", "unit_staff_a", "finance", "admin_user", "admin_finance"},
    # The head checks, the filler fills in: a head neither edits nor submits.
    p.EDIT: {"staff_a", "unit_staff_a", "finance", "admin_finance"},
    p.SUBMIT: {"staff_a", "unit_staff_a"},
    p.REVIEW: {"finance", "admin_finance"},
    # A head limited to another unit does not sign this form off.
    p.SIGN_OFF: {"head_a"},
    p.REOPEN: {"admin_user", "admin_finance"},
    p.EXPORT: {"staff_a", "head_a", "unit_staff_a", "finance", "admin_user", "admin_finance"},
}
WITHOUT_FORM = {
    p.CREATE: {
        "staff_a",
        "staff_b",
        "unit_staff_a",
        "other_unit_staff_a",
        "finance",
        "admin_finance",
    },
    p.IMPORT: {
        "staff_a",
        "staff_b",
        "unit_staff_a",
        "other_unit_staff_a",
        "finance",
        "admin_finance",
    },
    p.SCORE_PREVIEW: {
        "staff_a",
        "staff_b",
        "unit_staff_a",
        "other_unit_staff_a",
        "finance",
        "admin_finance",
    },
    p.REVIEW: {"finance", "admin_finance"},
    p.SIGN_OFF: {"head_a", "head_b", "other_unit_head_a"},
    p.REOPEN: {"admin_user", "admin_finance"},
    p.EXPORT: {
        "staff_a",
        "staff_b",
        "head_a",
        "head_b",
        *UNIT_LIMITED,
        "finance",
        "admin_user",
        "admin_finance",
    },
    p.SEE_DASHBOARD: {
        "staff_a",
        "staff_b",
        "head_a",
        "head_b",
        *UNIT_LIMITED,
        "finance",
        "admin_user",
        "admin_finance",
    },
    p.SEE_ALL_DEPARTMENTS: {"finance", "admin_user", "admin_finance"},
    # The campaign pages: finance only (a superuser by a finance membership, not by itself).
    p.MANAGE_CAMPAIGNS: {"finance", "admin_finance"},
    # The results for publication (决算公开): finance only.
    p.PUBLISH_RESULTS: {"finance", "admin_finance"},
    # The bureau's re-check (/rechecks/): finance only.
    p.RECHECK: {"finance", "admin_finance"},
    # Undelivered mail (/mail/): finance and the administrator.
    p.SEE_MAIL: {"finance", "admin_user", "admin_finance"},
    # The bureau's people (/people/, the accounts workbook): the administrator only.
    p.MANAGE_PEOPLE: {"admin_user", "admin_finance"},
    # Who fills in and signs off for each department (/people/departments/): finance and
    # the administrator.
    p.SEE_STAFFING: {"finance", "admin_user", "admin_finance"},
    # The notice file: anyone with a role, and the administrator.
    p.READ_CAMPAIGN_NOTICE: {
        "staff_a",
        "staff_b",
        "head_a",
        "head_b",
        *UNIT_LIMITED,
        "finance",
        "admin_user",
        "admin_finance",
    },
}


def user_of(request, name):
    return AnonymousUser() if name == "anonymous" else request.getfixturevalue(name)


def test_it_tests_every_rule_here():
    assert set(ON_FORM_A) | set(WITHOUT_FORM) == set(p.RULES)
    assert all(rules.rule_exists(name) for name in p.RULES)


@pytest.mark.parametrize("who", USERS)
def test_it_decides_each_rule_on_a_form(who, request, forms):
    user = user_of(request, who)
    for name, holders in ON_FORM_A.items():
        assert p.allowed(name, user, forms["own"]) is (who in holders), (name, who)


@pytest.mark.parametrize("who", USERS)
def test_it_decides_each_rule_without_a_form(who, request, db):
    user = user_of(request, who)
    for name, holders in WITHOUT_FORM.items():
        assert p.allowed(name, user) is (who in holders), (name, who)


@pytest.mark.parametrize("who", USERS)
def test_it_scopes_lookups_exactly_as_the_view_rule(who, request, forms, dept_a, dept_b, staff_a):
    user = user_of(request, who)
    # Forms of department A's other unit: by its text, and by its due project's unit (which
    # decides for a form that has one, whatever its text says).
    make_evaluation(dept_a, staff_a, project_name="乙单位的项目", implementing_unit="实施单位乙")
    campaign = Campaign.objects.create(year=2021, title="2021", deadline=datetime.date(2022, 3, 1))
    due = make_evaluation(dept_a, staff_a, project_name="乙单位的应评项目")
    due.due_project = DueProject.objects.create(
        campaign=campaign,
        department=dept_a,
        project_name=due.project_name,
        implementing_unit="实施单位乙",
    )
    due.save(update_fields=["due_project"])
    visible = set(visible_evaluations(user))
    assert visible == {e for e in Evaluation.objects.all() if p.allowed(p.VIEW, user, e)}
    expected = {dept_a, dept_b} if p.sees_all_departments(user) else {e.department for e in visible}
    assert set(visible_departments(user)) == expected


def test_it_refuses_an_unknown_rule_name(staff_a):
    with pytest.raises(KeyError):
        p.allowed("evaluations.no_such_rule", staff_a)


def test_it_does_not_use_has_perm_which_grants_a_superuser_everything(admin_user, forms):
    # The reason the rules are a RuleSet and not permissions: has_perm says yes to anything.
    assert admin_user.has_perm(p.REVIEW, forms["own"])
    assert not p.allowed(p.REVIEW, admin_user, forms["own"])


def test_it_offers_the_rules_to_templates(finance, admin_user, forms):
    template = Template(
        '{% load rules %}{% test_rule "evaluations.review" user form as ok %}{{ ok }}'
    )
    assert template.render(Context({"user": finance, "form": forms["own"]})) == "True"
    assert template.render(Context({"user": admin_user, "form": forms["own"]})) == "False"


def test_it_notifies_the_users_the_predicates_name(
    dept_a, staff_a, colleague_a, staff_b, head_a, head_b, finance, admin_user, admin_finance, forms
):
    inactive = make_user("gone", Role.FINANCE, None, is_active=False)
    assert set(p.finance_users()) == {finance, admin_finance}
    assert all(p.is_finance(u) for u in p.finance_users())
    assert p.is_finance(inactive) and inactive not in p.finance_users()  # inactive: not told
    assert set(p.department_staff(forms["own"])) == {staff_a, colleague_a}
    assert all(p.is_department_member(u, forms["own"]) for u in p.department_staff(forms["own"]))
    assert p.department_heads(forms["own"]) == [head_a]
    assert p.is_department_head(head_a, forms["own"]) and not p.is_department_head(
        head_b, forms["own"]
    )


def test_it_notifies_only_the_unit_limited_users_of_the_forms_unit(
    staff_a, head_a, unit_staff_a, other_unit_staff_a, other_unit_head_a, forms
):
    assert set(p.department_staff(forms["own"])) == {staff_a, unit_staff_a}
    assert set(p.department_heads(forms["own"])) == {head_a}
    assert all(p.is_department_member(u, forms["own"]) for u in p.department_staff(forms["own"]))
    assert all(p.is_department_head(u, forms["own"]) for u in p.department_heads(forms["own"]))


# --- the superuser, route by route -----------------------------------------------------------


def test_it_lets_the_superuser_read_every_department(admin_user, forms):
    client = client_for(admin_user)
    other = forms["other"]
    for suffix in ("", "history/", "pdf/", "xlsx/"):
        assert client.get(f"/evaluations/{other.pk}/{suffix}").status_code == 200, suffix
    page = client.get("/evaluations/").content.decode()
    assert "甲部门的项目" in page and "乙部门的项目" in page
    assert "昌吉州民政局" in page  # the department column, as for finance
    for kind in ("pdf", "zip", "xlsx"):
        response = client.get(f"/evaluations/export/{kind}/", {"year": 2021})
        assert response.status_code == 302  # to the pre-filled export form
        assert response["Location"] == f"/exports/?year=2021&format={kind}"
    assert client.post("/exports/", {"year": 2021, "format": "pdf"}).status_code == 302
    dashboard = client.get("/dashboard/").content.decode()
    assert "昌吉州民政局" in dashboard and "昌吉回族自治州住房和城乡建设局" in dashboard


def test_it_hides_review_from_the_superuser(admin_user, staff_a, forms):
    evaluation = forms["own"]
    evaluation_submit(evaluation=evaluation, user=staff_a)
    client = client_for(admin_user)
    assert client.get("/review/").status_code == 404
    assert client.get(f"/review/{evaluation.pk}/").status_code == 404
    assert client.post(f"/review/{evaluation.pk}/return/", {"reason": "x"}).status_code == 404
    assert client.post(f"/review/{evaluation.pk}/approve/", {"confirm": "1"}).status_code == 404
    with pytest.raises(TransitionError, match="只有财政局审核人可以执行此操作"):
        evaluation_return(evaluation=evaluation, user=admin_user, reason="x")
    with pytest.raises(TransitionError, match="只有财政局审核人可以执行此操作"):
        evaluation_approve(evaluation=evaluation, user=admin_user)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    page = client.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert f"/review/{evaluation.pk}/" not in page
    assert "/review/" not in client.get("/evaluations/").content.decode()  # no queue link


def test_it_refuses_the_superuser_writing_forms(admin_user, forms):
    evaluation = forms["own"]
    client = client_for(admin_user)
    edit = client.get(f"/evaluations/{evaluation.pk}/edit/")
    assert edit.status_code == 403
    assert "系统管理员只能查看自评表" in edit.content.decode()
    assert client.post(f"/evaluations/{evaluation.pk}/edit/", {}).status_code == 403
    assert client.get("/evaluations/new/").status_code == 403
    assert client.get("/evaluations/import/").status_code == 403
    assert client.post("/evaluations/score-preview/", {}).status_code == 403
    assert client.get(f"/evaluations/{evaluation.pk}/submit/").status_code == 404
    assert client.post(f"/evaluations/{evaluation.pk}/submit/", {}).status_code == 404
    with pytest.raises(TransitionError, match="只有本部门的填报人可以提交此表"):
        evaluation_submit(evaluation=evaluation, user=admin_user)
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.revision) == (Status.DRAFT, 1)
    page = client.get(f"/evaluations/{evaluation.pk}/").content.decode()
    for link in ("/edit/", "/submit/", "copy_from=", "/evaluations/new/", "/evaluations/import/"):
        assert link not in page, link


def test_it_lets_the_superuser_reopen_with_a_reason(admin_user, staff_a, finance, forms):
    evaluation = forms["own"]
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation_approve(evaluation=evaluation, user=finance)
    client = client_for(admin_user)
    assert (
        f"/evaluations/{evaluation.pk}/reopen/"
        in client.get(f"/evaluations/{evaluation.pk}/").content.decode()
    )
    response = client.post(f"/evaluations/{evaluation.pk}/reopen/", {"reason": "更正执行数"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT
    event = EvaluationEvent.objects.filter(evaluation=evaluation).latest("id")
    assert (event.actor, event.reason) == (admin_user, "更正执行数")


def test_it_treats_a_superuser_with_a_finance_membership_as_finance(admin_finance, staff_a, forms):
    evaluation = forms["own"]
    evaluation_submit(evaluation=evaluation, user=staff_a)
    client = client_for(admin_finance)
    assert client.get("/review/").status_code == 200
    assert client.post(f"/review/{evaluation.pk}/approve/", {"confirm": "1"}).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED
