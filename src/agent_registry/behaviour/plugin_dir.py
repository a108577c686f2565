"""An asset written out as the plugin ``claude plugin eval`` evaluates.

``claude plugin eval`` evaluates a plugin: a folder with ``.claude-plugin/plugin.json``,
its components in the standard layout, and its cases under ``evals/``. A skill goes to
``skills/<name>/``; an MCP server that ships in its bundle to ``server/`` with a
``.mcp.json`` starting it, as the marketplace export writes it (the eval runs servers
only as mocks, never for real). The bundle's ``evals/`` (less earlier ``results/``) is
the plugin's ``evals/``, plus skill-creator's ``evals/evals.json`` converted, so both
formats run the same way. Nothing of the bundle is executed here.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from agent_registry.assets.bundle import Bundle
from agent_registry.assets.kinds import parse_mcp_server
from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.assets.unpack import write_bundle
from agent_registry.behaviour.cases import EVAL_DIR, RESULTS_DIR
from agent_registry.behaviour.skill_creator import EVALS_JSON, read_evals_json
from agent_registry.distribution.mcp_launch import mcp_launch
from agent_registry.distribution.naming import mcp_server_key
from agent_registry.distribution.plugin_names import plugin_name

SERVER_DIR = "server"


class UnsupportedAssetError(ValueError):
    """The asset's kind cannot carry behavioural eval cases (a subagent is one file)."""


def write_plugin(ref: AssetRef, bundle: Bundle, target: Path, *, description: str) -> str:
    """Write ``bundle`` as a plugin into the empty folder ``target``; returns its name.

    Raises:
        UnsupportedAssetError: A subagent, whose single file cannot ship cases.
        SkillCreatorError: ``evals/evals.json`` is not skill-creator's format.
    """
    if ref.kind is AssetKind.SUBAGENT:
        raise UnsupportedAssetError(f"{ref}: a subagent is one file and ships no eval cases")
    asset_files = Bundle(
        root_name=bundle.root_name,
        files=tuple(f for f in bundle.files if not f.path.startswith(f"{EVAL_DIR}/")),
    )
    case_files = Bundle(
        root_name=EVAL_DIR,
        files=tuple(
            dataclasses.replace(f, path=f.path.removeprefix(f"{EVAL_DIR}/"))
            for f in bundle.files
            if f.path.startswith(f"{EVAL_DIR}/")
            and not f.path.startswith(f"{RESULTS_DIR}/")
            and f.path != EVALS_JSON
        ),
    )
    if ref.kind is AssetKind.SKILL:
        write_bundle(asset_files, _folder(target / "skills" / ref.name))
    else:
        key = mcp_server_key(ref.name)
        launch = mcp_launch(
            parse_mcp_server(bundle), bundle_root=f"${{CLAUDE_PLUGIN_ROOT}}/{SERVER_DIR}"
        )
        if launch.ships_bundle:
            write_bundle(asset_files, _folder(target / SERVER_DIR))
        config = {"mcpServers": {key: launch.entry}}
        (target / ".mcp.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    write_bundle(case_files, _folder(target / EVAL_DIR))
    converted = bundle.get(EVALS_JSON)
    if converted is not None:
        for case in read_evals_json(converted.data):
            folder = _folder(target / EVAL_DIR / case.name)
            (folder / "case.yaml").write_text(case.case_yaml, encoding="utf-8")
    name = plugin_name(ref.kind, ref.name)
    manifest = {"name": name, "version": ref.version, "description": description}
    (_folder(target / ".claude-plugin") / "plugin.json").write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    return name


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
