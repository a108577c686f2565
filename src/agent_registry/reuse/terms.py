"""From an asset's name and description to the terms the similarity index compares.

Two kinds of term, because names and prose fail in different ways:

- **words**, from the name and the description: split at hyphens, underscores, dots,
  slashes and camelCase humps, case-folded, stripped of stop words and lightly stemmed,
  so ``Extracts tables`` and ``table-extractor`` share ``extract`` and ``tabl``;
- **name grams**, character trigrams of each name word padded with ``#``, so that
  ``pdf-reports`` still matches ``pdf-report`` and ``report-pdf`` where a stemmer or the
  word order would get in the way, without any model or dictionary.

Stop words are English function words plus words nearly every registry description
uses ("use when", "helps", "files", "tool", "skill", "server"): two assets sharing only
those are not alike, and in a small catalog document frequencies are too few to learn
that on their own.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD_PATTERN = re.compile(r"[^\W_]+")
"""Runs of letters and digits in any script; everything else separates words."""

_MIN_STEM = 3
"""A suffix is stripped only when at least this much of the word is left."""

_SUFFIXES = ("ment", "tion", "ing", "ed", "er", "or")
"""Suffixes stripped repeatedly, so ``filtering`` -> ``filter`` -> ``filt`` like ``filters``.

``tion`` keeps its ``t``: ``extraction``, ``extractor`` and ``extracts`` all become
``extract``, and ``generation`` meets ``generate`` at ``generat``.
"""


def _word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: long word lists stay readable."""
    return frozenset(text.split())


ENGLISH_STOP_WORDS = _word_set(
    """
    a about above after again against all almost along already also although always am
    among an and another any anyone anything are around as at be because been before
    being below between both but by can cannot could did do does doing done down during
    each either else etc even ever every few for from further get gets had has have
    having he her here hers herself him himself his how however i if in into is it its
    itself just least less may me might mine more most much must my myself neither no
    nor not now of off often on once one only onto or other others our ours ourselves out
    over own per rather same she should since so some such than that the their theirs
    them themselves then there these they this those though through thus to too under
    until up upon us very via was we were what whatever when whenever where whether which
    while who whom whose why will with within without would yet you your yours yourself
    yourselves
    """
)
"""English function words: they say nothing about what an asset does."""

REGISTRY_STOP_WORDS = _word_set(
    """
    able agent agents ai allow allows ask asked asking asks assist assistant assistants
    automatically based claude easily easy eg everything file files help helper helpers
    helping helps ie like make makes making mcp need needs new provide provides providing
    request requests server servers simple skill skills someone something specific
    subagent subagents support supports task tasks thing things tool tools use used useful
    user users uses using various want wants way ways work works
    """
)
"""Words nearly every asset description uses; sharing them is no sign of sameness."""

STOP_WORDS = ENGLISH_STOP_WORDS | REGISTRY_STOP_WORDS
"""Every word the index ignores, compared before stemming."""


def split_words(text: str) -> list[str]:
    """The words of ``text``, case-folded, split at punctuation and camelCase humps.

    Pure digit runs (``2``, ``2024``) are dropped: versions and years match across
    unrelated assets. Mixed ones (``s3``, ``oauth2``) stay, as they name things.

    Args:
        text: A name or a description, in any script.

    Returns:
        The words in order, stop words included.
    """
    words: list[str] = []
    for run in _WORD_PATTERN.findall(text):
        for word in _split_camel(run):
            folded = word.casefold()
            if not folded.isdigit():
                words.append(folded)
    return words


def stem(word: str) -> str:
    """Fold plurals and common English suffixes, so inflections of a word meet.

    Deliberately light (no dictionary, no Porter measure): both sides of a comparison
    go through the same rules, so a stem only has to be consistent, not a real word.
    Words that are not purely letters (``s3``) and short words are left alone.

    Args:
        word: A case-folded word.

    Returns:
        Its stem.
    """
    if len(word) <= _MIN_STEM or not word.isalpha():
        return word
    stemmed = _fold_plural(word)
    stripped = True
    while stripped:
        stripped = False
        stemmed = _undouble(_strip_final_e(stemmed))
        for suffix in _SUFFIXES:
            if stemmed.endswith(suffix) and len(stemmed) - len(suffix) >= _MIN_STEM:
                stemmed = stemmed[: -len(suffix)] + ("t" if suffix == "tion" else "")
                stripped = True
                break
    return stemmed


def word_terms(name: str, description: str) -> Counter[str]:
    """Stemmed content words of the name and the description, with their counts.

    The name's words join the description's: a name is a short description, and
    ``pdf-table-extractor`` says ``extract`` where its description may say ``pull``.

    Args:
        name: The asset name (an MCP server's namespace is ignored, see :func:`name_part`).
        description: The asset description.

    Returns:
        Term counts.
    """
    return Counter(
        stem(word) for text in (name_part(name), description) for word in _content_words(text)
    )


def name_grams(name: str) -> Counter[str]:
    """Character trigrams of each content word of the name, padded with ``#``.

    Padding marks word starts and ends (``#pd``, ``df#``), and grams are taken per word,
    so the order of the words does not matter: ``report-pdf`` has the grams of
    ``pdf-report``.

    Args:
        name: The asset name.

    Returns:
        Gram counts.
    """
    grams: Counter[str] = Counter()
    for word in _content_words(name_part(name)):
        padded = f"#{word}#"
        grams.update(padded[start : start + 3] for start in range(len(padded) - 2))
    return grams


def name_part(name: str) -> str:
    """The part of an asset name that says what the asset does.

    MCP server names are ``namespace/name`` with a reverse-DNS namespace
    (``io.github.acme/weather``); the namespace says who publishes the server, and would
    make every ``io.github.*`` server look like every other.
    """
    return name.rsplit("/", 1)[-1]


def _content_words(text: str) -> list[str]:
    return [word for word in split_words(text) if len(word) > 1 and word not in STOP_WORDS]


def _split_camel(run: str) -> list[str]:
    """Split ``pdfReport`` and ``HTTPServer`` into words; other runs come back whole."""
    if run.islower() or run.isupper() or not run.isalnum():
        return [run]
    words: list[str] = []
    start = 0
    for index in range(1, len(run)):
        previous, current = run[index - 1], run[index]
        following = run[index + 1] if index + 1 < len(run) else ""
        lower_to_upper = (previous.islower() or previous.isdigit()) and current.isupper()
        acronym_end = previous.isupper() and current.isupper() and following.islower()
        if lower_to_upper or acronym_end:
            words.append(run[start:index])
            start = index
    words.append(run[start:])
    return words


def _fold_plural(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _strip_final_e(word: str) -> str:
    return word[:-1] if word.endswith("e") and len(word) > _MIN_STEM else word


def _undouble(word: str) -> str:
    """``runn`` -> ``run``, ``process`` -> ``proces``: doubling depends on the suffix."""
    last = word[-1:]
    if len(word) > _MIN_STEM and word[-2:-1] == last and last not in "aeiou":
        return word[:-1]
    return word
