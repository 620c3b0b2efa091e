"""Evidence in the exports: the PDF's 佐证材料清单 and the forms' files in the ZIP."""

from __future__ import annotations

import logging
import shutil
import zipfile
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from evidence.selectors import evidence_list
from exports.pdf import safe_filename

if TYPE_CHECKING:
    from evaluations.models import Evaluation
    from evidence.models import EvidenceFile

logger = logging.getLogger(__name__)

# The list of every form's files and where each is stored in the archive.
INDEX_NAME = "佐证材料清单.txt"


def evidence_listing(evaluation: Evaluation) -> list[EvidenceFile]:
    """The form's files in the order of its rows, each with ``row_label``."""
    return evidence_list(evaluation=evaluation)


class EvidenceFolders:
    """Writes the forms' evidence files into a ZIP, each distinct file once.

    A file is stored in the folder of the first form that has it; the same file (same
    SHA-256 and size) attached again, to another row or another form, is not copied again:
    ``佐证材料清单.txt`` at the top of the archive lists every form's files with the path
    each one is stored under. A file missing from storage (a restore without the files) is
    left out and marked so in the list, and counted in ``missing``: the archive is still
    written. Call ``close`` before the archive is closed.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.stored: dict[tuple[str, int], str] = {}
        self.lines: list[str] = []
        self.missing: list[EvidenceFile] = []

    def add(self, evaluation: Evaluation, pdf_name: str) -> int:
        """Store the form's files not stored yet in a folder beside its PDF; return how many
        files the form has."""
        files = evidence_list(evaluation=evaluation)
        if not files:
            return 0
        folder = pdf_name.removesuffix(".pdf") + "_佐证材料"
        self.lines.append(pdf_name)
        for number, evidence in enumerate(files, start=1):
            name = f"{folder}/{number:02d}_{safe_filename(evidence.original_name, 100)}"
            known = self.stored.get((evidence.sha256, evidence.size))
            if known is None and not self._copy(evidence, name):
                self.missing.append(evidence)
                where = _("【文件在服务器上找不到，未包含在压缩包中，请联系管理员从备份恢复】")
            elif known is None:
                self.stored[(evidence.sha256, evidence.size)] = name
                where = name
            else:
                where = _("%(path)s（与前面的文件相同，只存一份）") % {"path": known}
            described = "；".join(x for x in (evidence.row_label, evidence.caption) if x)  # type: ignore[attr-defined]
            label = (
                f"{evidence.original_name}（{described}）" if described else evidence.original_name
            )
            self.lines.append(f"  {number:02d} {label} → {where}")
        self.lines.append("")
        return len(files)

    def _copy(self, evidence: EvidenceFile, name: str) -> bool:
        """Copy the stored file into the archive; False when it is missing from storage."""
        try:
            source = default_storage.open(evidence.stored_name, "rb")
        except FileNotFoundError:
            logger.error(
                "evidence %s: stored file %s is missing", evidence.pk, evidence.stored_name
            )
            return False
        with source, self.archive.open(name, "w", force_zip64=evidence.size > 2**31) as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        return True

    def missing_note(self) -> str:
        """The warning for the export page, "" when every file was found."""
        if not self.missing:
            return ""
        names = "、".join(f"“{evidence.original_name}”" for evidence in self.missing[:5])
        more = _("等") if len(self.missing) > 5 else ""
        return _(
            "%(count)s 个佐证材料文件在服务器上找不到，未包含在压缩包中（%(names)s%(more)s，"
            "详见压缩包中的 %(index)s），请联系管理员从备份恢复。"
        ) % {"count": len(self.missing), "names": names, "more": more, "index": INDEX_NAME}

    def close(self) -> None:
        """Write the list (when any form had files)."""
        if not self.lines:
            return
        heading = _("各自评表的佐证材料及其在压缩包中的位置（相同的文件只存一份）：")
        warning = []
        if self.missing:
            warning = [
                _(
                    "注意：%(count)s 个文件在服务器上找不到，未包含在压缩包中"
                    "（下面标有“找不到”），请联系管理员从备份恢复。"
                )
                % {"count": len(self.missing)},
                "",
            ]
        text = "\r\n".join([heading, "", *warning, *self.lines])
        # A byte-order mark and CRLF: Notepad on older Windows reads it as UTF-8.
        self.archive.writestr(INDEX_NAME, "\ufeff" + text, compress_type=zipfile.ZIP_DEFLATED)
