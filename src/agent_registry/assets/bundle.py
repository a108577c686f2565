"""Bundles: the files of one asset version, and the caps a bundle must stay within.

Only the types live here. Reading a bundle from disk is
:mod:`agent_registry.assets.bundle_reader`; its canonical archive, content hash and
reading an archive back are :mod:`agent_registry.assets.archive`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BundleLimits:
    """What the bundle reader reads at all, before any check runs.

    These bound the reading (memory, time, a hostile archive); whether a bundle of a
    given size may pass is the policy's choice per kind and tier (``[bundles]``, judged
    by :func:`agent_registry.evals.hygiene.over_cap`), and these sit above its defaults.

    Attributes:
        max_total_bytes: Sum of all file sizes.
        max_file_bytes: Size of any one file.
        max_files: Number of files.
        max_depth: Folder nesting below the bundle root.
    """

    max_total_bytes: int = 16 * 1024 * 1024
    max_file_bytes: int = 8 * 1024 * 1024
    max_files: int = 500
    max_depth: int = 8

    @property
    def max_archive_bytes(self) -> int:
        """The largest canonical archive of a bundle within these caps.

        The files' bytes plus, per file, a tar header, an extended (long-name) header and
        block padding: what a server may read before it knows the archive is too big.
        """
        return self.max_total_bytes + 4096 * (self.max_files + 1)


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle.

    Attributes:
        path: POSIX path relative to the bundle root (never absolute, never ``..``).
        data: The file's bytes.
        executable: Whether the file carries an executable bit (scripts).
    """

    path: str
    data: bytes
    executable: bool = False


@dataclass(frozen=True)
class Bundle:
    """The files of one asset version.

    Attributes:
        root_name: The folder name (skill, MCP server) or file name (subagent) submitted;
            a skill's ``name`` must equal it, so it is part of the hashed content.
        files: The files, sorted by path.
        single_file: True when the asset is one file (a subagent ``.md``).
    """

    root_name: str
    files: tuple[BundleFile, ...] = field(default_factory=tuple)
    single_file: bool = False

    def get(self, path: str) -> BundleFile | None:
        """The file at ``path``, or None."""
        for bundle_file in self.files:
            if bundle_file.path == path:
                return bundle_file
        return None

    @property
    def total_bytes(self) -> int:
        """Sum of all file sizes."""
        return sum(len(f.data) for f in self.files)


SIDECAR_NAME = "agentreg.yaml"
"""The registry sidecar beside a folder asset's files; registry metadata, never content."""

SIDECAR_NAMES = frozenset({SIDECAR_NAME})
"""Bundle-root names :mod:`agent_registry.assets.bundle_reader` leaves out by default."""
