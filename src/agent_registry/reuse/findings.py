"""Reuse before rebuild as eval findings: one warning per published look-alike.

A finding (rather than a side note) puts the look-alikes where submitters and reviewers
already look — the findings table, the Slack review message, the workflow's details —
and lets policy decide how much they matter (``reuse.similar-asset = "off"`` for an
organisation that does not want them).
"""

from __future__ import annotations

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.lifecycle.contract import SimilarAsset
from agent_registry.policy.model import ReusePolicy
from agent_registry.reuse.index import SimilarityIndex
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

SIMILAR_ASSET = "reuse.similar-asset"
"""Check id of the warning that a published asset looks like the submission."""

CATALOG: dict[str, Severity] = {SIMILAR_ASSET: Severity.WARN}
"""The reuse check ids and the severities they propose."""


def similar_assets(
    asset: ParsedAsset, index: SimilarityIndex, rules: ReusePolicy
) -> list[SimilarAsset]:
    """The published assets closest to ``asset``, other versions of itself excluded.

    Args:
        asset: The submission; nothing is compared when its manifest did not validate
            (there is no trustworthy name or description to compare).
        index: The published catalog's index.
        rules: The policy's threshold and limit.

    Returns:
        The matches, closest first.
    """
    manifest = asset.manifest
    if manifest is None or not len(index):
        return []
    matches = index.closest(
        manifest.name,
        manifest.description,
        exclude_name=(asset.kind, manifest.name),
        limit=rules.limit,
        min_score=rules.min_score,
    )
    return [
        SimilarAsset(
            ref=match.entry.ref,
            owner_team=match.entry.owner_team,
            score=round(match.score, 3),
            description=match.entry.description,
        )
        for match in matches
    ]


def reuse_findings(similar: list[SimilarAsset]) -> list[Finding]:
    """One warning per look-alike, naming it, its team and how alike they are."""
    return [
        make_finding(
            CATALOG,
            SIMILAR_ASSET,
            message=(
                f"{match.ref} from team {match.owner_team} looks like this asset "
                f"({round(match.score * 100)}% alike in name and description)"
            ),
            field="description",
            fix=(
                f"Check whether {match.ref.split('@')[0]} already does what you need and "
                f"reuse or extend it with team {match.owner_team}; if yours differs on "
                "purpose, say how in its description so users can tell them apart."
            ),
        )
        for match in similar
    ]
