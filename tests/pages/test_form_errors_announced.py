"""Form errors are announced and linked to their fields, page by page.

A refused POST on every form outside the entry page comes back with a summary a screen
reader announces at once (role="alert"); each field in error says so (aria-invalid) and
names its message (aria-describedby → an element with the message's text); each link of the
summary leads to its field. The entry page (evaluations/form.html) is checked by its own
tests.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from campaigns.models import Campaign
from evaluations.core.limits import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH
from evaluations.services import evaluation_score
from evaluations.workflow import evaluation_approve, evaluation_submit, warning_key
from rechecks.services import START, recheck_pick, recheck_transition_run
from tests.conftest import client_for
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr", "area", "base"}


class Page(HTMLParser):
    """Every element's attributes and text, by id; the alerts; the fields marked invalid."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.alerts: list[dict] = []
        self.invalid: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": "", "links": []}
        if element["attrs"].get("id"):
            self.by_id[element["attrs"]["id"]] = element
        if element["attrs"].get("role") == "alert":
            self.alerts.append(element)
        if element["attrs"].get("aria-invalid") == "true":
            self.invalid.append(element)
        if tag == "a":
            for parent in self.open:
                parent["links"].append(element["attrs"].get("href", ""))
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index]["tag"] == tag:
                del self.open[index:]
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element["text"] += data


def check_errors(
    response, *, messages: list[str], fields: list[str], linked: list[str] | None = None
) -> Page:
    """The refusal is announced, names ``messages``, and marks exactly ``fields``; the summary
    links to ``linked`` (default: ``fields``)."""
    assert response.status_code in (200, 400), response.status_code
    page = Page(response.content.decode())
    announced = " ".join(a["text"] for a in page.alerts)
    for message in messages:
        assert message in announced, (message, announced)
    invalid = sorted(e["attrs"]["id"] for e in page.invalid)
    assert invalid == sorted(fields), invalid
    for element in page.invalid:
        described = element["attrs"].get("aria-describedby", "").split()
        assert any(d.endswith("_error") or d == "export-error" for d in described), element
        for target in described:
            assert target in page.by_id, (element["attrs"]["id"], target)
            assert page.by_id[target]["text"].strip(), target
    summary = page.by_id.get("form-error-summary")
    if summary is not None:
        links = [href for href in summary["links"] if href.startswith("#")]
        assert sorted({href[1:] for href in links}) == sorted(linked or fields), links
    return page


@pytest.fixture
def approved(dept_a, staff_a, finance):
    evaluation = make_evaluation(dept_a, staff_a, project_name="已通过项目")
    assert evaluation_submit(evaluation=evaluation, user=staff_a, acknowledgements={})
    assert evaluation_approve(evaluation=evaluation, user=finance)
    return evaluation


@pytest.fixture
def submitted(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a, project_name="待审核项目")
    assert evaluation_submit(evaluation=evaluation, user=staff_a, acknowledgements={})
    return evaluation


def test_it_announces_a_wrong_password_at_sign_in(staff_a):
    response = Client().post(
        "/accounts/login/", {"username": staff_a.username, "password": "wrong-password"}
    )
    page = check_errors(response, messages=["密码"], fields=[])
    assert len(page.alerts) == 1


def test_it_links_the_password_change_errors(staff_a):
    response = client_for(staff_a).post(
        "/accounts/password_change/",
        {"old_password": "not-it", "new_password1": "Longer-pass-1", "new_password2": "other"},
    )
    check_errors(
        response,
        messages=["旧密码", "新密码确认", "两个密码不一致"],
        fields=["id_old_password", "id_new_password2"],
    )


def test_it_links_a_return_without_reason(submitted, finance):
    response = client_for(finance).post(
        f"/review/{submitted.pk}/return/",
        {"reason": "  ", "comment-indicator-2": "x" * (COMMENT_MAX_LENGTH + 1)},
    )
    assert response.status_code == 400
    # The row's box on the phone card (a twin of the grid's) is marked and described too.
    check_errors(
        response,
        messages=["未退回", "退回时必须填写退回原因。", "第2行意见"],
        fields=["id_reason", "id_comment-indicator-2", "phone-id_comment-indicator-2"],
        linked=["id_reason", "id_comment-indicator-2"],
    )


def test_it_links_an_approval_comment_too_long(submitted, finance):
    response = client_for(finance).post(
        f"/review/{submitted.pk}/approve/",
        {"confirm": "1", "reason": "x" * (REASON_MAX_LENGTH + 1)},
    )
    check_errors(response, messages=["审核意见"], fields=["id_reason"])
    # Without the confirmation (no field of its own to link to) the refusal is still announced.
    response = client_for(finance).post(f"/review/{submitted.pk}/approve/", {"reason": "好"})
    check_errors(response, messages=["请在确认页面上确认审核通过。"], fields=[])


def test_it_links_an_explanation_too_long_at_submission(dept_a, staff_a):
    data = clean_form_data()
    data.indicators[1].actual = "20次"  # a warning on row 2
    evaluation = make_evaluation(dept_a, staff_a, indicators=data.indicators)
    key = warning_key(evaluation_score(evaluation=evaluation).warnings[0])
    response = client_for(staff_a).post(
        f"/evaluations/{evaluation.pk}/submit/",
        {f"ack-{key}": "1", f"comment-{key}": "x" * (COMMENT_MAX_LENGTH + 1)},
    )
    page = check_errors(response, messages=["未提交", "最多 1000 字"], fields=[f"id_comment-{key}"])
    box = page.by_id[f"id_comment-{key}"]
    # The box is also described by the warning it explains, and has a label of its own.
    assert "warning-1" in box["attrs"]["aria-describedby"].split()
    assert "实际完成值" in page.by_id["warning-1"]["text"]


def test_it_links_a_reopen_without_reason(approved, admin_user):
    response = client_for(admin_user).post(f"/evaluations/{approved.pk}/reopen/", {"reason": ""})
    check_errors(response, messages=["重新开放时必须填写原因。"], fields=["id_reason"])


def test_it_links_a_recheck_score_that_is_not_a_number(approved, finance):
    recheck, _ = recheck_pick(evaluation=approved, user=finance)
    assert recheck_transition_run(START, recheck=recheck, user=finance)
    key = recheck.rows.order_by("pk").first().key
    response = client_for(finance).post(f"/rechecks/{approved.pk}/", {f"score_{key}": "十分"})
    assert response.status_code == 400
    check_errors(response, messages=["得分"], fields=[f"id_score_{key}"])


def test_it_links_the_campaign_form_errors(finance):
    response = client_for(finance).post("/campaigns/new/", {"year": "", "title": ""})
    check_errors(
        response, messages=["年度", "任务名称"], fields=["id_year", "id_title", "id_deadline"]
    )


def test_it_links_a_deadline_extension_without_reason(finance, dept_a):
    Campaign.objects.create(
        year=2021, title="2021年度自评", deadline="2022-03-31", requires_sign_off=False
    )
    response = client_for(finance).post(
        "/campaigns/2021/extend/", {"department": dept_a.pk, "deadline": "2099-04-30"}
    )
    check_errors(response, messages=["原因"], fields=["id_reason"])


def test_it_links_an_upload_without_a_file(staff_a, finance):
    Campaign.objects.create(
        year=2021, title="2021年度自评", deadline="2022-03-31", requires_sign_off=False
    )
    response = client_for(staff_a).post("/evaluations/import/", {})
    check_errors(response, messages=["请选择至少一个文件。"], fields=["id_files"])
    response = client_for(finance).post("/campaigns/2021/import/", {"file": ""})
    check_errors(response, messages=["文件"], fields=["id_file"])


def test_it_links_an_export_of_a_year_that_is_not_one(staff_a):
    response = client_for(staff_a).post("/exports/", {"year": "20x1", "format": "pdf"})
    check_errors(response, messages=["年度"], fields=["id_year"])


def test_the_checker_finds_an_unlinked_field():
    """check_errors fails on a field marked invalid whose message has no element."""

    class Response:
        status_code = 400
        content = (
            '<div role="alert">错误</div><input id="id_x" aria-invalid="true" '
            'aria-describedby="id_x_error">'
        ).encode()

    with pytest.raises(AssertionError):
        check_errors(Response(), messages=["错误"], fields=["id_x"])


def test_it_links_the_person_form_errors(admin_user, staff_a):
    data = {"name": "", "username": "alice", "role": "staff", "phone": "电话"}
    response = client_for(admin_user).post("/people/new/", data)
    check_errors(
        response,
        messages=["姓名", "用户名", "所属部门", "联系电话"],
        fields=["id_name", "id_username", "id_department", "id_phone"],
    )


def test_it_links_the_department_form_errors(admin_user, dept_a):
    response = client_for(admin_user).post(f"/people/departments/{dept_a.pk}/", {"name": ""})
    check_errors(response, messages=["部门名称"], fields=["id_name"])
