"""Which behavioural eval cases an asset ships, read from its bundle.

Claude Code's plugin-eval format (``claude plugin eval --help``): under ``evals/``, a
case is a folder holding ``case.yaml`` (``schema_version``, ``name``, ``execution``,
``graders``...) or ``prompt.md`` with ``graders/*.md`` beside it. skill-creator's
``evals/evals.json`` is read too, one case per entry
(:mod:`~agent_registry.behaviour.skill_creator`). ``evals/results/`` holds earlier
runs' output and is not a case.

The registry needs to know the cases before it runs anything: a tier may require them,
and a case that asks for a scaffold script is run without it (the runner never passes
``--scaffold``), which reviewers are told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

import yaml

from agent_registry.assets.bundle import Bundle
from agent_registry.behaviour.skill_creator import EVALS_JSON, SkillCreatorError, read_evals_json

EVAL_DIR = "evals"
RESULTS_DIR = "evals/results"


@dataclass(frozen=True)
class EvalCase:
    """One case an asset ships.

    Attributes:
        name: The case's name (``name`` of ``case.yaml``, else its folder's name).
        path: The file that defines it, relative to the bundle root.
        scaffold_script: The script the case asks to run first, if any (never run).
    """

    name: str
    path: str
    scaffold_script: str | None = None


@dataclass(frozen=True)
class CaseProblem:
    """A case file that cannot be read: where, and what is wrong."""

    path: str
    message: str


@dataclass(frozen=True)
class CaseDiscovery:
    """The cases of a bundle and the case files that are broken."""

    cases: tuple[EvalCase, ...] = ()
    problems: tuple[CaseProblem, ...] = field(default_factory=tuple)

    @property
    def scaffolded(self) -> tuple[EvalCase, ...]:
        """Cases that ask for a scaffold script, which the registry never runs."""
        return tuple(c for c in self.cases if c.scaffold_script)


def discover_cases(bundle: Bundle) -> CaseDiscovery:
    """The eval cases ``bundle`` ships, in path order, and any it cannot read."""
    cases: list[EvalCase] = []
    problems: list[CaseProblem] = []
    paths = {f.path for f in bundle.files}
    for item in bundle.files:
        path = PurePosixPath(item.path)
        if not _in_eval_dir(path):
            continue
        if path.name == "case.yaml":
            read = _case_yaml(item.path, item.data)
            if isinstance(read, CaseProblem):
                problems.append(read)
            else:
                cases.append(read)
        elif path.name == "prompt.md" and (path.parent / "case.yaml").as_posix() not in paths:
            graders = f"{path.parent.as_posix()}/graders/"
            if not any(p.startswith(graders) and p.endswith(".md") for p in paths):
                problems.append(CaseProblem(item.path, "has no graders/*.md beside it"))
            else:
                cases.append(EvalCase(name=path.parent.name, path=item.path))
        elif item.path == EVALS_JSON:
            try:
                converted = read_evals_json(item.data)
            except SkillCreatorError as error:
                problems.append(CaseProblem(item.path, str(error)))
            else:
                cases.extend(EvalCase(name=c.name, path=item.path) for c in converted)
    return CaseDiscovery(cases=tuple(cases), problems=tuple(problems))


def _in_eval_dir(path: PurePosixPath) -> bool:
    text = path.as_posix()
    return text.startswith(f"{EVAL_DIR}/") and not text.startswith(f"{RESULTS_DIR}/")


def _case_yaml(path: str, data: bytes) -> EvalCase | CaseProblem:
    try:
        loaded = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        return CaseProblem(path, f"is not YAML ({_first_line(error)})")
    if not isinstance(loaded, dict):
        return CaseProblem(path, "must be a YAML mapping")
    if not isinstance(loaded.get("schema_version"), str):
        return CaseProblem(path, 'needs schema_version, a string such as "1.0"')
    graders = loaded.get("graders")
    folder = PurePosixPath(path).parent
    if not isinstance(graders, list) or not graders:
        return CaseProblem(path, "needs a non-empty graders list")
    name = loaded.get("name")
    context = loaded.get("context")
    scaffold = context.get("scaffold_script") if isinstance(context, dict) else None
    return EvalCase(
        name=name if isinstance(name, str) and name else folder.name,
        path=path,
        scaffold_script=scaffold if isinstance(scaffold, str) else None,
    )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
