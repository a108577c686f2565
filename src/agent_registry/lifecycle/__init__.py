"""The vocabulary of a version's life: stages, the wire contract, review and life rules.

One home for what the workflow, the CLI, the server and Slack must agree on; nothing here
does I/O except :mod:`.client`, which starts and updates lifecycles, and
:mod:`.visibility` (the visibility queries and Web UI links that find lifecycles by their
search attributes), which reads the Temporal client profile for its namespace.
"""
