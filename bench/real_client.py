"""The real client in the loop: the real-client suite's wall time, one behavioural eval.

Two figures. The suite (``tests/real_client``: install, marketplace, managed settings,
guard, usage and behavioural evals, each through the pinned Claude Code against the
Messages API stand-in) timed as CI runs it, in a pytest process of its own. And one
behavioural evaluation of the example skill, ``examples/skills/release-notes`` with the
three cases the suite gives it (one per case format), three runs per case and the
no-skill baseline arm: what the probe-worker activity does for one version, with the
stand-in answering at once, so the figure is the client's own overhead.

Run as ``.venv/bin/python -m bench.real_client [--skip-suite]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.refs import AssetRef
from agent_registry.behaviour.run import EvalClient, run_behaviour
from agent_registry.policy.behaviour import BehaviourPolicy
from bench.report import REPO, Figure, write_section
from tests.claude_client import CLIENT_DIR, claude_binary
from tests.claude_client.messages_stand_in import running_stand_in
from tests.real_client.behaviour_cases import grading_model, skill_with_cases

SUITE_TARGET = 180.0
EVAL_TARGET = 60.0
RUNS = 3


def suite_seconds() -> tuple[float, str]:
    """Wall time of the real-client suite, and pytest's summary line."""
    started = time.perf_counter()
    done = subprocess.run(
        # One process, as the figure has always been measured (make test runs -n 3).
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/real_client",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    return elapsed, summary


def eval_seconds(binary: Path) -> tuple[float, str]:
    """Wall time of one behavioural evaluation of the example skill against the stand-in."""
    with tempfile.TemporaryDirectory() as folder, running_stand_in() as api:
        api.responder = grading_model
        root = Path(folder)
        skill = skill_with_cases(root)
        bundle = load_path(skill, limits=BundleLimits()).bundle
        client = EvalClient(
            binary, SecretStr("sk-ant-bench"), base_url=api.url, path=(Path(sys.executable).parent,)
        )
        work = root / "work"
        work.mkdir()
        started = time.perf_counter()
        figures = run_behaviour(
            AssetRef.parse("skill/release-notes@1.0.0"),
            bundle,
            description="Drafts release notes.",
            client=client,
            policy=BehaviourPolicy(runs=RUNS),
            work_dir=work,
        )
        elapsed = time.perf_counter() - started
    shown = (
        f"{len(figures.cases)} cases, {figures.runs} runs with the skill, pass rate "
        f"{figures.pass_rate:.2f} against {figures.baseline_pass_rate or 0.0:.2f} without"
    )
    return elapsed, shown


def main() -> None:
    """Time the suite and one evaluation; write the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-suite", action="store_true", help="only the evaluation")
    arguments = parser.parse_args()
    binary = claude_binary()
    if binary is None:
        # Not a failure of what is measured: `make bench` goes on with the others.
        print(f"skipped: Claude Code is not installed; run `npm ci` in {CLIENT_DIR}")
        return
    figures: list[Figure] = []
    notes = []
    if not arguments.skip_suite:
        suite, summary = suite_seconds()
        figures.append(
            Figure(
                "real-client suite, wall time",
                f"{suite:.0f} s",
                f"< {SUITE_TARGET:.0f} s",
                suite < SUITE_TARGET,
            )
        )
        notes.append(f"The suite's run: `{summary}`.")
    seconds, shown = eval_seconds(binary)
    figures.append(
        Figure(
            f"one behavioural eval of the example skill ({RUNS} runs, baseline arm)",
            f"{seconds:.1f} s",
            f"< {EVAL_TARGET:.0f} s",
            seconds < EVAL_TARGET,
        )
    )
    notes.append(f"The evaluation measured: {shown}.")
    command = ".venv/bin/python -m bench.real_client"
    if arguments.skip_suite:
        command += " --skip-suite"
    write_section(
        "real_client",
        title="The real client in the loop",
        command=command,
        figures=figures,
        notes=(
            "Claude Code 2.1.332 (pinned in `tests/claude_client/package.json`) against the "
            "loopback Messages API stand-in, which answers at once: the figures are the "
            "client's and the registry's own time, not a model's. The suite runs in a pytest "
            "process of its own, as `make test` runs it. The evaluation is "
            "`agent_registry.behaviour.run.run_behaviour` on the example skill with three "
            "cases (`case.yaml`, `prompt.md` with a grader, skill-creator's `evals.json`), "
            "each run three times with and three times without the skill, its LLM graders "
            "judged by the stand-in. " + " ".join(notes)
        ),
    )


if __name__ == "__main__":
    main()
