"""Small HTML pieces with escaping built in, so no section can forget it.

Every string that came from a submission (names, teams, reasons, tool names) reaches
the page only through :func:`esc` or a helper that calls it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime

_NUM = ' class="num"'

TIER_CLASS = {"low": "tier-low", "medium": "tier-medium", "high": "tier-high"}


def esc(value: object) -> str:
    """``value`` as HTML text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def badge(text: str, css_class: str) -> str:
    """A small coloured label."""
    return f'<span class="badge {esc(css_class)}">{esc(text)}</span>'


def tier_badge(tier: str | None) -> str:
    """A risk tier as a badge coloured by severity; a dash when not assessed."""
    if tier is None:
        return '<span class="muted">&ndash;</span>'
    return badge(tier, TIER_CLASS.get(tier, "tier-other"))


def chips(values: Iterable[str]) -> str:
    """Values as a row of chips (what an asset can touch)."""
    items = "".join(f'<span class="chip">{esc(v)}</span>' for v in values)
    return items or '<span class="muted">nothing declared</span>'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    row_attrs: Sequence[str] | None = None,
    empty: str,
) -> str:
    """A table whose cells are already HTML; ``empty`` is shown instead when no rows.

    Args:
        headers: Column titles (plain text).
        rows: Each row's cells, already escaped.
        numeric: Indexes of right-aligned number columns.
        row_attrs: Extra attributes per row (already escaped), e.g. ``data-ref="…"``.
        empty: The sentence shown when there is nothing to list.
    """
    body = list(rows)
    if not body:
        return f'<p class="empty">{esc(empty)}</p>'
    right = set(numeric)
    head = "".join(
        f'<th{_NUM if i in right else ""} scope="col">{esc(h)}</th>' for i, h in enumerate(headers)
    )
    lines = []
    for index, row in enumerate(body):
        attrs = f" {row_attrs[index]}" if row_attrs else ""
        cells = "".join(
            f"<td{_NUM if i in right else ''}>{cell}</td>" for i, cell in enumerate(row)
        )
        lines.append(f"<tr{attrs}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def day(moment: datetime) -> str:
    """A date as the page shows it, in UTC."""
    return f"{moment:%Y-%m-%d}"


def span(seconds: float) -> str:
    """A duration a person reads at a glance: ``45 min``, ``5.5 h``, ``3 d``."""
    hours = abs(seconds) / 3600
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{round(hours / 24)} d"
