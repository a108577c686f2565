"""The ``agentreg`` command line: one typer app per command group."""
