"""Which upstream MCP registries the worker may read: the ones the platform team named.

The scheduled import fetches from the worker, which sits inside the organization's
network beside the database and Temporal. A watch naming any URL would let whoever
sets it make the worker request internal services, a cloud metadata endpoint or the
registry's own admin routes on a schedule (a server-side request forgery). So the
upstreams are a setting (``AGENT_REGISTRY_MCP_UPSTREAMS``), checked by the watch route
and again by the activities before any request, and every redirect stays on the
origin that was allowed.

Only https is accepted, except an ``http`` URL whose host is a loopback address or
``localhost``, and only when it is listed itself: a registry on the same machine (a
test double, a local mirror) has no TLS to offer and cannot be reached from elsewhere.

Pure: no I/O, so the settings validator, the route and the activities share it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from agent_registry.vocabulary.principal import one_line

OFFICIAL_UPSTREAM = "https://registry.modelcontextprotocol.io"
"""The official MCP registry: the one upstream allowed when nothing else is named."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UpstreamNotAllowedError(ValueError):
    """A URL that is not one of the allowed upstream registries, or not a usable one."""


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine: ``localhost``, ``127.0.0.0/8`` or ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, lowercased and with the default port filled in.

    Raises:
        UpstreamNotAllowedError: ``url`` is not an http(s) URL with a host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UpstreamNotAllowedError(f"'{_shown(url)}' is not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise UpstreamNotAllowedError(f"'{_shown(url)}' is not an http(s) URL of an MCP registry")
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def normalized(url: str) -> str:
    """``url`` in one comparable form: ``scheme://host[:port]/path`` with no trailing ``/``.

    Raises:
        UpstreamNotAllowedError: Not an http(s) URL; or it carries credentials, a query or a
            fragment (a registry's base URL has none of them).
    """
    scheme, host, port = origin(url)
    parts = urlsplit(url.strip())
    if parts.username is not None or parts.password is not None:
        raise UpstreamNotAllowedError(
            f"'{_shown(url)}' carries credentials; name the registry without them"
        )
    if parts.query or parts.fragment:
        raise UpstreamNotAllowedError(
            f"'{_shown(url)}' has a query or fragment; a base URL has neither"
        )
    shown_host = f"[{host}]" if ":" in host else host
    netloc = shown_host if port == _DEFAULT_PORTS[scheme] else f"{shown_host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def allowed_entry(url: str) -> str:
    """One entry of the setting, normalized; refused unless https or listed loopback http.

    Raises:
        UpstreamNotAllowedError: The entry is not a usable upstream registry URL.
    """
    value = normalized(url)
    scheme, host, _ = origin(value)
    if scheme != "https" and not is_loopback_host(host):
        raise UpstreamNotAllowedError(
            f"'{_shown(url)}' is plain http on a host that is not loopback; only https upstreams "
            "(or http on 127.0.0.1, ::1 or localhost) may be named"
        )
    return value


def check_upstream(url: str, allowed: Iterable[str]) -> str:
    """``url`` normalized, if it is one of ``allowed`` (entries of the setting).

    Raises:
        UpstreamNotAllowedError: It is not; the one-line message names the allowed ones.
    """
    names = sorted({allowed_entry(entry) for entry in allowed})
    try:
        value = normalized(url)
    except UpstreamNotAllowedError as error:
        raise UpstreamNotAllowedError(f"{error}; allowed upstreams: {_listed(names)}") from None
    if value not in names:
        raise UpstreamNotAllowedError(
            f"upstream '{value}' is not an allowed MCP registry; allowed upstreams: "
            f"{_listed(names)} (set by the platform team in AGENT_REGISTRY_MCP_UPSTREAMS)"
        )
    return value


def _shown(url: str) -> str:
    """``url`` as a refusal may quote it: one line, bounded."""
    text = one_line(url)
    return text if len(text) <= 200 else f"{text[:200]}…"


def _listed(names: list[str]) -> str:
    return ", ".join(names) or "none"
