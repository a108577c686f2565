"""The dashboard page: every section there, every user string escaped, nothing external."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from agent_registry.catalog.models import CountByKey, DailyCount
from agent_registry.dashboard.charts import bar_chart, daily_chart, sparkline
from agent_registry.dashboard.page import render_dashboard
from tests.dashboard.sample import HOSTILE, empty_report, sample_report

VOID = {"meta", "link", "br", "hr", "img", "input", "rect", "line", "polyline", "path"}


class Balance(HTMLParser):
    """Checks that every opened element is closed, in order (SVG's empty shapes aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def balanced(page: str) -> list[str]:
    checker = Balance()
    checker.feed(page)
    checker.close()
    return checker.errors + [f"<{tag}> never closed" for tag in checker.stack]


def test_every_section_is_present() -> None:
    page = render_dashboard(sample_report())
    for anchor in ("inventory", "scope", "governance", "reuse"):
        assert f'<section id="{anchor}">' in page
        assert f'href="#{anchor}"' in page
    for heading in (
        "By kind",
        "By stage",
        "By owner team",
        "By risk tier",
        "Pending reviews (1)",
        "Re-certifications due (2)",
        "Deprecations and sunsets (1)",
        "Per asset",
        "Nobody uses (1)",
    ):
        assert heading in page
    assert page.count("<svg") >= 6  # four inventory charts, the daily chart, a sparkline
    assert balanced(page) == []


def test_numbers_and_states_are_shown() -> None:
    page = render_dashboard(sample_report())
    row = re.search(r'<tr data-ref="skill/pdf-report">(.*?)</tr>', page.split('id="reuse"')[1])
    assert row is not None
    assert '<span data-col="installs">17</span>' in row.group(1)
    assert '<span data-col="uses">342</span>' in row.group(1)
    assert '<span data-col="teams">5</span>' in row.group(1)
    assert 'class="breach"' in page  # the review past its SLA
    assert "overdue 3 d ago" in page
    assert "in 12 d" in page
    assert "skill/pdf-report@1.2.0</code>" in page  # the deprecation's replacement
    assert "subagent/lonely" in page
    assert 'data-metric="installs"><span class="value">30</span>' in page


def test_user_strings_are_escaped_everywhere() -> None:
    page = render_dashboard(sample_report())
    assert "<script" not in page
    assert html.escape(HOSTILE) in page
    # In the table cells, the chips, and the SVG bar labels and tooltips alike.
    assert page.count("&lt;script&gt;") >= 4
    assert balanced(page) == []


def test_an_empty_report_renders_every_section_with_empty_states() -> None:
    page = render_dashboard(empty_report())
    for anchor in ("inventory", "scope", "governance", "reuse"):
        assert f'<section id="{anchor}">' in page
    assert "No published assets yet." in page
    assert "No versions are waiting for review." in page
    assert "No re-certifications due in the next 30 days." in page
    assert "Nothing is deprecated." in page
    assert "No installs or uses recorded yet." in page
    assert "Every published asset is installed or used." in page
    assert balanced(page) == []


def test_page_loads_nothing_from_elsewhere() -> None:
    page = render_dashboard(sample_report())
    assert not re.search(r"<(script|link|img|iframe|object)\b", page)
    assert not re.search(r"\bsrc=", page)
    # The only absolute addresses are links a person follows, into the Temporal UI.
    absolute = re.findall(r'<(\w+)[^>]*\bhref="((?:https?:)?//[^"]*)"', page)
    assert absolute
    assert {tag for tag, _ in absolute} == {"a"}
    assert all(href.startswith("http://localhost:8233/namespaces/") for _, href in absolute)
    assert "@import" not in page
    assert "url(" not in page


def test_bar_chart_orders_bars_and_labels_values() -> None:
    svg = bar_chart([CountByKey(key="a", count=1), CountByKey(key="b", count=9)], title="Things")
    assert svg.index(">b<") < svg.index(">a<")
    assert ">9</text>" in svg
    assert ">1</text>" in svg
    assert "Nothing to count" in bar_chart([], title="Things")


@pytest.mark.parametrize("uses", [0, 3, 1000])
def test_daily_chart_scales_any_peak(uses: int) -> None:
    svg = daily_chart([DailyCount(day="2026-03-01", installs=0, uses=uses)] * 2)
    assert "2026-03-01: 0 installs" in svg
    assert "nan" not in svg
    assert '="-' not in svg  # no negative coordinates or sizes


def test_sparkline_needs_two_days() -> None:
    one = [DailyCount(day="2026-03-01", installs=1, uses=1)]
    assert sparkline(one) == ""
    assert "<polyline" in sparkline(one * 3)
