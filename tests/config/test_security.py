"""Security: login throttling, upload limits, CSP on every page, scoping, history immutability."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.test import Client, override_settings

from config.middleware import CONTENT_SECURITY_POLICY
from evaluations import workflow
from evaluations.models import Evaluation, EvaluationEvent, ImportUpload, Status
from tests.config.test_production import production_env, run_client
from tests.conftest import PASSWORD, client_for
from tests.factories import make_evaluation

LOGIN_URL = "/accounts/login/"


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1", forwarded: str = ""):
    """Log in through the real form: GET the page for its CSRF token, POST it back."""
    meta = {"REMOTE_ADDR": ip}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    page = client.get(LOGIN_URL, **meta)
    assert page.status_code == 200
    return client.post(
        LOGIN_URL,
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": _csrf_token(page.content.decode()),
        },
        **meta,
    )


# --- login throttling (django-axes) -----------------------------------------------------------


def test_it_locks_a_username_after_five_failed_logins(staff_a):
    client = Client(enforce_csrf_checks=True)
    for _attempt in range(4):
        response = _login(client, "alice", "wrong-password")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    fifth = _login(client, "alice", "wrong-password")
    assert fifth.status_code == 429
    # Locked: even the right password is refused now, with a Chinese explanation.
    locked = _login(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_only_that_username_from_that_address(staff_a, staff_b):
    attacker = Client(enforce_csrf_checks=True)
    for _attempt in range(5):
        _login(attacker, "alice", "wrong-password", ip="10.0.0.66")
    # Another account from the same address, and the same account from elsewhere, still log in.
    other_user = Client(enforce_csrf_checks=True)
    assert _login(other_user, "bob", PASSWORD, ip="10.0.0.66").status_code == 302
    elsewhere = Client(enforce_csrf_checks=True)
    response = _login(elsewhere, "alice", PASSWORD, ip="10.0.0.7")
    assert response.status_code == 302
    assert elsewhere.session["_auth_user_id"] == str(staff_a.pk)


def test_it_forgives_failures_after_a_successful_login(staff_a):
    client = Client(enforce_csrf_checks=True)
    for _attempt in range(4):
        _login(client, "alice", "wrong-password")
    assert _login(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(4):
        assert _login(client, "alice", "wrong-password").status_code == 200
    assert _login(client, "alice", PASSWORD).status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_it_throttles_per_client_behind_a_proxy(staff_a):
    balancer = "10.0.0.2"  # every request arrives from the load balancer
    attacker = Client(enforce_csrf_checks=True)
    for _attempt in range(5):
        _login(attacker, "alice", "wrong-password", ip=balancer, forwarded="203.0.113.9")
    # The attacker cannot escape by sending an X-Forwarded-For of their own: the proxy appends.
    spoofed = _login(
        attacker, "alice", PASSWORD, ip=balancer, forwarded="198.51.100.1, 203.0.113.9"
    )
    assert spoofed.status_code == 429
    # Alice, behind the same balancer but from her own address, still logs in.
    alice = Client(enforce_csrf_checks=True)
    assert (
        _login(alice, "alice", PASSWORD, ip=balancer, forwarded="198.51.100.1").status_code == 302
    )


def test_it_reads_the_client_address_from_the_trusted_proxies_only(rf, settings):
    from config.client_ip import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.1.1.1, 10.0.0.3")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.3"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.1.1.1"
    settings.TRUSTED_PROXY_COUNT = 4  # fewer entries than proxies: not through the proxies
    assert client_ip(request) == "10.0.0.2"


def test_it_refuses_a_login_without_csrf_token(staff_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


# --- upload limits --------------------------------------------------------------------------


@override_settings(IMPORT_MAX_FILE_SIZE=1024)
def test_it_refuses_an_oversize_import_with_a_chinese_message(client_a):
    big = SimpleUploadedFile("大文件.txt", b"x" * 2048, content_type="text/plain")
    response = client_a.post("/evaluations/import/", {"files": [big]})
    assert response.status_code == 200
    html = response.content.decode()
    # filesizeformat separates number and unit with a no-break space.
    assert "“大文件.txt”太大（2.0\xa0KB），单个文件不能超过 1.0\xa0KB。" in html
    assert ImportUpload.objects.count() == 0


@override_settings(IMPORT_MAX_FILES=2)
def test_it_refuses_too_many_import_files(client_a):
    files = [SimpleUploadedFile(f"{i}.txt", b"abc", content_type="text/plain") for i in range(3)]
    html = client_a.post("/evaluations/import/", {"files": files}).content.decode()
    assert "一次最多导入 2 个文件，您选择了 3 个。" in html
    assert ImportUpload.objects.count() == 0


def test_it_refuses_an_import_of_an_unknown_type(client_a):
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    html = client_a.post("/evaluations/import/", {"files": [exe]}).content.decode()
    assert "格式不支持" in html
    assert ImportUpload.objects.count() == 0


# --- CSP: header on every page, nothing inline -----------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)
# Links only: form actions are POST endpoints (GET would answer 405).
LINK = re.compile(r"""href="(/[^"#]*)""")
# Downloads (PDF rendering is slow and not HTML) and pages that change state on GET are not crawled.
SKIP = re.compile(
    r"(^/static/|^/media/|^/admin/|logout|\.pdf|/pdf/|\.zip|/zip/|\.xlsx|/xlsx/|export)"
)


def _assert_clean_page(url: str, response) -> None:
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
    html = response.content.decode()
    for pattern, what in (
        (INLINE_SCRIPT, "inline <script>"),
        (STYLE_ATTRIBUTE, "style= attribute"),
        (STYLE_ELEMENT, "<style> element"),
        (EVENT_HANDLER, "on…= event handler"),
        (JS_URL, "javascript: URL"),
    ):
        match = pattern.search(html)
        assert match is None, f"{url}: {what}: {match.group(0)[:120] if match else ''}"


def _crawl(client: Client, start: list[str], limit: int = 150) -> set[str]:
    """Follow same-site links breadth-first from ``start``; check every HTML page on the way."""
    seen: set[str] = set()
    queue = deque(start)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302):
            location = response["Location"]
            if location.startswith("/"):
                queue.append(location)
            continue
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if not response["Content-Type"].startswith("text/html"):
            continue
        _assert_clean_page(url, response)
        for link in LINK.findall(response.content.decode()):
            link = link.replace("&amp;", "&")
            if "page=" in link and link.split("page=")[1] not in ("1", "2"):
                continue
            if urlsplit(link).path and link not in seen:
                queue.append(link)
    return seen


@pytest.fixture
def populated(dept_a, dept_b, staff_a, staff_b, finance):
    """Forms in every state in two departments, with history and a return comment."""
    draft = make_evaluation(dept_a, staff_a, project_name="草稿项目")
    submitted = make_evaluation(dept_a, staff_a, project_name="已提交项目")
    workflow.evaluation_submit(evaluation=submitted, user=staff_a)
    approved = make_evaluation(dept_b, staff_b, project_name="已通过项目")
    workflow.evaluation_submit(evaluation=approved, user=staff_b)
    workflow.evaluation_approve(evaluation=approved, user=finance)
    returned = make_evaluation(dept_b, staff_b, project_name="已退回项目")
    workflow.evaluation_submit(evaluation=returned, user=staff_b)
    workflow.evaluation_return(evaluation=returned, user=finance, reason="请补充偏差原因。")
    return {"draft": draft, "submitted": submitted, "approved": approved, "returned": returned}


START_PAGES = [
    "/",
    "/evaluations/",
    "/evaluations/new/",
    "/evaluations/import/",
    "/review/",
    "/dashboard/",
    "/accounts/password_change/",
]


def test_it_keeps_every_page_free_of_inline_code_for_finance(populated, client_finance):
    extra = [f"/evaluations/{e.pk}/history/" for e in populated.values()]
    seen = _crawl(client_finance, [*START_PAGES, *extra])
    for evaluation in populated.values():
        assert f"/evaluations/{evaluation.pk}/" in seen
        assert f"/review/{evaluation.pk}/" in seen or evaluation.status != Status.SUBMITTED
    assert "/dashboard/" in seen and "/review/" in seen


def test_it_keeps_every_page_free_of_inline_code_for_staff(populated, client_a):
    draft = populated["draft"]
    start = [url for url in START_PAGES if url != "/review/"]
    seen = _crawl(client_a, [*start, f"/evaluations/{draft.pk}/history/"])
    assert not any(url.startswith("/review/") for url in seen)
    assert f"/evaluations/{draft.pk}/edit/" in seen
    assert f"/evaluations/{draft.pk}/history/" in seen


def test_it_keeps_the_login_page_free_of_inline_code(db):
    response = Client().get(LOGIN_URL)
    _assert_clean_page(LOGIN_URL, response)


@pytest.mark.slow
def test_it_sends_security_headers_in_production(tmp_path, production_static):
    env = production_env(
        tmp_path, DJANGO_ALLOWED_HOSTS="testserver", DJANGO_STATIC_ROOT=str(production_static)
    )
    result = run_client(
        """
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        response = Client().get("/accounts/login/", secure=True)
        cookies = {name: dict(morsel) for name, morsel in response.cookies.items()}
        print(json.dumps({
            "status": response.status_code,
            "hsts": response.get("Strict-Transport-Security", ""),
            "csp": response.get("Content-Security-Policy", ""),
            "frame": response.get("X-Frame-Options", ""),
            "nosniff": response.get("X-Content-Type-Options", ""),
            "referrer": response.get("Referrer-Policy", ""),
            "csrf_cookie": cookies.get("csrftoken", {}),
            "plain_http": Client().get("/accounts/login/").status_code,
        }))
        """,
        env,
    )
    assert result["status"] == 200
    assert result["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in result["csp"] and "unsafe-inline" not in result["csp"]
    assert result["frame"] == "DENY"
    assert result["nosniff"] == "nosniff"
    assert result["referrer"] == "same-origin"
    assert result["csrf_cookie"]["secure"] is True
    assert result["csrf_cookie"]["httponly"] is True
    assert result["plain_http"] == 301


# --- access scoping and history ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "edit/", "history/", "submit/"])
def test_it_answers_404_for_another_departments_form(populated, client_b, suffix):
    draft = populated["draft"]
    assert client_b.get(f"/evaluations/{draft.pk}/{suffix}").status_code == 404


def test_it_hides_review_pages_from_staff(populated, client_a):
    assert client_a.get("/review/").status_code in (403, 404)
    assert client_a.get(f"/review/{populated['submitted'].pk}/").status_code in (403, 404)


def test_it_never_deletes_history(populated):
    evaluation = populated["returned"]
    assert EvaluationEvent.objects.filter(evaluation=evaluation).count() >= 3
    with pytest.raises(ProtectedError):
        evaluation.delete()
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()


def test_it_offers_no_history_changes_in_the_admin(populated, admin_user):
    client = client_for(admin_user)
    event = EvaluationEvent.objects.filter(evaluation=populated["approved"]).first()
    page = client.get(f"/admin/evaluations/evaluationevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/evaluations/evaluationevent/{event.pk}/delete/").status_code == 403
    client.post(f"/admin/evaluations/evaluationevent/{event.pk}/change/", {"reason": "改写"})
    event.refresh_from_db()
    assert event.reason != "改写"
