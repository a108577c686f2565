"""The MCP Registry API (v0.1): served as a curated subregistry, and read from upstream.

The MCP Registry project specifies an API that any registry may implement and that
MCP clients, gateways and portals already speak. This package holds what both
directions share and nothing that does I/O of its own except the upstream client:

- :mod:`~agent_registry.mcp_registry.spec`: paths, ``_meta`` keys, statuses, limits;
- :mod:`~agent_registry.mcp_registry.served`: a served version, as the catalog reads it
  and :mod:`~agent_registry.mcp_registry.responses` writes it;
- :mod:`~agent_registry.mcp_registry.server_schema`: the published ``server.json``
  JSON schema (kept beside it, with its source and licence) and the check against it;
- :mod:`~agent_registry.mcp_registry.upstream`: a client for any registry that speaks
  the API, refusing unreachable, slow and malformed answers with one clear message;
- :mod:`~agent_registry.mcp_registry.scope_proposal`: a ``scope.yaml`` proposed from
  what a live probe saw, for the submitter to confirm;
- :mod:`~agent_registry.mcp_registry.drafts`: the import draft folders, and whether
  their scope has been confirmed;
- :mod:`~agent_registry.mcp_registry.contract`: the scheduled import's workflow name
  and input, shared by the CLI that schedules it and the worker that runs it.
"""
