"""Eval bar cost: the static eval of one asset, and its reuse check against 10,000.

Every submission, revision and re-certification runs the eval bar on the worker, inside
the evaluate activity; the submitter waits on it before a reviewer is asked. This times
what that activity does with a stored bundle, for each skill under ``examples/skills``:
read the canonical archive back, parse the asset, and run every static check family with
policy judging the findings (:func:`agent_registry.evals.runner.evaluate`). Then the reuse
check, :func:`agent_registry.reuse.findings.similar_assets`, against an index of 10,000
published assets from ``bench.similarity``'s synthetic catalog.

Left out: the live MCP probe (it starts the server under test, so its cost is that
server's start-up, and skills never run it), and the database reads and writes around
the checks.

Run as ``.venv/bin/python -m bench.eval_cost [--repeats N] [--catalog N]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

from agent_registry.assets.archive import bundle_from_archive, canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_reader import read_bundle
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.runner import evaluate
from agent_registry.policy.loader import load_policy
from agent_registry.reuse.findings import similar_assets
from bench.report import REPO, Figure, ms, percentile, write_section
from bench.similarity import synthetic_catalog, timed_build

TARGET = 0.100
"""Seconds per asset, each of static eval and reuse: a small part of time to reviewer."""

SKILLS = REPO / "examples" / "skills"


def timings(call: Callable[[], object], repeats: int) -> list[float]:
    """Seconds each of ``repeats`` calls took, after one unmeasured call (imports, caches)."""
    call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    """Time the static eval and the reuse check per example skill; write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--catalog", type=int, default=10_000, help="published assets")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    limits = BundleLimits()
    policy = load_policy(None)
    _, catalog = synthetic_catalog(arguments.catalog, arguments.seed)
    index, build_seconds = timed_build(catalog)

    figures: list[Figure] = []
    skills = sorted(path for path in SKILLS.iterdir() if path.is_dir())
    for skill in skills:
        archive = canonical_archive(read_bundle(skill, limits=limits))

        def static_eval(archive: bytes = archive) -> object:
            asset = parse_asset(bundle_from_archive(archive, limits=limits), AssetKind.SKILL)
            return evaluate(asset, policy)

        asset = parse_asset(bundle_from_archive(archive, limits=limits), AssetKind.SKILL)
        static = timings(static_eval, arguments.repeats)
        reuse = timings(partial(similar_assets, asset, index, policy.reuse), arguments.repeats)
        report = evaluate(asset, policy)
        matches = similar_assets(asset, index, policy.reuse)
        print(
            f"{skill.name}: {len(archive):,} bytes, {len(report.findings)} findings, "
            f"tier {report.risk_tier}, {len(matches)} look-alikes"
        )
        for what, samples in (("static eval", static), (f"reuse vs {len(index):,}", reuse)):
            p99 = percentile(samples, 0.99)
            figures += [
                Figure(f"{skill.name}: {what}, p50", ms(percentile(samples, 0.5))),
                Figure(f"{skill.name}: {what}, p99", ms(p99), f"< {ms(TARGET)}", p99 < TARGET),
            ]
    figures.append(
        Figure(f"reuse index build, {len(index):,} assets (once, cached)", f"{build_seconds:.2f} s")
    )
    command = ".venv/bin/python -m bench.eval_cost"
    if arguments.repeats != 200:
        command += f" --repeats {arguments.repeats}"
    if arguments.catalog != 10_000:
        command += f" --catalog {arguments.catalog}"
    notes = (
        f"Each skill under `examples/skills` ({', '.join(s.name for s in skills)}), "
        f"{arguments.repeats} times after one unmeasured run, default policy. *Static eval* "
        "is what the evaluate activity does with a stored bundle: unpack the canonical "
        "archive, parse the asset, run every check family (spec, secrets, scope, hygiene, "
        "content, intent) and let policy judge the findings and derive the tier; the database "
        "reads and writes around it are not included. *Reuse* is `similar_assets` against an index "
        f"of {len(index):,} published assets from `bench.similarity`'s synthetic catalog "
        "(seeded; the index is built once and cached by the worker, so its build is shown "
        "apart). The live MCP probe is excluded: it starts the server under test, so its "
        "cost is that server's, and skills never run it."
    )
    write_section(
        "eval_cost",
        title="Eval bar cost: static eval and reuse check per asset",
        command=command,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    main()
