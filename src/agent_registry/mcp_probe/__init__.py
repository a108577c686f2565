"""The live probe: start an MCP server and verify what it exposes against what it claims.

``scope.yaml`` says which tools a server may expose and what each does; the probe starts
the server (stdio only, scrubbed environment, bounded time and output), lists its tools
with the MCP client session, and turns every difference into a finding. Fingerprints of
the tools let a later probe of the same content notice a silent change.

Import what you need from the modules: :mod:`~agent_registry.mcp_probe.verify`
(``probe_asset_report``) and :mod:`~agent_registry.mcp_probe.run` (``probe``) load the MCP SDK,
which takes most of a second, so this package imports nothing on its own; the registry
store and the CLI read fingerprints without paying for the SDK.
"""
