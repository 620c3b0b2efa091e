"""Backup drill: back up (pg_dump + tar of the media folder) as docs/backup.md says, restore
from scratch into a new throwaway PostgreSQL cluster, and check every evidence file's hash.

    .venv/bin/python scripts/drill_backup.py [--forms 20] [--files-per-form 3]

Makes a first cluster (a superuser ``postgres``; the role ``perfeval`` created as on a new
server), fills it through the services (forms with evidence files, a campaign notice),
backs it up, throws the cluster and the files away, restores into a second cluster, and
prints rows before and after, files present and intact (SHA-256), ``check_files``' verdict,
and what a user is shown for an evidence file when only the database was restored.
Exits non-zero when anything restored differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

SETUP = """
import hashlib, json, os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
"""

POPULATE = """
import datetime
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from campaigns.models import Campaign
from departments.models import Department, Membership, Role
from evidence.services import evidence_add
from tests.factories import make_evaluation
from tests.evidence.test_evidence import pdf_bytes

department = Department.objects.create(name="昌吉州住房和城乡建设局")
staff = get_user_model().objects.create_user("drill", password="drill-备份-1")
Membership.objects.create(user=staff, role=Role.STAFF, department=department)
campaign = Campaign.objects.create(year=2021, title="2021年度项目支出绩效自评",
                                   deadline=datetime.date(2022, 3, 31))
campaign.notice_file.save("notice.pdf", ContentFile(pdf_bytes("通知")))
for form in range(FORMS):
    evaluation = make_evaluation(department, staff, project_name=f"演练项目{form:03d}")
    for number in range(FILES):
        evidence_add(evaluation=evaluation, user=staff,
                     upload=SimpleUploadedFile(f"材料{number}.pdf", pdf_bytes(f"{form}-{number}")),
                     caption="", row="")
"""

SNAPSHOT = """
from django.conf import settings
from django.core.files.storage import default_storage
from evaluations.models import Evaluation, EvaluationEvent
from evidence.models import EvidenceFile

def digest(name):
    try:
        with default_storage.open(name, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return None

files = {e.stored_name: [e.sha256, digest(e.stored_name)] for e in EvidenceFile.objects.all()}
print(json.dumps({
    "forms": Evaluation.objects.count(),
    "events": EvaluationEvent.objects.count(),
    "evidence_rows": len(files),
    "files_present": sum(1 for want, got in files.values() if got is not None),
    "files_intact": sum(1 for want, got in files.values() if got == want),
}))
"""

USER_VIEW = """
from django.conf import settings
from django.test import Client
from lxml import html
settings.DEBUG = False  # the error page users get, not Django's debug page
from evidence.models import EvidenceFile
evidence = EvidenceFile.objects.select_related("evaluation").first()
client = Client(HTTP_HOST="localhost")
client.force_login(evidence.uploaded_by)
response = client.get(f"/evaluations/{evidence.evaluation_id}/evidence/{evidence.pk}/")
text = " ".join(html.fromstring(response.content).xpath("string(//*[@data-status]/p[1])").split()) \\
    if response.status_code != 200 else "(the file)"
print(json.dumps({"status": response.status_code, "shown": text[:160]}, ensure_ascii=False))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        sys.exit("PostgreSQL server binaries not found; run scripts/setup.sh first.")
    return found[-1]


class Cluster:
    """A throwaway PostgreSQL cluster on loopback whose superuser is ``postgres``."""

    def __init__(self, root: Path) -> None:
        self.root, self.port, self.bin = root, free_port(), pg_bin()
        root.mkdir()
        # initdb refuses to run as root: run the cluster as the postgres system user.
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        if self.as_pg:
            shutil.chown(root, "postgres")
        self.pg(["initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8"])  # fmt: skip
        options = f"-h 127.0.0.1 -p {self.port} -k {root} -c fsync=off"
        self.pg(["pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-w",
                 "-o", options, "start"])  # fmt: skip

    def pg(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        command = [*self.as_pg, str(self.bin / args[0]), *args[1:]]
        kwargs.setdefault("stdout", subprocess.PIPE)
        return subprocess.run(command, check=True, stderr=subprocess.PIPE, **kwargs)

    def client(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        """A client program as the cluster's superuser (as ``sudo -u postgres`` would)."""
        return self.pg([args[0], "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        *args[1:]], **kwargs)  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgres://perfeval@127.0.0.1:{self.port}/perfeval"

    def stop(self) -> None:
        self.pg(["pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop"])
        shutil.rmtree(self.root)


def django(var_dir: Path, url: str, args: list[str], check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_DEBUG": "1", "DJANGO_VAR_DIR": str(var_dir), "DATABASE_URL": url})
    result = subprocess.run([sys.executable, *args], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=900)  # fmt: skip
    if check and result.returncode:
        sys.exit(result.stdout[-2000:] + result.stderr[-3000:])
    return result.stdout


def script(var_dir: Path, url: str, body: str) -> dict:
    code = textwrap.dedent(SETUP) + textwrap.dedent(body)
    return json.loads(django(var_dir, url, ["-c", code]).splitlines()[-1])


def restore(tmp: Path, name: str, dump: Path, media: Path | None) -> tuple[Cluster, Path]:
    """A new server: the role, an empty database, the dump, then (optionally) the files."""
    cluster = Cluster(tmp / f"{name}-pg")
    cluster.client(["createuser", "perfeval"])
    cluster.client(["createdb", "-O", "perfeval", "perfeval"])
    # The dump is read by the postgres system user: hand it over on stdin.
    with dump.open("rb") as handle:
        cluster.client(["pg_restore", "--no-owner", "--role=perfeval", "--exit-on-error",
                        "-d", "perfeval"], stdin=handle)  # fmt: skip
    var_dir = tmp / f"{name}-var"
    var_dir.mkdir()
    if media is not None:
        subprocess.run(["tar", "-C", str(var_dir), "-xzf", str(media)], check=True)
    django(var_dir, cluster.url, ["manage.py", "migrate", "--noinput", "-v", "0"])
    return cluster, var_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=20)
    parser.add_argument("--files-per-form", type=int, default=3)
    options = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="perfeval-drill-"))
    os.chmod(tmp, 0o755)
    try:
        source = Cluster(tmp / "source-pg")
        source.client(["createuser", "perfeval"])
        source.client(["createdb", "-O", "perfeval", "perfeval"])
        source_var = tmp / "source-var"
        source_var.mkdir()
        django(source_var, source.url, ["manage.py", "migrate", "--noinput", "-v", "0"])
        populate = f"FORMS = {options.forms}\nFILES = {options.files_per_form}\n" + POPULATE
        django(source_var, source.url, ["-c", textwrap.dedent(SETUP) + populate])
        before = script(source_var, source.url, SNAPSHOT)

        # The backup of docs/backup.md: the database first, then the files.
        dump, media = tmp / "perfeval.dump", tmp / "perfeval-media.tar.gz"
        with dump.open("wb") as handle:
            source.client(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                           "perfeval"], stdout=handle)  # fmt: skip
        subprocess.run(["tar", "-C", str(source_var), "-czf", str(media),
                        "--exclude=media/pdf-cache", "media"], check=True)  # fmt: skip
        source.stop()
        shutil.rmtree(source_var)  # the old server is gone

        results = {"before": before}
        for name, files in (("database only", None), ("database and files", media)):
            cluster, var_dir = restore(tmp, name.replace(" ", "-"), dump, files)
            after = script(var_dir, cluster.url, SNAPSHOT)
            check = django(var_dir, cluster.url, ["manage.py", "check_files"], check=False)
            after["check_files"] = check.strip().splitlines()[-1]
            after["user_sees"] = script(var_dir, cluster.url, USER_VIEW)
            results[name] = after
            cluster.stop()
        print(json.dumps(results, ensure_ascii=False, indent=1))
        full = results["database and files"]
        ok = (
            {k: full[k] for k in before} == before
            and full["files_intact"] == before["evidence_rows"]
            and full["check_files"].endswith(": 0 problems")
            and full["user_sees"]["status"] == 200
        )
        print("drill:", "restore complete" if ok else "RESTORE INCOMPLETE")
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
