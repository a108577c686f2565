"""Which registry a flush sends to: the JSON API when configured, else the database.

The same choice :func:`agent_registry.distribution.source.open_catalog` makes for every
catalog command (including its refusal to create an empty SQLite registry in whatever
project the session runs in). The API path imports only the ``urllib`` client: a
developer's machine sends there, and the database catalog's imports alone would take
longer than the hook's whole time budget.
"""

from __future__ import annotations

from agent_registry.catalog.credentials import client_credentials
from agent_registry.catalog.http import HttpCatalog
from agent_registry.config import Settings
from agent_registry.usage.flush import UsageSink
from agent_registry.usage.hook import SinkOpener


def registry_opener(settings: Settings | None = None) -> SinkOpener:
    """Open the catalog now and return it to the sending thread.

    Opening builds a client or an engine and connects to nothing, so it is done before
    the flush's time budget starts; the budget is for the network or the database.

    Args:
        settings: The registry settings; read from the environment when None.

    Returns:
        A callable handing the catalog (``HttpCatalog`` or ``DatabaseCatalog``) over.

    Raises:
        NoRegistryError: Neither an API nor a database is configured.
        ValueError: The API URL is not an http(s) URL.
    """
    settings = settings or Settings()
    catalog: UsageSink
    if settings.api_url:
        catalog = HttpCatalog(settings.api_url, credentials=client_credentials(settings))
    else:
        from agent_registry.distribution.source import open_catalog  # the registry's host

        catalog = open_catalog(settings)
    return lambda: catalog
