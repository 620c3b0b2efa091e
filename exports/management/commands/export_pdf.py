"""Export a year's evaluations as one merged PDF or a ZIP of single PDFs.

The file is written by the export jobs' own writers (exports/bulk.py ``write_merged`` /
``write_zip``). By default every form is rendered here, one after the other (no PDF cache
involved). With ``--workers N`` the command takes the export jobs' path instead: the forms
are rendered into the PDF cache (exports/pdfcache.py) by N processes at once, in chunks of
EXPORT_CHUNK_SIZE forms, and the file is then written from the cache. Forms already cached
(an approved form, an earlier export) are not rendered again.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.db.models import QuerySet

from campaigns.selectors import campaign_years
from departments.models import Department
from evaluations.models import Evaluation
from exports.bulk import NoProgress, with_campaign_flags, write_merged, write_zip
from exports.compose import evaluation_pdf
from exports.jobs import in_order
from exports.pdfcache import cached_pdf_name


class Command(BaseCommand):
    help = "将某年度（可限定主管部门）的自评表导出为一个合并的 PDF，或多个 PDF 的 ZIP 压缩包"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="年度，例如 2021")
        parser.add_argument("--department", help="主管部门名称（不填则导出全部部门）")
        parser.add_argument(
            "--output", required=True, help="输出文件：以 .pdf 结尾为合并 PDF，以 .zip 结尾为压缩包"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help="用 N 个进程并行生成 PDF（存入 PDF 缓存，已缓存的不再生成），再从缓存写出文件；"
            "不填则在本进程中逐张生成",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        suffix = output.suffix.lower()
        if suffix not in (".pdf", ".zip"):
            raise CommandError("输出文件必须以 .pdf 或 .zip 结尾。")
        workers = options.get("workers") or 0
        if workers < 0:
            raise CommandError("--workers 必须是正整数。")
        evaluations = Evaluation.objects.for_year(options["year"])
        name = options.get("department")
        if name:
            department = Department.objects.filter(name=name).first()
            if department is None:
                raise CommandError(f"找不到主管部门“{name}”。")
            evaluations = evaluations.for_department(department)
        evaluations = evaluations.select_related("department").order_by(
            "department__name", "project_name", "pk"
        )
        if not evaluations.exists():
            raise CommandError("没有符合条件的自评表。")
        output.parent.mkdir(parents=True, exist_ok=True)
        # Written next to the target and renamed at the end: no half-written file is left behind.
        fd, temp_name = tempfile.mkstemp(dir=output.parent, suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as target:
                if workers:
                    count = self._from_cache(evaluations, suffix, target, workers)
                else:
                    writer = write_merged if suffix == ".pdf" else write_zip
                    stream = evaluations.prefetch_related(
                        "funding_rows", "indicators", "due_project__targets"
                    ).iterator(chunk_size=20)
                    count = writer(
                        with_campaign_flags(stream), target, NoProgress(), pdf_of=evaluation_pdf
                    )
            os.replace(temp_name, output)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 张自评表：{output}"))

    def _from_cache(
        self, evaluations: QuerySet[Evaluation], suffix: str, target: IO[bytes], workers: int
    ) -> int:
        """Render the forms into the PDF cache in ``workers`` processes, then write the file."""
        ids = list(evaluations.values_list("pk", flat=True))
        size = max(1, settings.EXPORT_CHUNK_SIZE)
        chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
        if workers == 1 or len(chunks) == 1:
            for chunk in chunks:
                render_into_cache(chunk)
        else:
            # Forked children inherit the settings (and, in a test, the test database's
            # name). No database connection may cross the fork: closed here, each child
            # opens its own. (An in-memory SQLite database, in tests, is never closed: the
            # children read their copy of it.)
            connections.close_all()
            context = multiprocessing.get_context("fork")
            pool = context.Pool(min(workers, len(chunks)))
            try:
                for _count in pool.imap_unordered(render_into_cache, chunks):
                    pass
            except BaseException:
                pool.terminate()
                pool.join()
                raise
            pool.close()
            pool.join()
        writer = write_merged if suffix == ".pdf" else write_zip
        return writer(in_order(evaluations, ids), target, NoProgress())


def render_into_cache(ids: list[int]) -> int:
    """Store the current PDF of each of these forms in the PDF cache; return how many."""
    with_campaign = campaign_years()
    count = 0
    for evaluation in Evaluation.objects.select_related("department").filter(pk__in=ids):
        evaluation.year_has_campaign = evaluation.year in with_campaign  # type: ignore[attr-defined]
        cached_pdf_name(evaluation)
        count += 1
    connections.close_all()  # the pool's processes end without closing them
    return count
