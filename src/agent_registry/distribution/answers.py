"""Checking what the registry's API answered against what was asked for.

``agentreg install`` builds file paths from the version the catalog returns, so that
answer is untrusted input: a compromised server, or anything between the CLI and a
plain ``http://`` URL, could name ``../../../x``. Every answer is held to the ref that
was asked for and to the same name rules a submission must pass.
"""

from __future__ import annotations

import re

from agent_registry.assets.manifests import (
    MCP_NAME_PATTERN,
    SKILL_NAME_PATTERN,
    SUBAGENT_NAME_PATTERN,
)
from agent_registry.assets.refs import AssetKind, AssetRef, is_semver, parse_unversioned
from agent_registry.catalog.models import VersionDetail
from agent_registry.distribution.errors import DistributionError

_NAME_RULES = {
    AssetKind.SKILL: SKILL_NAME_PATTERN,
    AssetKind.SUBAGENT: SUBAGENT_NAME_PATTERN,
    AssetKind.MCP_SERVER: MCP_NAME_PATTERN,
}
_CONTENT_HASH = re.compile(r"^[0-9a-f]{64}$")
MAX_NAME_CHARS = 128


class UntrustedAnswerError(DistributionError):
    """The registry answered with something other than what was asked for."""


def check_answer(requested: str, answer: VersionDetail) -> AssetRef:
    """The answer's ref, once its kind, name, version and hash fit ``requested``.

    Args:
        requested: What the user asked for: ``kind/name@version`` or ``kind/name``.
        answer: What the catalog returned.

    Returns:
        The answer's ref.

    Raises:
        UntrustedAnswerError: A field does not match the request or breaks the rules a
            submission is held to; the message names the field and the value.
        InvalidRefError: ``requested`` is not a ref.
    """
    if "@" in requested:
        asked = AssetRef.parse(requested)
        kind, name, version = asked.kind, asked.name, asked.version
    else:
        kind, name = parse_unversioned(requested)
        version = None
    where = f"the registry's answer for {requested}"
    if answer.kind is not kind:
        raise UntrustedAnswerError(f"{where} is a {answer.kind.value}, not a {kind.value}")
    if answer.name != name:
        raise UntrustedAnswerError(f"{where} names {answer.name[:MAX_NAME_CHARS]!r}, not {name!r}")
    if len(name) > MAX_NAME_CHARS or not _NAME_RULES[kind].match(name):
        raise UntrustedAnswerError(f"{where}: {name[:MAX_NAME_CHARS]!r} is not a {kind.value} name")
    if version is not None and answer.version != version:
        raise UntrustedAnswerError(
            f"{where} is version {answer.version[:MAX_NAME_CHARS]!r}, not {version!r}"
        )
    if not is_semver(answer.version):
        raise UntrustedAnswerError(
            f"{where}: version {answer.version[:MAX_NAME_CHARS]!r} is not a semantic version"
        )
    ref = AssetRef(kind=kind, name=name, version=answer.version)
    if answer.ref != str(ref):
        raise UntrustedAnswerError(
            f"{where} calls itself {answer.ref[:MAX_NAME_CHARS]!r}, not {ref}"
        )
    if not _CONTENT_HASH.match(answer.content_hash):
        raise UntrustedAnswerError(
            f"{where}: content hash {answer.content_hash[:80]!r} is not a sha256"
        )
    return ref
