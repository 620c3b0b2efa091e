"""Evidence in the exports: the PDF's 佐证材料清单 and each form's folder in the ZIP."""

from __future__ import annotations

import shutil
import zipfile
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage

from evaluations.exports.pdf import safe_filename
from evidence.selectors import evidence_list

if TYPE_CHECKING:
    from evaluations.models import Evaluation
    from evidence.models import EvidenceFile


def evidence_listing(evaluation: Evaluation) -> list[EvidenceFile]:
    """The form's files in the order of its rows, each with ``row_label``."""
    return evidence_list(evaluation=evaluation)


def write_evidence_folder(archive: zipfile.ZipFile, evaluation: Evaluation, folder: str) -> int:
    """Copy the form's files into ``folder``/ of the archive, streamed; return how many."""
    files = evidence_list(evaluation=evaluation)
    for number, evidence in enumerate(files, start=1):
        name = f"{folder}/{number:02d}_{safe_filename(evidence.original_name, 100)}"
        with default_storage.open(evidence.stored_name, "rb") as source:
            with archive.open(name, "w", force_zip64=evidence.size > 2**31) as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
    return len(files)
