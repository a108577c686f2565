"""The catalog read over the registry's JSON API, for machines without database access.

:class:`HttpCatalog` implements :class:`~agent_registry.catalog.models.CatalogSource`
with the standard library's ``urllib`` only, so the CLI and the usage hook need no HTTP
dependency of their own. It answers exactly as
:class:`~agent_registry.catalog.database.DatabaseCatalog` does (the API serves that
catalog's own models): a missing ref or bundle is
:class:`~agent_registry.catalog.models.CatalogNotFoundError`, a malformed ref is
:class:`~agent_registry.assets.refs.InvalidRefError` before any request is sent. What
only a network adds has its own errors, each naming the URL: :class:`CatalogUnreachableError`
when nothing answers (in time), :class:`CatalogApiError` when something answers wrongly.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError

from agent_registry import __version__
from agent_registry.assets.bundle_problems import InvalidBundleError
from agent_registry.assets.refs import AssetRef, parse_unversioned
from agent_registry.catalog.models import (
    CatalogNotFoundError,
    InstallEvent,
    OrgReport,
    Page,
    SearchHit,
    SearchQuery,
    UsageEvent,
    VersionDetail,
)
from agent_registry.wire.limits import MAX_USAGE_BATCH
from agent_registry.wire.paths import (
    API_PREFIX,
    BUNDLE_MEDIA_TYPE,
    GUARD_SNAPSHOT_PATH,
    INSTALLS_PATH,
    REPORT_PATH,
    SEARCH_PATH,
    USAGE_PATH,
    asset_path,
    bundle_path,
)
from agent_registry.wire.schemas import ErrorBody, Recorded

Model = TypeVar("Model", bound=BaseModel)

DEFAULT_TIMEOUT_SECONDS = 10.0
"""How long a call waits to connect, and then for each read, before giving up."""

_CONTENT_HASH = re.compile(r"^[0-9a-f]{64}$")
_USAGE_BATCH = TypeAdapter(list[UsageEvent])
_USER_AGENT = f"agentreg/{__version__} (python-urllib)"


class CatalogApiError(Exception):
    """The registry API answered, but not with what was asked; the message names the URL."""


class CatalogUnreachableError(CatalogApiError):
    """Nothing answered at the registry API's URL, or not in time; the message names it."""


class HttpCatalog:
    """The catalog behind a registry API (``agentreg serve``).

    Args:
        base_url: The server's root URL, e.g. ``http://registry.internal:3000``
            (``AGENT_REGISTRY_API_URL``); a trailing ``/api/v1`` is tolerated.
        timeout: Seconds to wait to connect and then for each read; a dead server
            fails a call after this, not after the operating system's minutes.
        credentials: Headers naming the caller (see
            :mod:`agent_registry.catalog.credentials`), sent with every request: writes
            need a principal, and so do reads of versions that are not public.

    Raises:
        ValueError: If ``base_url`` is not an http(s) URL with a host, or is plain
            ``http://`` to a host other than this machine.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                f"registry API URL {base_url!r} is not an http(s) URL like "
                "https://registry.internal"
            )
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            # Anything on the path could answer for the registry over plain HTTP.
            raise ValueError(
                f"registry API URL {base_url!r} is plain http:// to another host; use "
                "https:// (http:// is accepted only for loopback, e.g. http://127.0.0.1:3000)"
            )
        root = base_url.strip().rstrip("/")
        self._base = root.removesuffix(API_PREFIX).rstrip("/")
        self._timeout = timeout
        self._credentials = dict(credentials or {})
        # No handler beyond the defaults: proxies from the environment apply, as for
        # any other HTTP client on the machine.
        self._opener = urllib.request.build_opener()

    @property
    def base_url(self) -> str:
        """The server's root URL, as requests are built from it."""
        return self._base

    def search(self, query: SearchQuery) -> Page[SearchHit]:
        """Versions matching ``query``, best first (``GET /api/v1/search``)."""
        params: dict[str, str] = {"limit": str(query.limit), "offset": str(query.offset)}
        if query.text:
            params["q"] = query.text
        if query.kind is not None:
            params["kind"] = query.kind.value
        if query.team:
            params["team"] = query.team
        if query.stage:
            params["stage"] = query.stage
        return self._get_model(f"{SEARCH_PATH}?{urlencode(params)}", Page[SearchHit])

    def show(self, ref: str) -> VersionDetail:
        """One version; ``kind/name`` without a version means the latest published.

        Raises:
            InvalidRefError: ``ref`` is not ``kind/name[@version]``; nothing is sent.
            CatalogNotFoundError: No such asset or version.
        """
        if "@" in ref:
            parsed = AssetRef.parse(ref)
            path = asset_path(parsed.kind.value, parsed.name, parsed.version)
        else:
            kind, name = parse_unversioned(ref)
            path = asset_path(kind.value, name)
        return self._get_model(path, VersionDetail)

    def bundle(self, content_hash: str) -> bytes:
        """The canonical archive with this content hash, checked against it.

        The hash is read as the database catalog reads it (case and surrounding space do
        not matter); the API's URL takes it in its one canonical form.

        Raises:
            CatalogNotFoundError: No such bundle (a malformed hash names none).
            CatalogApiError: The bytes received do not hash to ``content_hash``.
        """
        wanted = content_hash.strip().lower()
        if not _CONTENT_HASH.match(wanted):
            raise CatalogNotFoundError(
                f"no bundle with content hash {content_hash!r}: a content hash is the "
                "sha256 of the bundle, 64 hex digits"
            )
        data = self._call("GET", bundle_path(wanted))
        if hashlib.sha256(data).hexdigest() != wanted:
            raise CatalogApiError(
                f"{self._url(bundle_path(wanted))} sent bytes that do not hash to "
                f"{wanted[:12]}; not using them"
            )
        return data

    def stage_bundle(self, archive: bytes) -> str:
        """Stage a submitted archive (``PUT /api/v1/bundles/{sha256}``); returns the hash.

        Raises:
            InvalidBundleError: The server refused the archive (422), with its reason.
            CatalogApiError: Any other refusal.
        """
        content_hash = hashlib.sha256(archive).hexdigest()
        self._call("PUT", bundle_path(content_hash), body=archive, content_type=BUNDLE_MEDIA_TYPE)
        return content_hash

    def record_install(self, event: InstallEvent) -> None:
        """Count an install (``POST /api/v1/installs``)."""
        self._post(INSTALLS_PATH, event.model_dump_json().encode())

    def record_usage(self, events: list[UsageEvent]) -> int:
        """Count uses, in batches the server accepts; returns how many were recorded."""
        recorded = 0
        for start in range(0, len(events), MAX_USAGE_BATCH):
            batch = events[start : start + MAX_USAGE_BATCH]
            recorded += self._post(USAGE_PATH, _USAGE_BATCH.dump_json(batch))
        return recorded

    def report(self) -> OrgReport:
        """The org dashboard's numbers, now (``GET /api/v1/report``)."""
        return self._get_model(REPORT_PATH, OrgReport)

    def signed_guard_snapshot(self) -> str:
        """The guard's snapshot as the registry signed it (``GET /api/v1/guard/snapshot``).

        Not checked here: the guard verifies it with the keys it trusts.
        """
        return self._call("GET", GUARD_SNAPSHOT_PATH).decode("utf-8", "replace")

    # ----- one request --------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._base}{path}"

    def _get_model(self, path: str, model: type[Model]) -> Model:
        return _parsed(self._call("GET", path), model, url=self._url(path))

    def _post(self, path: str, body: bytes) -> int:
        answer = self._call("POST", path, body=body)
        return _parsed(answer, Recorded, url=self._url(path)).recorded

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> bytes:
        """One request; the reply's body, or the error that says what went wrong.

        Raises:
            CatalogNotFoundError: 404, with the server's sentence.
            CatalogApiError: Any other error status, with the server's sentence.
            CatalogUnreachableError: No connection, or no answer within the timeout.
        """
        url = self._url(path)
        headers = {"Accept": "application/json", "User-Agent": _USER_AGENT, **self._credentials}
        if body is not None:
            headers["Content-Type"] = content_type
        # The scheme was checked to be http(s) when the catalog was built.
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as error:
            raise _status_error(error, method=method, url=url) from None
        except urllib.error.URLError as error:
            raise CatalogUnreachableError(
                f"cannot reach the registry API at {url}: {_reason(error.reason)}"
            ) from None
        except TimeoutError:
            raise CatalogUnreachableError(
                f"the registry API at {url} did not answer within {self._timeout:g} seconds"
            ) from None
        except (OSError, http.client.HTTPException) as error:  # broke mid-reply
            raise CatalogUnreachableError(
                f"the connection to the registry API at {url} failed: {error}"
            ) from None


def _loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost`` or a loopback address."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _status_error(error: urllib.error.HTTPError, *, method: str, url: str) -> Exception:
    """The server's error reply as the exception the caller expects."""
    sentence = _error_sentence(error.read(), error.headers)
    if error.code == 404:
        return CatalogNotFoundError(sentence or f"not found: {url}")
    if error.code == 422:
        return InvalidBundleError(sentence or f"the registry API refused the bundle: {url}")
    return CatalogApiError(
        f"the registry API refused {method} {url} ({error.code}): {sentence or error.reason}"
    )


def _error_sentence(body: bytes, headers: Message) -> str | None:
    if "json" not in (headers.get_content_type() or ""):
        return None
    try:
        return ErrorBody.model_validate_json(body).error
    except ValidationError:
        return None


def _parsed(data: bytes, model: type[Model], *, url: str) -> Model:
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        raise CatalogApiError(
            f"{url} answered with something that is not a valid {model.__name__} (is it the "
            f"registry's API?): {error.error_count()} problem(s), first: "
            f"{error.errors()[0]['msg']}"
        ) from None


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is agentreg serve running there?)"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror})"
    return str(reason)
