"""Check-id patterns: which policy key, exact id or glob, governs a given check id.

Check ids and risk keys may be exact ids (``scope.bypass-permissions``) or ``fnmatch``
globs (``secrets.*``). When several keys match one check id the most specific wins:

1. an exact key always wins;
2. otherwise, of the matching globs, the one with the longest literal prefix (the text
   before its first ``*``, ``?`` or ``[``) wins, so ``scope.mcp-effect.*`` beats
   ``scope.*`` and ``scope.*`` beats ``*.write``;
3. ties go to the glob with more literal characters, then to the alphabetically first
   pattern, so the result never depends on the order of the file.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import TypeVar

# Check ids are lowercase and dotted; globs add fnmatch's wildcards. Anything else in a
# key (spaces, capitals) is a typo that would silently match nothing.
_CHECK_KEY_PATTERN = re.compile(r"^[a-z0-9_.*?\[\]!-]+$")
_GLOB_CHARS = re.compile(r"[*?\[]")

_T = TypeVar("_T")


def is_check_pattern(key: str) -> bool:
    """Tell whether a policy key is written like a check id or a glob of check ids."""
    return _CHECK_KEY_PATTERN.match(key) is not None


def _specificity(pattern: str) -> tuple[int, int, str]:
    """Sort key: longer literal prefix, then more literal characters, then alphabetical."""
    glob = _GLOB_CHARS.search(pattern)
    prefix = len(pattern) if glob is None else glob.start()
    literal = len(_GLOB_CHARS.sub("", pattern))
    # Negated so that the most specific pattern sorts first; the pattern breaks ties.
    return (-prefix, -literal, pattern)


def most_specific(table: Mapping[str, _T], check_id: str) -> _T | None:
    """Find the value of the most specific key of ``table`` matching ``check_id``."""
    if check_id in table:
        return table[check_id]
    matching = [
        key for key in table if _GLOB_CHARS.search(key) and fnmatch.fnmatchcase(check_id, key)
    ]
    if not matching:
        return None
    return table[min(matching, key=_specificity)]
