"""Benchmark of the reuse check's similarity index at catalog scale.

Generates a seeded, synthetic catalog of published assets (names and descriptions drawn
from per-domain vocabularies, written the way real skill descriptions are: what it does,
then "Use when …"), builds the index once, and times one query per synthetic submission,
as the reuse check asks. Prints the build time and the per-query p50/p99 and writes them
to the ``similarity`` section of docs/performance.md.

Also the one home of the synthetic catalog: ``bench.eval_cost`` and ``bench.catalog_scale``
draw their published assets from :func:`make_entry` too.

Run as ``.venv/bin/python -m bench.similarity [--entries N] [--queries N] [--seed N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from dataclasses import dataclass

from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.reuse import CatalogEntry, SimilarityIndex
from bench.report import Figure, ms, percentile, write_section

TARGET_QUERY = 0.100
"""Seconds: the reuse check is one of the eval bar's checks, under its per-check budget."""


@dataclass(frozen=True)
class Domain:
    """A field of work: the team that owns it and the words its assets are made of."""

    team: str
    objects: tuple[str, ...]
    actions: tuple[tuple[str, str], ...]
    """(verb as in a name, verb as in a description), e.g. ("extractor", "Extracts")."""
    contexts: tuple[str, ...]


DOMAINS = (
    Domain(
        team="documents",
        objects=("pdf", "invoice", "contract", "docx", "table", "report", "form", "receipt"),
        actions=(
            ("extractor", "Extracts"),
            ("parser", "Parses"),
            ("summarizer", "Summarizes"),
            ("converter", "Converts"),
            ("redactor", "Redacts"),
        ),
        contexts=(
            "a scanned document arrives by email",
            "finance needs the totals in a spreadsheet",
            "legal reviews a new agreement",
        ),
    ),
    Domain(
        team="data-platform",
        objects=("csv", "sql", "query", "schema", "warehouse", "dashboard", "metric", "parquet"),
        actions=(
            ("validator", "Validates"),
            ("profiler", "Profiles"),
            ("optimizer", "Optimizes"),
            ("migrator", "Migrates"),
            ("cleaner", "Cleans"),
        ),
        contexts=(
            "a nightly load fails",
            "an analyst asks why a number moved",
            "a new source lands in the lake",
        ),
    ),
    Domain(
        team="infra",
        objects=("kubernetes", "terraform", "helm", "docker", "ingress", "node", "cluster"),
        actions=(
            ("deployer", "Deploys"),
            ("linter", "Lints"),
            ("planner", "Plans"),
            ("scaler", "Scales"),
            ("auditor", "Audits"),
        ),
        contexts=(
            "a release goes out",
            "capacity runs low before a launch",
            "a change touches production networking",
        ),
    ),
    Domain(
        team="security",
        objects=("secret", "vulnerability", "certificate", "iam", "policy", "token", "cve"),
        actions=(
            ("scanner", "Scans"),
            ("rotator", "Rotates"),
            ("reviewer", "Reviews"),
            ("triager", "Triages"),
            ("reporter", "Reports"),
        ),
        contexts=(
            "a dependency advisory is published",
            "credentials may have leaked",
            "an auditor asks for evidence",
        ),
    ),
    Domain(
        team="developer-experience",
        objects=("commit", "pull-request", "changelog", "test", "refactor", "lint", "docstring"),
        actions=(
            ("writer", "Writes"),
            ("reviewer", "Reviews"),
            ("generator", "Generates"),
            ("fixer", "Fixes"),
            ("explainer", "Explains"),
        ),
        contexts=(
            "a branch is ready for review",
            "a flaky test blocks the merge queue",
            "a newcomer opens an unfamiliar module",
        ),
    ),
    Domain(
        team="support",
        objects=("ticket", "email", "chat", "faq", "escalation", "refund", "customer"),
        actions=(
            ("triager", "Triages"),
            ("responder", "Drafts replies to"),
            ("summarizer", "Summarizes"),
            ("router", "Routes"),
            ("tagger", "Tags"),
        ),
        contexts=(
            "the queue backs up on a Monday",
            "an angry customer writes in",
            "a refund request exceeds the limit",
        ),
    ),
    Domain(
        team="people",
        objects=("meeting", "calendar", "standup", "onboarding", "interview", "okr", "survey"),
        actions=(
            ("scheduler", "Schedules"),
            ("summarizer", "Summarizes"),
            ("planner", "Plans"),
            ("notetaker", "Takes notes on"),
            ("digest", "Digests"),
        ),
        contexts=(
            "a new hire starts next week",
            "the quarter's goals are due",
            "a week of meetings needs a recap",
        ),
    ),
    Domain(
        team="observability",
        objects=("log", "trace", "alert", "incident", "slo", "metric", "postmortem"),
        actions=(
            ("analyzer", "Analyzes"),
            ("correlator", "Correlates"),
            ("drafter", "Drafts"),
            ("detector", "Detects anomalies in"),
            ("summarizer", "Summarizes"),
        ),
        contexts=(
            "the pager goes off at night",
            "an error budget is burning fast",
            "an outage is over and needs a write-up",
        ),
    ),
)

QUALIFIERS = ("fast", "smart", "batch", "auto", "team", "cloud", "lite", "pro", "v2", "multi")
FORMATS = ("JSON", "CSV", "Markdown", "a Slack message", "a Jira comment", "YAML", "a table")
UNITS = ("files", "records", "items", "entries", "batches", "snapshots", "exports", "samples")
TEMPLATES = (
    "{Verb} {first} {unit} and returns {format}. Use when {context}.",
    "{Verb} {first} {unit}, with the {second} each one refers to. Use when {context}.",
    "Helps the {team} team: {verb} {first} {unit} and links the matching {second}.",
    "{Verb} {first} and {second} {unit} into {format} so nobody copies them by hand.",
    "Use when {context}: {verb} the {first} {unit} and flags odd {second} values.",
    "{Verb} {first} {unit} from {second} sources, then writes {format} for review.",
)


def make_entry(rng: random.Random, serial: int) -> CatalogEntry:
    """One plausible published asset, drawn from a random domain."""
    domain = rng.choice(DOMAINS)
    first, second = rng.sample(domain.objects, 2)
    name_verb, description_verb = rng.choice(domain.actions)
    parts = [first, name_verb] if rng.random() < 0.6 else [first, second, name_verb]
    if rng.random() < 0.3:
        parts.insert(0, rng.choice(QUALIFIERS))
    name = f"{'-'.join(parts)}-{serial}"
    description = rng.choice(TEMPLATES).format(
        Verb=description_verb,
        verb=description_verb.lower(),
        first=first,
        second=second,
        unit=rng.choice(UNITS),
        format=rng.choice(FORMATS),
        context=rng.choice(domain.contexts),
        team=domain.team,
    )
    kind = rng.choices(list(AssetKind), weights=(6, 3, 1))[0]
    if kind is AssetKind.MCP_SERVER:
        name = f"io.github.{domain.team}/{name}"
    return CatalogEntry(
        kind=kind,
        name=name,
        version=f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
        description=description,
        owner_team=domain.team,
    )


def synthetic_catalog(entries: int, seed: int) -> tuple[random.Random, list[CatalogEntry]]:
    """A seeded catalog of ``entries`` published assets, and the generator to draw more."""
    # A seeded generator, so every run measures the same catalog; nothing here is secret.
    rng = random.Random(seed)  # noqa: S311
    return rng, [make_entry(rng, serial) for serial in range(entries)]


def timed_build(catalog: list[CatalogEntry]) -> tuple[SimilarityIndex, float]:
    """The index over ``catalog`` and the seconds it took to build."""
    started = time.perf_counter()
    index = SimilarityIndex.build(catalog)
    return index, time.perf_counter() - started


def main() -> None:
    """Build an index over a synthetic catalog, time queries against it, write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    rng, catalog = synthetic_catalog(arguments.entries, arguments.seed)
    queries = [make_entry(rng, arguments.entries + serial) for serial in range(arguments.queries)]
    index, build_seconds = timed_build(catalog)

    timings: list[float] = []
    reported = same_domain = 0
    for query in queries:
        started = time.perf_counter()
        matches = index.closest(
            query.name, query.description, exclude_name=(query.kind, query.name)
        )
        timings.append(time.perf_counter() - started)
        reported += bool(matches)
        same_domain += bool(matches) and matches[0].entry.owner_team == query.owner_team

    p99 = percentile(timings, 0.99)
    figures = [
        Figure(f"index build, {len(index):,} published assets", f"{build_seconds:.2f} s"),
        Figure("closest, p50", ms(percentile(timings, 0.50))),
        Figure("closest, p99", ms(p99), f"< {ms(TARGET_QUERY)}", p99 < TARGET_QUERY),
        Figure("closest, max / mean", f"{ms(max(timings))} / {ms(statistics.fmean(timings))}"),
        Figure("queries reporting a match", f"{reported}/{len(queries)}"),
        Figure("closest match from the query's own domain", f"{same_domain}/{reported}"),
    ]
    command = ".venv/bin/python -m bench.similarity"
    for option, value, default in (
        ("--entries", arguments.entries, 10_000),
        ("--queries", arguments.queries, 500),
        ("--seed", arguments.seed, 7),
    ):
        if value != default:
            command += f" {option} {value}"
    notes = (
        f"A seeded synthetic catalog (seed {arguments.seed}): names and descriptions drawn "
        "from eight domains' vocabularies, written the way skill descriptions are. The index "
        "is built once (the worker caches it until publication changes); each of "
        f"{len(queries):,} synthetic submissions is one `SimilarityIndex.closest` call, as the "
        "reuse check makes. The vocabulary is small, so most queries have near-twins at this "
        "size: a worst case for the candidates scored. `bench/eval_cost.py` times the same "
        "check on the example skills, through `similar_assets`."
    )
    write_section(
        "similarity",
        title="Reuse check: similarity against the published catalog",
        command=command,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    main()


def publish_entry(session: Session, entry: CatalogEntry) -> AssetRef:
    """Register and publish ``entry`` as version 1.0.0 through the store.

    The same writes the workflow's activities make (register, InReview, publish), in
    ``session``; the caller commits.
    """
    ref = AssetRef(kind=entry.kind, name=entry.name, version="1.0.0")
    store.register_version(
        session,
        ref=ref,
        owner_team=entry.owner_team,
        submitter="ada@example.com",
        authors=["ada@example.com"],
        changelog="first cut",
        machine_authored=False,
        content_hash=hashlib.sha256(str(ref).encode()).hexdigest(),
        manifest={"name": entry.name, "description": entry.description},
        description=entry.description,
        workflow_id=ref.workflow_id,
        event_key=f"{ref.workflow_id}/register",
    )
    store.set_stage(
        session,
        ref=ref,
        stage=Stage.IN_REVIEW,
        actor="agent-registry",
        event_key=f"{ref.workflow_id}/stage/InReview",
    )
    store.publish_version(
        session,
        ref=ref,
        content_hash=store.get_version(session, ref=ref).content_hash,
        approvers=["grace@example.com"],
        event_key=f"{ref.workflow_id}/publish",
    )
    return ref
