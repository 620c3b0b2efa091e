"""The accounts import pages (/people/import/): the administrator's upload, preview, confirm."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from departments.models import Department, Membership
from evaluations.models import ImportUpload
from tests.departments.test_accounts_import import ROWS, xlsx

pytestmark = pytest.mark.django_db

GIVEN = "Qz7-kettle-harbor"


def upload(client, rows=ROWS):
    data = xlsx(rows)
    return client.post(
        "/people/import/", {"file": SimpleUploadedFile("人员.xlsx", data)}, follow=False
    )


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, name
    return match.group(1)


def test_the_page_offers_the_template(client_admin):
    page = client_admin.get("/people/import/").content.decode()
    assert "下载模板" in page and "/people/import/template.xlsx" in page
    response = client_admin.get("/people/import/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["账号"]
    assert sheet["A1"].value == "姓名" and sheet["H1"].value == "初始密码"


def test_upload_previews_then_confirm_imports_and_the_passwords_download_once(client_admin):
    rows = [*ROWS[:3], ["赵六", "zhao6", "", "财政局审核人", "", "", "", GIVEN]]
    response = upload(client_admin, rows)
    page = response.content.decode()
    assert response.status_code == 200
    assert "将新建 4 个账号" in page and "住建局、民政局" in page
    assert not get_user_model().objects.filter(username="zhang3").exists()
    assert not Department.objects.exists()
    # The stored preview is sealed: the given password is nowhere in the database.
    stored = ImportUpload.objects.get()
    assert GIVEN.encode() not in bytes(stored.data) and b"zhang3" not in bytes(stored.data)

    page = client_admin.post(
        "/people/import/confirm/", {"batch": hidden(page, "batch"), "key": hidden(page, "key")}
    ).content.decode()
    assert "已新建" in page and "新账号的初始密码只能下载这一次" in page
    assert Membership.objects.filter(must_change_password=True).count() == 4
    assert not ImportUpload.objects.exists()
    # The passwords wait sealed in the session: not in clear in the database.
    session_data = "".join(s.session_data for s in Session.objects.all())
    assert GIVEN not in Session.objects.get().get_decoded().__repr__()
    assert GIVEN not in session_data

    key = hidden(page, "key")
    response = client_admin.post("/people/import/passwords.xlsx", {"key": key})
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content))["初始密码"]
    passwords = {row[1]: row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert passwords["zhao6"] == GIVEN
    for username, password in passwords.items():
        assert get_user_model().objects.get(username=username).check_password(password)
    again = client_admin.post("/people/import/passwords.xlsx", {"key": key}, follow=True)
    assert "初始密码已下载过或已失效" in again.content.decode()


def test_a_wrong_key_imports_nothing(client_admin):
    page = upload(client_admin).content.decode()
    response = client_admin.post(
        "/people/import/confirm/", {"batch": hidden(page, "batch"), "key": "A" * 44}, follow=True
    )
    assert "导入预览已过期或不存在" in response.content.decode()
    assert not get_user_model().objects.filter(username="zhang3").exists()


def test_a_file_with_problems_cannot_be_confirmed_and_names_its_cells(client_admin):
    page = upload(client_admin, [ROWS[0], ["x", "zhang3", "住建局", "科员"]]).content.decode()
    assert "账号!B3" in page and "账号!D3" in page
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled>', page)
    response = client_admin.post(
        "/people/import/confirm/", {"batch": hidden(page, "batch"), "key": hidden(page, "key")}
    )
    assert "导入失败，未写入任何数据" in response.content.decode()
    assert not get_user_model().objects.filter(username="zhang3").exists()


def test_a_file_that_is_not_xlsx_keeps_the_page_with_a_message(client_admin):
    response = client_admin.post(
        "/people/import/", {"file": SimpleUploadedFile("人员.csv", b"a,b")}
    )
    assert "只能导入 .xlsx 文件。" in response.content.decode()


@pytest.mark.parametrize("client_name", ["client_finance", "client_a"])
def test_everyone_but_the_administrator_gets_404(client_name, request):
    client = request.getfixturevalue(client_name)
    assert client.get("/people/import/").status_code == 404
    assert upload(client).status_code == 404
    assert not ImportUpload.objects.exists()


def test_the_people_page_links_the_import_for_the_administrator_only(client_admin, client_finance):
    assert 'href="/people/"' in client_admin.get("/evaluations/").content.decode()
    assert 'href="/people/import/"' in client_admin.get("/people/").content.decode()
    assert 'href="/people/"' not in client_finance.get("/evaluations/").content.decode()
    assert "/people/import/" not in client_finance.get("/people/departments/").content.decode()


def test_sealed_data_opens_only_with_its_own_key_and_unchanged():
    from departments.sealed import seal, unseal

    key, sealed = seal(b"zhang3 Qz7-kettle-harbor")
    assert b"Qz7" not in sealed
    assert unseal(key, sealed) == b"zhang3 Qz7-kettle-harbor"
    other, _ = seal(b"x")
    assert unseal(other, sealed) is None
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert unseal(key, tampered) is None
    assert unseal("not base64!", sealed) is None
