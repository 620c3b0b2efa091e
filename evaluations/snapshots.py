"""Kept for older imports: snapshots are made by ``evaluations.mapping``, diffed by ``history``."""

from __future__ import annotations

from evaluations.history import diff_snapshots
from evaluations.mapping import snapshot

__all__ = ["diff_snapshots", "snapshot"]
