"""The mrkdwn primitives: untrusted text escaped, and cut to fit without saying nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_registry.slack import mrkdwn


def test_escape_mrkdwn() -> None:
    assert mrkdwn.escape_mrkdwn("a & <b> @here ops@here.io") == (
        "a &amp; &lt;b&gt; @\u2060here ops@here.io"
    )


def test_fit_text_never_splits_an_entity() -> None:
    text = mrkdwn.fit_text("&" * 50, 22)
    assert len(text) <= 22
    assert text.endswith("…")
    assert text.removesuffix("…") == "&amp;" * 4


def test_quote_keeps_whole_lines_then_cuts() -> None:
    assert mrkdwn.quote("one <b>\ntwo", 100) == "> one &lt;b&gt;\n> two"
    cut = mrkdwn.quote("first line\n" + "x" * 50, 30)
    assert len(cut) <= 30
    assert cut.startswith("> first line\n> x")
    assert cut.endswith("…")


def test_fit_lines_counts_what_does_not_fit() -> None:
    lines = [f"line {i}" for i in range(100)]
    text = mrkdwn.fit_lines("head", lines, more=lambda n: f"…{n} more", limit=60)
    assert len(text) <= 60
    assert text.startswith("head\nline 0\n")
    shown = text.count("\nline ")
    assert text.endswith(f"…{100 - shown} more")


def test_people_counts_past_the_list_limit() -> None:
    names = [f"p{i}" for i in range(mrkdwn.LIST_LIMIT + 3)]
    assert mrkdwn.people(names).endswith("p9 and 3 more")
    assert mrkdwn.people(["<!channel>"]) == "&lt;!channel&gt;"


def test_link_cannot_be_broken_out_of() -> None:
    assert mrkdwn.link("https://x.io/a?b=1&c=<d>|e", "<go>") == (
        "<https://x.io/a?b=1&amp;c=%3Cd%3E%7Ce|&lt;go&gt;>"
    )


def test_small_helpers() -> None:
    assert mrkdwn.code(None) == "`-`"
    assert mrkdwn.clip("abcdef", 4) == "abc…"
    assert mrkdwn.one_line(" a\n b\t c ") == "a b c"
    assert mrkdwn.short_hash("3f" * 32) == "3f3f3f3f3f3f"
    assert mrkdwn.short_hash(None) == "-"
    assert mrkdwn.counts(2, 1) == "2 blocking, 1 warning"
    assert mrkdwn.counts(0, 3) == "0 blocking, 3 warnings"


def test_slack_date_falls_back_to_utc() -> None:
    moment = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert mrkdwn.slack_date(moment.replace(tzinfo=None)) == mrkdwn.slack_date(moment)
    assert mrkdwn.slack_date(moment).endswith("|2026-11-24 10:30 UTC>")
