"""Registry sidecars: the ``agentreg.yaml`` file that carries what a format cannot say.

A folder asset's sidecar is ``agentreg.yaml`` inside it, a subagent's is
``<stem>.agentreg.yaml`` beside its ``.md`` file. The value readers here also read the
same keys from SKILL.md's ``metadata`` map (see :mod:`agent_registry.assets.kinds`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from agent_registry.assets.bundle import SIDECAR_NAME, BundleFile
from agent_registry.assets.frontmatter import YamlResult, parse_yaml_mapping
from agent_registry.assets.manifests import RegistryMetadataDraft
from agent_registry.assets.spec_problems import decode_text, spec_problem
from agent_registry.evals.findings import Finding

SIDECAR_SUFFIX = ".agentreg.yaml"
"""A subagent's sidecar is ``<stem>.agentreg.yaml`` beside its ``.md`` file."""

SIDECAR_KEYS = ("owner-team", "version", "changelog", "authors", "machine-authored")
"""Keys an ``agentreg.yaml`` sidecar may hold (the same names as in SKILL.md metadata)."""

MAX_SIDECAR_BYTES = 64 * 1024
"""A sidecar holds a few lines; anything bigger is not one."""

_FIELD_OF_KEY = {
    "owner-team": "owner_team",
    "version": "version",
    "changelog": "changelog",
    "authors": "authors",
    "machine-authored": "machine_authored",
}


def text_value(value: object) -> str | None:
    """A metadata text value, stripped; None when blank or not text."""
    return (value.strip() or None) if isinstance(value, str) else None


def authors_value(value: object) -> list[str] | None:
    """Authors as a list, from a list of strings or one comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    authors = [item.strip() for item in value if item.strip()]
    return authors or None


def flag_value(value: object) -> bool | None:
    """A metadata flag from a boolean or the text ``true``/``false``; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def sidecar_path(path: Path) -> Path:
    """Where the registry sidecar of the asset at ``path`` lives.

    Args:
        path: A folder asset or a subagent file.

    Returns:
        ``<folder>/agentreg.yaml`` or ``<dir>/<stem>.agentreg.yaml``.
    """
    if path.is_dir():
        return path / SIDECAR_NAME
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> tuple[RegistryMetadataDraft, list[Finding]]:
    """Read the registry sidecar of the asset at ``path``, if it has one.

    Args:
        path: A folder asset or a subagent file.

    Returns:
        The metadata it holds (empty when there is no sidecar) and its problems
        (``spec.unknown-key``, ``spec.invalid-field``, YAML problems, all BLOCK).
    """
    sidecar = sidecar_path(path)
    name = sidecar.name
    try:
        sidecar_stat = os.stat(sidecar)
    except FileNotFoundError:
        return RegistryMetadataDraft(), []
    except OSError as error:
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, error.strerror or "")]
    # Checked before opening: a FIFO named like a sidecar would hang the open.
    if not stat.S_ISREG(sidecar_stat.st_mode):
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, "it is not a regular file")]
    if sidecar_stat.st_size > MAX_SIDECAR_BYTES:
        reason = f"it is {sidecar_stat.st_size:,} bytes; a sidecar is a few lines"
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, reason)]
    problems: list[Finding] = []
    text = decode_text(BundleFile(path=name, data=sidecar.read_bytes()), problems)
    if text is None:
        return RegistryMetadataDraft(), problems
    result = parse_yaml_mapping(text, file=name, field_prefix=name)
    if not result.readable:
        return RegistryMetadataDraft(), result.problems
    return _sidecar_draft(result, file=name)


def _sidecar_unreadable(name: str, reason: str) -> Finding:
    return spec_problem(
        "spec.sidecar-unreadable", f"cannot read the sidecar: {reason}", file=name, fix=None
    )


_SIDECAR_READERS: dict[str, tuple[Callable[[object], object], str]] = {
    "owner-team": (text_value, "must be text, e.g. platform-tools"),
    "version": (text_value, "must be text like 1.2.0; put the value in quotes"),
    "changelog": (text_value, "must be text"),
    "authors": (authors_value, "must be a list of names or one comma-separated string"),
    "machine-authored": (flag_value, "must be true or false"),
}


def _sidecar_draft(result: YamlResult, *, file: str) -> tuple[RegistryMetadataDraft, list[Finding]]:
    values: dict[str, object] = {}
    problems = list(result.problems)
    for key, raw in result.data.items():
        line = result.field_lines.get(key)
        if key not in _SIDECAR_READERS:
            problems.append(
                spec_problem(
                    "spec.unknown-key",
                    f"{key} is not a sidecar key; known keys: {', '.join(SIDECAR_KEYS)}",
                    file=file,
                    line=line,
                    field=f"{file}.{key}",
                    fix="remove it, or check its spelling",
                )
            )
            continue
        read, requirement = _SIDECAR_READERS[key]
        value = read(raw)
        if value is None and raw not in (None, "", []):  # Blank means "not set here".
            problems.append(
                spec_problem(
                    "spec.invalid-field",
                    f"{key}: {requirement} (it is {raw!r})",
                    file=file,
                    line=line,
                    field=f"{file}.{key}",
                )
            )
        values[_FIELD_OF_KEY[key]] = value
    return RegistryMetadataDraft.model_validate(values), problems
