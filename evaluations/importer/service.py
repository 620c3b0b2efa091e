"""Importing files of forms into the database: one transaction per file, with a report."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from campaigns.models import DueProject
from common.archive import megabytes
from departments.access import evaluation_unit, form_unit, unit_limit
from departments.models import Department
from evaluations.core.evaluation_data import FormData
from evaluations.core.scoring import ScoreResult, evaluate
from evaluations.due_evaluations import match_due_project, with_due_approvals
from evaluations.importer.checks import check_forms
from evaluations.importer.docx import parse_docx
from evaluations.importer.localfile import LocalFileRefused, read_local_file
from evaluations.importer.tables import ParseResult, Problem, UnreadableFile
from evaluations.importer.text import parse_text
from evaluations.importer.xlsx import parse_xlsx
from evaluations.mapping import json_number, report_json, with_keys_matched
from evaluations.models import Evaluation, EventAction
from evaluations.rules import RulesCache
from evaluations.services import (
    evaluation_create,
    evaluation_is_unchanged,
    evaluation_write,
    outside_unit,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

SUPPORTED_EXTENSIONS = (".txt", ".xlsx", ".docx")


class _Rollback(Exception):
    """Raised inside the file's transaction to undo everything written for that file."""


@dataclass
class FormReport:
    """What happened to one form of a file."""

    form: FormData
    result: ScoreResult
    action: str  # created | updated | unchanged | would-create | would-update | skipped | failed
    evaluation_id: int | None = None


@dataclass
class FileReport:
    """What happened to one file: its problems and its forms."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    forms: list[FormReport] = field(default_factory=list)
    readable: bool = True  # False when the file could not be read at all
    failed: bool = False  # True when nothing of the file was written

    def count(self, action: str) -> int:
        return sum(1 for f in self.forms if f.action == action)


def too_big() -> Problem:
    """The problem of a file over IMPORT_MAX_FILE_SIZE."""
    return Problem(
        line=None,
        message=_("文件超过 %(limit)s（单个文件的上限），未读取。")
        % {"limit": megabytes(settings.IMPORT_MAX_FILE_SIZE)},
    )


def over_request_limit() -> Problem:
    """The problem of a file whose forms would take a request over its limit."""
    return Problem(
        line=None,
        message=_("本次导入的自评表超过 %(limit)s 张（一次导入的上限），此文件未导入：请分批导入。")
        % {"limit": settings.IMPORT_MAX_FORMS_PER_REQUEST},
    )


def parse_file(data: bytes, name: str) -> ParseResult:
    """Parse a file of forms by its extension (.txt text dump, .xlsx, .docx).

    Whatever the way in (upload, command, script), a file over IMPORT_MAX_FILE_SIZE is
    not read; each reader bounds the rest (common/archive.py, common/xlsx.py, docx.py, the forms cap).
    """
    if len(data) > settings.IMPORT_MAX_FILE_SIZE:
        return ParseResult(problems=[too_big()])
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        return parse_xlsx(data)
    if suffix == ".docx":
        return parse_docx(data)
    return parse_text(data)


def import_file(
    *,
    data: bytes,
    name: str,
    dry_run: bool = False,
    user: AbstractBaseUser | None = None,
    department: Department | None = None,
    forms_left: int | None = None,
) -> FileReport:
    """Import every form of one file in one transaction.

    With ``department`` given (department staff importing), every form goes to that
    department; otherwise departments are looked up or created by the name on the form.
    A file that fails at any point writes nothing. A dry run does all the work and
    then rolls it back, so its report is exactly what a real import would do.
    ``forms_left``: what the request may still import (IMPORT_MAX_FORMS_PER_REQUEST);
    a file with more forms is not imported at all.
    """
    report = FileReport(path=name)
    try:
        parsed = parse_file(data, name)
    except UnreadableFile as exc:
        report.readable = False
        report.failed = True
        report.problems.append(Problem(line=None, message=str(exc)))
        return report
    except Exception as exc:  # noqa: BLE001 - a reader bug must not become a traceback
        report.readable = False
        report.failed = True
        report.problems.append(
            Problem(line=None, message=_("无法读取该文件：%(error)s") % {"error": exc})
        )
        return report
    if forms_left is not None and len(parsed.forms) > forms_left:
        report.failed = True
        report.problems.append(over_request_limit())
        return report

    report.problems.extend(parsed.problems)
    # What every way into the database enforces: lengths, characters, rows, signs. Forms
    # over a limit are taken out of parsed.forms; the report lists them as skipped.
    read = list(parsed.forms)
    report.problems.extend(check_forms(parsed.forms))
    accepted = {id(form) for form in parsed.forms}
    # Each form is scored by its year's rules (the campaign's rule set), as saving it would.
    rules = RulesCache()
    if not parsed.forms:
        report.readable = False
        report.failed = True
        report.forms = [
            FormReport(
                form=form, result=evaluate(form, rules.rules_of_year(form.year)), action="skipped"
            )
            for form in read
        ]
        if not report.problems:
            report.problems.append(Problem(line=1, message=_("文件中没有找到自评表。")))
        return report

    try:
        with transaction.atomic():
            seen: set[tuple[str, int, str]] = set()
            for form in read:
                if id(form) not in accepted:
                    report.forms.append(
                        FormReport(
                            form=form,
                            result=evaluate(form, rules.rules_of_year(form.year)),
                            action="skipped",
                        )
                    )
                    continue
                report.forms.append(
                    _import_form(
                        form,
                        rules.rules_of_year(form.year),
                        report,
                        seen,
                        dry_run,
                        user,
                        department,
                        name,
                    )
                )
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except (ValidationError, DatabaseError) as exc:
        report.failed = True
        for f in report.forms:
            f.action = "failed"
            f.evaluation_id = None
        report.problems.append(
            Problem(
                line=None, message=_("导入失败，本文件未写入任何数据：%(error)s") % {"error": exc}
            )
        )
    return report


def _import_form(
    form_data: FormData,
    rules: Any,
    report: FileReport,
    seen: set[tuple[str, int, str]],
    dry_run: bool,
    user: AbstractBaseUser | None,
    department: Department | None,
    source: str,
) -> FormReport:
    result = evaluate(form_data, rules)
    missing = []
    if not form_data.year:
        missing.append(_("年度"))
    if not form_data.project_name.strip():
        missing.append(_("项目名称"))
    if department is None and not form_data.department.strip():
        missing.append(_("主管部门"))
    if missing:
        report.problems.append(
            Problem(
                line=form_data.line,
                message=_("该表缺少%(fields)s，未导入。") % {"fields": "、".join(missing)},
            )
        )
        return FormReport(form=form_data, result=result, action="skipped")

    if department is not None:
        target_department = department
        stated = form_data.department.strip()
        if stated and stated != department.name:
            report.problems.append(
                Problem(
                    line=form_data.line,
                    message=_("表中主管部门为“%(stated)s”，将导入到您所在的部门“%(own)s”。")
                    % {"stated": stated, "own": department.name},
                )
            )
    else:
        target_department, _created = Department.objects.get_or_create(
            name=form_data.department.strip()[:200]
        )

    key = (target_department.name, int(form_data.year or 0), form_data.project_name.strip())
    if key in seen:
        report.problems.append(
            Problem(
                line=form_data.line,
                message=_("同一文件中“%(name)s”（%(year)s年度）出现了不止一次，以后一张为准。")
                % {"name": key[2], "year": key[1]},
            )
        )
    seen.add(key)

    existing = (
        Evaluation.objects.select_for_update()
        .filter(
            department=target_department,
            year=form_data.year,
            project_name=form_data.project_name.strip(),
        )
        .first()
    )
    due_project = (
        existing.due_project if existing is not None and existing.due_project_id else None
    ) or _due_project_for(target_department, form_data)
    if refused := _outside_unit(user, form_data, existing, due_project):
        report.problems.append(Problem(line=form_data.line, message=refused))
        return FormReport(form=form_data, result=result, action="skipped")
    if existing is not None:
        stored = existing.as_form_data()
        # A file without a signature block (填报人, 联系电话, 单位负责人) keeps the names typed on the web.
        form_data = dataclasses.replace(
            form_data,
            **{
                name: getattr(form_data, name) or getattr(stored, name)
                for name in ("unit_head", "filler_name", "filler_phone")
            },
        )
        if due_project is not None:
            form_data = with_due_approvals(form_data, due_project)
        if evaluation_is_unchanged(evaluation=existing, data=form_data):
            return FormReport(
                form=form_data, result=result, action="unchanged", evaluation_id=existing.pk
            )
        if not existing.is_editable:
            report.problems.append(
                Problem(
                    line=form_data.line,
                    message=_("“%(name)s”的状态是“%(status)s”，不能通过导入修改。")
                    % {"name": existing.project_name, "status": existing.get_status_display()},
                )
            )
            return FormReport(
                form=form_data, result=result, action="skipped", evaluation_id=existing.pk
            )
        existing.source = source[:300]
        # A row of the file that names a stored row (一级, 二级, 三级指标) is that row:
        # it keeps its key, and the history shows its changes rather than a new row.
        data = with_keys_matched(form_data, stored)
        if due_project is not None:
            existing.due_project = due_project
        evaluation_write(
            evaluation=existing,
            data=data,
            user=user,
            action=EventAction.IMPORTED,
        )
        return FormReport(
            form=form_data,
            result=result,
            action="would-update" if dry_run else "updated",
            evaluation_id=None if dry_run else existing.pk,
        )
    # A project of the year's due list: linked, and its rows carry the approved targets.
    evaluation, _result = evaluation_create(
        department=target_department,
        data=with_due_approvals(form_data, due_project) if due_project else form_data,
        user=user,
        source=source,
        action=EventAction.IMPORTED,
        due_project=due_project,
    )
    return FormReport(
        form=form_data,
        result=result,
        action="would-create" if dry_run else "created",
        evaluation_id=None if dry_run else evaluation.pk,
    )


def _outside_unit(
    user: AbstractBaseUser | None,
    form_data: FormData,
    existing: Evaluation | None,
    due_project: DueProject | None,
) -> str:
    """Why a filler limited to one 实施单位 may not import this form (it is, or would become,
    another unit's), or ""; the service refuses it too, but would fail the whole file."""
    if user is None or not unit_limit(user):
        return ""
    if existing is not None and (refused := outside_unit(user, evaluation_unit(existing))):
        return refused
    due_unit = due_project.implementing_unit if due_project is not None else None
    return outside_unit(user, form_unit(form_data.implementing_unit, due_unit))


def _due_project_for(department: Department, form_data: FormData) -> DueProject | None:
    """The due project an imported form evaluates (department + name; no code in files)."""
    return match_due_project(
        department=department, year=form_data.year, project_name=form_data.project_name
    )


def import_paths(paths: list[str | Path], *, dry_run: bool = False) -> list[FileReport]:
    """Import files from disk, one transaction each."""
    reports = []
    for path in paths:
        try:
            data = read_local_file(path)
        except LocalFileRefused as refused:
            reports.append(
                FileReport(
                    path=str(path),
                    readable=False,
                    failed=True,
                    problems=[Problem(line=None, message=str(refused))],
                )
            )
            continue
        report = import_file(data=data, name=str(path), dry_run=dry_run)
        reports.append(report)
    return reports


def form_as_json(report: FormReport) -> dict[str, Any]:
    """The JSON report of one form (format documented in the README)."""
    return {
        **report_json(report.form),
        "computed_total": json_number(report.result.computed_total),
        "findings": [
            {
                "code": f.code,
                "severity": f.severity,
                "message": str(f.message),
                "indicator": f.indicator,
            }
            for f in report.result.findings
        ],
        "action": report.action,
    }


def reports_as_json(reports: list[FileReport]) -> dict[str, Any]:
    """The whole JSON report of an import run."""
    return {
        "files": [
            {
                "path": r.path,
                "problems": [{"line": p.line, "message": str(p.message)} for p in r.problems],
                "forms": [form_as_json(f) for f in r.forms],
            }
            for r in reports
        ]
    }
