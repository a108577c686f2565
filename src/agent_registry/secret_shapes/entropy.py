"""Whether a string is random enough to be a generated secret (entropy and shape).

Shared by the secret checks' random-string heuristic and the MCP probe's output masking.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from itertools import pairwise

from agent_registry.secret_shapes.tokens import is_placeholder

# Thresholds of ``looks_generated``. Most random keys of 20 characters or more pass
# them; next to none of the identifiers, paths and prose of a few thousand open-source
# files do.
ENTROPY_MIN_LENGTH = 20
_HEX_MIN_BITS = 3.0
_BASE64_MIN_BITS = 4.2
_SHORT_STRING_SLACK = 0.6
_MIN_CLASS_CHANGES = 0.4
_MAX_WORD_LETTERS = 0.5
_MAX_VOWELS = 0.4
_SAMPLE = 256
"""Characters of a candidate that are examined: randomness shows early, and a 500 KB
base64 line must not cost more than its first few hundred characters."""
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_SAME_CASE_RUN = re.compile(r"[a-z]{4,}|[A-Z]{4,}")


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``, from its own character frequencies.

    Random keys use their alphabet evenly and score near its maximum (4 bits for hex,
    about 6 for base64, bounded by log2 of the length); words and identifiers repeat
    letters and score lower.
    """
    if not text:
        return 0.0
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in Counter(text).values())


def looks_generated(text: str) -> bool:
    """Tell whether a hex or base64-alphabet string is random enough to be a secret.

    Entropy alone flags long identifiers (``getUserAccountSettings…``) and paths, so a
    candidate must also mix letters and digits, and (outside hex) look generated: change
    between upper case, lower case and digits often, have few runs of four letters of
    one case, and no more vowels than random letters have. Words do none of these.

    Args:
        text: A run of hex, base64 or URL-safe base64 characters.

    Returns:
        True when it passes every test for its alphabet.
    """
    core = text.rstrip("=")
    if len(core) < ENTROPY_MIN_LENGTH or is_placeholder(core):
        return False
    core = core[:_SAMPLE]
    if not any(c.isdigit() for c in core) or not any(c.isalpha() for c in core):
        return False
    hex_digits = core[2:] if core[:2] in ("0x", "0X") else core
    if _HEX.fullmatch(hex_digits):
        return shannon_entropy(hex_digits) >= _HEX_MIN_BITS
    # No string reaches more than log2(length) bits per character; short ones are held
    # to what a random string of their length usually reaches.
    needed = min(_BASE64_MIN_BITS, math.log2(len(core)) - _SHORT_STRING_SLACK)
    return (
        shannon_entropy(core) >= needed
        and _class_changes(core) >= _MIN_CLASS_CHANGES
        and not _reads_like_words(core)
        and not _encodes_text(core)
    )


def _class_changes(text: str) -> float:
    """How often consecutive letters and digits switch between upper, lower and digit."""
    classes = ["u" if c.isupper() else "l" if c.islower() else "d" for c in text if c.isalnum()]
    if len(classes) < 2:
        return 0.0
    return sum(a != b for a, b in pairwise(classes)) / (len(classes) - 1)


def _reads_like_words(text: str) -> bool:
    """Identifiers and prose: half the letters in same-case runs, or many vowels.

    About one letter in five of a random string is a vowel, and runs of four letters of
    one case are rare; ``RespondActivityTaskFailedById2`` has both in plenty.
    """
    letters = [c for c in text if c.isalpha()]
    in_runs = sum(len(run) for run in _SAME_CASE_RUN.findall(text))
    vowels = sum(c in "aeiouAEIOU" for c in letters)
    return in_runs >= _MAX_WORD_LETTERS * len(letters) or vowels >= _MAX_VOWELS * len(letters)


def _encodes_text(text: str) -> bool:
    """Whether the string is base64 of readable text: encoded data, not a key.

    Random key material does not decode to printable text; a serialized JSON payload
    or a sentence does. Text without a blank (``user:password``) is not excused.

    Args:
        text: A base64 or URL-safe base64 string, padding stripped.
    """
    core = text.replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(core + "=" * (-len(core) % 4), validate=True).decode()
    except (binascii.Error, ValueError):
        return False
    return decoded.isprintable() and (" " in decoded or decoded[:1] in ("{", "[", '"', "<"))
