"""Server-side charts as inline SVG: no JavaScript, no inline styles (CSP), classes for colours."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from evaluations.dashboard import DepartmentRow, ProgressPoint


# Execution rates below this are drawn red and marked LOW_MARK.
LOW_EXECUTION = Decimal("0.8")
LOW_MARK = "▼"


def _n(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: list[str]) -> SafeString:
    title = escape(label)
    return mark_safe(  # noqa: S308 - every text fragment below is escaped
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{title}</title>{''.join(body)}</svg>"
    )


def histogram_svg(buckets: Sequence[tuple[str, int]]) -> SafeString:
    """Vertical bars: how many forms fall into each score bucket."""
    width, height, left, bottom, top = 480, 240, 30, 36, 24
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(len(buckets), 1)
    peak = max([count for _label, count in buckets] + [1])
    body = [
        f'<line class="chart-axis" x1="{left}" y1="{height - bottom}" '
        f'x2="{width - 10}" y2="{height - bottom}"/>'
    ]
    for index, (label, count) in enumerate(buckets):
        bar_h = plot_h * count / peak
        x = left + index * slot + slot * 0.15
        y = height - bottom - bar_h
        body.append(
            f'<rect class="chart-bar chart-bucket-{index}" x="{_n(x)}" y="{_n(y)}" '
            f'width="{_n(slot * 0.7)}" height="{_n(bar_h)}"><title>{escape(label)}: {count}</title></rect>'
        )
        center = x + slot * 0.35
        body.append(
            f'<text class="chart-value" x="{_n(center)}" y="{_n(y - 5)}" text-anchor="middle">{count}</text>'
        )
        body.append(
            f'<text class="chart-label" x="{_n(center)}" y="{height - bottom + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return _svg(width, height, _("总分分布"), body)


def execution_bars_svg(rows: Sequence[DepartmentRow]) -> SafeString:
    """Horizontal bars: execution rate per department, with a line at 100%."""
    label_w, bar_w, row_h, top = 250, 300, 24, 8
    width = label_w + bar_w + 70
    height = top + row_h * max(len(rows), 1) + 22
    rates = [row.execution_rate for row in rows if row.execution_rate is not None]
    scale = max([Decimal("1"), *rates])
    body = []
    for index, row in enumerate(rows):
        y = top + index * row_h
        name = row.name if len(row.name) <= 18 else row.name[:17] + "…"
        body.append(
            f'<text class="chart-label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"<title>{escape(row.name)}</title>{escape(name)}</text>"
        )
        if row.execution_rate is None:
            body.append(f'<text class="chart-value" x="{label_w + 4}" y="{y + 16}">—</text>')
            continue
        length = float(bar_w * row.execution_rate / scale)
        low = row.execution_rate < LOW_EXECUTION
        css = "chart-bar-low" if low else "chart-bar"
        percent = f"{row.execution_rate * 100:.2f}%"
        # A low rate is red and says so in words: colour is never the only signal.
        shown = f"{percent} {LOW_MARK}" if low else percent
        body.append(
            f'<rect class="{css}" x="{label_w}" y="{y + 4}" width="{_n(length)}" height="{row_h - 8}">'
            f"<title>{escape(row.name)}: {escape(shown)}</title></rect>"
        )
        body.append(
            f'<text class="chart-value{" chart-value-low" if low else ""}" '
            f'x="{_n(label_w + length + 4)}" y="{y + 16}">{escape(shown)}</text>'
        )
    hundred = label_w + float(bar_w / scale)
    bottom = top + row_h * max(len(rows), 1)
    body.append(
        f'<line class="chart-reference" x1="{_n(hundred)}" y1="{top}" x2="{_n(hundred)}" y2="{bottom}"/>'
    )
    body.append(
        f'<text class="chart-label" x="{_n(hundred)}" y="{bottom + 16}" text-anchor="middle">100%</text>'
    )
    if any(r.execution_rate is not None and r.execution_rate < LOW_EXECUTION for r in rows):
        body.append(
            f'<text class="chart-label chart-low-key" x="4" y="{bottom + 16}">'
            f"{escape(_('▼ 低于 80%'))}</text>"
        )
    return _svg(width, height, _("各部门预算执行率"), body)


def progress_svg(points: Sequence[ProgressPoint], unit: str) -> SafeString:
    """Cumulative submissions and approvals over time: two lines."""
    width, height, left, right, top, bottom = 640, 260, 40, 20, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(
        [p.cumulative_submissions for p in points] + [p.cumulative_approvals for p in points] + [1]
    )
    # Time runs to scale: a quiet week takes as much room as a busy one.
    first = points[0].start if points else None
    span = max((points[-1].start - first).days, 1) if points else 1

    def xy(index: int, value: int) -> tuple[float, float]:
        offset = (points[index].start - first).days if len(points) > 1 else span / 2
        return left + plot_w * offset / span, top + plot_h - plot_h * value / peak

    body = [
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>',
        f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text class="chart-label" x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text class="chart-label" x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end">0</text>',
    ]
    for css, attr, label in (
        ("chart-line-submitted", "cumulative_submissions", _("累计提交财政局")),
        ("chart-line-approved", "cumulative_approvals", _("累计通过")),
    ):
        coords = [xy(i, getattr(p, attr)) for i, p in enumerate(points)]
        body.append(
            f'<polyline class="{css}" fill="none" points="'
            + " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)
            + '"/>'
        )
        for (x, y), point in zip(coords, points, strict=True):
            # Submissions are round points on a solid line, approvals square points on a
            # dashed one: the two lines differ in shape, not only in colour.
            title = f"<title>{point.start:%Y-%m-%d} {escape(label)}: {getattr(point, attr)}</title>"
            if css == "chart-line-approved":
                body.append(
                    f'<rect class="{css}" x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7">'
                    f"{title}</rect>"
                )
            else:
                body.append(
                    f'<circle class="{css}" cx="{_n(x)}" cy="{_n(y)}" r="3">{title}</circle>'
                )
    last_label = -1000.0
    for index, point in reversed(list(enumerate(points))):
        x, _y = xy(index, 0)
        if abs(last_label - x) < 60:  # keep date labels from overlapping
            continue
        last_label = x
        body.append(
            f'<text class="chart-label" x="{_n(x)}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{point.start:%m-%d}</text>'
        )
    legend = [(_("累计提交财政局"), "chart-line-submitted"), (_("累计通过"), "chart-line-approved")]
    for index, (label, css) in enumerate(legend):
        x = left + 10 + index * 120
        body.append(f'<line class="{css} {css}-key" x1="{x}" y1="10" x2="{x + 16}" y2="10"/>')
        body.append(f'<text class="chart-label" x="{x + 20}" y="14">{escape(label)}</text>')
    caption = _("按日") if unit == "day" else _("按周（周一起）")
    body.append(
        f'<text class="chart-label" x="{width - right}" y="14" text-anchor="end">{escape(caption)}</text>'
    )
    return _svg(width, height, _("提交与审核进度"), body)
