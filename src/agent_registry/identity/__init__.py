"""Who is asking: how the server proves a :class:`~agent_registry.vocabulary.principal.Principal`.

Every rule that depends on who someone is (self-approval, owner team, reviewer groups,
attest, deprecate) compares principals, never strings a caller typed. A principal is
resolved by the registry server alone: from a verified OIDC bearer token in production,
from Slack's signed request plus the clicker's Slack profile, or, in the embedded local
mode, from a loopback client's ``--as`` marked ``local-unverified``.
"""
