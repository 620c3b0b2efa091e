"""What the import commands share: a ``--json`` report alone on standard output."""

from __future__ import annotations

import logging
import sys


def logs_to_stderr() -> None:
    """Send the logs that go to stdout to stderr: with ``--json`` stdout carries the report only."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)
