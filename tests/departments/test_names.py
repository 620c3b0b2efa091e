"""People are named by their 姓名 (User.first_name) everywhere; a printed form never shows a login."""

from __future__ import annotations

import subprocess

import pytest
from django.core.management import call_command

from departments.models import Membership, Role
from departments.names import accounts_without_name, display_name, printed_name
from evaluations.models import Evaluation, OutgoingMail
from evaluations.workflow import evaluation_approve, evaluation_submit
from exports import compose
from tests.conftest import client_for, make_user
from tests.factories import make_evaluation

pytestmark = pytest.mark.django_db


def test_a_name_is_shown_and_a_missing_one_is_marked_on_pages_but_blank_on_paper(dept_a):
    named = make_user("zhang3", Role.STAFF, dept_a, first_name=" 张 三 ")
    unnamed = make_user("li4", Role.STAFF, dept_a)
    assert display_name(named) == "张 三"
    assert printed_name(named) == "张 三"
    assert display_name(unnamed) == "li4（未填写姓名）"
    assert printed_name(unnamed) == ""
    assert display_name(None) == "" and printed_name(None) == ""


def test_accounts_without_a_name_are_listed_and_keep_working(dept_a):
    make_user("named", Role.STAFF, dept_a, first_name="王五")
    blank = make_user("blank", Role.STAFF, dept_a, first_name="   ")
    none = make_user("none", Role.HEAD, dept_a)
    gone = make_user("gone", Role.STAFF, dept_a, is_active=False)
    assert list(accounts_without_name()) == [blank, none]
    assert gone not in accounts_without_name()
    assert client_for(none).get("/evaluations/").status_code == 200


def test_the_navbar_names_the_signed_in_person(dept_a):
    named = make_user("zhao6", Role.STAFF, dept_a, first_name="赵六")
    unnamed = make_user("qian7", Role.STAFF, dept_a)
    assert "赵六 · 部门填报人" in client_for(named).get("/evaluations/").content.decode()
    page = client_for(unnamed).get("/evaluations/").content.decode()
    assert "qian7（未填写姓名） · 部门填报人" in page


def test_history_and_review_pages_name_the_people(dept_a):
    filler = make_user("sun8", Role.STAFF, dept_a, first_name="孙八")
    reviewer = make_user("zhou9", Role.FINANCE, None, first_name="周九")
    evaluation = make_evaluation(dept_a, filler)
    evaluation_submit(evaluation=evaluation, user=filler)
    history = client_for(reviewer).get(f"/evaluations/{evaluation.pk}/history/").content.decode()
    assert "孙八" in history and "sun8" not in history
    detail = client_for(reviewer).get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert "孙八" in detail and "sun8" not in detail  # 最后修改 … · the last editor


def pdf_text(evaluation: Evaluation, tmp_path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(compose.evaluation_pdf(Evaluation.objects.get(pk=evaluation.pk)))
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_printed_approver_is_the_name_or_blank_never_the_username(dept_a, tmp_path):
    filler = make_user("wu10", Role.STAFF, dept_a, first_name="吴十")
    named = make_user("zheng11", Role.FINANCE, None, first_name="郑审核")
    evaluation = make_evaluation(dept_a, filler)
    evaluation_submit(evaluation=evaluation, user=filler)
    evaluation_approve(evaluation=evaluation, user=named)
    assert "郑审核" in pdf_text(evaluation, tmp_path)

    unnamed = make_user("wang12", Role.FINANCE, None)
    other = make_evaluation(dept_a, filler, project_name="另一个项目")
    evaluation_submit(evaluation=other, user=filler)
    evaluation_approve(evaluation=other, user=unnamed)
    text = pdf_text(other, tmp_path)
    assert "审核人" in text and "wang12" not in text


def test_the_mail_of_a_step_names_who_took_it(dept_a):
    filler = make_user("feng13", Role.STAFF, dept_a, first_name="冯十三", email="f@example.com")
    reviewer = make_user("chen14", Role.FINANCE, None, first_name="陈审核")
    evaluation = make_evaluation(dept_a, filler)
    evaluation_submit(evaluation=evaluation, user=filler)
    evaluation_approve(evaluation=evaluation, user=reviewer)
    bodies = [m.body for m in OutgoingMail.objects.all() if "f@example.com" in m.recipients]
    assert bodies and "经办人：陈审核" in bodies[-1]


def test_the_demo_accounts_have_chinese_names(settings):
    settings.DEBUG = True
    call_command("load_demo")
    names = dict(Membership.objects.values_list("user__username", "user__first_name"))
    assert names["staff1"] == "张伟" and names["finance"] == "李明华"
    assert all(names.values())
    assert not accounts_without_name().exists()
