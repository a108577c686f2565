"""The keys a production registry cannot run without.

With OIDC identity the registry is shared beyond one machine: a worker without a
signing key would publish versions that install and the guard cannot check, and one
without an audit key would write a chain any database writer can rewrite and re-hash.
So the worker and the server refuse to start, in one line naming the missing setting,
rather than run unsigned or unkeyed.
"""

from __future__ import annotations

from agent_registry.config import Settings

REQUIRED = (
    ("signing_key", "AGENT_REGISTRY_SIGNING_KEY", "the registry's Ed25519 signing key"),
    ("audit_key", "AGENT_REGISTRY_AUDIT_KEY", "the audit chain's key"),
)


def missing_production_key(settings: Settings, *, who: str) -> str | None:
    """The one-line refusal for ``who`` (``worker``, ``server``), or None when it may start."""
    if settings.identity_mode != "oidc":
        return None
    for field, variable, what in REQUIRED:
        if getattr(settings, field) is None:
            return (
                f"the {who} refuses to start in identity mode oidc without {what}: "
                f"set {variable} to its file"
            )
    return None
