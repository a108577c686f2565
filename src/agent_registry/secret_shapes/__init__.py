"""What a credential looks like: known token formats, placeholders, and random strings.

A leaf below the secret checks (:mod:`agent_registry.evals.secrets`) and the MCP probe
(:mod:`agent_registry.mcp_probe.output`), which both need to recognise and mask the
same credentials.
"""
