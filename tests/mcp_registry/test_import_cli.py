"""``agentreg import mcp`` as a person runs it: drafts, then a refused early --submit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from agent_registry.cli.errors import CliError
from agent_registry.cli.main import build_app
from agent_registry.mcp_registry.drafts import draft_folder
from agent_registry.mcp_registry.scope_proposal import MARKER
from tests.mcp_registry.support import GITHUB, TIME, upstream
from tests.mcp_registry.upstream_double import Upstream, serving


@pytest.fixture
def url() -> Iterator[str]:
    double = Upstream()
    double.add(upstream("time"))
    double.add(upstream("github"))
    with serving(double) as base:
        yield base


def _run(*args: str) -> Result:
    return CliRunner().invoke(build_app(), ["import", "mcp", *args])


def test_drafts_then_submit_refuses_an_unconfirmed_scope(url: str, tmp_path: Path) -> None:
    drafts = tmp_path / "drafts"
    common = ["--from", url, "--name", TIME, "--name", GITHUB, "--into", str(drafts)]
    first = _run(*common, "--team", "platform", "--no-probe")
    assert first.exit_code == 0, first.output
    folder = draft_folder(drafts, TIME, "2026.10.19")
    assert "scope proposed, to confirm" in first.output
    assert (folder / "scope.yaml").read_text().splitlines()[0] == MARKER
    assert yaml.safe_load((folder / "agentreg.yaml").read_text())["owner-team"] == "platform"

    (folder / "scope.yaml").write_text("tools: [{name: get_current_time, effects: [read]}]\n")
    again = _run(*common, "--no-probe")
    assert "kept" in again.output  # the confirmed scope is not overwritten
    assert "effects: [read]" in (folder / "scope.yaml").read_text()

    early = _run(*common, "--submit")
    assert isinstance(early.exception, CliError)
    message = str(early.exception)
    assert message.startswith("nothing was submitted")
    assert f"the scope of {GITHUB} 0.20.1 is still a proposal" in message
    assert TIME not in message.replace(str(drafts), "")  # the confirmed one is not listed


def test_watch_needs_named_servers(url: str, tmp_path: Path) -> None:
    result = _run("--from", url, "--search", "time", "--watch", "1d", "--into", str(tmp_path))
    assert isinstance(result.exception, CliError)
    assert "--watch needs the servers to watch" in str(result.exception)
