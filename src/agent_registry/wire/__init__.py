"""The HTTP API's paths, bodies and limits, shared by the server and its clients.

The server (:mod:`agent_registry.api`) and
:class:`~agent_registry.catalog.http.HttpCatalog` must agree on URLs, the caps a request
is held to and the few reply shapes that exist only because there is an API. Both
import them from here, below both of them, so the client never reaches up into the
server to learn what the server expects, and a route moved on one side moves on the
other. These modules import nothing of ours and no HTTP library, so a client that loads
them stays light.

- :mod:`~agent_registry.wire.paths`: the URL paths and how a ref or a hash becomes one;
- :mod:`~agent_registry.wire.limits`: what one request may ask for or carry;
- :mod:`~agent_registry.wire.schemas`: errors, telemetry counts, staging and health.
"""
