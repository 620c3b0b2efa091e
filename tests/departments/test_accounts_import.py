"""Accounts from a workbook: preview, import, re-import, and hostile files that write nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from departments.accounts_import import (
    COLUMNS,
    accounts_workbook,
    import_accounts,
    parse_accounts,
    passwords_workbook,
)
from departments.models import Department, Membership, Role

pytestmark = pytest.mark.django_db

HEADER = [header for _key, header in COLUMNS]
ROWS = [
    ["张三", "zhang3", "住建局", "填报人", "", "13812345678", "z3@example.com", ""],
    ["李四", "li4", "住建局", "部门审核人", "", "0994-2345678", "", ""],
    ["王五", "wang5", "民政局", "填报人", "民政局本级", "", "", ""],
    ["赵六", "zhao6", "", "财政局审核人", "", "", "", ""],
]


def xlsx(rows: list[list[object]], header: list[str] = HEADER, title: str = "账号") -> bytes:
    """A workbook as an administrator would type it (values, no formulas)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def problems(report) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in report.problems]


def nothing_written() -> bool:
    return not get_user_model().objects.exists() and not Department.objects.exists()


def test_the_preview_says_what_would_happen_and_writes_nothing():
    report = import_accounts(data=xlsx(ROWS), name="a.xlsx", dry_run=True)
    assert problems(report) == []
    assert [r.action for r in report.rows] == ["would-create"] * 4
    assert report.departments_created == ["住建局", "民政局"]
    assert report.passwords == []
    assert nothing_written()


def test_confirming_creates_named_accounts_that_must_choose_their_password():
    report = import_accounts(data=xlsx(ROWS), name="a.xlsx")
    assert not report.failed
    assert [(r.row, r.username, r.action) for r in report.rows] == [
        (2, "zhang3", "created"),
        (3, "li4", "created"),
        (4, "wang5", "created"),
        (5, "zhao6", "created"),
    ]
    m = Membership.objects.select_related("user", "department").get(user__username="wang5")
    assert (m.user.first_name, m.role, m.department.name, m.implementing_unit) == (
        "王五",
        Role.STAFF,
        "民政局",
        "民政局本级",
    )
    z3 = Membership.objects.select_related("user").get(user__username="zhang3")
    assert (z3.phone, z3.user.email) == ("13812345678", "z3@example.com")
    assert Membership.objects.get(user__username="zhao6").department is None
    assert set(Membership.objects.values_list("must_change_password", flat=True)) == {True}
    # Each new account's initial password is given back once, strong and working.
    handed_out = {p.username: p.password for p in report.passwords}
    assert set(handed_out) == {"zhang3", "li4", "wang5", "zhao6"}
    for username, password in handed_out.items():
        user = get_user_model().objects.get(username=username)
        assert len(password) >= 12 and user.check_password(password)
        assert password not in user.password  # stored hashed, never in clear
    assert len(set(handed_out.values())) == 4
    # The workbook handed out holds them.
    sheet = load_workbook(io.BytesIO(passwords_workbook(report.passwords)))["初始密码"]
    assert [c.value for c in sheet[2]] == [
        "张三",
        "zhang3",
        "住建局",
        "填报人",
        handed_out["zhang3"],
    ]


def test_a_given_initial_password_is_used_and_checked_by_the_validators():
    rows = [["张三", "zhang3", "住建局", "填报人", "", "", "", "Qz7-kettle-harbor"]]
    report = import_accounts(data=xlsx(rows), name="a.xlsx")
    assert get_user_model().objects.get(username="zhang3").check_password("Qz7-kettle-harbor")
    assert report.passwords[0].password == "Qz7-kettle-harbor"
    weak = [["李四", "li4", "住建局", "填报人", "", "", "", "12345678"]]
    report = import_accounts(data=xlsx(weak), name="b.xlsx")
    assert report.failed and report.problems[0].where == "账号!H2"
    assert "密码" in report.problems[0].message
    assert not get_user_model().objects.filter(username="li4").exists()


def test_the_same_file_again_changes_nothing_and_never_a_password():
    import_accounts(data=xlsx(ROWS), name="a.xlsx")
    hashes = dict(get_user_model().objects.values_list("username", "password"))
    report = import_accounts(data=xlsx(ROWS), name="a.xlsx")
    assert [r.action for r in report.rows] == ["unchanged"] * 4
    assert report.passwords == [] and report.departments_created == []
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes


def test_a_changed_row_updates_the_account_but_not_its_password_and_others_are_kept():
    import_accounts(data=xlsx(ROWS), name="a.xlsx")
    Membership.objects.filter(user__username="zhang3").update(must_change_password=False)
    hashes = dict(get_user_model().objects.values_list("username", "password"))
    changed = [
        [
            "张三丰",
            "zhang3",
            "民政局",
            "部门审核人",
            "民政局本级",
            "13900000000",
            "n@x.cn",
            "Xx-ignored-9",
        ]
    ]
    report = import_accounts(data=xlsx(changed + ROWS[1:3]), name="b.xlsx")
    assert [r.action for r in report.rows] == ["updated", "unchanged", "unchanged"]
    m = Membership.objects.select_related("user", "department").get(user__username="zhang3")
    assert (m.user.first_name, m.role, m.department.name, m.implementing_unit, m.phone) == (
        "张三丰",
        Role.HEAD,
        "民政局",
        "民政局本级",
        "13900000000",
    )
    assert m.user.email == "n@x.cn" and not m.must_change_password
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes
    assert get_user_model().objects.filter(username="zhao6").exists()  # not in the file: kept


# --- problems: the whole file is refused, each problem names its cell --------------------------


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        (["张三", "zhang3", "住建局", "科员", "", "", "", ""], "账号!D3", "未知的角色“科员”"),
        (["张三", "li4", "住建局", "填报人", "", "", "", ""], "账号!B3", "与第 2 行重复"),
        (["张三", "LI4", "住建局", "填报人", "", "", "", ""], "账号!B3", "与第 2 行重复"),
        (["张三", "zhang3", "", "填报人", "", "", "", ""], "账号!C3", "必须填写主管部门"),
        (
            ["张三", "zhang3", "住建局", "填报人", "", "电话", "", ""],
            "账号!F3",
            "不是有效的电话号码",
        ),
        (["张三", "zhang3", "住建局", "填报人", "", "", "z@", ""], "账号!G3", "不是有效的电子邮箱"),
        (["张三", "zhang 3", "住建局", "填报人", "", "", "", ""], "账号!B3", "只能包含字母"),
        (["", "zhang3", "住建局", "填报人", "", "", "", ""], "账号!A3", "姓名为空"),
        (["张三", "zhang3", "", "财政局审核人", "本级", "", "", ""], "账号!E3", "不限于实施单位"),
        (["张" * 151, "zhang3", "住建局", "填报人", "", "", "", ""], "账号!A3", "内容过长"),
    ],
)
def test_a_problem_blocks_the_whole_file_and_names_its_cell(row, where, message):
    rows = [["李四", "li4", "住建局", "填报人", "", "", "", ""], row]
    report = import_accounts(data=xlsx(rows), name="bad.xlsx")
    assert report.failed
    assert [p.where for p in report.problems] == [where]
    assert message in report.problems[0].message
    assert {r.action for r in report.rows} <= {"failed"}
    assert nothing_written()


def test_a_formula_cell_is_refused_with_its_cell():
    rows = [["李四", "li4", "住建局", "填报人", "", "", "", ""], ["王五", "wang5", "=A2", "填报人"]]
    report = import_accounts(data=xlsx(rows), name="formula.xlsx")
    assert report.failed
    assert [p.where for p in report.problems] == ["账号!C3"]
    assert "公式" in report.problems[0].message
    assert nothing_written()


def test_ten_thousand_rows_are_refused_with_the_first_cell_over_the_limit():
    workbook = Workbook(write_only=True)  # fast to write: the test is about the reading
    sheet = workbook.create_sheet("账号")
    sheet.append(HEADER)
    for i in range(10_000):
        sheet.append([f"人{i}", f"user{i}", "住建局", "填报人"])
    out = io.BytesIO()
    workbook.save(out)
    report = import_accounts(data=out.getvalue(), name="big.xlsx")
    assert report.failed
    assert "账号!A5001" in [p.where for p in report.problems]  # IMPORT_MAX_SHEET_ROWS
    assert "账号!A2002" in [p.where for p in report.problems]  # 2,000 accounts a file
    assert nothing_written()


def test_a_zip_bomb_is_refused_before_it_is_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (20 * 1024 * 1024))
    report = import_accounts(data=out.getvalue(), name="bomb.xlsx")
    assert report.failed
    assert [p.message for p in report.problems] == [
        "文件的压缩比超过 100 倍（上限），可能是“压缩炸弹”，未读取。"
    ]
    assert nothing_written()


def test_a_workbook_without_the_sheet_or_the_header_says_so():
    report = import_accounts(data=xlsx(ROWS, title="Sheet1"), name="x.xlsx")
    assert problems(report) == [("账号", "工作簿中没有名为“账号”的工作表。")]
    report = import_accounts(data=xlsx(ROWS, header=["姓名", "用户名", "部门"]), name="x.xlsx")
    assert problems(report) == [("账号!A1", "表头缺少“角色”列。")]


def test_the_template_in_sample_data_is_the_one_the_page_offers():
    path = Path(django_settings.BASE_DIR) / "sample_data" / "accounts_template.xlsx"
    for data in (path.read_bytes(), accounts_workbook()):
        sheet = load_workbook(io.BytesIO(data))["账号"]
        assert [c.value for c in sheet[1]] == HEADER
        assert [p.message for p in parse_accounts(data).problems] == ["文件中没有找到账号。"]


# --- the command --------------------------------------------------------------------------------


def test_the_command_reports_json_and_writes_the_passwords_once(tmp_path, capsys):
    source = tmp_path / "accounts.xlsx"
    source.write_bytes(xlsx(ROWS))
    call_command("import_accounts", str(source), "--dry-run", "--json")
    dry = json.loads(capsys.readouterr().out)
    assert dry["files"][0]["rows"][0] == {
        "row": 2,
        "username": "zhang3",
        "name": "张三",
        "department": "住建局",
        "role": "staff",
        "action": "would-create",
    }
    assert nothing_written()
    out = tmp_path / "passwords.xlsx"
    call_command("import_accounts", str(source), "--json", "--passwords", str(out))
    report = json.loads(capsys.readouterr().out)["files"][0]
    assert (report["failed"], report["departments_created"], report["problems"]) == (
        False,
        ["住建局", "民政局"],
        [],
    )
    assert [r["action"] for r in report["rows"]] == ["created"] * 4
    assert (out.stat().st_mode & 0o777) == 0o600
    sheet = load_workbook(out)["初始密码"]
    user = get_user_model().objects.get(username=sheet["B2"].value)
    assert user.check_password(sheet["E2"].value)
    call_command("import_accounts", str(source), "--json")
    again = json.loads(capsys.readouterr().out)["files"][0]
    assert {r["action"] for r in again["rows"]} == {"unchanged"}


def test_the_command_fails_with_the_cells_named(tmp_path, capsys):
    source = tmp_path / "bad.xlsx"
    source.write_bytes(xlsx([ROWS[0], ["x", "zhang3", "住建局", "填报人"]]))
    with pytest.raises(CommandError):
        call_command("import_accounts", str(source))
    assert "账号!B3：用户名“zhang3”与第 2 行重复。" in capsys.readouterr().out
    assert nothing_written()


def test_generated_passwords_are_hashed_fast_and_upgraded_at_sign_in(settings):
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    report = import_accounts(data=xlsx(ROWS[:1]), name="a.xlsx")
    user = get_user_model().objects.get(username="zhang3")
    assert user.password.startswith("pbkdf2_sha256$20000$")
    request = RequestFactory().post("/accounts/login/")
    password = report.passwords[0].password
    assert authenticate(request, username="zhang3", password=password) is not None
    user.refresh_from_db()
    assert not user.password.startswith("pbkdf2_sha256$20000$")  # the default rounds now
