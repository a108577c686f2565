"""The ``claude plugin eval`` command line the registry runs, and what it never passes.

Never ``--scaffold`` (a case's scaffold script is author-supplied shell), never
``--allow-real-servers`` or ``--mocks off`` (a plugin's MCP servers would start as the
worker's user, outside the client's sandbox), never ``--allow-tools``: a case runs with
its prompt, its graders, mock MCP servers when it ships them, and nothing else.
``--no-scaffold`` is passed anyway, so the refusal is explicit in every run's command.
``--threshold 0`` keeps the exit status about the run, not the score: the policy judges
the figures (:mod:`~agent_registry.behaviour.gates`). ``--trust-plugin`` answers the
first-run prompt, which no one is there to answer; the trust placed in the bundle is the
worker's confinement, not this flag.
"""

from __future__ import annotations

from pathlib import Path

from agent_registry.policy.behaviour import BehaviourPolicy

FORBIDDEN = frozenset({"--scaffold", "--allow-real-servers", "--allow-tools", "--keep-temp"})
"""Options that would run author code or real servers; :func:`eval_command` never adds one."""

PARTIAL_EXIT = 2
"""The client's exit status when the cost ceiling stopped the run (partial results)."""


def eval_command(
    binary: Path,
    plugin: Path,
    *,
    policy: BehaviourPolicy,
    result_file: Path,
    output_dir: Path,
) -> list[str]:
    """The argv of one evaluation of the plugin folder ``plugin``."""
    argv = [
        str(binary),
        "plugin",
        "eval",
        str(plugin),
        "--json",
        str(result_file),
        "--output-dir",
        str(output_dir),
        "--report",
        str(output_dir / "report.html"),
        "--ablation",
        "with-without",
        "--runs",
        str(policy.runs),
        "--max-cost-usd",
        f"{policy.max_cost_usd:g}",
        "--threshold",
        "0",
        "--mocks",
        "record",
        "--no-scaffold",
        "--no-publish",
        "--trust-plugin",
    ]
    if policy.model:
        argv += ["--model", policy.model]
    assert not FORBIDDEN & set(argv), "an eval command must not run author code or real servers"
    return argv
