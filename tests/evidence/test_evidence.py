"""Evidence files (佐证材料): type and size checks with real files, storage, permissions, history."""

from __future__ import annotations

import importlib.util
import re
import struct
import zlib
from io import BytesIO

import pytest
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import html as lxml_html

from evaluations.history import describe_change
from evaluations.models import EventAction
from evaluations.workflow import evaluation_submit
from evidence.models import EvidenceFile
from tests.conftest import PROJECT_DIR, client_for
from tests.factories import make_evaluation
from tests.storage_helpers import stored_bytes, stored_names

pytestmark = [pytest.mark.django_db, pytest.mark.files]

MIB = 1024 * 1024


# --- real files ---------------------------------------------------------------------------


def pdf_bytes(text: str = "contract") -> bytes:
    """A small but well-formed one-page PDF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = BytesIO()
    out.write(b"%PDF-1.4\n%" + text.encode() + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (4, xref))
    return out.getvalue()


def png_bytes() -> bytes:
    """A 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    import docx

    buffer = BytesIO()
    document = docx.Document()
    document.add_paragraph("验收报告")
    document.save(buffer)
    return buffer.getvalue()


def exe_bytes() -> bytes:
    """The start of a Windows program (MZ header, PE signature)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"PE\x00\x00" + b"\x00" * 400


def _bombs():
    path = PROJECT_DIR / "scripts" / "bench_import_bombs.py"
    spec = importlib.util.spec_from_file_location("bench_import_bombs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- helpers ------------------------------------------------------------------------------


def evidence_on(evaluation, user, name: str = "合同.pdf", row: str = "") -> EvidenceFile:
    """A stored PDF on ``evaluation`` whatever its state (for pages that show or serve one)."""
    data = pdf_bytes()
    stored = default_storage.save(
        f"evidence/{evaluation.pk}/test{evaluation.pk}", ContentFile(data)
    )
    return EvidenceFile.objects.create(
        evaluation=evaluation,
        row=row,
        original_name=name,
        size=len(data),
        kind="pdf",
        sha256="0" * 64,
        stored_name=stored,
        uploaded_by=user,
    )


def upload(client, evaluation, *files, back: str = "edit"):
    """POST files: each (name, bytes) or (name, bytes, caption, row)."""
    data = {
        "back": back,
        "evidence-TOTAL_FORMS": "3",
        "evidence-INITIAL_FORMS": "0",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "3",
    }
    for i, item in enumerate(files):
        name, content, caption, row = (*item, "", "")[:4]
        data[f"evidence-{i}-file"] = SimpleUploadedFile(name, content)
        data[f"evidence-{i}-caption"] = caption
        data[f"evidence-{i}-row"] = row
    return client.post(f"/evaluations/{evaluation.pk}/evidence/upload/", data)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def draft(dept_a, staff_a):
    return make_evaluation(dept_a, staff_a)


# --- accepted -----------------------------------------------------------------------------


def test_it_accepts_a_pdf_a_png_and_a_docx_at_once_under_random_names(client_a, draft, staff_a):
    key = draft.indicators.order_by("position")[2].key
    response = upload(
        client_a,
        draft,
        ("验收报告.pdf", pdf_bytes(), "验收报告", key),
        ("现场照片.PNG", png_bytes(), "照片", "funding"),
        ("满意度调查.docx", docx_bytes()),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/evaluations/{draft.pk}/edit/"
    files = {f.original_name: f for f in draft.evidence.all()}
    assert set(files) == {"验收报告.pdf", "现场照片.PNG", "满意度调查.docx"}
    assert [files[n].kind for n in ("验收报告.pdf", "现场照片.PNG", "满意度调查.docx")] == [
        "pdf",
        "png",
        "docx",
    ]
    pdf = files["验收报告.pdf"]
    assert (pdf.row, pdf.caption, pdf.size, pdf.uploaded_by) == (
        key,
        "验收报告",
        len(pdf_bytes()),
        staff_a,
    )
    assert files["现场照片.PNG"].row == "funding"
    import hashlib

    assert pdf.sha256 == hashlib.sha256(pdf_bytes()).hexdigest()
    for f in files.values():
        assert re.fullmatch(rf"evidence/{draft.pk}/[0-9a-f]{{32}}", f.stored_name)
        assert default_storage.exists(f.stored_name)
    assert stored_bytes(pdf.stored_name) == pdf_bytes()


def test_it_checks_a_docx_spooled_to_a_temporary_file(client_a, draft, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # the test client's upload goes to disk
    data = docx_bytes()
    assert len(data) > 1024
    upload(client_a, draft, ("满意度调查.docx", data))
    assert draft.evidence.get().kind == "docx"


def test_it_refuses_more_files_than_a_request_may_carry(client_a, draft):
    data = {
        "evidence-TOTAL_FORMS": "11",
        "evidence-INITIAL_FORMS": "0",
        "evidence-MIN_NUM_FORMS": "0",
        "evidence-MAX_NUM_FORMS": "10",
    }
    for i in range(11):
        data[f"evidence-{i}-file"] = SimpleUploadedFile(f"{i}.pdf", pdf_bytes())
    response = client_a.post(f"/evaluations/{draft.pk}/evidence/upload/", data)
    assert response.status_code == 302
    assert draft.evidence.count() == 0


def test_it_cleans_the_original_name(client_a, draft):
    upload(client_a, draft, ("..\\..\\evil\u202efdp.pdf", pdf_bytes()))
    assert draft.evidence.get().original_name == "evilfdp.pdf"


# --- refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("合同.pdf", exe_bytes(), "内容不是允许的格式"),
        ("照片.png", pdf_bytes(), "内容是 PDF，与扩展名不符"),
        ("报告.docx", pdf_bytes(), "内容是 PDF，与扩展名不符"),
        ("程序.exe", exe_bytes(), "不支持的文件类型"),
        ("表.xlsx", docx_bytes(), "与扩展名不符"),
        ("损坏.docx", b"PK\x03\x04" + b"\x00" * 100, "文件已损坏"),
    ],
)
def test_it_refuses_content_that_is_not_what_the_name_says(client_a, draft, name, content, message):
    response = upload(client_a, draft, (name, content))
    assert response.status_code == 302
    assert any(message in m for m in messages_of(response)), messages_of(response)
    assert draft.evidence.count() == 0
    assert stored_names("evidence") == []


@pytest.mark.parametrize(
    ("xml_size", "message"),
    [
        (60 * MIB, "文件解压后超过 50 MB（上限），未读取。"),
        (30 * MIB, "文件的压缩比超过 100 倍（上限），可能是“压缩炸弹”，未读取。"),
    ],
)
def test_it_refuses_a_zip_bomb_named_docx(client_a, draft, xml_size, message):
    data = _bombs().empty_paragraphs_docx(xml_size=xml_size)
    assert len(data) < 2 * MIB
    response = upload(client_a, draft, ("验收报告.docx", data))
    assert messages_of(response) == [message]
    assert draft.evidence.count() == 0


def test_it_refuses_a_file_over_the_limit_naming_it(client_a, draft, settings):
    settings.EVIDENCE_MAX_FILE_BYTES = 2048
    response = upload(client_a, draft, ("大文件.pdf", pdf_bytes() + b"%" * 3000))
    assert messages_of(response) == ["文件“大文件.pdf”超过 2 KB（单个文件上限），未接受。"]
    assert draft.evidence.count() == 0


def test_it_refuses_a_file_over_the_form_limit(client_a, draft, settings):
    settings.EVIDENCE_MAX_FORM_BYTES = len(pdf_bytes()) * 2 + 10
    upload(client_a, draft, ("1.pdf", pdf_bytes()), ("2.pdf", pdf_bytes()))
    response = upload(client_a, draft, ("3.pdf", pdf_bytes()))
    assert any("每张表上限" in m and "3.pdf" in m for m in messages_of(response))
    assert sorted(draft.evidence.values_list("original_name", flat=True)) == ["1.pdf", "2.pdf"]
    stored = stored_names("evidence")
    assert [name for name in stored if "." in name] == []  # only random names, no leftovers
    assert len(stored) == 2


def test_the_upload_script_gets_the_renewed_section_and_the_page_stays(client_a, draft):
    response = client_a.post(
        f"/evaluations/{draft.pk}/evidence/upload/",
        {
            "back": "edit",
            "evidence-TOTAL_FORMS": "2",
            "evidence-INITIAL_FORMS": "0",
            "evidence-0-file": SimpleUploadedFile("a.pdf", pdf_bytes()),
            "evidence-1-file": SimpleUploadedFile("b.pdf", b"not a pdf"),
        },
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    answer = response.json()
    assert [m["level"] for m in answer["messages"]] == ["success", "danger"]
    assert answer["messages"][0]["text"] == "已上传“a.pdf”。"
    assert "b.pdf" in answer["messages"][1]["text"]
    section = lxml_html.fromstring(answer["section"])
    assert section.get("id") == "evidence"
    assert [a.text_content() for a in section.xpath('//li[@class="evidence-file"]/a')] == ["a.pdf"]
    # The renewed upload form still goes back to the edit page without the script.
    assert section.xpath('//form[contains(@class, "evidence-upload")]//input[@name="back"]/@value')
    assert section.xpath('//input[@name="back"]/@value')[0] == "edit"
    assert draft.evidence.count() == 1
    # Nothing is left for the next page to say.
    page = client_a.get(f"/evaluations/{draft.pk}/edit/")
    assert "已上传“a.pdf”" not in page.content.decode()
    delete = client_a.post(
        f"/evaluations/{draft.pk}/evidence/{draft.evidence.get().pk}/delete/",
        {"back": "edit"},
        headers={"X-Requested-With": "XMLHttpRequest"},
    ).json()
    assert delete["messages"] == [{"level": "success", "text": "已删除“a.pdf”。"}]
    assert "尚未上传佐证材料。" in delete["section"]


def test_it_asks_for_a_file(client_a, draft):
    response = upload(client_a, draft)
    assert messages_of(response) == ["请选择至少一个文件。"]


# --- who may download ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff_a", 200),
        ("colleague_a", 200),
        ("head_a", 200),
        ("finance", 200),
        ("admin_user", 200),
        ("staff_b", 404),
        ("head_b", 404),
    ],
)
def test_it_serves_the_file_to_those_who_see_the_form(request, dept_a, staff_a, who, status):
    evaluation = make_evaluation(dept_a, staff_a)
    evidence = evidence_on(evaluation, staff_a, name="验收 报告.pdf")
    client = client_for(request.getfixturevalue(who))
    response = client.get(f"/evaluations/{evaluation.pk}/evidence/{evidence.pk}/")
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == pdf_bytes()
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert (
            "filename*=UTF-8''%E9%AA%8C%E6%94%B6%20%E6%8A%A5%E5%91%8A.pdf"
            in (response["Content-Disposition"])
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("sandbox")
        assert response["X-Frame-Options"] == "DENY"


def test_it_answers_404_for_a_file_of_another_form(client_a, dept_a, staff_a):
    one, other = (
        make_evaluation(dept_a, staff_a),
        make_evaluation(dept_a, staff_a, project_name="另一个"),
    )
    evidence = evidence_on(other, staff_a)
    assert client_a.get(f"/evaluations/{one.pk}/evidence/{evidence.pk}/").status_code == 404


def test_it_previews_pdf_inline_sandboxed(client_finance, draft, staff_a):
    evidence = evidence_on(draft, staff_a)
    response = client_finance.get(f"/evaluations/{draft.pk}/evidence/{evidence.pk}/?inline=1")
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_it_never_previews_an_office_file_inline(client_a, draft):
    upload(client_a, draft, ("a.docx", docx_bytes()))
    evidence = draft.evidence.get()
    response = client_a.get(f"/evaluations/{draft.pk}/evidence/{evidence.pk}/?inline=1")
    assert response["Content-Disposition"].startswith("attachment;")


def test_it_does_not_serve_media_publicly(client_a, draft, staff_a):
    evidence = evidence_on(draft, staff_a)
    assert client_a.get(f"/media/{evidence.stored_name}").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("admin_user", 403), ("head_a", 403), ("staff_b", 404)]
)
def test_it_refuses_uploads_to_those_who_may_not_edit(request, draft, who, status):
    response = upload(client_for(request.getfixturevalue(who)), draft, ("a.pdf", pdf_bytes()))
    assert response.status_code == status
    assert draft.evidence.count() == 0


def test_finance_may_attach_like_an_edit(client_finance, draft):
    upload(client_finance, draft, ("a.pdf", pdf_bytes()))
    assert draft.evidence.count() == 1


# --- history, lock, delete -----------------------------------------------------------------


def test_it_records_adding_and_removing_in_the_history(
    client_a, draft, django_capture_on_commit_callbacks
):
    key = draft.indicators.order_by("position")[2].key
    revision = draft.revision
    upload(client_a, draft, ("合同.pdf", pdf_bytes(), "", key))
    evidence = draft.evidence.get()
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(f"/evaluations/{draft.pk}/evidence/{evidence.pk}/delete/", {"back": "edit"})
    added, removed = draft.events.order_by("pk")[1:]
    assert added.action == removed.action == EventAction.EDITED
    assert added.changes == [
        {"section": "evidence", "change": "added", "name": "合同.pdf", "row": key}
    ]
    assert removed.changes == [
        {"section": "evidence", "change": "removed", "name": "合同.pdf", "row": key}
    ]
    assert describe_change(added.changes[0]) == {
        "label": "佐证材料（新增）（指标行）",
        "old": None,
        "new": "合同.pdf",
    }
    assert describe_change(removed.changes[0])["old"] == "合同.pdf"
    draft.refresh_from_db()
    assert draft.revision == revision  # a file bumps nothing else
    page = client_a.get(f"/evaluations/{draft.pk}/history/")
    assert "佐证材料（新增）" in page.content.decode()


def test_it_removes_the_stored_file_after_the_delete_commits(
    client_a, draft, django_capture_on_commit_callbacks
):
    upload(client_a, draft, ("合同.pdf", pdf_bytes()))
    evidence = draft.evidence.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_a.post(f"/evaluations/{draft.pk}/evidence/{evidence.pk}/delete/")
    assert default_storage.exists(evidence.stored_name)  # not before the commit
    assert draft.evidence.count() == 0
    for callback in callbacks:
        callback()
    assert not default_storage.exists(evidence.stored_name)


def test_it_locks_files_once_submitted(client_a, draft, staff_a):
    upload(client_a, draft, ("合同.pdf", pdf_bytes()))
    evidence = draft.evidence.get()
    evaluation_submit(evaluation=draft, user=staff_a)
    events = draft.events.count()
    locked = "此表状态为“已提交”，佐证材料已随表锁定，不能修改。"
    response = upload(client_a, draft, ("另一个.pdf", pdf_bytes()))
    assert messages_of(response)[-1] == locked
    response = client_a.post(f"/evaluations/{draft.pk}/evidence/{evidence.pk}/delete/")
    assert messages_of(response)[-1] == locked
    assert list(draft.evidence.all()) == [evidence]
    assert default_storage.exists(evidence.stored_name)
    assert draft.events.count() == events  # nothing recorded


# --- pages --------------------------------------------------------------------------------


def test_the_pages_show_the_files_by_row(client_a, client_finance, draft, staff_a):
    key = draft.indicators.order_by("position")[2].key
    evidence = evidence_on(draft, staff_a, name="验收报告.pdf", row=key)
    url = f"/evaluations/{draft.pk}/evidence/{evidence.pk}/"
    detail = client_a.get(f"/evaluations/{draft.pk}/").content.decode()
    assert "佐证材料" in detail and url in detail and "第3行指标" in detail
    edit = client_a.get(f"/evaluations/{draft.pk}/edit/").content.decode()
    assert f"/evaluations/{draft.pk}/evidence/upload/" in edit
    assert f"{url}delete/" in edit
    evaluation_submit(evaluation=draft, user=staff_a)
    review = client_finance.get(f"/review/{draft.pk}/").content.decode()
    assert f"{url}?inline=1" in review and "<iframe" in review
    assert "/evidence/upload/" not in review  # locked: no upload form


# --- exports ------------------------------------------------------------------------------


def test_the_pdf_ends_with_the_evidence_list(draft, staff_a):
    from exports import compose
    from tests.export_helpers import pdf_pages

    key = draft.indicators.order_by("position")[2].key
    evidence_on(draft, staff_a, name="验收报告.pdf", row=key)
    text = "".join(pdf_pages(compose.evaluation_pdf(draft))).replace(" ", "").replace("\n", "")
    assert "佐证材料清单" in text
    assert "验收报告.pdf" in text and "第3行指标" in text


def test_the_pdf_of_a_form_without_evidence_has_no_list(draft):
    from exports import compose
    from tests.export_helpers import pdf_pages

    assert "佐证材料清单" not in "".join(pdf_pages(compose.evaluation_pdf(draft)))


def test_the_zip_puts_each_forms_files_in_a_folder_beside_its_pdf(client_a, draft, dept_a, staff_a):
    import zipfile

    from tests.export_helpers import pdf_zip

    upload(client_a, draft, ("验收报告.pdf", pdf_bytes()), ("照片.png", png_bytes()))
    other = make_evaluation(dept_a, staff_a, project_name="没有材料的项目")
    target = BytesIO()
    assert pdf_zip([draft, other], target) == 2
    with zipfile.ZipFile(BytesIO(target.getvalue())) as archive:
        names = archive.namelist()
        assert len(names) == 5
        folder = names[0].removesuffix(".pdf") + "_佐证材料/"
        assert names[1:3] == [f"{folder}01_验收报告.pdf", f"{folder}02_照片.png"]
        assert archive.read(names[1]) == pdf_bytes()
        assert names[3].startswith("002_") and names[3].endswith(".pdf")
        # The list of every form's files and where each is stored.
        assert names[4] == "佐证材料清单.txt"
        index = archive.read(names[4]).decode("utf-8-sig")
        assert f"  01 验收报告.pdf（整张表） → {folder}01_验收报告.pdf\r\n" in index


def test_the_reviewer_sees_files_added_since_the_return(
    client_a, client_finance, draft, staff_a, finance
):
    """A file added after a return is among the changes the review page lists."""
    from evaluations.services import evaluation_score
    from evaluations.workflow import evaluation_return, warning_key

    warnings = evaluation_score(evaluation=draft).warnings
    evaluation_submit(
        evaluation=draft, user=staff_a, acknowledgements={warning_key(w): "" for w in warnings}
    )
    evaluation_return(evaluation=draft, user=finance, reason="请补充验收报告")
    upload(client_a, draft, ("验收报告.pdf", pdf_bytes()))
    warnings = evaluation_score(evaluation=draft).warnings
    evaluation_submit(
        evaluation=draft, user=staff_a, acknowledgements={warning_key(w): "" for w in warnings}
    )
    page = client_finance.get(f"/review/{draft.pk}/").content.decode()
    changes = page[page.index('id="changes"') :]
    assert "验收报告.pdf" in changes[: changes.index("</section>")]


def test_a_return_comment_can_point_at_a_file(
    client_a, client_finance, draft, staff_a, dept_b, staff_b
):
    """The reviewer comments on one file; the department reads it beside that file."""
    from evaluations.models import CommentTarget, ReviewComment, Status
    from evaluations.services import evaluation_score
    from evaluations.workflow import warning_key

    upload(client_a, draft, ("验收报告.pdf", pdf_bytes()))
    file = EvidenceFile.objects.get(evaluation=draft)
    foreign = evidence_on(make_evaluation(dept_b, staff_b), staff_b)
    warnings = evaluation_score(evaluation=draft).warnings
    evaluation_submit(
        evaluation=draft, user=staff_a, acknowledgements={warning_key(w): "" for w in warnings}
    )
    page = client_finance.get(f"/review/{draft.pk}/").content.decode()
    assert f'name="comment-evidence-{file.pk}"' in page and 'form="review-form"' in page
    response = client_finance.post(
        f"/review/{draft.pk}/return/",
        {
            "reason": "材料不全",
            f"comment-evidence-{file.pk}": "报告缺少签字页",
            f"comment-evidence-{foreign.pk}": "不应出现",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.RETURNED
    comments = list(ReviewComment.objects.filter(evaluation=draft))
    assert [(c.target, c.evidence_id, c.label, c.text) for c in comments] == [
        (CommentTarget.EVIDENCE, file.pk, "验收报告.pdf", "报告缺少签字页")
    ]
    edit = client_a.get(f"/evaluations/{draft.pk}/edit/").content.decode()
    section = edit[edit.index('id="evidence"') :]
    assert "报告缺少签字页" in section[: section.index("</section>")]
