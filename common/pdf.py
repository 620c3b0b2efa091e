"""HTML to PDF with WeasyPrint, from the print stylesheet, fetching nothing but static files.

Plumbing: it knows nothing of the forms. The form's PDF (exports/pdf.py) and the
re-check report (rechecks/views.py) both render through ``render_html_pdf``, which embeds
the Chinese font's compact subset (common/pdffonts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings

from common import pdffonts

if TYPE_CHECKING:
    from weasyprint import CSS, Document
    from weasyprint.text.fonts import FontConfiguration

STYLESHEET = "css/print.css"


def _static_roots() -> list[Path]:
    roots = [Path(p).resolve() for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return roots


def stylesheet_path() -> Path:
    """The print stylesheet's file (static/css/print.css)."""
    for root in _static_roots():
        candidate = root / STYLESHEET
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(STYLESHEET)


def _local_fetcher() -> Any:
    """A URL fetcher that serves files under the static directories and nothing else."""
    # WeasyPrint is imported when a PDF is made, not with this module: importing it costs
    # every process (web workers that never print) time and memory.
    from weasyprint.urls import URLFetcher

    roots = _static_roots()

    class LocalStaticFetcher(URLFetcher):
        """Refuses the network and any file outside static/."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme != "file":
                raise ValueError(f"refused non-local URL: {url}")
            path = Path(url2pathname(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in roots):
                raise ValueError(f"refused file outside static/: {url}")
            return super().fetch(url, headers)

    return LocalStaticFetcher(allowed_protocols={"file"}, timeout=2)


@lru_cache(maxsize=1)
def resources() -> tuple[CSS, FontConfiguration, Any]:
    """The parsed stylesheet, font configuration and fetcher, shared by every render."""
    # Imported when a PDF is made, as in _local_fetcher.
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    pdffonts.install()
    fetcher = _local_fetcher()
    font_config = FontConfiguration()
    css = CSS(filename=str(stylesheet_path()), font_config=font_config, url_fetcher=fetcher)
    return css, font_config, fetcher


def render_html_pdf(
    html: str,
    target: IO[bytes] | None = None,
    *,
    finish: Callable[[Document], None] | None = None,
) -> bytes | None:
    """Render HTML to PDF bytes (or into ``target``); ``finish`` may retouch the laid-out pages."""
    # Imported when a PDF is made, as in _local_fetcher.
    from weasyprint import HTML

    css, font_config, fetcher = resources()
    base_url = stylesheet_path().parent.parent.as_uri() + "/"
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=[css], font_config=font_config
    )
    if finish is not None:
        finish(document)
    with pdffonts.compact_fonts():
        return document.write_pdf(target, finisher=pdffonts.bare_cff)
