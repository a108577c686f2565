"""Charts as inline SVG, drawn in Python: bars for inventory, bars per day for reuse.

No script and no chart library: the numbers are known when the page is rendered, so
plain shapes suffice, and every chart also carries its numbers as text (value labels, a
``<title>`` per bar), so the page reads without the picture and copies as text.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent_registry.catalog.models import CountByKey, DailyCount
from agent_registry.dashboard.markup import esc

INSTALLS_COLOUR = "#2f6fdf"
USES_COLOUR = "#19a974"
BAR_COLOUR = "#5b6cff"
GRID_COLOUR = "#e3e6ee"
TEXT_COLOUR = "#3b4252"

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 170
MAX_LABEL_CHARS = 20


def bar_chart(counts: Sequence[CountByKey], *, title: str, width: int = 440) -> str:
    """Horizontal bars, one per key, longest first, each labelled with its count.

    Args:
        counts: Keys and counts (user-controlled keys are escaped).
        title: What the chart counts, for screen readers and the tooltip.
        width: Total width in pixels.

    Returns:
        An ``<svg>`` element, or a short note when there is nothing to draw.
    """
    rows = sorted(counts, key=lambda c: (-c.count, c.key))
    if not rows:
        return '<p class="empty">Nothing to count yet.</p>'
    top = max(c.count for c in rows) or 1
    bar_space = width - LABEL_WIDTH - 48
    height = len(rows) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    parts = [
        f'<svg class="chart" role="img" aria-label="{esc(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(title)}</title>"
    ]
    for index, row in enumerate(rows):
        y = BAR_GAP + index * (BAR_HEIGHT + BAR_GAP)
        length = max(2, round(bar_space * row.count / top)) if row.count else 0
        label = row.key if len(row.key) <= MAX_LABEL_CHARS else row.key[: MAX_LABEL_CHARS - 1] + "…"
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f"<g><title>{esc(row.key)}: {row.count}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y:.1f}" text-anchor="end" '
            f'fill="{TEXT_COLOUR}" font-size="13">{esc(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" rx="3" '
            f'fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{text_y:.1f}" fill="{TEXT_COLOUR}" '
            f'font-size="13" font-weight="600">{row.count}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def daily_chart(days: Sequence[DailyCount], *, width: int = 1200, height: int = 260) -> str:
    """Installs and uses per day as paired bars, with a scale and dates along the bottom.

    Args:
        days: One entry per day, oldest first.
        width: Total width in pixels.
        height: Total height in pixels.

    Returns:
        An ``<svg>`` element with a legend, or a note when there are no days.
    """
    if not days:
        return '<p class="empty">No installs or uses recorded yet.</p>'
    left, right, top_pad, bottom = 44, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max(max(d.installs, d.uses) for d in days)
    scale_top = _nice_ceiling(peak)
    slot = plot_w / len(days)
    bar_w = max(1.0, slot * 0.38)
    title = f"Installs and uses per day, {days[0].day} to {days[-1].day}"
    parts = [
        f'<svg class="chart wide" role="img" aria-label="{esc(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(title)}</title>",
        _legend(left, 16),
    ]
    for step in range(5):
        value = scale_top * step / 4
        y = top_pad + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{TEXT_COLOUR}">{_number(value)}</text>'
        )
    label_every = max(1, round(len(days) / 8))
    for index, entry in enumerate(days):
        x = left + index * slot + (slot - 2 * bar_w) / 2
        parts.append(
            f"<g><title>{esc(entry.day)}: {entry.installs} installs, {entry.uses} uses</title>"
        )
        for offset, value, colour in (
            (0.0, entry.installs, INSTALLS_COLOUR),
            (bar_w, entry.uses, USES_COLOUR),
        ):
            bar_h = plot_h * value / scale_top
            y = top_pad + plot_h - bar_h
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{bar_h:.1f}" fill="{colour}"/>'
            )
        parts.append("</g>")
        if (len(days) - 1 - index) % label_every == 0:  # counted back from today
            parts.append(
                f'<text x="{left + (index + 0.5) * slot:.1f}" y="{height - 12}" '
                f'text-anchor="middle" font-size="11" fill="{TEXT_COLOUR}">'
                f"{esc(entry.day[5:])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(days: Sequence[DailyCount], *, width: int = 120, height: int = 26) -> str:
    """One asset's installs plus uses per day as a tiny line, for a table cell."""
    if len(days) < 2:
        return ""
    totals = [d.installs + d.uses for d in days]
    peak = max(totals) or 1
    step = (width - 2) / (len(totals) - 1)
    points = " ".join(
        f"{1 + i * step:.1f},{height - 2 - (height - 4) * value / peak:.1f}"
        for i, value in enumerate(totals)
    )
    title = f"{days[0].day} to {days[-1].day}: {sum(totals)} installs and uses"
    return (
        f'<svg class="spark" role="img" aria-label="{esc(title)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{esc(title)}</title>"
        f'<polyline points="{points}" fill="none" stroke="{USES_COLOUR}" stroke-width="1.6"/>'
        "</svg>"
    )


def _legend(x: int, y: int) -> str:
    return (
        f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{INSTALLS_COLOUR}"/>'
        f'<text x="{x + 18}" y="{y}" font-size="12" fill="{TEXT_COLOUR}">installs</text>'
        f'<rect x="{x + 90}" y="{y - 10}" width="12" height="12" fill="{USES_COLOUR}"/>'
        f'<text x="{x + 108}" y="{y}" font-size="12" fill="{TEXT_COLOUR}">uses</text>'
    )


def _nice_ceiling(value: int) -> int:
    """A round scale top at or above ``value`` whose quarter lines are whole numbers."""
    magnitude = 1
    while True:
        for factor in (4, 8, 12, 20, 40, 60, 80):
            if factor * magnitude >= value:
                return factor * magnitude
        magnitude *= 10


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"
