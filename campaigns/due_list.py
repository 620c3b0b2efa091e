"""The list of projects due (应评项目清单) as an .xlsx workbook: the template, reading, importing.

A workbook has two sheets: "应评项目" (one row per project) and, optionally, "绩效目标"
(the approved targets, one row per indicator, naming its project by 项目编码 or 项目名称).
The file is hostile: it goes through the archive checks of ``common.archive``
and is read with the bounded openpyxl reader of ``common.xlsx`` (rows and
columns limited by ``IMPORT_MAX_SHEET_*``). Reading never raises: every problem names its
sheet and cell.

Importing follows the form importer's contract: one transaction per file, a file with
problems writes nothing, and a dry run is the same run rolled back. Rows are matched to
the campaign's projects by department + 项目编码 (or 项目名称 when the row has no code);
a project missing from the file is removed unless it already has a form (then it is kept
and a problem line says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from campaigns.models import Campaign, DueProject, DueTarget
from common.archive import open_archive
from common.imports import write_in_one_transaction
from common.xlsx import (
    CellBudget,
    SheetProblem,
    find_header,
    legacy_xls_message,
    missing_columns_message,
    no_header_message,
    open_workbook,
    set_text,
    sheet_limit_messages,
    sheet_texts,
    sheet_values,
    unreadable_message,
    workbook_bytes,
    write_headers,
)
from departments.models import Department
from evaluations.models import Evaluation

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

PROJECTS_SHEET = "应评项目"
TARGETS_SHEET = "绩效目标"
# (key, header) in the template's order.
PROJECT_COLUMNS = [
    ("department", "主管部门"),
    ("implementing_unit", "实施单位"),
    ("project_name", "项目名称"),
    ("project_code", "项目编码"),
    ("initial_budget", "年初预算数"),
    ("annual_budget", "全年预算数"),
    # Optional: the budget system's code of the 主管部门. A department of the register with
    # this code is the row's department whatever name the file gives it (renamed ones too).
    ("department_code", "部门编码"),
]
TARGET_COLUMNS = [
    ("department", "主管部门"),
    ("project_name", "项目名称"),
    ("project_code", "项目编码"),
    ("level1", "一级指标"),
    ("level2", "二级指标"),
    ("name", "三级指标"),
    ("target", "年度指标值"),
    ("weight", "分值"),
]
_REQUIRED = {PROJECTS_SHEET: ("department", "project_name"), TARGETS_SHEET: ("department",)}
# A header is looked for in the first rows (a title row above it is common).
HEADER_SEARCH_ROWS = 10


# --- the report -----------------------------------------------------------------------------


@dataclass
class Problem(SheetProblem):
    """A problem of the file; ``blocking`` ones stop the import (a kept project does not)."""

    blocking: bool = True


@dataclass
class TargetRow:
    row: int
    level1: str
    level2: str
    name: str
    target: str
    weight: Decimal | None

    def key(self) -> tuple[str, str, str, str, Decimal | None]:
        return (self.level1, self.level2, self.name, self.target, _norm(self.weight))


@dataclass
class ProjectRow:
    row: int
    department: str
    implementing_unit: str
    project_name: str
    project_code: str
    initial_budget: Decimal | None
    annual_budget: Decimal | None
    targets: list[TargetRow] = field(default_factory=list)
    department_code: str = ""
    code_cell: str = ""  # the 部门编码 cell of the row, as problems name it


@dataclass
class RowReport:
    """What happened (or would happen) to one project of the list."""

    department: str
    project_name: str
    project_code: str
    action: (
        str  # created|updated|unchanged|would-create|would-update|removed|would-remove|kept|failed
    )
    row: int | None = None  # the row of sheet 应评项目 (None: a project not in the file)
    implementing_unit: str = ""
    initial_budget: Decimal | None = None
    annual_budget: Decimal | None = None
    targets: int = 0
    project_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "project_name": self.project_name,
            "project_code": self.project_code,
            "action": self.action,
            "row": self.row,
            "implementing_unit": self.implementing_unit,
            "initial_budget": _number(self.initial_budget),
            "annual_budget": _number(self.annual_budget),
            "targets": self.targets,
        }


@dataclass
class DueListReport:
    """What importing one file did (or would do)."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)
    departments_created: list[str] = field(default_factory=list)
    failed: bool = False  # nothing of the file was (or would be) written

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.blocking]

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "failed": self.failed,
            "departments_created": self.departments_created,
            "problems": [p.as_json() for p in self.problems],
            "rows": [r.as_json() for r in self.rows],
        }


def reports_as_json(reports: list[DueListReport]) -> dict[str, Any]:
    """The ``--json`` report of ``import_due_list``."""
    return {"files": [report.as_json() for report in reports]}


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _norm(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.normalize()


# --- the template -----------------------------------------------------------------------------


def due_list_workbook(projects: list[ProjectRow] | None = None) -> bytes:
    """The template (empty, or holding ``projects``) as .xlsx bytes; every text stays text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = PROJECTS_SHEET
    targets = workbook.create_sheet(TARGETS_SHEET)
    for ws, columns in ((sheet, PROJECT_COLUMNS), (targets, TARGET_COLUMNS)):
        widths = [40 if index < 3 else 14 for index in range(len(columns))]
        write_headers(ws, [header for _key, header in columns], widths)
    r, t = 2, 2
    for project in projects or []:
        texts = [project.department, project.implementing_unit, project.project_name]
        for column, text in enumerate(texts, start=1):
            set_text(sheet.cell(row=r, column=column), text)
        if project.project_code:
            set_text(sheet.cell(row=r, column=4), project.project_code)
        for column, amount in ((5, project.initial_budget), (6, project.annual_budget)):
            if amount is not None:
                sheet.cell(row=r, column=column, value=amount).number_format = "0.00##"
        r += 1
        for target in project.targets:
            set_text(targets.cell(row=t, column=1), project.department)
            set_text(targets.cell(row=t, column=2), project.project_name)
            if project.project_code:
                set_text(targets.cell(row=t, column=3), project.project_code)
            for column, text in enumerate(
                (target.level1, target.level2, target.name, target.target), start=4
            ):
                if text:
                    set_text(targets.cell(row=t, column=column), text)
            if target.weight is not None:
                targets.cell(row=t, column=8, value=target.weight)
            t += 1
    return workbook_bytes(workbook)


# --- reading ----------------------------------------------------------------------------------


@dataclass
class ParsedDueList:
    projects: list[ProjectRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    has_targets: bool = False  # the file has a 绩效目标 sheet with rows: it replaces targets
    readable: bool = True
    # Keys of project rows refused for a problem: their targets are not reported again.
    refused: set[tuple[str, str]] = field(default_factory=set)


def _read_sheets(data: bytes) -> tuple[dict[str, dict[int, dict[int, str]] | None], list[Problem]]:
    """The texts of both sheets (None: the sheet is missing), within the import limits."""
    sheets: dict[str, dict[int, dict[int, str]] | None] = {
        PROJECTS_SHEET: None,
        TARGETS_SHEET: None,
    }
    problems: list[Problem] = []
    legacy = legacy_xls_message(data)
    if legacy is not None:
        problems.append(Problem("", "", legacy))
        return sheets, problems
    try:
        archive = open_archive(data)
        reader, plans = open_workbook(data, archive)
        budget = CellBudget()
        for plan in plans:
            title = plan.title.strip()
            if title not in sheets or sheets[title] is not None:
                continue
            problems.extend(Problem(title, "", message) for message in sheet_limit_messages(plan))
            values = sheet_values(reader, plan) if plan.last_row else {}
            sheets[title] = sheet_texts(values, budget)
    except Exception as error:  # noqa: BLE001 - a damaged workbook must become a report
        problems.append(Problem("", "", unreadable_message(error)))
    return sheets, problems


def _find_header(
    sheet: str,
    texts: dict[int, dict[int, str]],
    columns: list[tuple[str, str]],
    problems: list[Problem],
) -> tuple[int, dict[str, int]] | None:
    """The header row and the column of each key; a problem when a required one is missing."""
    header = find_header(
        texts,
        columns,
        lambda found: (
            "department" in found and ("project_name" in found or "project_code" in found)
        ),
        HEADER_SEARCH_ROWS,
    )
    if header is None:
        problems.append(Problem(sheet, "", no_header_message(HEADER_SEARCH_ROWS, columns)))
        return None
    r, found = header
    missing = [title for key, title in columns if key in _REQUIRED[sheet] and key not in found]
    if sheet == PROJECTS_SHEET and missing:
        problems.append(Problem(sheet, f"A{r}", missing_columns_message(missing)))
        return None
    return header


def _amount(
    text: str, *, sheet: str, cell: str, digits: int, places: int, problems: list[Problem]
) -> Decimal | None:
    """A non-negative number with at most ``places`` decimals; a problem otherwise."""
    text = text.replace(",", "").replace("，", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(Problem(sheet, cell, _("“%(text)s”不是数字。") % {"text": text[:50]}))
        return None
    if not value.is_finite():
        problems.append(Problem(sheet, cell, _("“%(text)s”不是数字。") % {"text": text[:50]}))
        return None
    if value < 0:
        problems.append(Problem(sheet, cell, _("不能为负数。")))
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        problems.append(
            Problem(sheet, cell, _("小数位数不能超过 %(places)s 位。") % {"places": places})
        )
        return None
    if value >= Decimal(10) ** (digits - places):
        problems.append(Problem(sheet, cell, _("数值过大。")))
        return None
    return value


def _text(
    texts: dict[int, str],
    columns: dict[str, int],
    key: str,
    *,
    sheet: str,
    row: int,
    limit: int,
    problems: list[Problem],
) -> str:
    column = columns.get(key)
    if column is None:
        return ""
    text = texts.get(column, "")
    if len(text) > limit:
        problems.append(
            Problem(
                sheet,
                f"{get_column_letter(column)}{row}",
                _("内容过长：%(length)s 字，最多 %(limit)s 字。")
                % {"length": len(text), "limit": limit},
            )
        )
        return ""
    return text


def _limit(model: Any, name: str) -> int:
    return model._meta.get_field(name).max_length


def _cell(columns: dict[str, int], key: str, row: int) -> str:
    """The address of a column's cell in a row, as problems name it ("C7"); A without one."""
    return f"{get_column_letter(columns[key])}{row}" if key in columns else f"A{row}"


def parse_due_list(data: bytes) -> ParsedDueList:
    """Read a due list workbook; never raises, each problem names its sheet and cell."""

    result = ParsedDueList()
    sheets, problems = _read_sheets(data)
    result.problems.extend(problems)
    if problems and all(s is None for s in sheets.values()):
        result.readable = False
        return result
    project_texts = sheets[PROJECTS_SHEET]
    if project_texts is None:
        result.readable = False
        result.problems.append(
            Problem(
                PROJECTS_SHEET,
                "",
                _("工作簿中没有名为“%(sheet)s”的工作表。") % {"sheet": PROJECTS_SHEET},
            )
        )
        return result
    header = _find_header(PROJECTS_SHEET, project_texts, PROJECT_COLUMNS, result.problems)
    if header is None:
        result.readable = False
        return result
    header_row, columns = header

    seen_code: dict[tuple[str, str], int] = {}
    seen_name: dict[tuple[str, str], int] = {}
    sheet = PROJECTS_SHEET
    for r in sorted(project_texts):
        if r <= header_row:
            continue
        texts = project_texts[r]
        if not any(texts.values()):
            continue
        problems = result.problems
        before = len(problems)
        values = {
            key: _text(
                texts,
                columns,
                key,
                sheet=sheet,
                row=r,
                limit=_limit(DueProject, key)
                if key not in ("department", "department_code")
                else _limit(Department, "code" if key == "department_code" else "name"),
                problems=problems,
            )
            for key in (
                "department",
                "implementing_unit",
                "project_name",
                "project_code",
                "department_code",
            )
        }
        amounts = {
            key: _amount(
                texts.get(columns[key], "") if key in columns else "",
                sheet=sheet,
                cell=_cell(columns, key, r),
                digits=16,
                places=4,
                problems=problems,
            )
            for key in ("initial_budget", "annual_budget")
        }
        if not values["department"] and len(problems) == before:
            problems.append(Problem(sheet, _cell(columns, "department", r), _("主管部门为空。")))
        if not values["project_name"] and len(problems) == before:
            problems.append(Problem(sheet, _cell(columns, "project_name", r), _("项目名称为空。")))
        department, code, name = (
            values["department"],
            values["project_code"],
            values["project_name"],
        )
        if len(problems) != before:
            result.refused.update({(department, code), (department, name)})
            continue
        if code and (department, code) in seen_code:
            problems.append(
                Problem(
                    sheet,
                    _cell(columns, "project_code", r),
                    _("项目编码“%(code)s”与第 %(row)s 行重复。")
                    % {"code": code, "row": seen_code[(department, code)]},
                )
            )
            continue
        if (department, name) in seen_name:
            problems.append(
                Problem(
                    sheet,
                    _cell(columns, "project_name", r),
                    _("项目名称与第 %(row)s 行重复（同一主管部门）。")
                    % {"row": seen_name[(department, name)]},
                )
            )
            continue
        if code:
            seen_code[(department, code)] = r
        seen_name[(department, name)] = r
        result.projects.append(
            ProjectRow(row=r, **values, **amounts, code_cell=_cell(columns, "department_code", r))
        )

    target_texts = sheets[TARGETS_SHEET]
    if target_texts and any(any(t.values()) for t in target_texts.values()):
        _parse_targets(target_texts, result)
    return result


def _parse_targets(target_texts: dict[int, dict[int, str]], result: ParsedDueList) -> None:

    sheet = TARGETS_SHEET
    header = _find_header(sheet, target_texts, TARGET_COLUMNS, result.problems)
    if header is None:
        return
    result.has_targets = True
    header_row, columns = header
    by_code = {(p.department, p.project_code): p for p in result.projects if p.project_code}
    by_name = {(p.department, p.project_name): p for p in result.projects}

    for r in sorted(target_texts):
        if r <= header_row:
            continue
        texts = target_texts[r]
        if not any(texts.values()):
            continue
        problems = result.problems
        before = len(problems)
        values = {
            key: _text(
                texts,
                columns,
                key,
                sheet=sheet,
                row=r,
                limit=_limit(DueTarget, key)
                if key in ("level1", "level2", "name", "target")
                else 1000,
                problems=problems,
            )
            for key in (
                "department",
                "project_name",
                "project_code",
                "level1",
                "level2",
                "name",
                "target",
            )
        }
        weight = _amount(
            texts.get(columns["weight"], "") if "weight" in columns else "",
            sheet=sheet,
            cell=_cell(columns, "weight", r),
            digits=7,
            places=2,
            problems=problems,
        )
        for key, message in (
            ("department", _("主管部门为空。")),
            ("level1", _("一级指标为空。")),
            ("name", _("三级指标为空。")),
        ):
            if not values[key] and len(problems) == before:
                problems.append(Problem(sheet, _cell(columns, key, r), message))
        if len(problems) != before:
            continue
        department, code, name = (
            values["department"],
            values["project_code"],
            values["project_name"],
        )
        project = by_code.get((department, code)) if code else by_name.get((department, name))
        if project is None and (department, code or name) in result.refused:
            continue  # the row of its project has a problem already
        if project is None:
            where = _cell(columns, "project_code", r) if code else _cell(columns, "project_name", r)
            problems.append(
                Problem(
                    sheet,
                    where,
                    _("在“%(sheet)s”表中找不到该项目（%(department)s：%(project)s）。")
                    % {
                        "sheet": PROJECTS_SHEET,
                        "department": department,
                        "project": code or name or "—",
                    },
                )
            )
            continue
        project.targets.append(
            TargetRow(
                row=r,
                level1=values["level1"],
                level2=values["level2"],
                name=values["name"],
                target=values["target"],
                weight=weight,
            )
        )


# --- importing ---------------------------------------------------------------------------------


_FIELDS = ("implementing_unit", "project_name", "project_code", "initial_budget", "annual_budget")


def _row_report(row: ProjectRow, action: str) -> RowReport:
    return RowReport(
        department=row.department,
        project_name=row.project_name,
        project_code=row.project_code,
        action=action,
        row=row.row,
        implementing_unit=row.implementing_unit,
        initial_budget=row.initial_budget,
        annual_budget=row.annual_budget,
        targets=len(row.targets),
    )


def import_due_list(
    *,
    campaign: Campaign,
    data: bytes,
    name: str,
    dry_run: bool = False,
    user: AbstractBaseUser | None = None,
) -> DueListReport:
    """Import (or preview) one due list file into ``campaign``, in one transaction."""
    report = DueListReport(file=name)
    parsed = parse_due_list(data)
    report.problems.extend(parsed.problems)
    if not parsed.readable:
        report.failed = True
        return report
    if not parsed.projects and not report.problems:
        report.problems.append(Problem(PROJECTS_SHEET, "", _("文件中没有找到应评项目。")))

    def write() -> bool:
        # One import of a campaign at a time: the plan below must hold until it is written.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        _apply(campaign, parsed, report)
        return dry_run or bool(report.blocking)

    refused = write_in_one_transaction(write)
    if refused is not None:
        report.problems.append(Problem("", "", refused))
    if report.blocking:
        report.failed = True
        if not dry_run:
            for row in report.rows:
                row.action = "failed"
                row.project_id = None
    if dry_run:
        for row in report.rows:
            row.action = {
                "created": "would-create",
                "updated": "would-update",
                "removed": "would-remove",
            }.get(row.action, row.action)
    return report


def _apply(campaign: Campaign, parsed: ParsedDueList, report: DueListReport) -> None:
    """Write the file's list into the campaign (the caller rolls back a dry run)."""
    codes = _department_codes(parsed.projects, report)
    existing = list(
        campaign.projects.select_related("department")
        .prefetch_related("targets")
        .annotate(has_form=Exists(Evaluation.objects.filter(due_project=OuterRef("pk"))))
    )
    by_code = {(p.department.name, p.project_code): p for p in existing if p.project_code}
    by_name = {(p.department.name, p.project_name): p for p in existing}
    claimed: dict[int, int] = {}  # project id -> the row that matched it
    plan: list[tuple[ProjectRow, DueProject | None]] = []
    for row in parsed.projects:
        project = by_code.get((row.department, row.project_code)) if row.project_code else None
        if project is None:
            project = by_name.get((row.department, row.project_name))
        if project is not None and project.pk in claimed:
            report.problems.append(
                Problem(
                    PROJECTS_SHEET,
                    f"C{row.row}",
                    _("与第 %(row)s 行指向清单中的同一个项目（按项目编码和名称匹配）。")
                    % {"row": claimed[project.pk]},
                )
            )
            continue
        if project is not None:
            claimed[project.pk] = row.row
        plan.append((row, project))

    names = {row.department for row in parsed.projects}
    departments = {d.name: d for d in Department.objects.filter(name__in=names)}
    for row in parsed.projects:
        if row.department not in departments and row.department not in report.departments_created:
            report.departments_created.append(row.department)
    # With blocking problems the caller rolls all of this back; running it anyway makes the
    # preview say what the file would do once they are fixed.
    # Projects the file no longer lists: removed, unless a form already evaluates them.
    # (A project whose row was refused for a problem is in the file: not reported here.)
    removed = [
        p
        for p in existing
        if p.pk not in claimed
        and (p.department.name, p.project_name) not in parsed.refused
        and (p.department.name, p.project_code or p.project_name) not in parsed.refused
    ]
    for project in removed:
        action = "kept" if project.has_form else "removed"
        report.rows.append(
            RowReport(
                department=project.department.name,
                project_name=project.project_name,
                project_code=project.project_code,
                action=action,
                implementing_unit=project.implementing_unit,
                initial_budget=project.initial_budget,
                annual_budget=project.annual_budget,
                targets=len(project.targets.all()),
                project_id=project.pk,
            )
        )
        if project.has_form:
            report.problems.append(
                Problem(
                    PROJECTS_SHEET,
                    "",
                    _(
                        "“%(department)s”的项目“%(project)s”不在本文件中，但已有自评表，仍保留在清单中。"
                    )
                    % {"department": project.department.name, "project": project.project_name},
                    blocking=False,
                )
            )
    # The condition again at delete time: a form started since the plan keeps its project.
    DueProject.objects.filter(
        pk__in=[p.pk for p in removed if not p.has_form], evaluation__isnull=True
    ).delete()

    for department_name in report.departments_created:
        departments[department_name] = Department.objects.create(
            name=department_name, code=codes.get(department_name, "")
        )

    new_targets: list[DueTarget] = []
    for row, project in plan:
        if project is None:
            project = DueProject.objects.create(
                campaign=campaign,
                department=departments[row.department],
                **{key: getattr(row, key) for key in _FIELDS},
            )
            action = "created"
            new_targets.extend(_targets(project, row))
        else:
            changed = [
                key for key in _FIELDS if _value(getattr(project, key)) != _value(getattr(row, key))
            ]
            targets_changed = parsed.has_targets and [
                (t.level1, t.level2, t.name, t.target, _norm(t.weight))
                for t in project.targets.all()
            ] != [t.key() for t in row.targets]
            for key in changed:
                setattr(project, key, getattr(row, key))
            if changed:
                project.save(update_fields=[*changed, "updated_at"])
            if targets_changed:
                project.targets.all().delete()
                new_targets.extend(_targets(project, row))
            action = "updated" if changed or targets_changed else "unchanged"
        report.rows.append(_row_report(row, action))
        report.rows[-1].project_id = project.pk
        if not parsed.has_targets:
            report.rows[-1].targets = len(project.targets.all()) if action != "created" else 0
    DueTarget.objects.bulk_create(new_targets, batch_size=500)


def _department_codes(rows: list[ProjectRow], report: DueListReport) -> dict[str, str]:
    """Match rows to departments by 部门编码; return the codes of the departments still new.

    A row whose code is a registered department's becomes that department's row (its name
    in the file may be an old one). A code unknown to the register names a new department,
    or one registered without a code; a name registered with another code, or a code given
    to two names in the file, is a problem of the row's cell.
    """
    coded = [row for row in rows if row.department_code]
    if not coded:
        return {}
    registered = dict(
        Department.objects.filter(code__in={row.department_code for row in coded}).values_list(
            "code", "name"
        )
    )
    codes_of = dict(
        Department.objects.filter(name__in={row.department for row in coded}).values_list(
            "name", "code"
        )
    )
    new: dict[str, str] = {}  # a department not in the register by its code → its code
    first: dict[str, str] = {}  # a code unknown to the register → the first name it came with
    for row in coded:
        code = row.department_code
        if code in registered:
            row.department = registered[code]
            continue
        problem = ""
        if codes_of.get(row.department):
            problem = _("“%(name)s”在系统中的部门编码是“%(registered)s”，不是“%(code)s”。") % {
                "name": row.department,
                "registered": codes_of[row.department],
                "code": code,
            }
        elif first.setdefault(code, row.department) != row.department:
            problem = _("部门编码“%(code)s”在本文件中对应了两个部门：“%(a)s”和“%(b)s”。") % {
                "code": code,
                "a": first[code],
                "b": row.department,
            }
        elif new.setdefault(row.department, code) != code:
            problem = _("“%(name)s”在本文件中有两个部门编码：“%(a)s”和“%(b)s”。") % {
                "name": row.department,
                "a": new[row.department],
                "b": code,
            }
        if problem:
            report.problems.append(Problem(PROJECTS_SHEET, row.code_cell, problem))
    return new


def _value(value: Any) -> Any:
    return _norm(value) if isinstance(value, Decimal) else value


def _targets(project: DueProject, row: ProjectRow) -> list[DueTarget]:
    return [
        DueTarget(
            project=project,
            position=position,
            level1=t.level1,
            level2=t.level2,
            name=t.name,
            target=t.target,
            weight=t.weight,
        )
        for position, t in enumerate(row.targets, start=1)
    ]
