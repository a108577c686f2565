"""Ranking catalog entries against the words someone typed into search.

Search answers "is there already something for this?", so a name typed exactly must win,
a name typed in part must come next, and the description catches the rest. Scores, best
first:

- ``1.0``: the text is the asset's name (``pdf-report``, ``skill/pdf-report``, or an MCP
  server's full ``io.github.acme/weather`` or its last part ``weather``);
- ``0.9``: the text starts the name (``pdf-rep``);
- ``0.8``: every query word starts a word of the name (``report pdf``);
- ``0.4`` to ``0.7``: every query word is found in the name or the description; the more
  of them in the name, the higher.

Words are found the way :mod:`agent_registry.reuse.terms` reads text (split at
punctuation and camelCase humps, case-folded, lightly stemmed), and a query word matches
any word that starts with its stem, so ``tables`` finds ``table`` and ``extraction``
finds ``extracts`` and ``extractor``, and a half-typed ``kube`` finds ``kubernetes``.
Every query word must match; ties go to the more recently published entry. Stop words
are dropped from the query unless nothing else is left (``mcp server``).

Whoever holds the entries (see :mod:`agent_registry.catalog.search_entries`) prepares
each once as a :class:`Document`, puts them in a :class:`SearchIndex` and ranks many
queries against it. The index keeps names and words in a few long strings, one per
field, so that finding the entries with a word is a ``str.find`` in C, not a Python loop
over tens of thousands of entries; only the entries that match are touched in Python.
:func:`score` ranks one document by the same rules, for reference.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from agent_registry.reuse.terms import STOP_WORDS, name_part, split_words, stem

T = TypeVar("T")

EXACT_NAME = 1.0
"""Score of an entry whose name is the query text."""

NAME_PREFIX = 0.9
"""Score of an entry whose name starts with the query text."""

ALL_WORDS_IN_NAME = 0.8
"""Score of an entry whose name holds every query word."""

IN_DESCRIPTION = 0.4
"""Score of an entry that holds every query word, none of them in its name."""

NAME_SHARE = 0.3
"""Added to :data:`IN_DESCRIPTION` in proportion to the query words found in the name."""

CACHED_QUERIES = 128
"""How many queries' ranked matches an index keeps (least recently used go first)."""

SCANS_BEFORE_POSTINGS = 3
"""Queries an index answers by scanning its word strings before it builds word postings.

Postings (each distinct word, sorted, with the entries that hold it) answer a query word
in the time it takes to read its matches, where a scan reads every entry's words; at
100,000 versions they cut a new query from tens of milliseconds to a few. Building them
takes about as long as building the index, though, and the catalog builds a new index
after every registry write; so an index first scans, and builds its postings only once
it has served enough queries to show that it will live long enough to repay them.
"""

_MIN_TRIMMED_STEM = 3
"""A stem ending in ``y`` loses it only when this much is left (``query`` -> ``quer``)."""

# Markers around names in the index's name string; no asset name holds control characters.
_FORM_START = "\x01"
_KIND_FORM_START = "\x03"
_FORM_END = "\x02"
_SEPARATOR = "\x00"
"""Between two entries' word strings, so no needle matches across entries."""


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search text.

    Attributes:
        text: The whole text, trimmed and case-folded, for name equality and prefix.
        probes: What each query word's matches start with: the word's stem without a
            final ``y`` (so ``library`` meets ``libraries``). Every one must match. Empty
            when the text has no words (only digits or punctuation), in which case only
            the name tiers can match.
    """

    text: str
    probes: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        """True when nothing was typed: every entry matches with score 1."""
        return not self.text


@dataclass(frozen=True, slots=True)
class Document(Generic[T]):
    """A catalog entry prepared for ranking; build it with :func:`document`.

    Attributes:
        item: The caller's entry, handed back with its score.
        kind: The asset kind, for ties and for ``kind/name`` queries.
        name: The asset name, for ties.
        recency: When the entry was published (or submitted), as a POSIX timestamp.
        name_forms: The case-folded names a query may equal or start: the full name
            and its last part (an MCP server's name without its namespace).
        kind_form: The case-folded ``kind/name``, which a query may equal, or start
            when it holds a ``/`` itself (else ``s`` would start every skill).
        name_words: The words of the name, namespace included, each after a space.
        description_words: The words of the description, each after a space.
        marked_forms: The name forms and ``kind_form`` between the markers the index
            searches for (see :class:`SearchIndex`).
    """

    item: T
    kind: str
    name: str
    recency: float
    name_forms: tuple[str, ...]
    kind_form: str
    name_words: str
    description_words: str
    marked_forms: str


@dataclass(frozen=True, slots=True)
class Ranked(Generic[T]):
    """One page of ranked items and how many matched in all."""

    total: int
    hits: list[tuple[float, T]]


def document(
    item: T, *, kind: str, name: str, description: str, recency: datetime | None
) -> Document[T]:
    """Prepare one entry for ranking; done once per entry, not per query.

    Args:
        item: What ranking hands back for this entry.
        kind: The asset kind.
        name: The asset name.
        description: The description searched after the name.
        recency: When it was published; None sorts it after every dated entry.

    Returns:
        The prepared document.
    """
    folded_name = name.casefold()
    name_forms = tuple(dict.fromkeys((folded_name, name_part(folded_name))))
    kind_form = f"{kind.casefold()}/{folded_name}"
    return Document(
        item=item,
        kind=kind,
        name=name,
        recency=recency.timestamp() if recency is not None else float("-inf"),
        name_forms=name_forms,
        kind_form=kind_form,
        name_words=_spaced(split_words(name)),
        description_words=_spaced(split_words(description)),
        marked_forms="".join(f"{_FORM_START}{form}{_FORM_END}" for form in name_forms)
        + f"{_KIND_FORM_START}{kind_form}{_FORM_END}",
    )


def parse_query(text: str) -> Query:
    """Read a search text into what the ranking compares.

    Args:
        text: What was typed, in any case and script; camelCase is split before
            case-folding, as names are.

    Returns:
        The parsed query.
    """
    words = split_words(text)
    content = [word for word in words if len(word) > 1 and word not in STOP_WORDS] or words
    return Query(
        text=text.strip().casefold(),
        probes=tuple(dict.fromkeys(_probe(word) for word in content)),
    )


def score(query: Query, doc: Document[T]) -> float | None:
    """How well one document matches; None when it does not.

    Args:
        query: The parsed query.
        doc: The prepared document.

    Returns:
        A score from the tiers in this module's docstring, or None.
    """
    text = query.text
    if not text or text in doc.name_forms or text == doc.kind_form:
        return EXACT_NAME
    if any(form.startswith(text) for form in doc.name_forms) or (
        "/" in text and doc.kind_form.startswith(text)
    ):
        return NAME_PREFIX
    if not query.probes:
        return None
    in_name = 0
    for probe in query.probes:
        if f" {probe}" in doc.name_words:
            in_name += 1
        elif f" {probe}" not in doc.description_words:
            return None
    return _word_score(in_name, len(query.probes))


class SearchIndex(Generic[T]):
    """Documents ranked together, with the same results as :func:`score` on each.

    The order of a query's matches is kept for the next :data:`CACHED_QUERIES` distinct
    queries, so paging through results or repeating a popular search costs a slice.

    Args:
        docs: The documents, in the order that breaks the last ties (the catalog
            passes them by kind and name).
    """

    def __init__(self, docs: Iterable[Document[T]]) -> None:
        items: list[T] = []
        recency: list[float] = []
        forms: list[str] = []
        names: list[str] = []
        descriptions: list[str] = []
        for doc in docs:
            items.append(doc.item)
            recency.append(doc.recency)
            forms.append(doc.marked_forms)
            names.append(doc.name_words)
            descriptions.append(doc.description_words)
        self._items = items
        # Position of each document when ordered newest first, index order on ties
        # (a reversed sort keeps equal keys in their original order).
        newest_first = sorted(range(len(items)), key=recency.__getitem__, reverse=True)
        self._recency_rank = [0] * len(items)
        for position, index in enumerate(newest_first):
            self._recency_rank[index] = position
        self._forms = _Strings(forms, joined_by="")
        self._names = _Strings(names, joined_by=_SEPARATOR)
        self._descriptions = _Strings(descriptions, joined_by=_SEPARATOR)
        self._word_strings = (names, descriptions)
        self._postings: tuple[_Postings, _Postings] | None = None
        self._scans = 0
        self._orders: OrderedDict[Hashable, _Order] = OrderedDict()
        self._lock = threading.Lock()
        self._postings_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def search(
        self,
        query: Query,
        *,
        offset: int = 0,
        limit: int | None = None,
        where: Callable[[T], bool] | None = None,
        where_key: Hashable = None,
    ) -> Ranked[T]:
        """One page of the matching items, best first, and the number of matches.

        Without query text every item matches with score 1, in index order; otherwise
        by score, then most recent first, then index order.

        Args:
            query: The parsed query.
            offset: Matches skipped before the page.
            limit: The most items on the page; None for all of them.
            where: Only items it accepts (a kind or team filter).
            where_key: A value that stands for ``where`` (equal keys, same filter), so
                the order of matches can be reused; None with a ``where`` disables that.

        Returns:
            The page and the total.
        """
        end = None if limit is None else offset + limit
        if query.is_empty and where is None:
            hits = [(EXACT_NAME, item) for item in self._items[offset:end]]
            return Ranked(total=len(self._items), hits=hits)
        cacheable = where is None or where_key is not None
        key = (query.text, query.probes, where_key)
        order = self._cached(key) if cacheable else None
        if order is None:
            order = self._order(query, where)
            if cacheable:
                self._remember(key, order)
        items, total = self._items, len(order.indexes)
        stop = total if end is None else min(end, total)
        return Ranked(
            total=total,
            hits=[
                (order.score_at(position), items[order.indexes[position]])
                for position in range(offset, stop)
            ],
        )

    def _order(self, query: Query, where: Callable[[T], bool] | None) -> _Order:
        """Every match, best first, as index positions grouped by score."""
        if query.is_empty:
            tiers = {EXACT_NAME: list(range(len(self._items)))}
        else:
            tiers = self._tiers(query)
        if where is not None:
            items = self._items
            tiers = {value: [i for i in found if where(items[i])] for value, found in tiers.items()}
        rank = self._recency_rank.__getitem__
        indexes: list[int] = []
        ends: list[int] = []
        scores: list[float] = []
        for value in sorted(tiers, reverse=True):
            if not tiers[value]:
                continue
            # Without text, index order is the order; with text, the newest first.
            found = tiers[value] if query.is_empty else sorted(tiers[value], key=rank)
            indexes.extend(found)
            ends.append(len(indexes))
            scores.append(value)
        return _Order(indexes=indexes, ends=ends, scores=scores)

    def _tiers(self, query: Query) -> dict[float, list[int]]:
        """The indexes of the matching documents, by score."""
        text = query.text
        exact = set(self._forms.containing(_FORM_START + text + _FORM_END))
        exact.update(self._forms.containing(_KIND_FORM_START + text + _FORM_END))
        prefixed = set(self._forms.containing(_FORM_START + text))
        if "/" in text:
            prefixed.update(self._forms.containing(_KIND_FORM_START + text))
        prefixed -= exact
        tiers: dict[float, list[int]] = {EXACT_NAME: list(exact), NAME_PREFIX: list(prefixed)}
        if not query.probes:
            return tiers
        postings = self._word_postings()
        described: list[Iterable[int]]
        if postings is None:
            named = [set(self._names.containing(f" {probe}")) for probe in query.probes]
            described = [self._descriptions.containing(f" {probe}") for probe in query.probes]
        else:
            names, descriptions = postings
            named = [names.starting(probe) for probe in query.probes]
            described = [descriptions.starting(probe) for probe in query.probes]
        matching = set.intersection(
            *(in_name.union(found) for in_name, found in zip(named, described, strict=True))
        )
        matching -= exact
        matching -= prefixed
        count = len(named)
        if count == 1:
            tiers[ALL_WORDS_IN_NAME] = list(matching & named[0])
            tiers[IN_DESCRIPTION] = list(matching - named[0])
            return tiers
        for index in matching:
            value = _word_score(sum(index in words for words in named), count)
            tiers.setdefault(value, []).append(index)
        return tiers

    def _word_postings(self) -> tuple[_Postings, _Postings] | None:
        """The postings of names and descriptions, or None while the index still scans.

        See :data:`SCANS_BEFORE_POSTINGS`.
        """
        if self._postings is not None:
            return self._postings
        with self._postings_lock:
            self._scans += 1
            if self._postings is None and self._scans > SCANS_BEFORE_POSTINGS:
                names, descriptions = self._word_strings
                self._postings = (_Postings(names), _Postings(descriptions))
            return self._postings

    def _cached(self, key: Hashable) -> _Order | None:
        with self._lock:
            order = self._orders.get(key)
            if order is not None:
                self._orders.move_to_end(key)
            return order

    def _remember(self, key: Hashable, order: _Order) -> None:
        with self._lock:
            self._orders[key] = order
            while len(self._orders) > CACHED_QUERIES:
                self._orders.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Order:
    """A query's matches, best first: positions into the index, in score tiers.

    Attributes:
        indexes: The matching documents' positions, in ranked order.
        ends: Where each score tier ends in ``indexes``, ascending.
        scores: Each tier's score, descending.
    """

    indexes: list[int]
    ends: list[int]
    scores: list[float]

    def score_at(self, position: int) -> float:
        """The score of the match at ``position`` in the ranked order."""
        return self.scores[bisect_right(self.ends, position)]


class _Strings:
    """Many short strings kept as one, so that ``str.find`` searches them all in C."""

    def __init__(self, strings: list[str], *, joined_by: str) -> None:
        starts: list[int] = []
        position = 0
        for string in strings:
            starts.append(position)
            position += len(string) + len(joined_by)
        self._starts = starts
        self._joined = joined_by.join(strings)

    def containing(self, needle: str) -> list[int]:
        """The indexes of the strings that contain ``needle``, ascending, each once."""
        joined, starts = self._joined, self._starts
        found: list[int] = []
        position = joined.find(needle)
        while position != -1:
            index = bisect_right(starts, position) - 1
            found.append(index)
            if index + 1 == len(starts):
                break
            position = joined.find(needle, starts[index + 1])
        return found


class _Postings:
    """Which of many word strings hold a word that starts with a given prefix.

    The same answer as ``_Strings.containing(" " + prefix)`` over the same strings (each
    word follows a space), from the sorted distinct words and the strings holding each:
    a query reads only the words it matches, never every string.
    """

    def __init__(self, strings: list[str]) -> None:
        holders: dict[str, list[int]] = {}
        for index, string in enumerate(strings):
            for word in set(string.split(" ")):
                if word:
                    holders.setdefault(word, []).append(index)
        self._words = sorted(holders)
        self._holders = [holders[word] for word in self._words]

    def starting(self, prefix: str) -> set[int]:
        """The indexes of the strings with a word that starts with ``prefix``."""
        words, found = self._words, set[int]()
        for position in range(bisect_left(words, prefix), len(words)):
            if not words[position].startswith(prefix):
                break
            found.update(self._holders[position])
        return found


def _word_score(in_name: int, count: int) -> float:
    if in_name == count:
        return ALL_WORDS_IN_NAME
    return IN_DESCRIPTION + NAME_SHARE * in_name / count


def _spaced(words: list[str]) -> str:
    return "".join(f" {word}" for word in words)


def _probe(word: str) -> str:
    stemmed = stem(word)
    if stemmed.endswith("y") and len(stemmed) > _MIN_TRIMMED_STEM:
        return stemmed[:-1]
    return stemmed
