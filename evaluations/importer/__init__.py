"""Importers: forms read from text dumps of Word tables, ``.xlsx`` and ``.docx`` files.

``service.import_file`` is the entry point: it reads a file with the reader of its kind
(``text``, ``xlsx``, ``docx``, each bounded by ``archive`` and the IMPORT_* settings),
parses the tables into ``FormData`` (``parser``, ``sections``, ``body``), checks them
against the limits (``checks``) and writes them, never raising on bad input: every
problem is reported with its file, sheet, line or cell.
"""

from __future__ import annotations
