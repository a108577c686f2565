"""A small registry for the API tests, written through the real store functions.

Three kinds, an MCP server whose name holds a ``/``, two published versions of one
skill (so "latest" means something), a deprecated version with a replacement, a
version still in review, an eval with findings, and every version's bundle stored as
its canonical archive, so bundle bytes hash to the content hash the API reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.vocabulary.findings import Finding, Severity
from tests import seeding

SKILL_OLD = AssetRef.parse("skill/release-notes@1.0.0")
SKILL = AssetRef.parse("skill/release-notes@1.1.0")
SUBAGENT = AssetRef.parse("subagent/code-reviewer@1.0.0")
SUBAGENT_IN_REVIEW = AssetRef.parse("subagent/code-reviewer@2.0.0-rc.1")
MCP = AssetRef.parse("mcp-server/io.github.acme/tickets@1.0.0")
MCP_DEPRECATED = AssetRef.parse("mcp-server/io.github.acme/tickets@0.9.0")

TEAMS = {
    SKILL_OLD: "docs",
    SKILL: "docs",
    SUBAGENT: "platform",
    SUBAGENT_IN_REVIEW: "platform",
    MCP: "support",
    MCP_DEPRECATED: "support",
}
DESCRIPTIONS = {
    "release-notes": "Writes release notes from merged pull requests.",
    "code-reviewer": "Reviews a diff for bugs and risky changes.",
    "io.github.acme/tickets": "Reads and files support tickets.",
}
PUBLISHED = (SKILL_OLD, SKILL, SUBAGENT, MCP_DEPRECATED, MCP)
"""Published in this order; the deprecated one is deprecated afterwards."""


@dataclass(frozen=True)
class Seeded:
    """What was stored: each version's content hash and bundle bytes."""

    hashes: dict[AssetRef, str]
    bundles: dict[str, bytes]


def _bundle(ref: AssetRef) -> Bundle:
    root = ref.name.rsplit("/", 1)[-1]
    text = f"---\nname: {root}\ndescription: {DESCRIPTIONS[ref.name]}\n---\n{ref.version}\n"
    if ref.kind.value == "subagent":
        return Bundle(
            root_name=f"{root}.md",
            files=(BundleFile(f"{root}.md", text.encode()),),
            single_file=True,
        )
    return Bundle(root_name=root, files=(BundleFile("SKILL.md", text.encode()),))


def seed_registry(engine: Engine) -> Seeded:
    """Store the versions above; returns their hashes and bytes."""
    hashes: dict[AssetRef, str] = {}
    bundles: dict[str, bytes] = {}
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for ref in (*PUBLISHED, SUBAGENT_IN_REVIEW):
            data = canonical_archive(_bundle(ref))
            digest = store.put_blob(session, data=data)
            hashes[ref], bundles[digest] = digest, data
            seeding.register(
                session,
                ref,
                description=DESCRIPTIONS[ref.name],
                team=TEAMS[ref],
                content_hash=digest,
                changelog=f"{ref.version}: first cut",
            )
        seeding.rate(
            session,
            SKILL,
            RiskTier.LOW,
            reasons=["no scripts"],
            findings=[
                Finding(
                    check_id="hygiene.long-line",
                    severity=Severity.WARN,
                    message="A line is very long.",
                    file="SKILL.md",
                    line=3,
                )
            ],
            policy_version="test-1",
            run_key=f"{SKILL.workflow_id}/eval",
        )
        for ref in PUBLISHED:
            seeding.publish(session, ref)
            store.schedule_recertification(
                session,
                ref=ref,
                recertify_by=now + timedelta(days=20),
                event_key=f"{ref.workflow_id}/schedule",
            )
        seeding.move(session, SUBAGENT_IN_REVIEW, Stage.IN_REVIEW, actor="registry")
        seeding.deprecate(
            session,
            MCP_DEPRECATED,
            replacement=str(MCP),
            reason="Files tickets in the old queue.",
            sunset_at=now + timedelta(days=30),
        )
    return Seeded(hashes=hashes, bundles=bundles)
