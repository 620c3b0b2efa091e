"""Review as clerks meet it: explanations, row comments, the approval's confirmation.

A refused return keeps everything the reviewer typed; the department's explanations of
warnings reach the reviewer and carry over to the next submission while the warning is
unchanged; the last return's row comments show on the read-only page; approving asks for
confirmation and takes an optional comment the department reads.
"""

from __future__ import annotations

import html
import re

import pytest

from evaluations.models import EvaluationEvent, EventAction, OutgoingMail, Status
from evaluations.services import evaluation_write
from evaluations.workflow import evaluation_approve, evaluation_return, evaluation_submit
from tests.conftest import client_for
from tests.evaluations.workflow.test_transitions import due_evaluation, require_sign_off
from tests.evidence.test_evidence import evidence_on
from tests.factories import clean_form_data, make_evaluation

pytestmark = pytest.mark.django_db

OVER = "OVER_ACHIEVEMENT:1"  # the warning of row 2 (index 1) when its actual is far above


def textarea(body: str, name: str) -> str:
    """The text of the textarea named ``name`` as the browser shows it."""
    match = re.search(rf'<textarea[^>]* name="{re.escape(name)}"[^>]*>(.*?)</textarea>', body, re.S)
    assert match, f"no textarea {name}"
    # Django's Textarea starts its content with a newline the browser drops.
    return html.unescape(match.group(1).removeprefix("\n"))


def checkbox_checked(body: str, name: str) -> bool:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', body)
    assert match, f"no checkbox {name}"
    return " checked" in match.group(0)


def table_row(body: str, row_id: str) -> str:
    """The HTML of the official table's row ``row_id`` (e.g. indicator-2)."""
    match = re.search(rf'<tr[^>]*id="{re.escape(row_id)}"[^>]*>.*?</tr>', body, re.S)
    assert match, f"no row {row_id}"
    return match.group(0)


def funding_row(body: str, kind: str) -> str:
    match = re.search(rf'<tr[^>]*data-funding="{re.escape(kind)}"[^>]*>.*?</tr>', body, re.S)
    assert match, f"no funding row {kind}"
    return match.group(0)


def finding_item(body: str, code: str) -> str:
    """The review page's entry for the finding ``code`` in the list of findings."""
    match = re.search(rf'<li class="list-group-item[^"]*" data-code="{code}">.*?</li>', body, re.S)
    assert match, f"no finding {code}"
    return match.group(0)


@pytest.fixture
def submitted(dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    evaluation.refresh_from_db()
    return evaluation


def over_achieving(dept_a, staff_a):
    """A draft whose row 2 is far above its target: one OVER_ACHIEVEMENT warning."""
    data = clean_form_data()
    data.indicators[1].actual = "20次"
    return make_evaluation(dept_a, staff_a, indicators=data.indicators)


# --- 7. a refused return keeps everything typed ------------------------------------------


def test_it_keeps_every_comment_when_a_return_lacks_its_reason(client_finance, dept_a, staff_a):
    evaluation = make_evaluation(dept_a, staff_a)
    file = evidence_on(evaluation, staff_a)
    evaluation_submit(evaluation=evaluation, user=staff_a)
    typed = {
        "reason": "   ",
        "comment-indicator-2": "次数与台账不符，请核实",
        "comment-indicator-8": "满意度调查\n请附问卷",
        "comment-funding-total": "执行数与决算不一致",
        "comment-funding-carryover": "上年结转为零？",
        f"comment-evidence-{file.pk}": "合同缺少盖章页",
    }
    response = client_finance.post(f"/review/{evaluation.pk}/return/", typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert "退回时必须填写退回原因" in body
    for name, text in typed.items():
        assert textarea(body, name) == text, name
    # The untouched rows stay empty, and the reason's message is tied to its field.
    assert textarea(body, "comment-indicator-1") == ""
    assert 'id="id_reason_error"' in body
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    assert not evaluation.events.filter(action=EventAction.RETURNED).exists()


def test_it_keeps_the_reason_and_comments_when_a_comment_is_too_long(client_finance, submitted):
    typed = {
        "reason": "请补充成本测算",
        "comment-indicator-3": "达" * 1001,
        "comment-indicator-5": "测算依据不足",
    }
    response = client_finance.post(f"/review/{submitted.pk}/return/", typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert "最多 1000 字" in body
    for name, text in typed.items():
        assert textarea(body, name) == text, name
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_shows_what_was_typed_when_the_form_moved_on_meanwhile(
    client_finance, submitted, finance
):
    # Another reviewer approved it first: this return is refused, the texts are still shown.
    evaluation_approve(evaluation=submitted, user=finance)
    response = client_finance.post(
        f"/review/{submitted.pk}/return/",
        {"reason": "我的退回原因", "comment-indicator-2": "我的行意见"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "我的退回原因" in body
    assert "我的行意见" in table_row(body, "indicator-2")


# --- 8. explanations of warnings reach the reviewer and carry over -------------------------


def test_it_shows_the_explanation_beside_its_warning_on_the_review_page(
    client_a, client_finance, dept_a, staff_a
):
    evaluation = over_achieving(dept_a, staff_a)
    response = client_a.post(
        f"/evaluations/{evaluation.pk}/submit/", {f"comment-{OVER}": "年中追加了检查任务"}
    )
    assert response.status_code == 302
    body = client_finance.get(f"/review/{evaluation.pk}/").content.decode()
    item = finding_item(body, "OVER_ACHIEVEMENT")
    assert "部门说明：" in item and "年中追加了检查任务" in item
    # ... and under the warning in the table, on its row.
    row = table_row(body, "indicator-2")
    assert "finding-inline" in row and "年中追加了检查任务" in row


def test_it_says_when_a_warning_was_ticked_without_an_explanation(
    client_a, client_finance, dept_a, staff_a
):
    evaluation = over_achieving(dept_a, staff_a)
    client_a.post(f"/evaluations/{evaluation.pk}/submit/", {f"ack-{OVER}": "1"})
    evaluation.refresh_from_db()
    assert evaluation.status == Status.SUBMITTED
    body = client_finance.get(f"/review/{evaluation.pk}/").content.decode()
    assert "部门已确认此警告，未写说明" in finding_item(body, "OVER_ACHIEVEMENT")


def test_it_shows_the_explanation_to_the_head_on_the_sign_off_page(
    dept_a, staff_a, head_a, finance
):
    require_sign_off(2021)
    data = clean_form_data()
    data.indicators[1].actual = "20次"
    evaluation = due_evaluation(dept_a, staff_a, indicators=data.indicators)
    response = client_for(staff_a).post(
        f"/evaluations/{evaluation.pk}/submit/", {f"comment-{OVER}": "年中追加了检查任务"}
    )
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == Status.DEPARTMENT_REVIEW
    head = client_for(head_a)
    body = head.get(f"/evaluations/{evaluation.pk}/sign-off/").content.decode()
    assert "年中追加了检查任务" in finding_item(body, "OVER_ACHIEVEMENT")
    # Passed on by the head, the bureau reads the same explanation.
    assert head.post(f"/evaluations/{evaluation.pk}/sign-off/pass/").status_code == 302
    body = client_for(finance).get(f"/review/{evaluation.pk}/").content.decode()
    assert "年中追加了检查任务" in finding_item(body, "OVER_ACHIEVEMENT")


def test_it_carries_unchanged_explanations_over_to_the_resubmission(
    client_a, dept_a, staff_a, finance
):
    evaluation = over_achieving(dept_a, staff_a)
    client_a.post(
        f"/evaluations/{evaluation.pk}/submit/", {f"comment-{OVER}": "年中追加了检查任务"}
    )
    evaluation_return(evaluation=evaluation, user=finance, reason="请补充偏差原因")

    page = client_a.get(f"/evaluations/{evaluation.pk}/submit/").content.decode()
    assert checkbox_checked(page, f"ack-{OVER}")
    assert textarea(page, f"comment-{OVER}") == "年中追加了检查任务"
    assert "已带入上次的确认和说明" in page

    # Submitting the page as it comes records the carried explanation again.
    response = client_a.post(
        f"/evaluations/{evaluation.pk}/submit/",
        {f"ack-{OVER}": "1", f"comment-{OVER}": textarea(page, f"comment-{OVER}")},
    )
    assert response.status_code == 302
    latest = evaluation.events.filter(action=EventAction.SUBMITTED).latest("id")
    assert [(a["key"], a["comment"]) for a in latest.acknowledgements] == [
        (OVER, "年中追加了检查任务")
    ]


def test_it_asks_again_for_a_changed_or_new_warning(client_a, dept_a, staff_a, finance):
    evaluation = over_achieving(dept_a, staff_a)
    client_a.post(
        f"/evaluations/{evaluation.pk}/submit/", {f"comment-{OVER}": "年中追加了检查任务"}
    )
    evaluation_return(evaluation=evaluation, user=finance, reason="请核实")
    # Row 2 now over-achieves by another amount (a changed warning); row 1 newly does.
    data = evaluation.as_form_data()
    data.indicators[1].actual = "25次"
    data.indicators[0].actual = "2500户"
    evaluation_write(
        evaluation=evaluation, data=data, user=staff_a, expected_revision=evaluation.revision
    )

    page = client_a.get(f"/evaluations/{evaluation.pk}/submit/").content.decode()
    for key in (OVER, "OVER_ACHIEVEMENT:0"):
        assert not checkbox_checked(page, f"ack-{key}"), key
        assert textarea(page, f"comment-{key}") == "", key
    assert "已带入上次的确认和说明" not in page
    # Unacknowledged, they still block.
    response = client_a.post(f"/evaluations/{evaluation.pk}/submit/")
    assert "请逐条确认" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RETURNED


def test_it_lets_the_department_change_a_carried_explanation(client_a, dept_a, staff_a, finance):
    evaluation = over_achieving(dept_a, staff_a)
    client_a.post(f"/evaluations/{evaluation.pk}/submit/", {f"comment-{OVER}": "旧的说明"})
    evaluation_return(evaluation=evaluation, user=finance, reason="请核实")
    response = client_a.post(
        f"/evaluations/{evaluation.pk}/submit/", {f"ack-{OVER}": "1", f"comment-{OVER}": "新的说明"}
    )
    assert response.status_code == 302
    latest = evaluation.events.filter(action=EventAction.SUBMITTED).latest("id")
    assert [a["comment"] for a in latest.acknowledgements] == ["新的说明"]


# --- 9. row comments on the read-only page; approve with confirmation and comment -----------


def test_it_shows_the_last_returns_row_comments_on_the_detail_page(client_a, submitted, finance):
    evaluation_return(
        evaluation=submitted,
        user=finance,
        reason="请补充",
        comments=[
            {"target": "indicator", "position": 2, "text": "次数与台账不符"},
            {"target": "funding", "funding_kind": "total", "text": "执行数与决算不一致"},
        ],
    )
    body = client_a.get(f"/evaluations/{submitted.pk}/").content.decode()
    row = table_row(body, "indicator-2")
    assert "审核意见：" in row and "次数与台账不符" in row
    assert "次数与台账不符" not in table_row(body, "indicator-3")
    assert "执行数与决算不一致" in funding_row(body, "total")
    assert "执行数与决算不一致" not in funding_row(body, "current_year")


def test_it_shows_no_row_comments_once_resubmitted(client_a, submitted, finance, staff_a):
    evaluation_return(
        evaluation=submitted,
        user=finance,
        reason="请补充",
        comments=[{"target": "indicator", "position": 2, "text": "次数与台账不符"}],
    )
    evaluation_submit(evaluation=submitted, user=staff_a)
    body = client_a.get(f"/evaluations/{submitted.pk}/").content.decode()
    assert "次数与台账不符" not in body


def test_it_leads_the_approve_button_to_a_confirmation_page(client_finance, submitted):
    page = client_finance.get(f"/review/{submitted.pk}/").content.decode()
    button = re.search(r'<a [^>]*id="approve-button"[^>]*>', page)
    assert button and f'href="/review/{submitted.pk}/approve/"' in button.group(0)
    confirm = client_finance.get(f"/review/{submitted.pk}/approve/")
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert f'action="/review/{submitted.pk}/approve/"' in body
    assert '<input type="hidden" name="confirm" value="1">' in body
    assert 'name="reason"' in body and 'id="confirm-approve-button"' in body
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED  # looking is not approving


def test_it_does_not_approve_without_the_confirmation(client_finance, submitted):
    response = client_finance.post(f"/review/{submitted.pk}/approve/", {"reason": "打字的意见"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "请在确认页面上确认审核通过" in body
    assert textarea(body, "reason") == "打字的意见"
    submitted.refresh_from_db()
    assert (submitted.status, submitted.approved_at) == (Status.SUBMITTED, None)
    assert not submitted.events.filter(action=EventAction.APPROVED).exists()


def test_it_approves_with_a_comment_the_department_reads(
    client_finance, submitted, staff_a, django_capture_on_commit_callbacks
):
    staff_a.email = "alice@example.com"
    staff_a.save(update_fields=["email"])
    # The mail is stored with the approval and sent by the worker once it has committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_finance.post(
            f"/review/{submitted.pk}/approve/",
            {"confirm": "1", "reason": "  佐证材料齐全，\n请按时公开。 "},
        )
    assert response.status_code == 302 and response["Location"] == "/review/"
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED and submitted.approved_at is not None
    event = submitted.events.get(action=EventAction.APPROVED)
    assert event.reason == "佐证材料齐全，\n请按时公开。"

    department = client_for(staff_a)
    detail = department.get(f"/evaluations/{submitted.pk}/").content.decode()
    note = re.search(
        r'<div class="alert alert-success" id="approval-comment">.*?</div>', detail, re.S
    )
    assert note and "财政局审核意见" in note.group(0)
    assert "佐证材料齐全，<br>请按时公开。" in note.group(0)
    history = department.get(f"/evaluations/{submitted.pk}/history/").content.decode()
    assert "佐证材料齐全" in history
    [message] = [m for m in OutgoingMail.objects.all() if "alice@example.com" in m.recipients]
    assert "审核通过" in message.subject
    assert "佐证材料齐全，\n请按时公开。" in message.body


def test_it_approves_without_a_comment(client_a, client_finance, submitted):
    response = client_finance.post(f"/review/{submitted.pk}/approve/", {"confirm": "1"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Status.APPROVED
    assert submitted.events.get(action=EventAction.APPROVED).reason == ""
    assert (
        'id="approval-comment"'
        not in client_a.get(f"/evaluations/{submitted.pk}/").content.decode()
    )


def test_it_keeps_a_too_long_approval_comment_and_does_not_approve(client_finance, submitted):
    text = "意" * 2001
    response = client_finance.post(
        f"/review/{submitted.pk}/approve/", {"confirm": "1", "reason": text}
    )
    assert response.status_code == 400
    assert textarea(response.content.decode(), "reason") == text
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_treats_a_second_confirmation_as_a_repeat(client_finance, submitted):
    data = {"confirm": "1", "reason": "同意"}
    assert client_finance.post(f"/review/{submitted.pk}/approve/", data).status_code == 302
    response = client_finance.post(f"/review/{submitted.pk}/approve/", data, follow=True)
    assert "此表已经审核通过了，未重复操作" in response.content.decode()
    assert submitted.events.filter(action=EventAction.APPROVED).count() == 1


def test_it_shows_no_approve_form_for_a_form_not_submitted(client_finance, dept_a, staff_a):
    draft = make_evaluation(dept_a, staff_a)
    body = client_finance.get(f"/review/{draft.pk}/approve/").content.decode()
    assert 'id="no-decision"' in body and 'name="confirm"' not in body
    # A confirmation posted anyway is refused back to the review page with the reason.
    response = client_finance.post(f"/review/{draft.pk}/approve/", {"confirm": "1"}, follow=True)
    assert response.redirect_chain == [(f"/review/{draft.pk}/", 302)]
    assert "只有已提交的表可以审核通过" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.parametrize("who", ["staff_a", "staff_b", "head_a", "admin_user"])
def test_it_refuses_the_confirmation_to_anyone_but_finance(who, request, submitted):
    client = client_for(request.getfixturevalue(who))
    assert client.get(f"/review/{submitted.pk}/approve/").status_code == 404
    data = {"confirm": "1", "reason": "越权"}
    assert client.post(f"/review/{submitted.pk}/approve/", data).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert not EvaluationEvent.objects.filter(
        evaluation=submitted, action=EventAction.APPROVED
    ).exists()


def test_it_takes_the_approval_comment_as_an_optional_comment_of_the_row(submitted, finance):
    from evaluations.workflow import APPROVE, TransitionError, evaluation_approve

    assert APPROVE.reason is None  # no reason is required to approve ...
    assert APPROVE.comment is not None and APPROVE.comment.limit == 2000  # ... one may be given
    with pytest.raises(TransitionError, match="审核意见最多 2000 字"):
        evaluation_approve(evaluation=submitted, user=finance, reason="长" * 2001)
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    assert evaluation_approve(evaluation=submitted, user=finance, reason=" 同意\x00 ")
    assert submitted.events.get(action=EventAction.APPROVED).reason == "同意"
