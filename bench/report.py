"""What every benchmark shares: percentiles, the machine it ran on, and docs/performance.md.

Each benchmark owns one section of ``docs/performance.md``, fenced by HTML comments
(``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->``), and rewrites only that section, so
benchmarks run in any order and one re-run never disturbs another's figures. A section
always carries the command that reproduces it and the machine it was measured on.
"""

from __future__ import annotations

import math
import os
import platform
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PERFORMANCE_DOC = REPO / "docs" / "performance.md"
NOTES = REPO / "bench" / "notes"
"""``NAME.md`` here is appended to section NAME on every run: the profile and the reasons
behind a figure, written once by a person, kept with the code that measures it."""

_HEADER = """# Performance

Figures measured by the benchmarks under `bench/`, each with its target, the machine it
ran on and the command that reproduces it. Benchmarks are not tests: they print their
figures and rewrite their own section below; `make bench` runs them all.
`bench.lifecycle` measures the SQLite and PostgreSQL registries side by side in one run
against one bare engine, and writes a section for each. With `BENCH_REGISTRY=postgres`
the other lifecycle benchmarks run on the PostgreSQL registry and write sections of their
own.

Summary: every target is met except the lifecycle's throughput against the bare engine
(0.2x of a target 0.8x), the dashboard's page right after a registry write at 10,000
versions (over 300 ms; an unchanged registry's page is well under) and, narrowly and not
on every run, time to reviewer at 20 concurrent submissions; each section says what its
profile found.

"""


@dataclass(frozen=True)
class Figure:
    """One measured figure beside its target.

    Attributes:
        measure: What was measured, e.g. "search p99 (SQLite)".
        value: The figure as shown, with its unit.
        target: The target as shown ("" when the figure is context, not a target).
        met: Whether the target was met; None when there is no target.
    """

    measure: str
    value: str
    target: str = ""
    met: bool | None = None


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds, to a precision a reader can use."""
    value = seconds * 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms"


def machine() -> str:
    """One line naming the machine: CPU, cores, memory, OS and Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit measured, marked dirty when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (with local changes)' if dirty else ''}"


def table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table: measure, value, target, met."""
    lines = ["| Measure | Value | Target | Met |", "|---|---|---|---|"]
    for figure in figures:
        met = "" if figure.met is None else ("yes" if figure.met else "**no**")
        lines.append(f"| {figure.measure} | {figure.value} | {figure.target} | {met} |")
    return "\n".join(lines)


def print_figures(title: str, figures: Sequence[Figure]) -> None:
    """Print the figures for whoever ran the benchmark."""
    print(title)
    width = max(len(f.measure) for f in figures)
    for figure in figures:
        met = "" if figure.met is None else ("  ok" if figure.met else "  MISSED")
        target = f"  (target {figure.target})" if figure.target else ""
        print(f"  {figure.measure:<{width}}  {figure.value}{target}{met}")


def write_section(
    name: str,
    *,
    title: str,
    command: str,
    figures: Sequence[Figure],
    notes: str = "",
    registry: str | None = None,
) -> None:
    """Replace the benchmark's section of docs/performance.md (add it if missing).

    Args:
        name: The benchmark's section key, e.g. ``catalog``.
        title: The section heading.
        command: The command that reproduces the figures, as a reader would type it.
        figures: The figures with their targets.
        notes: Markdown after the table: the setup, what explains a gap, before/after.
        registry: The registry the figures were measured on, for a benchmark that
            measures several in one run and names each in ``command`` itself; None takes
            it from ``BENCH_REGISTRY`` and prefixes the command with it. The PostgreSQL
            figures get a section of their own (``NAME-postgres``).
    """
    if registry is None:
        registry = os.environ.get("BENCH_REGISTRY", "sqlite")
        if registry == "postgres":
            command = f"BENCH_REGISTRY=postgres {command}"
    if registry == "postgres":
        name, title = f"{name}-postgres", f"{title} (PostgreSQL registry)"
    print_figures(title, figures)
    kept = NOTES / f"{name}.md"
    if kept.exists():  # what explains a gap outlives the run that measured it
        notes = f"{notes.strip()}\n\n{kept.read_text().strip()}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(
        [
            f"<!-- bench:{name} -->",
            f"## {title}",
            "",
            f"Reproduce: `{command}`",
            "",
            f"Measured {stamp} at commit {revision()} on {machine()}.",
            "",
            table(figures),
            "",
            *([notes.strip(), ""] if notes.strip() else []),
            f"<!-- /bench:{name} -->",
        ]
    )
    text = PERFORMANCE_DOC.read_text() if PERFORMANCE_DOC.exists() else _HEADER
    key = re.escape(name)
    pattern = re.compile(rf"<!-- bench:{key} -->.*?<!-- /bench:{key} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    PERFORMANCE_DOC.parent.mkdir(parents=True, exist_ok=True)
    PERFORMANCE_DOC.write_text(text)
    print(f"wrote the {name!r} section of {PERFORMANCE_DOC.relative_to(REPO)}", file=sys.stderr)
