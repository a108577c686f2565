"""Slack mrkdwn primitives shared by the review messages and the notices.

Two rules hold for everything here:

* **Submitter content is untrusted.** Descriptions, reasons, names and finding messages
  go through :func:`escape_mrkdwn` (or a helper that calls it), so they cannot open a
  link or ping ``@channel``. Helpers that take already-escaped text say so.
* **Text is cut to fit, never silently.** A cut ends in ``…`` or a line counting what
  was left out, and the result never exceeds the limit it was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from agent_registry.slack.snapshot import ReviewSnapshot
from agent_registry.vocabulary.findings import Finding, Severity

SECTION_TEXT_LIMIT = 3000
"""Block Kit's limit on the text of a section."""

TOP_FINDINGS_SHOWN = 5
"""Findings listed in a message; ``agentreg show`` has the rest."""

LINE_LIMIT = 400
"""Characters of any one listed item (finding, change, scope line) before it is cut."""

REASON_MAX_LENGTH = 2000
"""Longest reason the modal accepts; a decided message quotes it whole."""

LIST_LIMIT = 10
NAME_LIMIT = 100
"""People or assets named inline before the rest are counted, and the length of each."""

_SEVERITY_MARK = {
    Severity.BLOCK: "🛑",
    Severity.WARN: "⚠️",
    Severity.INFO: "🔹",
    Severity.OFF: "▫️",
}

# Bare special mentions are only parsed when a message asks for it (``link_names``), but a
# word joiner after the ``@`` keeps them inert whatever the caller passes.
_BARE_MENTION = re.compile(r"(?<![\w.])@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def escape_mrkdwn(text: str) -> str:
    """Make untrusted text safe to place in Slack mrkdwn.

    Slack reads ``<…>`` as links and mentions (``<!channel>``, ``<@U123>``,
    ``<https://evil|click>``) and ``&`` as the start of an entity, so these three
    characters are written as entities, as Slack's formatting guide asks.

    Args:
        text: Submitter or reviewer content.

    Returns:
        The text, shown literally by Slack.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE_MENTION.sub(lambda m: f"@{_WORD_JOINER}{m[1]}", escaped)


def finding_line(finding: Finding) -> str:
    """One finding as a list line: severity, check, location and the message, cut.

    Args:
        finding: An eval finding; its message and location are untrusted.

    Returns:
        Slack mrkdwn, escaped.
    """
    where = f" {code(escape_mrkdwn(finding.location))}" if finding.location else ""
    message = fit_text(one_line(finding.message), LINE_LIMIT)
    return (
        f"{_SEVERITY_MARK[finding.severity]} *{finding.severity.value}* "
        f"{code(escape_mrkdwn(finding.check_id))}{where} — {message}"
    )


def fit_lines(
    head: str,
    lines: Sequence[str],
    *,
    more: Callable[[int], str],
    always_more: bool = False,
    limit: int = SECTION_TEXT_LIMIT,
) -> str:
    """``head`` and as many ``lines`` as fit in ``limit``, then a line counting the rest.

    Room for the closing line is kept from the start, so the text never exceeds the
    limit however long the lines are.

    Args:
        head: The first line, always kept.
        lines: Lines to list, already escaped.
        more: The closing line, given how many lines were left out.
        always_more: Add the closing line even when every line fits.
        limit: Characters the whole text may take.

    Returns:
        The lines joined by newlines.
    """
    full = "\n".join([head, *lines])
    if not always_more and len(full) <= limit:
        return full
    room = limit - len(more(len(lines))) - 1
    text, shown = head, 0
    for line in lines:
        if len(text) + 1 + len(line) > room:
            break
        text, shown = f"{text}\n{line}", shown + 1
    return f"{text}\n{more(len(lines) - shown)}" if always_more or shown < len(lines) else text


def fit_text(text: str, limit: int) -> str:
    """Escape ``text`` and cut it so that the escaped form fits ``limit`` characters.

    Cutting before escaping never splits an entity such as ``&amp;`` in half.

    Args:
        text: Untrusted text.
        limit: Characters the escaped text may take.

    Returns:
        Slack mrkdwn, escaped.
    """
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    # Escaping grows text unevenly, so search for the longest prefix that fits.
    low, high = 0, len(text) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape_mrkdwn(clip(text, middle))) <= limit:
            low = middle
        else:
            high = middle - 1
    return escape_mrkdwn(clip(text, low)) if low else "…"[:limit]


def quote(text: str, limit: int) -> str:
    """Untrusted text as a Slack block quote, escaped, within ``limit`` characters.

    Lines are kept whole while they fit; the first that does not is cut and ends it.

    Args:
        text: Untrusted text, possibly several lines.
        limit: Characters the quote may take.

    Returns:
        Slack mrkdwn, escaped.
    """
    quoted: list[str] = []
    used = 0
    for raw in text.strip().splitlines() or [""]:
        separator = 1 if quoted else 0
        line = f"> {escape_mrkdwn(raw.strip())}"
        if used + separator + len(line) > limit:
            room = limit - used - separator - len("> ")
            if room >= 1:
                quoted.append(f"> {fit_text(raw.strip(), room)}")
            break
        quoted.append(line)
        used += separator + len(line)
    return "\n".join(quoted)


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending a cut with ``…``; does not escape.

    Args:
        text: Any text.
        limit: Characters the result may take.

    Returns:
        The text, or its start and ``…``.
    """
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def one_line(text: str) -> str:
    """Collapse every run of whitespace, newlines included, to one space.

    Args:
        text: Any text.

    Returns:
        The text on one line; not escaped.
    """
    return " ".join(text.split())


def code(text: str | None) -> str:
    """Inline code; the content must already be escaped.

    Args:
        text: Escaped text; empty or None shows as ``-``.

    Returns:
        The text between backticks.
    """
    return f"`{text}`" if text else "`-`"


def link(url: str, label: str) -> str:
    """A mrkdwn link to a URL we built (Temporal UI, permalinks), never to user content.

    Args:
        url: A URL the registry built.
        label: The text shown; it is escaped.

    Returns:
        A ``<url|label>`` link.
    """
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe_url}|{escape_mrkdwn(label)}>"


def people(names: Sequence[str]) -> str:
    """Names (people or assets) inline, each cut, the ones past :data:`LIST_LIMIT` counted.

    Args:
        names: Untrusted names.

    Returns:
        Slack mrkdwn, escaped; empty for no names.
    """
    shown = ", ".join(fit_text(name, NAME_LIMIT) for name in names[:LIST_LIMIT])
    rest = len(names) - LIST_LIMIT
    return f"{shown} and {rest} more" if rest > 0 else shown


def short_hash(content_hash: str | None) -> str:
    """The first 12 characters of a content hash, to compare at a glance.

    Args:
        content_hash: A hex digest, or None when not stored yet.

    Returns:
        The short hash, or ``-``.
    """
    return content_hash[:12] if content_hash else "-"


def counts(blocking: int, warnings: int) -> str:
    """Finding counts in words: ``2 blocking, 1 warning``.

    Args:
        blocking: Blocking findings.
        warnings: Warnings.

    Returns:
        Plain text.
    """
    return f"{blocking} blocking, {warnings} warning" + ("" if warnings == 1 else "s")


def still_needed(snapshot: ReviewSnapshot) -> str:
    """What the review still needs before it decides, in words.

    Args:
        snapshot: What the lifecycle shows.

    Returns:
        Slack mrkdwn, escaped.
    """
    if snapshot.needs is None:
        return "a review plan"
    missing = snapshot.needs.missing
    return escape_mrkdwn(" and ".join(missing)) if missing else "nothing more (deciding)"


def slack_date(moment: datetime) -> str:
    """A date Slack shows in each reader's time zone, with a UTC fallback.

    Args:
        moment: The time; a naive one is taken as UTC.

    Returns:
        A ``<!date^…>`` token.
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
