"""Every URL of the application: anonymous users and other departments are refused.

The list of routes is read from the URL configuration, so a new view that is not
classified here makes the first test fail.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from campaigns.models import Campaign
from departments.models import Membership, Role
from evaluations.workflow import evaluation_submit
from tests.conftest import make_user
from tests.evidence.test_evidence import evidence_on
from tests.exports.test_export_pages import finished_job
from tests.factories import make_evaluation
from tests.rechecks.national import national_rule_set

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "healthz", "healthz_worker"}
# The year's campaign (/campaigns/): finance only, 404 to everyone else (admin included);
# the notice file to anyone with a role (tests/campaigns/test_campaign_pages.py).
CAMPAIGN_ROUTES = {
    "campaigns:list",
    "campaigns:new",
    "campaigns:template",
    "campaigns:detail",
    "campaigns:edit",
    "campaigns:set_open",
    "campaigns:notice",
    "campaigns:import",
    "campaigns:import_confirm",
    "campaigns:carry_over",
    "campaigns:extend",
    "campaigns:remind",
}
# Routes about one evaluation: another department's staff get 404 on GET and POST.
EVALUATION_ROUTES = {
    "evaluations:detail",
    "evaluations:edit",
    "evaluations:submit",
    "evaluations:reopen",
    "evaluations:history",
    "evaluations:pdf",
    "evaluations:pdf_status",
    "evaluations:xlsx",
    "review:detail",
    "review:return",
    "review:approve",
    "evaluations:sign_off",
    "evaluations:sign_off_pass",
    "evaluations:sign_off_return",
    # Evidence files (佐证材料, evidence/): the download is the only way to a stored file.
    "evaluations:evidence_upload",
    "evaluations:evidence_download",
    "evaluations:evidence_delete",
}
# Form routes that only take a POST (a GET is 405 before any lookup).
POST_ONLY_ROUTES = {
    "review:return",
    "evaluations:sign_off_pass",
    "evaluations:sign_off_return",
    "evaluations:evidence_upload",
    "evaluations:evidence_delete",
}
# Routes whose content is scoped to the user's department (tested in their own modules).
SCOPED_ROUTES = {
    "home",
    "logout",
    "password_change",
    "password_change_done",
    "evaluations:list",
    "evaluations:new",
    "evaluations:score_preview",
    "evaluations:import",
    "evaluations:import_confirm",
    # The old bulk download URLs: a redirect to the pre-filled export form (/exports/).
    "evaluations:bulk_pdf",
    "evaluations:bulk_zip",
    "evaluations:bulk_xlsx",
    # The user's own exports and the form that starts one (tests/exports/test_export_pages.py).
    "exports:list",
    "review:queue",
    "evaluations:sign_off_queue",
    # 开始填报 of a due project: its department's staff only (tests/campaigns/test_due_forms.py).
    "evaluations:due_start",
    "dashboard:index",
    "dashboard:export",
    # The results for publication (决算公开): finance only (tests/evaluations/core/test_grades.py).
    "dashboard:results",
    "reminders:read",
}


# The bureau's re-check (/rechecks/): finance only, 404 to everyone else, the admin included
# (tests/rechecks/test_rechecks.py). The pages of one re-check are addressed by the form's pk.
RECHECK_ROUTES = {
    "rechecks:list",
    "rechecks:draw",
    "rechecks:report",
    "rechecks:report_xlsx",
    # The re-check rule sets (复核口径), addressed by the national set and its rule 1.
    "rechecks:rule_sets",
    "rechecks:rule_set",
    "rechecks:rule_new",
    "rechecks:rule_edit",
}
SCOPED_ROUTES |= RECHECK_ROUTES
EVALUATION_ROUTES |= {
    "rechecks:pick",
    "rechecks:detail",
    "rechecks:start",
    "rechecks:complete",
    "rechecks:preview",
}
POST_ONLY_ROUTES |= {
    "rechecks:pick",
    "rechecks:start",
    "rechecks:complete",
    "rechecks:preview",
    "rechecks:draw",
}


# One export job (/exports/<pk>/...): its user's only, 404 to everyone else whatever their
# role, finance and the administrator included (tests/exports/test_export_pages.py).
EXPORT_JOB_ROUTES = {
    "exports:detail",
    "exports:status",
    "exports:cancel",
    "exports:retry",
    "exports:download",
}


def routes() -> list[tuple[str, str]]:
    """(route, name) of every non-admin URL pattern."""

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace else (p.name or "")
                yield prefix + str(p.pattern), name

    return [(r, n) for r, n in walk(get_resolver().url_patterns) if not r.startswith("admin/")]


def url_of(
    route: str,
    pk: int,
    file_pk: int = 0,
    job_pk: int = 0,
    person_pk: int = 0,
    department_pk: int = 0,
) -> str:
    # Campaign pages are addressed by year: the 2020 campaign made by the matrix test (not
    # 2021, the forms' year: a campaign would put NOT_IN_DUE_LIST on them).
    if route.startswith("exports/"):
        # An export job's pages are addressed by the job (the matrix test makes one).
        return "/" + route.replace("<id:pk>", str(job_pk or pk))
    return "/" + (
        route.replace("<id:pk>", str(pk))
        .replace("<year:year>", "2020")
        .replace("<id:file_pk>", str(file_pk))
        # The people page's account: department A's filler (the matrix's "owner").
        .replace("<id:person_pk>", str(person_pk))
        .replace("<id:department_pk>", str(department_pk))
        .replace("<id:rule_set_pk>", str(_national_rules()[0]))
        .replace("<id:rule_pk>", str(_national_rules()[1]))
    )


def _national_rules() -> tuple[int, int]:
    """(pk of the national re-check rule set, pk of its rule 1): shipped by a migration."""
    rule = national_rule_set().rules.get(code="1")
    return rule.rule_set_id, rule.pk


def test_it_classifies_every_route():
    names = {name for _, name in routes()}
    assert names == (
        PUBLIC | EVALUATION_ROUTES | SCOPED_ROUTES | CAMPAIGN_ROUTES | EXPORT_JOB_ROUTES
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_sends_anonymous_users_to_login_everywhere(method, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    client = Client()
    for route, name in routes():
        if name in PUBLIC:
            continue
        response = getattr(client, method)(url_of(route, evaluation.pk))
        assert response.status_code == 302, (name, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), name


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_404_to_another_department_on_every_form_route(
    method, dept_a, staff_a, client_b
):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    for route, name in routes():
        if name not in EVALUATION_ROUTES:
            continue
        response = getattr(client_b, method)(url_of(route, evaluation.pk), {"reason": "x"})
        assert response.status_code in (404, 405), (name, response.status_code)
        if method == "get" and name not in POST_ONLY_ROUTES:
            assert response.status_code == 404, name
    evaluation.refresh_from_db()
    assert evaluation.status == "submitted"
    assert evaluation.events.count() == 2  # created, submitted: nothing else happened


# --- the matrix: every route, every role, GET and POST ---------------------------------------
#
# One submitted form of department A (2021). "owner" is department A's staff, "outsider"
# department B's staff, "head" department A's head (部门审核人: reads the department's
# forms and signs them off, writes none), "admin" a superuser without membership: the
# administrator, who reads every department and reopens approved forms, but does not write
# or review (evaluations/permissions.py). Each cell is (GET status, POST status), each on a
# fresh form and a fresh client, so no request depends on another.

ROLES = {
    "owner": "staff_a",
    "outsider": "staff_b",
    "finance": "finance",
    "admin": "admin_user",
    "head": "head_a",
}


def every(get: int, post: int) -> dict[str, tuple[int, int]]:
    return dict.fromkeys(ROLES, (get, post))


def cells(
    owner: tuple[int, int],
    outsider: tuple[int, int],
    finance: tuple[int, int],
    admin: tuple[int, int],
    head: tuple[int, int] | None = None,
) -> dict[str, tuple[int, int] | None]:
    # ``head`` left out is a missing expectation: the completeness test names the route.
    return {"owner": owner, "outsider": outsider, "finance": finance, "admin": admin, "head": head}


EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "home": every(302, 302),
    "login": every(200, 200),
    "healthz": every(200, 405),
    # No worker has been seen in the test database: 503 (tests/exports/test_worker.py).
    "healthz_worker": every(503, 405),
    "logout": every(405, 302),
    "password_change": every(200, 200),
    "password_change_done": every(200, 405),
    "evaluations:list": every(200, 405),
    # Writing forms: staff and finance (an invalid POST re-renders the page); not the admin,
    # not the head (the head checks, the filler writes).
    "evaluations:new": cells((200, 200), (200, 200), (200, 200), (403, 403), (403, 403)),
    # The pk here is no due project of anyone's department: 404 to every POST.
    "evaluations:due_start": cells((405, 404), (405, 404), (405, 404), (405, 404), (405, 404)),
    "evaluations:score_preview": cells((405, 200), (405, 200), (405, 200), (405, 403), (405, 403)),
    "evaluations:import": cells((200, 200), (200, 200), (200, 200), (403, 403), (403, 403)),
    "evaluations:import_confirm": cells((405, 302), (405, 302), (405, 302), (405, 403), (405, 403)),
    # One form: invisible to the outsider; the admin reads it.
    "evaluations:detail": cells((200, 405), (404, 405), (200, 405), (200, 405), (200, 405)),
    "evaluations:history": cells((200, 200), (404, 404), (200, 200), (200, 200), (200, 200)),
    "evaluations:pdf": cells((200, 405), (404, 405), (200, 405), (200, 405), (200, 405)),
    "evaluations:pdf_status": cells((200, 405), (404, 405), (200, 405), (200, 405), (200, 405)),
    "evaluations:xlsx": cells((200, 405), (404, 405), (200, 405), (200, 405), (200, 405)),
    # A submitted form is locked: the editors are sent to the detail page; the admin may not.
    "evaluations:edit": cells((302, 302), (404, 404), (302, 302), (403, 403), (403, 403)),
    # Submitting is the department's: the page does not exist for anyone else. (The
    # owner's POST is a harmless repeat: the form is submitted already.)
    "evaluations:submit": cells((200, 302), (404, 404), (404, 404), (404, 404), (404, 404)),
    # Reopening is the admin's; this form is not approved, so the POST is refused (400).
    "evaluations:reopen": cells((404, 404), (404, 404), (404, 404), (200, 400), (404, 404)),
    # The old bulk downloads of 2021: a redirect to the export form; the outsider's
    # department has none (404).
    "evaluations:bulk_pdf": cells((302, 405), (404, 405), (302, 405), (302, 405), (302, 405)),
    "evaluations:bulk_zip": cells((302, 405), (404, 405), (302, 405), (302, 405), (302, 405)),
    "evaluations:bulk_xlsx": cells((302, 405), (404, 405), (302, 405), (302, 405), (302, 405)),
    # Exports: everyone who may export has the page; the matrix's POST is no valid export
    # (the form comes back with its message). The job is the owner's: 404 to everyone else.
    # It is done: cancelling or retrying it is refused back to its page with a message.
    "exports:list": every(200, 200),
    "exports:detail": cells((200, 405), (404, 405), (404, 405), (404, 405), (404, 405)),
    "exports:status": cells((200, 405), (404, 405), (404, 405), (404, 405), (404, 405)),
    "exports:download": cells((200, 405), (404, 405), (404, 405), (404, 405), (404, 405)),
    "exports:cancel": cells((405, 302), (405, 404), (405, 404), (405, 404), (405, 404)),
    "exports:retry": cells((405, 302), (405, 404), (405, 404), (405, 404), (405, 404)),
    # Finance only; 404 for everyone else, the admin included.
    "review:queue": cells((404, 404), (404, 404), (200, 200), (404, 404), (404, 404)),
    "review:detail": cells((404, 404), (404, 404), (200, 200), (404, 404), (404, 404)),
    "review:return": cells((405, 404), (405, 404), (405, 302), (405, 404), (405, 404)),
    # Approving asks first: GET is the confirmation page; a POST without its confirmation approves
    # nothing and shows the page again (400).
    "review:approve": cells((404, 404), (404, 404), (200, 400), (404, 404), (404, 404)),
    # The department's sign-off: its head only, 404 for everyone else. This form is
    # submitted already (not in 部门审核): the head's page shows no buttons, passing it on is
    # refused back to the page (302 with the message), returning it re-renders (400).
    # The way through 部门审核 is tests/evaluations/workflow/test_sign_off.py.
    "evaluations:sign_off_queue": cells((404, 405), (404, 405), (404, 405), (404, 405), (200, 405)),
    "evaluations:sign_off": cells((404, 405), (404, 405), (404, 405), (404, 405), (200, 405)),
    "evaluations:sign_off_pass": cells((405, 404), (405, 404), (405, 404), (405, 404), (405, 302)),
    "evaluations:sign_off_return": cells(
        (405, 404), (405, 404), (405, 404), (405, 404), (405, 400)
    ),
    "dashboard:index": every(200, 405),
    "dashboard:export": every(200, 405),
    # The results for publication (决算公开): finance only, 404 for everyone else.
    "dashboard:results": cells((404, 405), (404, 405), (200, 405), (404, 405), (404, 405)),
    # One's own reminders only: the pk here is nobody's reminder (tests/campaigns/test_reminders.py).
    "reminders:read": every(405, 404),
    # Evidence of the (submitted, so locked) shared form: read as the form; changing it is
    # refused back to the page (302 with the message) for its editors, 403 to the admin and
    # the head (they change no form), 404 to the outsider.
    "evaluations:evidence_download": cells(
        (200, 405), (404, 405), (200, 405), (200, 405), (200, 405)
    ),
    "evaluations:evidence_upload": cells(
        (405, 302), (405, 404), (405, 302), (405, 403), (405, 403)
    ),
    "evaluations:evidence_delete": cells(
        (405, 302), (405, 404), (405, 302), (405, 403), (405, 403)
    ),
}


def finance_only(others: tuple[int, int], finance: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """A campaign page: ``finance`` for finance, ``others`` for every other role."""
    return {role: finance if role == "finance" else others for role in ROLES}


# The campaign pages, on the 2020 campaign (no notice file: 404 for everyone).
EXPECTED.update(
    {
        "campaigns:list": finance_only((404, 405), (200, 405)),
        # An invalid POST re-renders the form.
        "campaigns:new": finance_only((404, 404), (200, 200)),
        "campaigns:template": finance_only((404, 405), (200, 405)),
        "campaigns:detail": finance_only((404, 405), (200, 405)),
        "campaigns:edit": finance_only((404, 404), (200, 200)),
        "campaigns:set_open": finance_only((405, 404), (405, 400)),
        "campaigns:notice": every(404, 405),
        "campaigns:import": finance_only((404, 404), (200, 200)),
        # No preview to confirm: back to the campaign page with a message.
        "campaigns:import_confirm": finance_only((405, 404), (405, 302)),
        # No approved 2019 forms: nothing to carry over, back to the campaign page.
        "campaigns:carry_over": finance_only((404, 404), (200, 302)),
        "campaigns:extend": finance_only((404, 404), (200, 200)),
        # The matrix's POST names no overdue department: back to the campaign page.
        "campaigns:remind": finance_only((405, 404), (405, 302)),
    }
)
# The re-check pages, on the shared form (submitted, so neither picked nor pickable: its
# re-check pages are 404 even to finance; the way through them is tests/rechecks/test_rechecks.py).
EXPECTED.update(
    {
        "rechecks:list": finance_only((404, 405), (200, 405)),
        # The matrix's POST is no valid draw: back to the list with a message.
        "rechecks:draw": finance_only((405, 404), (405, 302)),
        # Without ?department= there is no report to print.
        "rechecks:report": finance_only((404, 405), (404, 405)),
        "rechecks:report_xlsx": finance_only((404, 405), (200, 405)),
        # Picking a form that is not approved is refused back to the list.
        "rechecks:pick": finance_only((405, 404), (405, 302)),
        "rechecks:detail": finance_only((404, 404), (404, 404)),
        "rechecks:start": finance_only((405, 404), (405, 404)),
        "rechecks:complete": finance_only((405, 404), (405, 404)),
        "rechecks:preview": finance_only((405, 404), (405, 404)),
        # The matrix's POST names no rule set, rule or copy: the form again, refused.
        "rechecks:rule_sets": finance_only((404, 404), (200, 400)),
        "rechecks:rule_set": finance_only((404, 404), (200, 400)),
        "rechecks:rule_new": finance_only((404, 404), (200, 400)),
        "rechecks:rule_edit": finance_only((404, 404), (200, 400)),
    }
)
# Undelivered mail (/mail/): finance and the administrator, 404 to everyone else. The pk
# is no mail: sending it again is 404 even to them (tests/evaluations/test_mail.py goes through).
MAIL_ROUTES = {"mail:list", "mail:resend"}
SCOPED_ROUTES |= MAIL_ROUTES
EXPECTED.update(
    {
        "mail:list": cells((404, 405), (404, 405), (200, 405), (200, 405), (404, 405)),
        "mail:resend": every(405, 404),
    }
)
# The accounts workbook (/people/import/): the administrator only, 404 to everyone else,
# finance included (tests/departments/test_accounts_pages.py goes through it). The matrix's POSTs are no
# valid upload (the page again), no preview to confirm and no passwords to download (back
# to the page with a message).
ACCOUNTS_IMPORT_ROUTES = {
    "accounts_import:upload",
    "accounts_import:template",
    "accounts_import:confirm",
    "accounts_import:passwords",
}
SCOPED_ROUTES |= ACCOUNTS_IMPORT_ROUTES

# The people page (/people/): the administrator only, 404 to everyone else; the departments'
# fillers and heads are read by finance too (tests/departments/test_people.py goes through them). The
# matrix's POSTs are no valid person (the form comes back), no activation (400); resetting
# the owner's password is done (the page shows the one-time password).
PEOPLE_ROUTES = {
    "people:list",
    "people:new",
    "people:detail",
    "people:set_active",
    "people:password_reset",
    "people:departments",
    "people:department",
}
SCOPED_ROUTES |= PEOPLE_ROUTES


def admin_only(others: tuple[int, int], admin: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """An administrator's page: ``admin`` for the administrator, ``others`` for every other role."""
    return {role: admin if role == "admin" else others for role in ROLES}


EXPECTED.update(
    {
        "accounts_import:upload": admin_only((404, 404), (200, 200)),
        "accounts_import:template": admin_only((404, 405), (200, 405)),
        "accounts_import:confirm": admin_only((405, 404), (405, 302)),
        "accounts_import:passwords": admin_only((405, 404), (405, 302)),
        "people:list": admin_only((404, 405), (200, 405)),
        "people:new": admin_only((404, 404), (200, 200)),
        "people:detail": admin_only((404, 404), (200, 200)),
        "people:set_active": admin_only((405, 404), (405, 400)),
        "people:password_reset": admin_only((405, 404), (405, 200)),
        "people:departments": cells((404, 405), (404, 405), (200, 405), (200, 405), (404, 405)),
        # Renaming a department: the matrix's POST names none (the form comes back).
        "people:department": admin_only((404, 404), (200, 200)),
    }
)
# Query strings some routes need to answer at all.
PARAMS = {name: {"year": "2021"} for name in EXPECTED if name.startswith("evaluations:bulk_")}


def test_it_has_an_expectation_for_every_route_and_role():
    assert set(EXPECTED) == {name for _, name in routes()}
    assert all(set(by_role) == set(ROLES) for by_role in EXPECTED.values())
    missing = [name for name, by_role in EXPECTED.items() if None in by_role.values()]
    assert missing == []


# POSTs that may change a form get a fresh one; every other request shares one form.
CHANGING = {
    "evaluations:edit",
    "evaluations:submit",
    "evaluations:reopen",
    "review:return",
    "review:approve",
    "evaluations:sign_off_pass",
    "evaluations:sign_off_return",
}


@pytest.mark.parametrize("role", list(ROLES))
def test_it_answers_each_role_as_the_matrix_says(
    role, request, dept_a, staff_a, staff_b, settings, tmp_path
):
    user = request.getfixturevalue(ROLES[role])
    Campaign.objects.get_or_create(
        year=2020, defaults={"title": "2020年度自评", "deadline": datetime.date(2021, 3, 31)}
    )
    shared = make_evaluation(dept_a, staff_a, project_name="共用的表")
    evaluation_submit(evaluation=shared, user=staff_a)
    settings.MEDIA_ROOT = tmp_path
    evidence = evidence_on(shared, staff_a)
    job = finished_job(staff_a)
    failures = []
    for route, name in routes():
        for method, expected in zip(("get", "post"), EXPECTED[name][role], strict=True):
            evaluation = shared
            if method == "post" and name in CHANGING:
                evaluation = make_evaluation(dept_a, staff_a, project_name=name)
                evaluation_submit(evaluation=evaluation, user=staff_a)
            client = Client()
            client.force_login(user)
            data = PARAMS.get(name, {}) if method == "get" else {"reason": "矩阵测试"}
            url = url_of(route, evaluation.pk, evidence.pk, job.pk, staff_a.pk, dept_a.pk)
            response = getattr(client, method)(url, data)
            if response.status_code != expected:
                failures.append((name, method, expected, response.status_code))
    assert failures == []
    assert shared.evidence.count() == 1  # the refused deletes removed nothing
    dept_a.refresh_from_db()
    assert dept_a.name == "昌吉回族自治州住房和城乡建设局"  # nobody renamed it
    job.refresh_from_db()
    assert (job.state, job.attempt) == ("done", 1)  # nobody cancelled or retried it


# --- 限填实施单位: an account limited to one implementing unit of its department -------------
#
# A filler or head limited to one 实施单位 (Membership.implementing_unit) is, for the forms of
# the department's other units, an outsider: every route that takes such a form answers as it
# does to another department's staff ("outsider"), and nothing changes. Their own unit's forms
# answer as to the department's unlimited filler ("owner") or head ("head"). The limit is
# compared as the unit's name is everywhere: NFKC, without any whitespace.

OWN_UNIT = "实施单位甲"  # the factory's forms (tests/factories.py)
OTHER_UNIT = "实施单位乙"
LIMITED = {"staff": ("owner", Role.STAFF), "head": ("head", Role.HEAD)}


def unit_limited(role: str, department, unit: str):
    """A ``role`` (staff or head) of ``department`` limited to ``unit``."""
    user = make_user(f"limited_{role}", LIMITED[role][1], department)
    Membership.objects.filter(user=user).update(implementing_unit=unit)
    return user


def unit_form(department, author, unit: str, name: str):
    """A submitted form of ``department`` whose 实施单位 is ``unit``."""
    evaluation = make_evaluation(department, author, project_name=name, implementing_unit=unit)
    evaluation_submit(evaluation=evaluation, user=author)
    return evaluation


@pytest.mark.parametrize("role", list(LIMITED))
def test_a_unit_limited_user_is_an_outsider_to_the_other_units_forms(
    role, dept_a, staff_a, head_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    user = unit_limited(role, dept_a, OWN_UNIT)
    other = unit_form(dept_a, staff_a, OTHER_UNIT, "乙单位的表")
    evidence = evidence_on(other, staff_a)
    failures = []
    for route, name in routes():
        if name not in EVALUATION_ROUTES:
            continue
        for method, expected in zip(("get", "post"), EXPECTED[name]["outsider"], strict=True):
            client = Client()
            client.force_login(user)
            data = {"reason": "矩阵测试"} if method == "post" else {}
            response = getattr(client, method)(url_of(route, other.pk, evidence.pk), data)
            if response.status_code != expected:
                failures.append((name, method, expected, response.status_code))
    assert failures == []
    other.refresh_from_db()
    assert other.status == "submitted"
    assert other.events.count() == 2  # created, submitted: nothing else happened
    assert other.evidence.count() == 1


@pytest.mark.parametrize("role", list(LIMITED))
def test_a_unit_limited_user_keeps_every_route_of_their_own_units_forms(
    role, dept_a, staff_a, head_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    # Written with other spaces than the forms' "实施单位甲": the same unit.
    user = unit_limited(role, dept_a, " 实施单位　甲 ")
    shared = unit_form(dept_a, staff_a, OWN_UNIT, "甲单位的表")
    evidence = evidence_on(shared, staff_a)
    column = LIMITED[role][0]
    failures = []
    for route, name in routes():
        if name not in EVALUATION_ROUTES:
            continue
        for method, expected in zip(("get", "post"), EXPECTED[name][column], strict=True):
            evaluation = shared
            if method == "post" and name in CHANGING:
                evaluation = unit_form(dept_a, staff_a, OWN_UNIT, name)
            client = Client()
            client.force_login(user)
            data = {"reason": "矩阵测试"} if method == "post" else {}
            response = getattr(client, method)(url_of(route, evaluation.pk, evidence.pk), data)
            if response.status_code != expected:
                failures.append((name, method, expected, response.status_code))
    assert failures == []
