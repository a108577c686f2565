"""The real Claude Code client judges the exports: ``claude plugin validate --strict``.

The shapes test (``claude_code_shapes.py``) checks the export against the documented
formats as we read them; this one asks the client itself, pinned in
``tests/claude_client/package.json`` and installed by ``.ci/run``. ``--strict`` turns
the client's warnings (an unknown field) into failures, as a marketplace host's CI
would. The plugin directory's submission rules (README, LICENSE, icon) are not applied:
the export is the organisation's own marketplace, not a submission to that catalog
(see :func:`agent_registry.evals.client.validate_folder`).
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.distribution.marketplace import export_marketplace
from agent_registry.evals.client import validate_folder
from tests.claude_client import claude_or_skip
from tests.distribution.seeding import deprecate, seed, shipped_server, skill_copy


def test_the_marketplace_and_every_plugin_pass_strict_validation(
    catalog: DatabaseCatalog,
    settings: Settings,
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    claude = claude_or_skip()
    seed(sqlite_engine, settings, shipped_server(tmp_path))
    old = seed(sqlite_engine, settings, skill_copy(tmp_path, "old-notes"))
    deprecate(sqlite_engine, old, replacement=str(published["skill"]), reason="merged")
    root = tmp_path / "marketplace"
    written = export_marketplace(catalog, root, limits=settings.bundle_limits)

    code, issues, output = validate_folder(claude, root, strict=True)
    assert code == 0, f"the marketplace was refused:\n{output}"
    assert issues == []
    assert len(written.plugins) >= 4
    for plugin in written.plugins:
        folder = root / "plugins" / plugin
        code, issues, output = validate_folder(claude, folder, strict=True)
        assert code == 0, f"plugin {plugin} was refused:\n{output}"
        assert issues == [], output


def test_the_client_refuses_what_the_old_export_wrote(tmp_path: Path) -> None:
    # The check is not vacuous: a manifest with an unknown field for the registry's own
    # annotations fails --strict. (The export once wrote them under `metadata`, which
    # Claude Code 2.1.332 has since made a known plugin.json field.)
    claude = claude_or_skip()
    plugin = tmp_path / "plugin"
    (plugin / ".claude-plugin").mkdir(parents=True)
    manifest = {
        "name": "skill-release-notes",
        "version": "1.0.0",
        "description": "Release notes from merged pull requests.",
        "author": {"name": "developer-experience"},
        "agentRegistry": {"stage": "Published"},
    }
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps(manifest))
    code, issues, _ = validate_folder(claude, plugin, strict=True)
    assert code != 0
    assert any(
        issue.level == "warning" and "Unknown field 'agentRegistry'" in issue.text
        for issue in issues
    )
