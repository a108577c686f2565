"""Reading a whole catalog listing, page by page, without looping forever."""

from __future__ import annotations

from collections.abc import Iterator

from agent_registry.catalog.models import MAX_PAGE_SIZE, CatalogSource, SearchHit, SearchQuery

MAX_PAGES = 100
"""Pages read per listing; a listing longer than this is cut rather than followed."""


def every_hit(catalog: CatalogSource, query: SearchQuery | None = None) -> Iterator[SearchHit]:
    """Every hit of ``query`` (default: the installable catalog), across pages.

    Args:
        catalog: The registry.
        query: What to list; its ``offset`` is where reading starts.

    Yields:
        Hits in the order the catalog ranks them.
    """
    query = query or SearchQuery(limit=MAX_PAGE_SIZE)
    for _ in range(MAX_PAGES):
        page = catalog.search(query)
        yield from page.items
        if page.next_offset is None or not page.items:
            return
        query = query.model_copy(update={"offset": page.next_offset})
