"""Time ``manage.py import_accounts`` on a prefecture: 400 accounts of 200 departments.

Each department has a filler (填报人) and a head (部门审核人), all new; the passwords are
generated and hashed as in production (PBKDF2). The import runs twice: the second run must
report every row unchanged. A fresh SQLite database in a temporary folder unless
``DATABASE_URL`` is set (``scripts/with-postgres.sh`` gives a throwaway PostgreSQL):

    .venv/bin/python scripts/bench_accounts_import.py [--departments 200]
    scripts/with-postgres.sh .venv/bin/python scripts/bench_accounts_import.py
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import redirect_stderr
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def workbook(departments: int) -> bytes:
    """Sheet 账号: a filler and a head for each of ``departments`` departments."""
    from departments.accounts_import import accounts_workbook

    rows = []
    for d in range(1, departments + 1):
        department = f"测试州第{d:03d}局"
        rows.append(
            [
                f"填报员{d:03d}",
                f"filler{d:03d}",
                department,
                "填报人",
                "",
                f"139{d:08d}",
                f"f{d}@example.cn",
                "",
            ]
        )
        rows.append([f"审核员{d:03d}", f"head{d:03d}", department, "部门审核人", "", "", "", ""])
    return accounts_workbook(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["DJANGO_VAR_DIR"] = str(work)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    source = work / "accounts.xlsx"
    source.write_bytes(workbook(args.departments))
    for run in (1, 2):
        out = io.StringIO()
        started = time.perf_counter()
        with redirect_stderr(io.StringIO()):
            call_command(
                "import_accounts",
                str(source),
                "--json",
                "--passwords",
                str(work / f"pw{run}.xlsx"),
                stdout=out,
            )
        seconds = time.perf_counter() - started
        report = json.loads(out.getvalue())["files"][0]
        actions = Counter(row["action"] for row in report["rows"])
        print(
            f"run {run}: {len(report['rows'])} accounts, "
            f"{len(report['departments_created'])} departments created, "
            f"{dict(actions)}, {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
