"""The load_demo command: sample forms and demo accounts, development only."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from departments.models import Membership, Role
from evaluations.models import Evaluation

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo12345"


def test_it_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()
    assert not Evaluation.objects.exists()


def test_it_loads_samples_and_creates_the_demo_accounts(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo")
    users = get_user_model().objects
    for username in ("finance", "staff1", "staff2", "staff3", "admin"):
        assert users.get(username=username).check_password(DEMO_PASSWORD), username
    assert users.get(username="admin").is_superuser
    assert Membership.objects.get(user__username="finance").role == Role.FINANCE
    staff = Membership.objects.filter(role=Role.STAFF).select_related("department")
    assert staff.count() == 3
    # Every staff account belongs to a department that has sample forms.
    for membership in staff:
        assert Evaluation.objects.filter(department=membership.department).exists()
    assert len({m.department_id for m in staff}) == 3
    # A head (部门审核人) for each demo department, with the same password.
    heads = Membership.objects.filter(role=Role.HEAD).select_related("user")
    assert sorted(m.user.username for m in heads) == ["head1", "head2", "head3"]
    assert {m.department_id for m in heads} == {m.department_id for m in staff}
    for membership in heads:
        assert membership.user.check_password(DEMO_PASSWORD)
        staff_name = membership.user.username.replace("head", "staff")
        assert staff.get(user__username=staff_name).department_id == membership.department_id
    assert "demo12345" in capsys.readouterr().out


def test_it_can_run_twice(settings):
    settings.DEBUG = True
    call_command("load_demo")
    count = Evaluation.objects.count()
    call_command("load_demo")
    assert Evaluation.objects.count() == count
    assert get_user_model().objects.filter(username="staff1").count() == 1
