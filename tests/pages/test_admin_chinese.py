"""Everything the administrator reads in the Django admin (/admin/) is Chinese.

The crawl signs in as the superuser, with one row in each table of the third-party apps
(sign-in throttling, the task queue), and reads every admin page reachable from the index
(app indexes, lists, add pages, change pages, history, delete confirmations). It fails on any
word of Latin letters in what the page shows: text, and the title, placeholder, aria-label
and alt a screen reader announces. Not wording, and therefore not checked: the values of the
rows (list cells ``td/th.field-*``, read-only values ``.readonly``, the password hash summary in
``<bdi>``, a task's UUID) and the alt of Django's yes/no icons (``True``/``False``: Django writes the Python
value, untranslatable). The data is Chinese or digits, so nothing of ours hides in the check.
Technical names kept as they are: ``TECHNICAL``.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django_tasks_db.models import DBTaskResult

from departments.models import Department, Membership, RegisterChange, Role
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.django_db

# Names that are the same in Chinese texts: protocols, the directory service, file formats.
TECHNICAL = {"LDAP", "RQ", "IP", "HTTP", "Accept", "GET", "POST", "SHA", "ID", "URL"}
TECHNICAL |= {"PDF", "Excel", "Word", "OFD", "JPEG", "PNG", "docx", "xlsx"}
WORD = re.compile(r"[A-Za-z]+")
# A background task's id (a UUID) is shown in its title: a value, not wording.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_PAGES = 400


def _is_value(tag: str, attributes: dict[str, str | None]) -> bool:
    """An element whose content is a stored value, not wording (see the module docstring)."""
    classes = (attributes.get("class") or "").split()
    if tag in ("script", "style", "template", "bdi"):
        return True
    if tag == "div" and "readonly" in classes:
        return True
    return tag in ("td", "th") and any(c.startswith("field-") for c in classes)


class VisibleText(HTMLParser):
    """The wording of a page (text and announced attributes) and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip_tag = ""
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        if self._skip_depth:
            self._skip_depth += tag == self._skip_tag
            return
        if _is_value(tag, attributes):
            self._skip_tag, self._skip_depth = tag, 1
            return
        for name in ("title", "placeholder", "aria-label", "alt"):
            value = attributes.get(name)
            yes_no_icon = tag == "img" and "/admin/img/icon-" in (attributes.get("src") or "")
            if value and not (name == "alt" and yes_no_icon):
                self.parts.append(value)
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.parts.append(attributes.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth and tag == self._skip_tag:
            self._skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def english(text: str) -> list[str]:
    """The words of Latin letters in ``text`` that are not technical names."""
    return [w for w in WORD.findall(UUID.sub("", text)) if w not in TECHNICAL]


def crawl(client: Client) -> dict[str, list[str]]:
    """Every admin page reachable from the index → the English words it shows."""
    seen: set[str] = set()
    queue = ["/admin/"]
    found: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        parser = VisibleText()
        parser.feed(response.content.decode())
        words = english(" ".join(parser.parts))
        if words:
            found[url] = sorted(set(words))
        for link in parser.links:
            path = urlsplit(link).path  # filters and sort orders show the same wording
            if path.startswith("/admin/") and "logout" not in path and path not in seen:
                queue.append(path)
    assert len(seen) < MAX_PAGES
    return found


@pytest.fixture
def chinese_admin(db) -> Client:
    """The administrator, and one row of every table the admin lists, all in Chinese or digits."""
    user = get_user_model().objects.create_superuser(username="管理员", password="x-管理员-1")
    department = Department.objects.create(name="某某局", code="101001")
    filler = get_user_model().objects.create_user(username="张三", first_name="张三")
    Membership.objects.create(user=filler, role=Role.STAFF, department=department)
    RegisterChange.objects.create(kind="created", person=filler, actor=user, detail="用户名：张三")
    common = {
        "user_agent": "浏览器",
        "ip_address": "127.0.0.1",
        "username": "张三",
        "http_accept": "*/*",
        "path_info": "/登录/",
    }
    AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=2)
    logs = [AccessLog.objects.create(**common)]
    AccessFailureLog.objects.create(**common, locked_out=False)
    DBTaskResult.objects.create(
        task_path="exports.tasks.export_run",
        args_kwargs={"参数": []},
        backend_name="默认",
        queue_name="队列",
        run_after=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    client = Client()
    client.force_login(user)
    # The log axes writes of that sign-in holds its values ("<unknown>" path): not wording.
    AccessLog.objects.exclude(pk__in=[log.pk for log in logs]).delete()
    return client


def test_every_admin_page_reads_in_chinese(chinese_admin):
    assert crawl(chinese_admin) == {}


def test_the_third_party_tables_have_chinese_names(chinese_admin):
    """Names and field labels of every model the admin lists, whether or not a page shows them."""
    found = {}
    for model in admin.site._registry:
        meta = model._meta
        texts = [
            str(apps.get_app_config(meta.app_label).verbose_name),
            str(meta.verbose_name),
            str(meta.verbose_name_plural),
        ]
        for field in meta.get_fields():
            if hasattr(field, "verbose_name") and not field.auto_created:
                texts += [str(field.verbose_name), str(getattr(field, "help_text", ""))]
            for _value, label in getattr(field, "flatchoices", None) or []:
                texts.append(str(label))
        words = english(" ".join(texts))
        if words:
            found[meta.label] = sorted(set(words))
    assert found == {}


def test_the_user_add_page_points_to_the_people_page(chinese_admin):
    page = chinese_admin.get("/admin/auth/user/add/").content.decode()
    assert "保存后可以继续编辑该用户的其他信息。" in page
    assert "After you" not in page


# What the admin index lists with TASKS_BACKEND=rq (django_rq installed), and the names of the
# permissions migrate creates for it; read without a database (a superuser needs none).
RQ_ADMIN_NAMES = """
import json, django
django.setup()
from django.contrib import admin
from django.contrib.auth.management import _get_all_permissions
from django.contrib.auth.models import User
from django.test import RequestFactory
from django_rq.models import Dashboard
request = RequestFactory().get("/admin/")
request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
names = [str(Dashboard._meta.verbose_name)]
names += [str(name) for _codename, name in _get_all_permissions(Dashboard._meta)]
for app in admin.site.get_app_list(request):
    names.append(str(app["name"]))
    names += [str(model["name"]) for model in app["models"]]
print(json.dumps({"names": names, "apps": [a["app_label"] for a in admin.site.get_app_list(request)]}))
"""


def test_the_rq_queue_reads_in_chinese_in_the_admin():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="1", TASKS_BACKEND="rq")
    result = subprocess.run(
        [sys.executable, "-c", RQ_ADMIN_NAMES],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout.splitlines()[-1])
    assert "django_rq" in listed["apps"]
    assert "任务队列（RQ）" in listed["names"] and "队列状态" in listed["names"]
    assert "进入队列状态页" in listed["names"]
    assert english(" ".join(listed["names"])) == []
