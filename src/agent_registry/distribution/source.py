"""Which catalog the catalog commands read: the registry's API, or its database.

A developer's machine usually has no database credentials; it has the API's URL
(``AGENT_REGISTRY_API_URL``), and then every read and every install report goes through
:class:`~agent_registry.catalog.http.HttpCatalog`. Without one, the configured database
is read directly through :class:`~agent_registry.catalog.database.DatabaseCatalog`, as
on the registry's own host and in tests.
"""

from __future__ import annotations

from agent_registry.catalog.credentials import client_credentials
from agent_registry.catalog.http import HttpCatalog
from agent_registry.catalog.models import CatalogSource
from agent_registry.config import Settings

"""The embedded default registry's file name under the data folder (see ``Settings``)."""


class NoRegistryError(LookupError):
    """Neither an API URL nor a database is configured, and the default one is absent."""


def open_catalog(settings: Settings) -> CatalogSource:
    """The catalog for these settings: the API when its URL is set, else the database.

    The embedded default database (SQLite under the data folder) is opened only if it
    exists: opening it would otherwise create an empty registry in whatever folder the
    command runs in, and every answer would be a confident "not found".

    Args:
        settings: The registry settings.

    Returns:
        An ``HttpCatalog`` or a ``DatabaseCatalog``.

    Raises:
        NoRegistryError: Nothing to read from; the message says what to set.
    """
    if settings.api_url:
        return HttpCatalog(settings.api_url, credentials=client_credentials(settings))
    if settings.embedded_database_missing:
        raise NoRegistryError(
            f"no registry to read: set AGENT_REGISTRY_API_URL to the registry's API, or "
            f"AGENT_REGISTRY_DATABASE_URL to its database "
            f"(there is no {settings.embedded_database})"
        )
    # The database client (SQLAlchemy, the store, the report) is imported only on this
    # branch, so a machine that reads the API, and the guard hook, start faster.
    from agent_registry.catalog.database import DatabaseCatalog
    from agent_registry.policy.loader import load_policy
    from agent_registry.registry.db import make_engine

    policy = load_policy(settings.policy) if settings.policy else None
    return DatabaseCatalog(
        make_engine(settings.resolved_database_url), policy=policy, limits=settings.bundle_limits
    )
