"""The MCP Registry's own publishing rules, applied to a submitted ``server.json``.

The official registry (github.com/modelcontextprotocol/registry,
``internal/validators/``) refuses a ``server.json`` for reasons the JSON schema alone
does not express: a namespace that starts with a dot, a remote on ``localhost``, a
named argument whose name carries its value, a template variable nobody defines. A
server that passes here but is refused there cannot be mirrored upstream, and several
of the rules are about safety (https only, no loopback remotes), so the registry applies
the same rules, in the same words where it can.

Only rules that can be judged from the document are here. Proof of namespace ownership
(DNS or HTTP records, a GitHub login) and proof that a package names the server (the
``mcpName`` in ``package.json``, an OCI label) need the network and a publisher
identity; they stay with the official registry.

The registry also refuses a document without ``$schema``; here a missing ``$schema`` is
accepted, since entries kept for in-house use are never published upstream, and only a
``$schema`` that names something other than a published schema is refused.

The version rules (exact version, no range, no ``latest``, no template) are enforced by
the manifest model, so they arrive as ``spec.invalid-field`` parse problems.

The checks read the raw document (``asset.frontmatter``), not the parsed manifest, so
that a field the model does not know (``icons``, ``packageArguments``) is still judged
and a document the model refused for one reason is still checked for the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from agent_registry.assets.manifests import MCP_NAME_PATTERN
from agent_registry.assets.parsed import ParsedAsset, line_of_path
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

CATALOG: dict[str, Severity] = {
    "spec.mcp-schema": Severity.BLOCK,
    "spec.mcp-server-name": Severity.BLOCK,
    "spec.mcp-title": Severity.BLOCK,
    "spec.mcp-repository": Severity.BLOCK,
    "spec.mcp-website-url": Severity.BLOCK,
    "spec.mcp-icon": Severity.BLOCK,
    "spec.mcp-package-identifier": Severity.BLOCK,
    "spec.mcp-registry-base-url": Severity.BLOCK,
    "spec.mcp-oci-package": Severity.BLOCK,
    "spec.mcp-mcpb-package": Severity.BLOCK,
    "spec.mcp-transport": Severity.BLOCK,
    "spec.mcp-remote-url": Severity.BLOCK,
    "spec.mcp-duplicate-remote": Severity.WARN,
    "spec.mcp-argument": Severity.BLOCK,
    "spec.mcp-publisher-meta": Severity.BLOCK,
}
"""Check ids of the publishing rules and the severity each proposes.

Everything the official registry refuses blocks; a remote listed twice, which it does
not refuse but which is dead weight for every client, warns.
"""

SCHEMA_URL = re.compile(
    r"^https://static\.modelcontextprotocol\.io/schemas/\d{4}-\d{2}-\d{2}/server\.schema\.json$"
)
"""Where the MCP Registry publishes each dated version of the server.json schema."""

# The registry's own patterns (internal/validators/validators.go, utils.go).
_NAMESPACE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]$")
_NAME_PART = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$")
_REPOSITORY_URL = {
    "github": re.compile(r"^https?://(www\.)?github\.com/[\w.-]+/[\w.-]+/?$"),
    "gitlab": re.compile(r"^https?://(www\.)?gitlab\.com/[\w.-]+(/[\w.-]+)+/?$"),
}
_SUBFOLDER = re.compile(r"^[a-zA-Z0-9\-_./]+$")
_TEMPLATE_VARIABLE = re.compile(r"\{([^}]+)\}")
_PORT_VARIABLE = re.compile(r":(\{[^}]+\})(/|$)")

REGISTRY_BASE_URLS: Mapping[str, str] = {
    "npm": "https://registry.npmjs.org",
    "pypi": "https://pypi.org",
    "nuget": "https://api.nuget.org/v3/index.json",
}
"""The only base URL the official registry accepts for each public package registry."""

OCI_REGISTRIES = frozenset({"docker.io", "registry-1.docker.io", "index.docker.io", "ghcr.io"})
"""OCI registries the official registry accepts images from (and any ``*.pkg.dev``)."""

CANONICAL_OCI_SINCE = "2025-10-17"
"""The schema version from which an OCI image is named by its full reference alone.

Earlier documents gave ``registryBaseUrl`` and ``version`` beside the identifier, and
the official registry still serves them that way, so the rule follows ``$schema``.
"""

_SCHEMA_DATE = re.compile(r"/schemas/(\d{4}-\d{2}-\d{2})/")

MAX_PUBLISHER_META_BYTES = 4 * 1024
"""The registry's limit on ``_meta`` publisher-provided extensions."""

PUBLISHER_META_KEY = "io.modelcontextprotocol.registry/publisher-provided"

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
"""Hosts the registry refuses for remotes: a remote must be reachable by every client."""


def schema_url(asset: ParsedAsset) -> list[Finding]:
    """A ``$schema`` must name a published server.json schema; the registry refuses others."""
    data = _document(asset)
    if data is None:
        return []
    value = data.get("$schema")
    if value is None or value == "":
        return []  # see the module docstring: in-house entries may leave it out
    if isinstance(value, str) and SCHEMA_URL.match(value):
        return []
    return [
        _finding(
            asset,
            "spec.mcp-schema",
            "$schema",
            f"$schema '{value}' is not a server.json schema the MCP Registry publishes",
            "Use https://static.modelcontextprotocol.io/schemas/<date>/server.schema.json.",
        )
    ]


def server_name(asset: ParsedAsset) -> list[Finding]:
    """Namespace and name must start and end with a letter or digit.

    The manifest model already refuses names without exactly one slash or with other
    characters; this adds the registry's start-and-end rule that the model's pattern
    lets through (``-acme/tickets``, ``io.github.acme/tickets.``).
    """
    data = _document(asset)
    name = data.get("name") if data is not None else None
    if not isinstance(name, str) or not MCP_NAME_PATTERN.match(name):
        return []  # missing or malformed names are already a parse problem
    namespace, part = name.split("/", 1)
    if not _NAMESPACE.match(namespace):
        message = (
            f"server name format is invalid: namespace '{namespace}' is invalid. Namespace "
            "must start and end with alphanumeric characters, and may contain dots and "
            "hyphens in the middle"
        )
    elif not _NAME_PART.match(part):
        message = (
            f"server name format is invalid: name '{part}' is invalid. Name must start and "
            "end with alphanumeric characters, and may contain dots, underscores, and "
            "hyphens in the middle"
        )
    else:
        return []
    return [_finding(asset, "spec.mcp-server-name", "name", message, "e.g. io.github.acme/tickets")]


def title(asset: ParsedAsset) -> list[Finding]:
    """A title of only whitespace: the registry refuses it, clients would show nothing."""
    data = _document(asset)
    value = data.get("title") if data is not None else None
    if not isinstance(value, str) or value == "" or value.strip():
        return []
    return [
        _finding(
            asset,
            "spec.mcp-title",
            "title",
            "title cannot be only whitespace",
            "Give a short display name, or remove title.",
        )
    ]


def repository(asset: ParsedAsset) -> list[Finding]:
    """``repository`` must be a GitHub or GitLab project URL matching its ``source``."""
    data = _document(asset)
    repo = data.get("repository") if data is not None else None
    if not isinstance(repo, Mapping):
        return []
    url = repo.get("url") or ""
    source = repo.get("source") or ""
    subfolder = repo.get("subfolder") or ""
    findings = []
    if url or source:
        pattern = _REPOSITORY_URL.get(str(source))
        if pattern is None or not pattern.match(str(url)):
            findings.append(
                _finding(
                    asset,
                    "spec.mcp-repository",
                    "repository.url",
                    f"invalid repository URL: {url} (source '{source}')",
                    "Set source to github or gitlab and url to the project's address, e.g. "
                    "https://github.com/acme/tickets-mcp.",
                )
            )
    if subfolder and not _valid_subfolder(str(subfolder)):
        findings.append(
            _finding(
                asset,
                "spec.mcp-repository",
                "repository.subfolder",
                f"invalid subfolder path: {subfolder}",
                "Give a relative path inside the repository, e.g. servers/tickets (no "
                "leading or trailing '/', no '.' or '..').",
            )
        )
    return findings


def website_url(asset: ParsedAsset) -> list[Finding]:
    """``websiteUrl`` must be an absolute https URL."""
    data = _document(asset)
    value = data.get("websiteUrl") if data is not None else None
    if not isinstance(value, str) or value == "":
        return []
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.netloc:
        return []
    reason = "must use https scheme" if parts.scheme else "must be absolute (include scheme)"
    return [
        _finding(
            asset,
            "spec.mcp-website-url",
            "websiteUrl",
            f"websiteUrl {reason}: {value}",
            "Use the https address of the server's page.",
        )
    ]


def icons(asset: ParsedAsset) -> list[Finding]:
    """Icon sources must be absolute https URLs (no http, no ``data:``)."""
    findings = []
    for index, icon in _items(_document(asset), "icons"):
        src = str(icon.get("src") or "")
        parts = urlsplit(src)
        if parts.scheme == "https" and parts.netloc:
            continue
        findings.append(
            _finding(
                asset,
                "spec.mcp-icon",
                f"icons[{index}].src",
                f"icon src must use https scheme (got {parts.scheme or 'none'}): {src}",
                "Serve the icon from an https address.",
            )
        )
    return findings


def package_identifiers(asset: ParsedAsset) -> list[Finding]:
    """A package identifier with a space names no package in any registry."""
    findings = []
    for index, package in _items(_document(asset), "packages"):
        identifier = package.get("identifier")
        if isinstance(identifier, str) and " " in identifier:
            findings.append(
                _finding(
                    asset,
                    "spec.mcp-package-identifier",
                    f"packages[{index}].identifier",
                    f"package name cannot contain spaces: '{identifier}'",
                    "Give the package's name as its registry spells it.",
                )
            )
    return findings


def registry_base_urls(asset: ParsedAsset) -> list[Finding]:
    """npm, PyPI and NuGet packages must come from the public registry itself.

    A different ``registryBaseUrl`` makes clients install from a mirror nobody
    reviewed; the official registry refuses it.
    """
    findings = []
    for index, package in _items(_document(asset), "packages"):
        kind = str(package.get("registryType") or "")
        base = package.get("registryBaseUrl")
        expected = REGISTRY_BASE_URLS.get(kind)
        if expected is None or base in (None, "") or base == expected:
            continue
        findings.append(
            _finding(
                asset,
                "spec.mcp-registry-base-url",
                f"packages[{index}].registryBaseUrl",
                f"registry type and base URL do not match: '{base}' is not valid for "
                f"registry type '{kind}'. Expected: {expected}",
                f"Remove registryBaseUrl or set it to {expected}.",
            )
        )
    return findings


def oci_packages(asset: ParsedAsset) -> list[Finding]:
    """An OCI image comes from a public registry the official registry accepts.

    From schema 2025-10-17 on, the image is named by its canonical reference alone
    (``docker.io/owner/image:1.0.0``): ``registryBaseUrl``, ``version`` and
    ``fileSha256`` beside it are refused.
    """
    data = _document(asset)
    canonical = _schema_date(data) >= CANONICAL_OCI_SINCE
    findings = []
    for index, package in _items(data, "packages"):
        if package.get("registryType") != "oci":
            continue
        identifier = str(package.get("identifier") or "")
        problems = []
        if canonical:
            for key, hint in (
                ("registryBaseUrl", "use canonical reference in 'identifier' instead"),
                ("version", "include version in 'identifier' instead"),
                ("fileSha256", ""),
            ):
                if package.get(key):
                    problems.append(
                        (
                            key,
                            f"OCI packages must not have '{key}' field"
                            + (f" - {hint}" if hint else ""),
                        )
                    )
        registry = _oci_registry(identifier)
        if identifier and not (registry in OCI_REGISTRIES or registry.endswith(".pkg.dev")):
            problems.append(("identifier", f"unsupported OCI registry: {registry}"))
        for key, message in problems:
            findings.append(
                _finding(
                    asset,
                    "spec.mcp-oci-package",
                    f"packages[{index}].{key}",
                    message,
                    "Name the image by its full reference on docker.io, ghcr.io or a "
                    "*.pkg.dev registry, e.g. ghcr.io/acme/tickets-mcp:1.2.0.",
                )
            )
    return findings


def mcpb_packages(asset: ParsedAsset) -> list[Finding]:
    """An MCPB bundle is downloaded over https from an address naming it, with its hash.

    Clients must check the download against ``fileSha256`` before running it; without
    the hash they run whatever the address serves that day.
    """
    findings = []
    for index, package in _items(_document(asset), "packages"):
        if package.get("registryType") != "mcpb":
            continue
        identifier = str(package.get("identifier") or "")
        problems = []
        if urlsplit(identifier).scheme != "https":
            problems.append(
                ("identifier", f"invalid MCPB package URL, must use HTTPS: {identifier}")
            )
        elif "mcp" not in identifier.lower():
            problems.append(("identifier", f"MCPB package URL must contain 'mcp': {identifier}"))
        if not package.get("fileSha256"):
            problems.append(("fileSha256", "fileSha256 is required for MCPB packages"))
        for key, message in problems:
            findings.append(
                _finding(
                    asset,
                    "spec.mcp-mcpb-package",
                    f"packages[{index}].{key}",
                    message,
                    "Give the https download address of the .mcpb file and its SHA-256.",
                )
            )
    return findings


def package_transports(asset: ParsedAsset) -> list[Finding]:
    """A package transport's URL must fit its type and use only variables it defines.

    ``stdio`` has no URL; ``streamable-http`` and ``sse`` need one, and each ``{name}``
    in it must be an environment variable, an argument name or a value hint of the
    package, or the client cannot fill it in.
    """
    findings = []
    for index, package in _items(_document(asset), "packages"):
        transport = package.get("transport")
        if not isinstance(transport, Mapping):
            continue
        kind = transport.get("type")
        url = str(transport.get("url") or "")
        field = f"packages[{index}].transport.url"
        if kind == "stdio" and url:
            message = f"url must be empty for stdio transport type, got: {url}"
        elif kind in ("streamable-http", "sse") and not url:
            message = f"url is required for {kind} transport type"
        elif kind in ("streamable-http", "sse") and not _valid_url(url):
            message = f"invalid package transport URL: {url}"
        elif kind in ("streamable-http", "sse") and (
            missing := _undefined_variables(url, _package_variables(package))
        ):
            message = (
                f"invalid package transport URL: template variables in URL {url} reference "
                f"undefined variables: {', '.join(missing)}"
            )
        else:
            continue
        findings.append(
            _finding(
                asset,
                "spec.mcp-transport",
                field,
                message,
                "stdio takes no url; streamable-http and sse take an http(s) URL whose "
                "{variables} are the package's environment variables or arguments.",
            )
        )
    return findings


def remote_urls(asset: ParsedAsset) -> list[Finding]:
    """A remote must be an https URL on a host other than the local machine.

    A remote is what every client connects to; ``http`` exposes the session and
    ``localhost`` points each client at whatever listens on its own machine. Each
    ``{name}`` in the URL must be defined under the remote's ``variables``.
    """
    findings = []
    for index, remote in _items(_document(asset), "remotes"):
        url = str(remote.get("url") or "")
        if not url:
            message = f"url is required for {remote.get('type')} transport type"
        elif not _valid_remote_url(url):
            message = f"invalid remote URL: {url} (https only, never localhost)"
        elif missing := _undefined_variables(url, _mapping_keys(remote.get("variables"))):
            message = (
                f"invalid remote URL: template variables in URL {url} reference undefined "
                f"variables: {', '.join(missing)}"
            )
        else:
            continue
        findings.append(
            _finding(
                asset,
                "spec.mcp-remote-url",
                f"remotes[{index}].url",
                message,
                "Give the public https address clients connect to, and define every "
                "{variable} in the remote's variables.",
            )
        )
    return findings


def duplicate_remotes(asset: ParsedAsset) -> list[Finding]:
    """The same remote (type and URL) listed twice."""
    seen: set[tuple[str, str]] = set()
    findings = []
    for index, remote in _items(_document(asset), "remotes"):
        key = (str(remote.get("type")), str(remote.get("url")))
        if key in seen:
            findings.append(
                _finding(
                    asset,
                    "spec.mcp-duplicate-remote",
                    f"remotes[{index}]",
                    f"remote {key[0]} {key[1]} is listed more than once",
                    "List each remote once.",
                )
            )
        seen.add(key)
    return findings


def arguments(asset: ParsedAsset) -> list[Finding]:
    """Argument shapes the registry refuses.

    A named argument needs a bare name (``--port``, not ``--port 8080`` or
    ``--dir <path>``) and a value that does not repeat it; a positional argument needs a
    value or a value hint. Clients build the command line from these fields, so a value
    hidden in a name is passed as one malformed word.
    """
    findings = []
    for index, package in _items(_document(asset), "packages"):
        for group in ("runtimeArguments", "packageArguments"):
            for position, argument in _items(package, group):
                field = f"packages[{index}].{group}[{position}]"
                for sub, message in _argument_problems(argument):
                    findings.append(
                        _finding(
                            asset,
                            "spec.mcp-argument",
                            f"{field}.{sub}",
                            message,
                            "Named: a bare name such as --port, with its value in value or "
                            "default. Positional: a value or a valueHint.",
                        )
                    )
    return findings


def publisher_meta(asset: ParsedAsset) -> list[Finding]:
    """Publisher-provided ``_meta`` is capped at 4 KB by the registry."""
    data = _document(asset)
    meta = data.get("_meta") if data is not None else None
    if not isinstance(meta, Mapping) or PUBLISHER_META_KEY not in meta:
        return []
    size = len(json.dumps(meta[PUBLISHER_META_KEY], separators=(",", ":")).encode())
    if size <= MAX_PUBLISHER_META_BYTES:
        return []
    return [
        _finding(
            asset,
            "spec.mcp-publisher-meta",
            f"_meta.{PUBLISHER_META_KEY}",
            f"_meta.{PUBLISHER_META_KEY} extension exceeds 4KB limit ({size} bytes)",
            "Keep publisher-provided metadata small; link to larger documents instead.",
        )
    ]


CHECKS: tuple[CheckFunction, ...] = (
    schema_url,
    server_name,
    title,
    repository,
    website_url,
    icons,
    package_identifiers,
    registry_base_urls,
    oci_packages,
    mcpb_packages,
    package_transports,
    remote_urls,
    duplicate_remotes,
    arguments,
    publisher_meta,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every publishing rule on an MCP server entry."""
    return run_checks(CHECKS, asset)


def _document(asset: ParsedAsset) -> Mapping[str, Any] | None:
    if asset.kind is not AssetKind.MCP_SERVER or not isinstance(asset.frontmatter, Mapping):
        return None
    return asset.frontmatter


def _items(
    container: Mapping[str, Any] | None, key: str
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """The mapping entries of a list field; other shapes are the schema's to report."""
    values = container.get(key) if container is not None else None
    if not isinstance(values, list):
        return
    for index, value in enumerate(values):
        if isinstance(value, Mapping):
            yield index, value


def _finding(asset: ParsedAsset, check_id: str, field: str, message: str, fix: str) -> Finding:
    return make_finding(
        CATALOG,
        check_id,
        message=message,
        file=asset.manifest_file,
        line=line_of_path(asset, field),
        field=field,
        fix=fix,
    )


def _schema_date(data: Mapping[str, Any] | None) -> str:
    """The date of the schema version a document names, or "" when it names none."""
    value = data.get("$schema") if data is not None else None
    match = _SCHEMA_DATE.search(value) if isinstance(value, str) else None
    return match.group(1) if match else ""


def _oci_registry(identifier: str) -> str:
    """The registry host of an image reference; Docker Hub when the first part is no host.

    As in Docker's reference grammar, the first path component is a registry when it
    holds a dot or a colon or is ``localhost``.
    """
    first, slash, _ = identifier.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def _valid_subfolder(path: str) -> bool:
    if path.startswith("/") or path.endswith("/") or not _SUBFOLDER.match(path):
        return False
    return all(segment not in ("", ".", "..") for segment in path.split("/"))


def _fill_template(url: str) -> str:
    """The URL with ``{variables}`` replaced by placeholders, as the registry parses it."""
    url = _PORT_VARIABLE.sub(r":8080\2", url)
    return _TEMPLATE_VARIABLE.sub("placeholder", url)


def _valid_url(url: str) -> bool:
    parts = urlsplit(_fill_template(url))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _valid_remote_url(url: str) -> bool:
    if not _valid_url(url):
        return False
    parts = urlsplit(_fill_template(url))
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_HOSTS or host.endswith(".localhost"):
        return False
    return parts.scheme == "https"


def _undefined_variables(url: str, available: set[str]) -> list[str]:
    return [name for name in _TEMPLATE_VARIABLE.findall(url) if name not in available]


def _package_variables(package: Mapping[str, Any]) -> set[str]:
    names = {str(env.get("name")) for _, env in _items(package, "environmentVariables")}
    for group in ("runtimeArguments", "packageArguments"):
        for _, argument in _items(package, group):
            names.update(str(argument[key]) for key in ("name", "valueHint") if argument.get(key))
    return names


def _mapping_keys(value: object) -> set[str]:
    return {str(key) for key in value} if isinstance(value, Mapping) else set()


def _argument_problems(argument: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = argument.get("type")
    if kind == "positional":
        if argument.get("value") or argument.get("valueHint"):
            return []
        return [("value", "positional argument must provide a value or a valueHint")]
    if kind != "named":
        return [("type", f"argument type must be 'positional' or 'named', got '{kind}'")]
    name = str(argument.get("name") or "")
    if not name:
        return [("name", "named argument name is required")]
    problems = []
    if any(mark in name for mark in ("<", ">", " ", "$")):
        problems.append(("name", f"invalid named argument name format: {name}"))
    for key in ("value", "default"):
        text = argument.get(key)
        if isinstance(text, str) and text and text.startswith(name):
            problems.append(
                (key, f"argument {key} cannot start with the argument name '{name}': {text}")
            )
    return problems
