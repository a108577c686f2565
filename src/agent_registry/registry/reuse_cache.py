"""The published catalog's similarity index, rebuilt only when the catalog changes.

It lives with the registry rather than with :mod:`agent_registry.reuse` because it reads
the store: the similarity code itself stays free of the database.

Building the index over ten thousand assets takes most of a second; asking whether the
catalog changed takes one aggregate query. Evaluations run in a worker's thread pool,
so the cache is shared between threads and rebuilds once per change, not once per
thread.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from agent_registry.registry import store
from agent_registry.registry.db import read_scope
from agent_registry.reuse.index import SimilarityIndex


class CatalogIndexCache:
    """Hands out the similarity index of the registry's current published catalog."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._index = SimilarityIndex.build([])

    def current(self) -> SimilarityIndex:
        """The index of what is published now; rebuilt first if the catalog changed."""
        with read_scope(self._engine) as session:
            generation = store.catalog_generation(session)
            if generation == self._generation:
                return self._index
            with self._lock:
                if generation != self._generation:
                    self._index = SimilarityIndex.build(store.published_catalog(session))
                    self._generation = generation
                return self._index
