"""Spec problems: ``spec.*`` findings about submitted files, and reading them as text.

Shared by the per-kind parsers (:mod:`agent_registry.assets.kinds`) and the sidecar
reader (:mod:`agent_registry.assets.sidecar`), which record problems rather than raise.
"""

from __future__ import annotations

from agent_registry.assets.bundle import BundleFile
from agent_registry.vocabulary.findings import Finding, Severity


def spec_problem(
    check_id: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    field: str | None = None,
    fix: str | None = None,
) -> Finding:
    """A spec finding (severity BLOCK): what in the submitted files breaks the format."""
    return Finding(
        check_id=check_id,
        severity=Severity.BLOCK,
        message=message,
        file=file,
        line=line,
        field=field,
        fix=fix,
    )


def decode_text(bundle_file: BundleFile, problems: list[Finding]) -> str | None:
    """The file as text; manifests must be UTF-8 so every tool reads them the same way."""
    try:
        return bundle_file.data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = bundle_file.data[: error.start].count(b"\n") + 1
        problems.append(
            spec_problem(
                "spec.not-utf8",
                f"is not UTF-8 text (byte {error.start} cannot be read)",
                file=bundle_file.path,
                line=line,
                fix="save the file as UTF-8",
            )
        )
        return None
