"""The department's own sign-off (部门审核), through the pages: filler → head → bureau.

With a campaign that requires it, the filler's submission goes to the department's head
(部门审核人), who returns it with a reason and row comments exactly as the bureau can, or
passes it on; without one nothing changes. See evaluations/workflow.py.
"""

from __future__ import annotations

import re

import pytest

from departments.names import display_name
from evaluations.models import (
    EvaluationEvent,
    EventAction,
    Notification,
    ReviewComment,
    Status,
)
from evaluations.services import evaluation_write
from evaluations.workflow import evaluation_return, evaluation_submit
from tests.conftest import client_for
from tests.evaluations.workflow.test_transitions import due_evaluation, require_sign_off
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(db):
    return require_sign_off(2021)


@pytest.fixture
def evaluation(campaign, dept_a, staff_a):
    """A clean 2021 form of department A, on the due list of a campaign with sign-off."""
    return due_evaluation(dept_a, staff_a)


def unread(user, evaluation) -> list[str]:
    """The actions of the user's unread notifications about ``evaluation``, oldest first."""
    return list(
        Notification.objects.filter(user=user, evaluation=evaluation, read_at=None)
        .order_by("id")
        .values_list("event__action", flat=True)
    )


def test_it_runs_the_department_sign_off_from_submission_to_approval(
    evaluation, staff_a, head_a, finance
):
    filler, head, bureau = client_for(staff_a), client_for(head_a), client_for(finance)
    pk = evaluation.pk

    # 1. The filler submits: the page says where it goes; the form waits for the head.
    page = filler.get(f"/evaluations/{pk}/submit/").content.decode()
    assert "提交部门审核" in page and "提交财政局审核" not in page
    response = filler.post(f"/evaluations/{pk}/submit/", follow=True)
    assert "已提交本部门审核人审核" in response.content.decode()
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.submitted_at) == (Status.DEPARTMENT_REVIEW, None)
    assert unread(head_a, evaluation) == [EventAction.SENT_FOR_SIGN_OFF]
    assert unread(finance, evaluation) == []
    # Locked for the filler while the head checks; not yet the bureau's.
    assert filler.get(f"/evaluations/{pk}/edit/").status_code == 302
    detail = filler.get(f"/evaluations/{pk}/").content.decode()
    assert f"/evaluations/{pk}/edit/" not in detail
    assert 'status-department_review">部门审核<' in detail
    assert evaluation.project_name not in bureau.get("/review/").content.decode()
    bureau.post(f"/review/{pk}/approve/", {"confirm": "1"})
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW

    # 2. The head finds it in their messages, their list and on the detail page, and opens
    # the review page.
    messages = head.get("/evaluations/").content.decode()
    assert f'href="/evaluations/{pk}/sign-off/"' in messages
    listing = head.get("/evaluations/sign-off/").content.decode()
    assert evaluation.project_name in listing and f"/evaluations/{pk}/sign-off/" in listing
    assert f"/evaluations/{pk}/sign-off/" in head.get(f"/evaluations/{pk}/").content.decode()
    page = head.get(f"/evaluations/{pk}/sign-off/").content.decode()
    assert f'action="/evaluations/{pk}/sign-off/return/"' in page
    assert f'action="/evaluations/{pk}/sign-off/pass/"' in page
    assert "退回填报人修改" in page and "审核通过，报送财政局" in page
    assert 'name="comment-indicator-2"' in page  # a comment field per row, as the bureau's
    assert unread(head_a, evaluation) == []  # opening the page reads the notification

    # 3. The head returns it with a reason and a row comment.
    response = head.post(
        f"/evaluations/{pk}/sign-off/return/",
        {"reason": "请核实检查次数", "comment-indicator-2": "次数与台账不符"},
    )
    assert response.status_code == 302 and response["Location"] == "/evaluations/sign-off/"
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED
    returned = evaluation.events.latest("id")
    assert (returned.action, returned.actor, returned.reason) == (
        EventAction.DEPARTMENT_RETURNED,
        head_a,
        "请核实检查次数",
    )
    comment = ReviewComment.objects.get(event=returned)
    assert (comment.position, comment.label, comment.text) == (2, "监督检查次数", "次数与台账不符")
    assert unread(staff_a, evaluation) == [EventAction.DEPARTMENT_RETURNED]
    assert unread(finance, evaluation) == []

    # 4. The filler reads the reason and the row comment as from the bureau, and fixes it.
    edit = filler.get(f"/evaluations/{pk}/edit/").content.decode()
    assert "部门审核人退回意见" in edit and "请核实检查次数" in edit
    assert "次数与台账不符" in edit
    detail = filler.get(f"/evaluations/{pk}/").content.decode()
    assert "部门审核人退回意见" in detail and "财政局退回意见" not in detail
    data = evaluation.as_form_data()
    data.indicators[1].actual = "10次"
    evaluation_write(
        evaluation=evaluation, data=data, user=staff_a, expected_revision=evaluation.revision
    )
    assert filler.post(f"/evaluations/{pk}/submit/").status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW

    # 5. The head sees what changed since the return and passes it on.
    page = head.get(f"/evaluations/{pk}/sign-off/").content.decode()
    assert "退回以来的修改" in page and "次数与台账不符" in page and "10次" in page
    response = head.post(f"/evaluations/{pk}/sign-off/pass/")
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED and evaluation.submitted_at is not None
    assert unread(finance, evaluation) == [EventAction.SIGNED_OFF]
    assert f'href="/review/{pk}/"' in bureau.get("/evaluations/").content.decode()
    assert f"/evaluations/{pk}/sign-off/" not in head.get("/evaluations/sign-off/").content.decode()

    # 6. The bureau reviews it as any submitted form and approves.
    assert evaluation.project_name in bureau.get("/review/").content.decode()
    assert bureau.post(f"/review/{pk}/approve/", {"confirm": "1"}).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.APPROVED

    # 7. The history shows each step, newest first, with the new actions' names.
    history = filler.get(f"/evaluations/{pk}/history/").content.decode()
    actions = list(
        evaluation.events.order_by("-created_at", "-id").values_list("action", flat=True)
    )
    assert actions == [
        EventAction.APPROVED,
        EventAction.SIGNED_OFF,
        EventAction.SENT_FOR_SIGN_OFF,
        EventAction.EDITED,
        EventAction.DEPARTMENT_RETURNED,
        EventAction.SENT_FOR_SIGN_OFF,
        EventAction.CREATED,
    ]
    positions = [history.index(f'data-action="{a}"') for a in dict.fromkeys(actions)]
    assert positions == sorted(positions)
    for label in (
        "提交部门审核",
        "部门审核通过",
        "部门退回",
        "草稿 → 部门审核",
        "部门审核 → 已提交",
    ):
        assert label in history, label
    assert "次数与台账不符" in history  # the head's row comment, under its return


@pytest.mark.parametrize("campaign_year", [None, 2021])
def test_it_changes_nothing_without_a_sign_off(campaign_year, dept_a, staff_a, head_a, finance):
    if campaign_year:
        require_sign_off(campaign_year, required=False)
        evaluation = due_evaluation(dept_a, staff_a)
    else:
        evaluation = make_evaluation(dept_a, staff_a)
    filler, head = client_for(staff_a), client_for(head_a)
    page = filler.get(f"/evaluations/{evaluation.pk}/submit/").content.decode()
    assert "提交财政局审核" in page and "提交部门审核" not in page
    response = filler.post(f"/evaluations/{evaluation.pk}/submit/", follow=True)
    assert "已提交财政局审核" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED and evaluation.submitted_at is not None
    assert evaluation.events.latest("id").action == EventAction.SUBMITTED
    assert unread(finance, evaluation) == [EventAction.SUBMITTED]
    assert unread(head_a, evaluation) == []
    # The head has nothing to sign off, and cannot push the form anywhere.
    assert (
        f"/evaluations/{evaluation.pk}/sign-off/"
        not in head.get("/evaluations/sign-off/").content.decode()
    )
    head.post(f"/evaluations/{evaluation.pk}/sign-off/pass/")
    head.post(f"/evaluations/{evaluation.pk}/sign-off/return/", {"reason": "x"})
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    assert evaluation.events.count() == 2


def test_it_keeps_the_sign_off_inside_the_department(
    evaluation, staff_a, staff_b, head_a, head_b, finance
):
    assert evaluation_submit(evaluation=evaluation, user=staff_a)
    pk = evaluation.pk
    # Another department's head, the filler and the bureau: the pages do not exist for them.
    for user in (head_b, staff_a, staff_b, finance):
        client = client_for(user)
        assert client.get(f"/evaluations/{pk}/sign-off/").status_code == 404, user
        assert client.post(f"/evaluations/{pk}/sign-off/pass/").status_code == 404, user
        response = client.post(f"/evaluations/{pk}/sign-off/return/", {"reason": "x"})
        assert response.status_code == 404, user
    assert client_for(head_b).get(f"/evaluations/{pk}/").status_code == 404
    listing = client_for(head_b).get("/evaluations/sign-off/").content.decode()
    assert evaluation.project_name not in listing
    for user in (staff_a, finance):
        assert client_for(user).get("/evaluations/sign-off/").status_code == 404
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.events.count()) == (Status.DEPARTMENT_REVIEW, 2)


def test_it_refuses_a_department_return_without_reason_and_keeps_the_comments(
    evaluation, staff_a, head_a
):
    evaluation_submit(evaluation=evaluation, user=staff_a)
    response = client_for(head_a).post(
        f"/evaluations/{evaluation.pk}/sign-off/return/",
        {"reason": " ", "comment-indicator-3": "请附检测报告"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "退回时必须填写退回原因" in body and "请附检测报告" in body
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW


def test_it_lets_the_head_read_but_not_write(evaluation, staff_a, head_a):
    head = client_for(head_a)
    pk = evaluation.pk
    for suffix in ("", "history/", "pdf/", "xlsx/"):
        assert head.get(f"/evaluations/{pk}/{suffix}").status_code == 200, suffix
    assert evaluation.project_name in head.get("/evaluations/").content.decode()
    assert head.get("/dashboard/").status_code == 200
    for url in (f"/evaluations/{pk}/edit/", "/evaluations/new/"):
        response = head.get(url)
        assert response.status_code == 403, url
        assert "部门审核人只能查看和审核本部门的自评表" in response.content.decode(), url
    assert head.get(f"/evaluations/{pk}/submit/").status_code == 404
    detail = head.get(f"/evaluations/{pk}/").content.decode()
    assert f"/evaluations/{pk}/edit/" not in detail and f"/evaluations/{pk}/submit/" not in detail
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DRAFT


def test_it_shows_the_head_the_sign_off_link_in_the_navigation(staff_a, head_a, finance, db):
    assert (
        'href="/evaluations/sign-off/"' in client_for(head_a).get("/evaluations/").content.decode()
    )
    for user in (staff_a, finance):
        assert (
            'href="/evaluations/sign-off/"'
            not in client_for(user).get("/evaluations/").content.decode()
        )


def test_it_tells_the_head_of_the_bureaus_return_and_sends_the_fix_back_through_them(
    evaluation, staff_a, head_a, finance
):
    evaluation_submit(evaluation=evaluation, user=staff_a)
    client_for(head_a).post(f"/evaluations/{evaluation.pk}/sign-off/pass/")
    evaluation_return(
        evaluation=evaluation,
        user=finance,
        reason="佐证材料不全",
        comments=[{"target": "indicator", "position": 1, "text": "缺验收报告"}],
    )
    assert unread(head_a, evaluation)[-1] == EventAction.RETURNED
    assert unread(staff_a, evaluation) == [EventAction.RETURNED]
    # The head sees the bureau's return on the form; the filler's fix goes through them again.
    detail = client_for(head_a).get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert "财政局退回意见" in detail and "佐证材料不全" in detail
    assert evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW
    changes = client_for(head_a).get(f"/evaluations/{evaluation.pk}/sign-off/").content.decode()
    assert "退回以来的修改" in changes and "佐证材料不全" in changes
    assert list(
        EvaluationEvent.objects.filter(evaluation=evaluation)
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        EventAction.CREATED,
        EventAction.SENT_FOR_SIGN_OFF,
        EventAction.SIGNED_OFF,
        EventAction.RETURNED,
        EventAction.SENT_FOR_SIGN_OFF,
    ]


def _queue_badge(client, evaluation) -> bool:
    """True when the bureau's queue marks ``evaluation`` 退回后重新提交."""
    html = client.get("/review/").content.decode()
    row = re.search(rf'<tr data-evaluation="{evaluation.pk}">(.*?)</tr>', html, re.S)
    assert row is not None, "not in the queue"
    return "退回后重新提交" in row.group(1)


def _changes_heading(page: str) -> str:
    """The heading of the review page's "changes since the return" section ("" if none)."""
    found = re.search(r'id="changes">\s*<div class="card-header">(.*?)</div>', page, re.S)
    return found.group(1) if found else ""


def test_the_bureau_sees_a_resubmission_only_after_its_own_return(
    evaluation, staff_a, head_a, finance
):
    filler, head, bureau = client_for(staff_a), client_for(head_a), client_for(finance)
    pk = evaluation.pk
    # The head returns it; the filler fixes it and submits; the head passes it on.
    evaluation_submit(evaluation=evaluation, user=staff_a)
    head.post(f"/evaluations/{pk}/sign-off/return/", {"reason": "请核实检查次数"})
    data = evaluation.as_form_data()
    data.indicators[1].actual = "10次"
    evaluation.refresh_from_db()
    evaluation_write(
        evaluation=evaluation, data=data, user=staff_a, expected_revision=evaluation.revision
    )
    filler.post(f"/evaluations/{pk}/submit/")
    # The head's page names the head's return.
    heading = _changes_heading(head.get(f"/evaluations/{pk}/sign-off/").content.decode())
    assert f"部门审核人 {display_name(head_a)} 退回以来的修改" in heading
    head.post(f"/evaluations/{pk}/sign-off/pass/")
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    # To the bureau this is a first submission: no badge, no changes since a return of its own.
    assert not _queue_badge(bureau, evaluation)
    assert _changes_heading(bureau.get(f"/review/{pk}/").content.decode()) == ""
    assert (
        bureau.get("/review/?resubmitted=true").content.decode().count(f'data-evaluation="{pk}"')
        == 0
    )

    # The bureau returns it; it comes back through the head: now it is a resubmission.
    bureau.post(f"/review/{pk}/return/", {"reason": "佐证材料不全"})
    data = evaluation.as_form_data()
    data.indicators[1].deviation = "已补充验收报告"
    evaluation.refresh_from_db()
    evaluation_write(
        evaluation=evaluation, data=data, user=staff_a, expected_revision=evaluation.revision
    )
    filler.post(f"/evaluations/{pk}/submit/")
    heading = _changes_heading(head.get(f"/evaluations/{pk}/sign-off/").content.decode())
    assert f"财政局 {display_name(finance)} 退回以来的修改" in heading
    head.post(f"/evaluations/{pk}/sign-off/pass/")
    assert _queue_badge(bureau, evaluation)
    page = bureau.get(f"/review/{pk}/").content.decode()
    assert f"财政局 {display_name(finance)} 退回以来的修改" in _changes_heading(page)
    # Since the bureau's return: the deviation, not the head's earlier change of the actual.
    assert "已补充验收报告" in page and "佐证材料不全" in page
    changes = page[
        page.index('id="changes"') : page.index("</section>", page.index('id="changes"'))
    ]
    assert "10次" not in changes
