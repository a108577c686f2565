"""The secret scan of what a submission says about itself, before its lifecycle starts.

A submission's changelog and its manifest's description travel into the lifecycle's
start input, its search attributes' neighbours (the static details) and its history,
readable by anyone with read access to the namespace, before any eval has run. So they
are scanned here, with the eval bar's own secret rules, before anything is started or
staged; a credential in them refuses the submission, naming the field, never the value.
"""

from __future__ import annotations

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import Bundle, BundleFile, BundleLimits
from agent_registry.assets.bundle_problems import BundleError, InvalidBundleError
from agent_registry.assets.kinds import SERVER_FILE
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.secrets import (
    aws_secret_keys,
    private_keys,
    token_findings,
    url_passwords,
)
from agent_registry.vocabulary.findings import Finding

_SCANS = (token_findings, aws_secret_keys, private_keys, url_passwords)


class SecretInSubmissionError(InvalidBundleError):
    """A credential in the changelog or the description; the submission is refused."""


def text_secrets(kind: AssetKind, fields: dict[str, str]) -> list[Finding]:
    """Credentials the secret rules find in ``fields`` (name → text).

    Each field is scanned as a file of that name, so a finding's ``file`` names the field.
    """
    files = tuple(
        BundleFile(path=name, data=text.encode("utf-8")) for name, text in fields.items() if text
    )
    if not files:
        return []
    asset = ParsedAsset(
        kind=kind,
        bundle=Bundle(root_name="submission", files=files),
        manifest_file=files[0].path,
        manifest=None,
    )
    return [finding for scan in _SCANS for finding in scan(asset)]


def refuse_secrets(
    kind: AssetKind | None, *, changelog: str, archive: bytes, limits: BundleLimits
) -> None:
    """Refuse a submission whose changelog or manifest description holds a credential.

    Args:
        kind: The asset's kind; None (a revision) reads it from the bundle's shape.
        changelog: The changelog line.
        archive: The bundle's archive, whose manifest's description is scanned.
        limits: Caps on the archive.

    Raises:
        SecretInSubmissionError: Naming the field and the kind of credential (masked).
    """
    bundle = _bundle(archive, limits)
    kind = kind or _shape(bundle)
    fields = {"changelog": changelog, "description": _description(kind, bundle)}
    found = text_secrets(kind, fields)
    if found:
        first = found[0]
        raise SecretInSubmissionError(
            f"the {first.file} holds a credential ({first.message}); it would be kept in "
            "the lifecycle's history before any check ran, so nothing was started. Remove "
            "it and treat it as leaked"
        )


def _bundle(archive: bytes, limits: BundleLimits) -> Bundle | None:
    if not archive:
        return None
    try:
        return bundle_from_archive(archive, limits=limits)
    except BundleError:
        return None  # the archive is refused on its own, with its own reasons


def _shape(bundle: Bundle | None) -> AssetKind:
    if bundle is not None and bundle.single_file:
        return AssetKind.SUBAGENT
    if bundle is not None and bundle.get(SERVER_FILE) is not None:
        return AssetKind.MCP_SERVER
    return AssetKind.SKILL


def _description(kind: AssetKind, bundle: Bundle | None) -> str:
    if bundle is None:
        return ""
    parsed = parse_asset(bundle, kind)
    return parsed.manifest.description if parsed.manifest is not None else ""
