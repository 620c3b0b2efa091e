"""Accounts from a workbook: the template, reading, importing (``import_accounts``, /people/import/).

Sheet "账号": 姓名, 用户名, 主管部门, 角色 (填报人 / 部门审核人 / 财政局审核人), 实施单位
(optional: the unit a filler or head is limited to), 手机, 电子邮箱, 初始密码 (optional).
The file is hostile: it goes through the archive checks of ``common.archive``
and the bounded reader of ``common.xlsx``, as the due list does, and a formula
anywhere is refused (a list of people holds only typed values). Reading never raises:
every problem names its cell ("账号!D7").

Importing follows the due list's contract: one transaction per file, a file with any
problem writes nothing, a dry run is the same run rolled back. Accounts are matched by
用户名. A new account gets the file's 初始密码 or a generated one, and must choose its own
at first sign-in; an existing account gets the file's name, role, department, unit, phone
and e-mail, never a new password; an account missing from the file is left alone.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.archive import open_archive
from common.imports import write_in_one_transaction
from common.xlsx import (
    CellBudget,
    SheetProblem,
    find_header,
    legacy_xls_message,
    max_rows,
    missing_columns_message,
    no_header_message,
    open_workbook,
    set_text,
    sheet_texts,
    sheet_values,
    unreadable_message,
    workbook_bytes,
    write_headers,
)
from departments.models import Department, Membership, Role

SHEET = "账号"
PASSWORDS_SHEET = "初始密码"
# (key, header) in the template's order.
COLUMNS = [
    ("name", "姓名"),
    ("username", "用户名"),
    ("department", "主管部门"),
    ("role", "角色"),
    ("implementing_unit", "实施单位"),
    ("phone", "手机"),
    ("email", "电子邮箱"),
    ("password", "初始密码"),
]
HEADERS = dict(COLUMNS)
# The role as the file writes it (the membership's own labels are accepted too).
ROLE_NAMES = {
    "填报人": Role.STAFF,
    "部门填报人": Role.STAFF,
    "部门审核人": Role.HEAD,
    "财政局审核人": Role.FINANCE,
}
ROLE_LABELS = {Role.STAFF: "填报人", Role.HEAD: "部门审核人", Role.FINANCE: "财政局审核人"}
# Accounts of one file: a prefecture has about 600 (400 fillers and heads, 200 departments).
MAX_ACCOUNTS = 2000
HEADER_SEARCH_ROWS = 10
# A phone as written (after NFKC): digits with spaces, hyphens, brackets, a leading +.
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,28}[0-9]$")
# Generated passwords: no look-alike characters (0/O, 1/l/I), read aloud or copied by hand.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
GENERATED_LENGTH = 12


class InitialPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with fewer rounds, for generated initial passwords only.

    A generated password is 12 characters of 56 (about 70 random bits): no rounds are
    needed against guessing, while the default rounds (about half a second each here)
    would make 400 accounts take minutes. The account must replace it at first sign-in,
    and Django rehashes it with the default rounds on that sign-in anyway.
    """

    iterations = 20_000


def _initial_hasher() -> Any:
    """The hasher of generated passwords: fewer PBKDF2 rounds where PBKDF2 is the default."""
    default = get_hasher("default")
    return InitialPasswordHasher() if isinstance(default, PBKDF2PasswordHasher) else default


# --- the report -------------------------------------------------------------------------------


class Problem(SheetProblem):
    """A problem of the file: it blocks the whole file."""


@dataclass
class AccountRow:
    """One row of sheet 账号, as read and checked."""

    row: int
    name: str
    username: str
    department: str
    role: str  # a Role value
    implementing_unit: str
    phone: str
    email: str
    password: str  # "" when the file gives none


@dataclass
class RowReport:
    """What happened (or would happen) to the account of one row."""

    row: int
    username: str
    name: str
    department: str
    role: str
    action: str  # created|updated|unchanged|would-create|would-update|failed

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "username": self.username,
            "name": self.name,
            "department": self.department,
            "role": self.role,
            "action": self.action,
        }

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)  # type: ignore[call-overload]


@dataclass
class InitialPassword:
    """A new account's initial password: handed out once, never stored in clear."""

    name: str
    username: str
    department: str
    role: str
    password: str


@dataclass
class AccountsReport:
    """What importing one file did (or would do)."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)
    departments_created: list[str] = field(default_factory=list)
    failed: bool = False  # nothing of the file was (or would be) written
    # Only after a real import; never in the JSON report.
    passwords: list[InitialPassword] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "failed": self.failed,
            "departments_created": self.departments_created,
            "problems": [p.as_json() for p in self.problems],
            "rows": [r.as_json() for r in self.rows],
        }


def reports_as_json(reports: list[AccountsReport]) -> dict[str, Any]:
    """The ``--json`` report of ``import_accounts`` (the shape of ``import_due_list``'s)."""
    return {"files": [report.as_json() for report in reports]}


# --- workbooks written --------------------------------------------------------------------------


def _sheet(workbook: Workbook, title: str, headers: list[str]) -> Any:
    sheet = workbook.active
    sheet.title = title
    write_headers(sheet, headers, [36 if header == "主管部门" else 16 for header in headers])
    return sheet


def accounts_workbook(rows: list[list[str]] | None = None) -> bytes:
    """The template (empty, or holding ``rows`` in the order of ``COLUMNS``) as .xlsx bytes."""
    workbook = Workbook()
    sheet = _sheet(workbook, SHEET, [header for _key, header in COLUMNS])
    # Every column is text: a phone number typed into it keeps its leading zero.
    for index in range(1, len(COLUMNS) + 1):
        for r in range(2, 2 + max(len(rows or []), 200)):
            sheet.cell(row=r, column=index).number_format = "@"
    for r, values in enumerate(rows or [], start=2):
        for column, text in enumerate(values, start=1):
            if text:
                set_text(sheet.cell(row=r, column=column), text)
    return workbook_bytes(workbook)


def passwords_workbook(passwords: list[InitialPassword]) -> bytes:
    """The new accounts' initial passwords, to hand out (sheet 初始密码)."""
    workbook = Workbook()
    headers = ["姓名", "用户名", "主管部门", "角色", "初始密码"]
    sheet = _sheet(workbook, PASSWORDS_SHEET, headers)
    for r, p in enumerate(passwords, start=2):
        values = [p.name, p.username, p.department, ROLE_LABELS.get(p.role, p.role), p.password]
        for column, text in enumerate(values, start=1):
            set_text(sheet.cell(row=r, column=column), text)
    return workbook_bytes(workbook)


def generated_password() -> str:
    """A strong random password (``secrets``) with at least one letter and one digit."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


# --- reading ----------------------------------------------------------------------------------


@dataclass
class ParsedAccounts:
    rows: list[AccountRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    formula_rows: set[int] = field(default_factory=set)  # refused already: not checked again


def _read_sheet(data: bytes, result: ParsedAccounts) -> dict[int, dict[int, str]] | None:
    """The texts of sheet 账号 within the import limits; None when it cannot be read.

    Cells are read as written (not Excel's cached results): a formula is a problem of its
    cell, whatever it computes.
    """

    problems = result.problems
    legacy = legacy_xls_message(data)
    if legacy is not None:
        problems.append(Problem("", "", legacy))
        return None
    try:
        archive = open_archive(data)
        reader, plans = open_workbook(data, archive)
        plan = next((p for p in plans if p.title.strip() == SHEET), None)
        if plan is None:
            problems.append(
                Problem(SHEET, "", _("工作簿中没有名为“%(sheet)s”的工作表。") % {"sheet": SHEET})
            )
            return None
        if plan.rows_beyond:
            problems.append(
                Problem(
                    SHEET,
                    f"A{max_rows() + 1}",
                    _("工作表超过 %(max)s 行（上限），请分成几个文件导入。") % {"max": max_rows()},
                )
            )
        if not plan.last_row:
            return {}

        def formula(row: int, column: int) -> None:
            result.formula_rows.add(row)
            problems.append(
                Problem(
                    SHEET,
                    f"{get_column_letter(column)}{row}",
                    _("单元格是公式：请只填写文字（复制后“选择性粘贴 → 数值”）。"),
                )
            )

        # Rows past the most a file may hold are never needed: the limit's problem names
        # the first of them.
        values = sheet_values(
            reader, plan, formulas=True, most_rows=MAX_ACCOUNTS + HEADER_SEARCH_ROWS
        )
        return sheet_texts(values, CellBudget(), on_formula=formula)
    except Exception as error:  # noqa: BLE001 - a damaged workbook must become a report
        problems.append(Problem("", "", unreadable_message(error)))
    return None


def _find_header(
    texts: dict[int, dict[int, str]], problems: list[Problem]
) -> tuple[int, dict[str, int]] | None:
    """The header row and the column of each key; a problem when a required one is missing."""
    header = find_header(
        texts, COLUMNS, lambda found: "username" in found or "name" in found, HEADER_SEARCH_ROWS
    )
    if header is None:
        problems.append(Problem(SHEET, "", no_header_message(HEADER_SEARCH_ROWS, COLUMNS)))
        return None
    r, found = header
    missing = [HEADERS[key] for key in ("name", "username", "role") if key not in found]
    if missing:
        problems.append(Problem(SHEET, f"A{r}", missing_columns_message(missing)))
        return None
    return header


def _limits() -> dict[str, int]:
    user = get_user_model()
    return {
        "name": user._meta.get_field("first_name").max_length,
        "username": user._meta.get_field("username").max_length,
        "department": Department._meta.get_field("name").max_length,
        "role": 20,
        "implementing_unit": Membership._meta.get_field("implementing_unit").max_length,
        "phone": Membership._meta.get_field("phone").max_length,
        "email": user._meta.get_field("email").max_length,
        "password": 128,
    }


def parse_accounts(data: bytes) -> ParsedAccounts:
    """Read an accounts workbook; never raises, each problem names its cell."""
    result = ParsedAccounts()
    problems = result.problems
    texts = _read_sheet(data, result)
    if texts is None:
        return result
    header = _find_header(texts, problems)
    if header is None:
        return result
    header_row, columns = header
    limits = _limits()
    username_validator = UnicodeUsernameValidator()
    seen: dict[str, int] = {}  # username (casefolded) -> its row

    def cell(key: str, r: int) -> str:
        return f"{get_column_letter(columns[key])}{r}" if key in columns else f"A{r}"

    accounts = 0
    for r in sorted(texts):
        if r <= header_row or (not any(texts[r].values()) and r not in result.formula_rows):
            continue
        accounts += 1
        if accounts > MAX_ACCOUNTS:
            problems.append(
                Problem(
                    SHEET,
                    f"A{r}",
                    _("一个文件最多 %(max)s 个账号（上限）：请分成几个文件导入。")
                    % {"max": MAX_ACCOUNTS},
                )
            )
            break
        if r in result.formula_rows:
            continue
        before = len(problems)

        def problem(key: str, message: str, r: int = r) -> None:
            problems.append(Problem(SHEET, cell(key, r), message))

        values: dict[str, str] = {}
        for key, _header in COLUMNS:
            text = texts[r].get(columns[key], "") if key in columns else ""
            if key == "username":
                text = unicodedata.normalize("NFKC", text)
            if len(text) > limits[key]:
                problem(
                    key,
                    _("内容过长：%(length)s 字，最多 %(limit)s 字。")
                    % {"length": len(text), "limit": limits[key]},
                )
                text = ""
            values[key] = text
        for key in ("name", "username", "role"):
            if not values[key] and len(problems) == before:
                problem(key, _("%(column)s为空。") % {"column": HEADERS[key]})
        username = values["username"]
        if username:
            try:
                username_validator(username)
            except ValidationError:
                problem(
                    "username",
                    _("用户名“%(username)s”只能包含字母、数字和 @ . + - _ 这些符号。")
                    % {"username": username},
                )
            else:
                first = seen.get(username.casefold())
                if first is not None:
                    problem(
                        "username",
                        _("用户名“%(username)s”与第 %(row)s 行重复。")
                        % {"username": username, "row": first},
                    )
                else:
                    seen[username.casefold()] = r
        role = ROLE_NAMES.get(values["role"], "")
        if values["role"] and not role:
            problem(
                "role",
                _("未知的角色“%(role)s”：应为 填报人、部门审核人 或 财政局审核人。")
                % {"role": values["role"]},
            )
        if role in (Role.STAFF, Role.HEAD) and not values["department"]:
            problem("department", _("填报人和部门审核人必须填写主管部门。"))
        if role == Role.FINANCE and values["implementing_unit"]:
            problem("implementing_unit", _("财政局审核人不限于实施单位，请留空。"))
        phone = unicodedata.normalize("NFKC", values["phone"])
        if phone and not _PHONE_RE.match(phone):
            problem("phone", _("“%(phone)s”不是有效的电话号码。") % {"phone": values["phone"]})
        email = values["email"]
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problem("email", _("“%(email)s”不是有效的电子邮箱。") % {"email": email})
        if len(problems) != before:
            continue
        result.rows.append(
            AccountRow(
                row=r,
                name=values["name"],
                username=username,
                department=values["department"],
                role=role,
                implementing_unit=values["implementing_unit"],
                phone=phone,
                email=email,
                password=values["password"],
            )
        )
    if not result.rows and not problems:
        problems.append(Problem(SHEET, "", _("文件中没有找到账号。")))
    # Initial passwords are checked where the cell is known, with the row's own name.
    for row in result.rows:
        if row.password:
            _check_password(row, cell("password", row.row), problems)
    return result


def _check_password(row: AccountRow, where: str, problems: list[Problem]) -> None:
    """Django's password validators on a given 初始密码 (the account it will belong to)."""
    user = get_user_model()(username=row.username, first_name=row.name, email=row.email)
    try:
        validate_password(row.password, user=user)
    except ValidationError as error:
        problems.append(Problem(SHEET, where, " ".join(error.messages)))


# --- importing ---------------------------------------------------------------------------------


def import_accounts(*, data: bytes, name: str, dry_run: bool = False) -> AccountsReport:
    """Import (or preview) one accounts workbook, in one transaction; never raises."""
    report = AccountsReport(file=name)
    parsed = parse_accounts(data)
    report.problems.extend(parsed.problems)
    passwords: list[InitialPassword] = []

    def write() -> bool:
        # A file with problems is only previewed: no password is hashed for nothing.
        _apply(parsed, report, passwords, dry_run=dry_run or bool(report.problems))
        return dry_run or bool(report.problems)

    refused = write_in_one_transaction(write)
    if refused is not None:
        report.problems.append(Problem("", "", refused))
    if report.problems:
        report.failed = True
        if not dry_run:
            for row in report.rows:
                row.action = "failed"
        return report
    if dry_run:
        for row in report.rows:
            row.action = {"created": "would-create", "updated": "would-update"}.get(
                row.action, row.action
            )
        return report
    report.passwords = passwords
    return report


def _apply(
    parsed: ParsedAccounts,
    report: AccountsReport,
    passwords: list[InitialPassword],
    *,
    dry_run: bool,
) -> None:
    """Write the file's accounts (the caller rolls back a dry run or a file with problems)."""
    User = get_user_model()
    names = {row.department for row in parsed.rows if row.department}
    departments = {d.name: d for d in Department.objects.filter(name__in=names)}
    for row in parsed.rows:
        if row.department and row.department not in departments:
            if row.department not in report.departments_created:
                report.departments_created.append(row.department)
    for department_name in report.departments_created:
        departments[department_name] = Department.objects.create(name=department_name)

    existing = {
        u.username: u
        for u in User.objects.filter(username__in=[row.username for row in parsed.rows])
        .select_related("membership")
        .select_for_update(of=("self",))
    }
    new_users = []
    new_memberships: list[Membership] = []
    for row in parsed.rows:
        department = departments.get(row.department) if row.department else None
        user = existing.get(row.username)
        if user is None:
            password = row.password or generated_password()
            user = User(username=row.username, first_name=row.name, email=row.email)
            if dry_run:
                user.set_unusable_password()  # never hashed in a preview: nothing is kept
            elif row.password:
                user.password = make_password(password)
            else:
                user.password = make_password(password, hasher=_initial_hasher())
            new_users.append(user)
            passwords.append(
                InitialPassword(row.name, row.username, row.department, row.role, password)
            )
            action = "created"
        else:
            action = _update(user, row, department, new_memberships)
        report.rows.append(
            RowReport(row.row, row.username, row.name, row.department, row.role, action)
        )
    created = User.objects.bulk_create(new_users, batch_size=500)
    if created and created[0].pk is None:
        # A backend that does not return keys from bulk inserts: fetch them by username.
        pks = dict(
            User.objects.filter(username__in=[u.username for u in created]).values_list(
                "username", "pk"
            )
        )
        for u in created:
            u.pk = pks[u.username]
    rows = {row.username: row for row in parsed.rows}
    for user in created:
        row = rows[user.username]
        new_memberships.append(
            Membership(
                user=user,
                role=row.role,
                department=departments.get(row.department) if row.department else None,
                implementing_unit=row.implementing_unit,
                phone=row.phone,
                must_change_password=True,
            )
        )
    Membership.objects.bulk_create(new_memberships, batch_size=500)


def _update(
    user: Any, row: AccountRow, department: Department | None, new_memberships: list[Membership]
) -> str:
    """Bring an existing account in line with its row (never its password): its action."""
    changed = False
    if (user.first_name, user.email) != (row.name, row.email):
        user.first_name, user.email = row.name, row.email
        user.save(update_fields=["first_name", "email"])
        changed = True
    wanted = {
        "role": row.role,
        "department_id": department.pk if department is not None else None,
        "implementing_unit": row.implementing_unit,
        "phone": row.phone,
    }
    membership = getattr(user, "membership", None)
    if membership is None:
        # An account made elsewhere (Django admin) without a role: it keeps its password.
        new_memberships.append(Membership(user=user, **wanted))
        return "updated"
    fields = [key for key, value in wanted.items() if getattr(membership, key) != value]
    for key in fields:
        setattr(membership, key, wanted[key])
    if fields:
        membership.save(update_fields=fields)
    return "updated" if changed or fields else "unchanged"
