"""Importers: read forms from text dumps (and later .docx/.xlsx) into FormData."""

from __future__ import annotations
