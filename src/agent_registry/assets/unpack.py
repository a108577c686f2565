"""Writing a bundle's files to a folder: for the live probe, and for installing an asset."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from agent_registry.assets.bundle import Bundle


def write_bundle(bundle: Bundle, destination: Path) -> list[Path]:
    """Write every file of ``bundle`` under ``destination``, scripts executable.

    Bundle paths were validated when the bundle was built (relative, no ``..``), but a
    file is still refused if its resolved path would leave ``destination``: this is the
    one place bundle content reaches the file system, so it checks for itself.

    Args:
        bundle: The files.
        destination: An existing folder; files are created below it.

    Returns:
        The paths written.

    Raises:
        ValueError: If a bundle path would land outside ``destination``.
    """
    root = destination.resolve()
    written: list[Path] = []
    for bundle_file in bundle.files:
        relative = PurePosixPath(bundle_file.path)
        target = (root / Path(*relative.parts)).resolve()
        if relative.is_absolute() or not target.is_relative_to(root) or target == root:
            raise ValueError(f"bundle path '{bundle_file.path}' would leave {destination}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bundle_file.data)
        target.chmod(0o755 if bundle_file.executable else 0o644)
        written.append(target)
    return written
