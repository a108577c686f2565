"""The similarity index: which published assets are closest to a submitted one.

Each asset becomes two sparse TF-IDF vectors (see :mod:`agent_registry.reuse.terms`):
one over the words of its name and description, one over the character trigrams of its
name. A query is scored against an asset by the cosine of each pair, blended as
``TEXT_WEIGHT * words + NAME_WEIGHT * names ** 2``; both cosines lie in [0, 1] and the
weights add up to 1, so the score does too.

Vectors are unit-normalised when the index is built and kept as postings (term ->
assets and weights), so a query multiplies only the weights of assets that share a
term with it, then blends two lists of floats in one pass: at ten thousand assets that
is milliseconds per query. The index is immutable once built, so one instance can be
cached and shared between threads until the published set changes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent_registry.assets.refs import AssetKind
from agent_registry.reuse.terms import name_grams, word_terms

TEXT_WEIGHT = 0.65
"""Share of the score from the words of name and description: they carry the purpose."""

NAME_WEIGHT = 1.0 - TEXT_WEIGHT
"""Share from the name's trigrams: catches ``pdf-reports`` vs ``report-pdf`` vs ``pdfReport``."""

DEFAULT_MIN_SCORE = 0.3
"""Below this, a published asset is not reported as a possible duplicate.

Chosen on the labelled pairs of ``tests/test_similarity.py``, scored both in their
15-asset catalog and mixed into 10,000 synthetic assets (``bench/similarity.py``).
Near duplicates (the same purpose, a reworded description, a similar or a different
name) scored 0.37 to 0.89. Assets of other domains sharing only generic words stayed
under 0.16; those sharing one domain or name word with another purpose (``pdf-sign``
and ``pdf-merge``, ``weather-report`` and ``pdf-report``) scored 0.21 to 0.28, the
highest in small catalogs, where IDF cannot yet tell that ``report`` is common. The bar
sits in that gap, on its low side: the warning never blocks, so a loose match costs a
reader a glance, while a missed one costs a team a rebuild.
"""

DEFAULT_LIMIT = 3
"""How many matches a warning lists: enough to offer a choice, few enough to be read."""

_NOTHING_IN_COMMON = 1e-9
"""Scores below this come from rounding, not from a shared term; they are never matches."""


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One published asset as the index sees it: its identity, its words, its owner.

    Attributes:
        kind: The asset kind.
        name: The asset name.
        version: The published version this entry describes (normally the latest).
        description: What the asset does, as its manifest says.
        owner_team: The team to talk to about reusing it.
    """

    kind: AssetKind
    name: str
    version: str
    description: str
    owner_team: str

    @property
    def ref(self) -> str:
        """The version's reference, ``kind/name@version``, as users type it."""
        return f"{self.kind.value}/{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class Match:
    """A published asset close to the submitted one.

    Attributes:
        entry: The published asset.
        score: How close, from 0 (nothing in common) to 1 (same name and description).
    """

    entry: CatalogEntry
    score: float


class _Space:
    """One vector space of the index: inverse document frequencies and postings.

    A term's postings are two parallel lists, document positions and unit-vector
    weights, which the query loop zips; that is several times faster in CPython than
    a list of pairs, and it is the loop every query runs.
    """

    def __init__(self, documents: list[Counter[str]]) -> None:
        count = len(documents)
        frequencies: Counter[str] = Counter()
        for document in documents:
            frequencies.update(document.keys())
        self._idf = {term: _idf(count, frequency) for term, frequency in frequencies.items()}
        self._unseen_idf = _idf(count, 0)
        self._postings: dict[str, tuple[list[int], list[float]]] = {}
        for position, document in enumerate(documents):
            for term, weight in self._unit_vector(document).items():
                positions, weights = self._postings.setdefault(term, ([], []))
                positions.append(position)
                weights.append(weight)

    def cosines(self, terms: Counter[str], into: list[float]) -> None:
        """Add the cosine with ``terms`` to ``into[position]`` of each document sharing a term.

        Terms no document has still count in the query's norm (with the highest IDF):
        a submission whose words are mostly new is that much less like anything here.
        """
        for term, query_weight in self._unit_vector(terms).items():
            postings = self._postings.get(term)
            if postings is None:
                continue
            for position, weight in zip(*postings, strict=True):
                into[position] += query_weight * weight

    def _unit_vector(self, terms: Mapping[str, int]) -> dict[str, float]:
        weights = {
            term: (1.0 + math.log(count)) * self._idf.get(term, self._unseen_idf)
            for term, count in terms.items()
            if count > 0
        }
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        if norm == 0.0:
            return {}
        return {term: weight / norm for term, weight in weights.items()}


def _idf(documents: int, frequency: int) -> float:
    """Smoothed IDF: never zero, so a term every asset has still counts a little."""
    return math.log((1 + documents) / (1 + frequency)) + 1.0


class SimilarityIndex:
    """Published assets, indexed to find the ones closest to a submission.

    Build it with :meth:`build`; it never changes afterwards, so cache it and build a
    new one when the published set changes.
    """

    def __init__(self, entries: list[CatalogEntry], words: _Space, names: _Space) -> None:
        self._entries = entries
        self._words = words
        self._names = names

    @classmethod
    def build(cls, entries: Iterable[CatalogEntry]) -> SimilarityIndex:
        """Index the published assets.

        Args:
            entries: The published assets, normally one entry (the latest version) per
                asset. Several versions of one asset are allowed; queries then report
                the asset once, with its best-scoring version.

        Returns:
            The index.
        """
        listed = list(entries)
        words = _Space([word_terms(entry.name, entry.description) for entry in listed])
        names = _Space([name_grams(entry.name) for entry in listed])
        return cls(listed, words, names)

    def __len__(self) -> int:
        return len(self._entries)

    def closest(
        self,
        name: str,
        description: str,
        *,
        exclude_name: tuple[AssetKind, str] | None = None,
        limit: int = DEFAULT_LIMIT,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> list[Match]:
        """The published assets most like a submission, closest first.

        Kinds are compared with one another on purpose: a subagent that does what a
        published skill does is worth a warning too.

        Args:
            name: The submitted asset's name.
            description: The submitted asset's description.
            exclude_name: ``(kind, name)`` of the submitted asset: its own published
                versions are not duplicates of it.
            limit: At most this many matches, one per asset.
            min_score: Only matches scoring at least this; see :data:`DEFAULT_MIN_SCORE`.

        Returns:
            Matches by descending score, ties by reference.

        Raises:
            ValueError: If ``limit`` is below 1 or ``min_score`` is outside [0, 1].
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, not {min_score}")
        texts = [0.0] * len(self._entries)
        self._words.cosines(word_terms(name, description), texts)
        names = [0.0] * len(self._entries)
        self._names.cosines(name_grams(name), names)
        floor = max(min_score, _NOTHING_IN_COMMON)
        best: dict[tuple[str, str], Match] = {}
        for position, score in _scores_from(texts, names, floor):
            entry = self._entries[position]
            if _is_excluded(entry, exclude_name):
                continue
            key = (entry.kind.value, entry.name)
            held = best.get(key)
            if held is None or _ranks_before(score, entry, held):
                best[key] = Match(entry=entry, score=score)
        ranked = sorted(best.values(), key=lambda match: (-match.score, match.entry.ref))
        return ranked[:limit]


def _scores_from(texts: list[float], names: list[float], floor: float) -> list[tuple[int, float]]:
    """Blend the two cosines of every document; keep the positions scoring ``floor`` or more.

    One comprehension over the whole catalog is cheaper in CPython than tracking which
    documents the postings touched. The name cosine is squared so that sharing one of
    two name words (``pdf-report`` and ``weather-report``, cosine about 0.55) adds
    little, while the same words reordered or inflected (``report-pdf``, 1.0;
    ``pdf-reports``, about 0.75) add most of ``NAME_WEIGHT``.
    """
    return [
        (position, min(score, 1.0))  # rounding can carry an identical pair past 1
        for position, (text, name) in enumerate(zip(texts, names, strict=True))
        if (score := TEXT_WEIGHT * text + NAME_WEIGHT * name * name) >= floor
    ]


def _ranks_before(score: float, entry: CatalogEntry, other: Match) -> bool:
    """Higher score first; equal scores by reference, so results never depend on order."""
    return score > other.score or (score == other.score and entry.ref < other.entry.ref)


def _is_excluded(entry: CatalogEntry, exclude_name: tuple[AssetKind, str] | None) -> bool:
    if exclude_name is None:
        return False
    kind, name = exclude_name
    return entry.kind == kind and entry.name == name
