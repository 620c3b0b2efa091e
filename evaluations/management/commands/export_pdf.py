"""Export a year's evaluations as one merged PDF or a ZIP of single PDFs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from departments.models import Department
from evaluations.exports import pdf
from evaluations.models import Evaluation


class Command(BaseCommand):
    help = "将某年度（可限定主管部门）的自评表导出为一个合并的 PDF，或多个 PDF 的 ZIP 压缩包"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="年度，例如 2021")
        parser.add_argument("--department", help="主管部门名称（不填则导出全部部门）")
        parser.add_argument(
            "--output", required=True, help="输出文件：以 .pdf 结尾为合并 PDF，以 .zip 结尾为压缩包"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        suffix = output.suffix.lower()
        if suffix not in (".pdf", ".zip"):
            raise CommandError("输出文件必须以 .pdf 或 .zip 结尾。")
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
        writer = pdf.write_merged_pdf if suffix == ".pdf" else pdf.write_pdf_zip
        stream = evaluations.prefetch_related("funding_rows", "indicators").iterator(chunk_size=20)
        output.parent.mkdir(parents=True, exist_ok=True)
        # Written next to the target and renamed at the end: no half-written file is left behind.
        fd, temp_name = tempfile.mkstemp(dir=output.parent, suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as target:
                count = writer(stream, target)
            os.replace(temp_name, output)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 张自评表：{output}"))
