#!/usr/bin/env python
"""Benchmark: response times of the list and entry pages with 5,000 realistic evaluations.

Usage: .venv/bin/python scripts/bench_pages.py [--forms 5000] [--departments 200]
       [--requests 30] [--campaign-departments 200] [--due-per-department 25]
Builds a throwaway SQLite database in a temporary folder (4 funding rows and 12 indicators
per form, ``--departments`` departments named like the real ones, "昌吉回族自治州…", five
years), then prints the median time of each page over ``--requests`` GETs through
django.test.Client, with the number of queries per request.
The 2021 campaign covers ``--campaign-departments`` departments (those with forms and
more without) with ``--due-per-department`` due projects each; the 2021 forms of the
form-holding departments are linked to due projects (in every state, handed-in ones with a
submission time), a tenth of the handed-in forms were returned once before (the
"退回后重新提交" badge), and every seventh department has an extended deadline.
The finance pages are measured as the bureau uses them at 200 departments: the list sorted
by each column both ways, filtered by several states and searched; the review queue sorted
and filtered; the dashboard filtered to 未完成 / 逾期. ``/healthz`` (one ``SELECT 1``, no
template) is the baseline of the same run. Run it twice with different sizes (e.g.
``--forms 500 --departments 20``) to see that the query counts do not change.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

D = Decimal
INDICATORS = [
    ("产出指标", "数量指标", "改造农村住房户数", "=1600户", "1600户", "8", "8"),
    ("产出指标", "数量指标", "监督检查次数", ">=10次", "12次", "8", "8"),
    ("产出指标", "质量指标", "工程质量达标率", ">=98%", "99%", "8", "8"),
    ("产出指标", "质量指标", "问题整改率", ">=95%", "93%", "8", "7.83"),
    ("产出指标", "时效指标", "完成时间", "2021年12月31日", "2021年12月20日", "6", "6"),
    ("产出指标", "成本指标", "检查费用", "<=21.50万元", "20.10万元", "6", "6"),
    ("产出指标", "成本指标", "户均补助标准", "<=2万元", "2万元", "6", "6"),
    ("效益指标", "社会效益指标", "居民住房条件", "有效改善", "有效改善", "10", "10"),
    ("效益指标", "社会效益指标", "安全隐患排除率", ">=90%", "95%", "10", "10"),
    ("效益指标", "可持续影响指标", "长效机制", "逐步建立", "已建立", "10", "9"),
    ("满意度指标", "满意度指标", "群众满意度", ">=95%", "96%", "5", "5"),
    ("满意度指标", "服务对象满意度指标", "农户满意度", ">=90%", "92%", "5", "5"),
]


def build(forms: int, department_count: int = 200) -> tuple[object, object, int]:
    """Create departments, users and ``forms`` evaluations; return (staff, finance, pk)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from departments.models import Department, Membership, Role
    from evaluations.core.evaluation_data import FormData, FundingData, IndicatorData
    from evaluations.core.scoring import evaluate
    from evaluations.core.values import db_fields
    from evaluations.models import Evaluation, FundingRow, Indicator

    departments = Department.objects.bulk_create(
        Department(name=f"昌吉回族自治州第{i:03d}局") for i in range(department_count)
    )
    users = get_user_model().objects
    staff = users.create_user(username="bench-staff", password="bench-pass-123")
    Membership.objects.create(user=staff, role=Role.STAFF, department=departments[0])
    finance = users.create_user(username="bench-finance", password="bench-pass-123")
    Membership.objects.create(user=finance, role=Role.FINANCE)

    form = FormData(
        year=2021,
        funding=[
            FundingData("total", D("70"), D("70"), D("57.55")),
            FundingData("current_year", D("70"), D("70"), D("57.55")),
            FundingData("carryover", D("0"), D("0"), D("0")),
            FundingData("other", D("0"), D("0"), D("0")),
        ],
        execution_score=D("8.22"),
        stated_total=D("97.05"),
        indicators=[
            IndicatorData(a, b, c, t, x, D(w), D(s), "部分指标未完成，明年改进。")
            for a, b, c, t, x, w, s in INDICATORS
        ],
    )
    result = evaluate(form)
    with transaction.atomic():
        evaluations = Evaluation.objects.bulk_create(
            Evaluation(
                department=departments[i % len(departments)],
                year=2019 + (i // len(departments)) % 5,
                project_name=f"项目{i:05d} 农村住房提升改造工程质量监督检查费",
                implementing_unit=f"实施单位{i % 37:02d}",
                goal_target="完成全年农村住房质量监督检查任务，改善群众居住条件。" * 3,
                goal_actual="全年完成检查 12 次，整改问题 35 个。" * 3,
                execution_weight=D("10"),
                stated_execution_score=form.execution_score,
                stated_total=form.stated_total,
                computed_execution_rate=result.execution_rate,
                computed_execution_score=result.execution_score,
                computed_total=result.computed_total,
                error_count=len(result.errors),
                warning_count=len(result.warnings),
            )
            for i in range(forms)
        )
        FundingRow.objects.bulk_create(
            FundingRow(
                evaluation=e,
                kind=row.kind,
                initial_budget=row.initial_budget,
                annual_budget=row.annual_budget,
                executed=row.executed,
            )
            for e in evaluations
            for row in form.funding
        )
        parsed = [(db_fields(i.target), db_fields(i.actual)) for i in form.indicators]
        Indicator.objects.bulk_create(
            (
                Indicator(
                    evaluation=e,
                    position=n,
                    level1=ind.level1,
                    level2=ind.level2,
                    name=ind.name,
                    target=ind.target,
                    actual=ind.actual,
                    target_comparator=t[0],
                    target_number=t[1],
                    target_unit=t[2][:20],
                    actual_comparator=a[0],
                    actual_number=a[1],
                    actual_unit=a[2][:20],
                    weight=ind.weight,
                    score=ind.score,
                    deviation=ind.deviation,
                )
                for e in evaluations
                for n, (ind, (t, a)) in enumerate(zip(form.indicators, parsed, strict=True), 1)
            ),
            batch_size=2000,
        )
    own = Evaluation.objects.filter(department=departments[0]).order_by("pk").first()
    assert own is not None
    return staff, finance, own.pk


def build_campaign(departments: int, per_department: int) -> int:
    """The 2021 campaign: due projects for ``departments`` departments; returns their count."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from campaigns.models import Campaign, DeadlineExtension, DueProject
    from departments.models import Department
    from evaluations.models import Evaluation, EvaluationEvent, EventAction, Status

    today = timezone.localdate()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            year=2021, title="2021年度项目支出绩效自评", deadline=today - datetime.timedelta(3)
        )
        existing = list(Department.objects.order_by("pk"))
        extra = Department.objects.bulk_create(
            Department(name=f"昌吉州清单部门{i:03d}")
            for i in range(max(0, departments - len(existing)))
        )
        chosen = (existing + extra)[:departments]
        projects = DueProject.objects.bulk_create(
            (
                DueProject(
                    campaign=campaign,
                    department=d,
                    project_name=f"{d.name}应评项目{j:02d}",
                    project_code=f"65230{d.pk:03d}{j:02d}",
                    annual_budget=D("70"),
                )
                for d in chosen
                for j in range(per_department)
            ),
            batch_size=2000,
        )
        DeadlineExtension.objects.bulk_create(
            DeadlineExtension(
                campaign=campaign, department=d, deadline=today + datetime.timedelta(5)
            )
            for d in chosen[::7]
        )
        # Link the 2021 forms of the first departments to due projects, in every state.
        by_department: dict[int, list] = {}
        for project in projects:
            by_department.setdefault(project.department_id, []).append(project)
        statuses = [s for s, _label in Status.choices]
        forms = []
        for d in existing:
            own = Evaluation.objects.filter(department=d, year=2021).order_by("pk")[:per_department]
            for n, (form, project) in enumerate(
                zip(own, by_department.get(d.pk, []), strict=False)
            ):
                form.due_project = project
                form.status = statuses[n % len(statuses)]
                forms.append(form)
        handed_in = {Status.SUBMITTED, Status.APPROVED, Status.DEPARTMENT_REVIEW}
        now = timezone.now()
        for n, form in enumerate(forms):
            if form.status in handed_in:
                form.submitted_at = now - datetime.timedelta(hours=n)
        Evaluation.objects.bulk_update(
            forms, ["due_project", "status", "submitted_at"], batch_size=1000
        )
        # A tenth of the handed-in forms were returned once before (退回后重新提交).
        EvaluationEvent.objects.bulk_create(
            (
                EvaluationEvent(
                    evaluation=form, action=EventAction.RETURNED, revision=1, reason="请补充"
                )
                for form in forms
                if form.status in handed_in and form.pk % 10 == 0
            ),
            batch_size=2000,
        )
    return len(projects)


def measure(client: object, url: str, requests: int) -> tuple[float, int]:
    """Median milliseconds of ``requests`` GETs (after one warm-up) and queries per request."""
    from django.db import connection

    statements: list[str] = []

    def count(execute, sql, params, many, context):  # noqa: ANN001
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(times), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--campaign-departments", type=int, default=200)
    parser.add_argument("--due-per-department", type=int, default=25)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-pages-")
    os.environ["DJANGO_VAR_DIR"] = tmp
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from departments.models import Department
        from evaluations.filters import SORT_FIELDS as SORT_KEYS

        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        staff, finance, pk = build(args.forms, args.departments)
        print(
            f"{args.forms} evaluations of {args.departments} departments "
            f"({args.forms * 4} funding rows, "
            f"{args.forms * len(INDICATORS)} indicators) built in "
            f"{time.perf_counter() - start:.1f} s; {args.requests} requests per page (median)"
        )
        due = build_campaign(args.campaign_departments, args.due_per_department)
        print(f"campaign 2021: {args.campaign_departments} departments, {due} due projects")
        staff_client, finance_client = Client(), Client()
        staff_client.force_login(staff)
        finance_client.force_login(finance)
        own = args.forms // args.departments
        some_department = Department.objects.order_by("pk").values_list("pk", flat=True)[7]
        pages = [
            ("healthz (baseline)", staff_client, "/healthz"),
            (f"list, staff ({own} own forms)", staff_client, "/evaluations/"),
            ("list, finance (all forms, page 1)", finance_client, "/evaluations/"),
            (
                "list, finance, year filter, page 2",
                finance_client,
                "/evaluations/?year=2021&page=2",
            ),
            ("list, finance, search", finance_client, "/evaluations/?q=项目0420"),
            ("list, search 实施单位", finance_client, "/evaluations/?q=实施单位07"),
            (
                "list, 2 states, one department",
                finance_client,
                f"/evaluations/?status=submitted&status=returned&department={some_department}",
            ),
            *[
                (f"list, sorted {sign or '+'}{key}", finance_client, f"/evaluations/?o={sign}{key}")
                for key in SORT_KEYS
                for sign in ("", "-")
            ],
            ("edit page (GET, 12 indicators)", staff_client, f"/evaluations/{pk}/edit/"),
            ("detail page", staff_client, f"/evaluations/{pk}/"),
            ("new from last year (copy_from)", staff_client, f"/evaluations/new/?copy_from={pk}"),
            ("dashboard, finance, campaign page 1", finance_client, "/dashboard/?year=2021"),
            (
                "dashboard, incomplete, by overdue",
                finance_client,
                "/dashboard/?year=2021&show=incomplete&sort=overdue&dir=desc",
            ),
            (
                "dashboard, overdue, page 2",
                finance_client,
                "/dashboard/?year=2021&show=overdue&page=2",
            ),
            ("dashboard, staff (own department)", staff_client, "/dashboard/?year=2021"),
            (
                "dashboard export .xlsx (200 rows)",
                finance_client,
                "/dashboard/export.xlsx?year=2021",
            ),
            ("review queue (finance)", finance_client, "/review/"),
            ("review queue, by total desc", finance_client, "/review/?o=-total"),
            (
                "review queue, resubmitted, by dept",
                finance_client,
                "/review/?resubmitted=true&o=department&year=2021",
            ),
            (
                "review queue, one department",
                finance_client,
                f"/review/?department={some_department}",
            ),
            ("exports page (department picker)", finance_client, "/exports/"),
        ]
        for label, client, url in pages:
            median, queries = measure(client, url, args.requests)
            print(f"{label:40} {median:8.1f} ms   {queries:3d} queries")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
