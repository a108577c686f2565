"""The catalog: what is published, how to find and install it, and who uses it.

Read models shared by the registry's JSON API, the catalog commands (``search``,
``show``, ``install``, the exports and hooks) and the dashboard, so that a machine with
database credentials and one that only reaches the API see the same shapes.
"""
