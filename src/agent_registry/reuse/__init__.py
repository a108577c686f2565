"""Reuse before rebuild: the published assets closest to a submission, and their owners.

On submission the registry compares the new asset's name and description with every
published asset and warns about the closest ones, so that a team asks the owner of an
existing asset before building a second one. The comparison is lexical (TF-IDF over
words and name trigrams, cosine similarity): no network, no model, and explainable in
one sentence to whoever reads the warning.

- :mod:`~agent_registry.reuse.terms`: what the comparison looks at;
- :mod:`~agent_registry.reuse.index`: the index, its scores and its default threshold.
"""

from agent_registry.reuse.index import (
    DEFAULT_LIMIT,
    DEFAULT_MIN_SCORE,
    CatalogEntry,
    Match,
    SimilarityIndex,
)

__all__ = ["DEFAULT_LIMIT", "DEFAULT_MIN_SCORE", "CatalogEntry", "Match", "SimilarityIndex"]
