"""Tests of this area (see tests/README.md)."""

from __future__ import annotations
