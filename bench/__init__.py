"""Benchmarks: each module is one command that prints its figures and records them.

Run one with ``.venv/bin/python -m bench.NAME``; ``make bench`` runs them all.
"""
