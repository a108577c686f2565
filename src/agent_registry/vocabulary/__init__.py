"""Leaf vocabulary shared by every package: findings, principals, behaviour figures.

These types are named by packages on every layer (the wire contract, the checks, the
registry's tables, the catalog and the surfaces), so they live below all of them and
import nothing from the rest of ``agent_registry``: a package that needs to say what a
finding or a principal is never has to import the feature package that produces one.
"""
