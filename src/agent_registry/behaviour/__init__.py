"""Behavioural evals: does an asset do its job, and better than what it replaces?

The static eval bar reads an asset; this package measures it in use. An asset ships
eval cases in Claude Code's own plugin-eval format (``evals/<case>/case.yaml``, or
``prompt.md`` with ``graders/*.md``), or skill-creator's ``evals/evals.json``, which is
converted to that format. Claude Code's ``claude plugin eval --json`` runs them with the
asset wrapped as a plugin and a no-asset baseline arm; the registry reads the pass rate
and the delta against the baseline, compares with the version the asset replaces, and
the policy decides what gates.

- :mod:`~agent_registry.policy.behaviour`: the ``[behaviour]`` table of the policy.
- :mod:`~agent_registry.behaviour.cases`: which cases an asset ships.
- :mod:`~agent_registry.behaviour.skill_creator`: ``evals/evals.json`` as cases.
- :mod:`~agent_registry.behaviour.plugin_dir`: the asset written out as a plugin.
- :mod:`~agent_registry.behaviour.command`: the ``claude plugin eval`` command line.
- :mod:`~agent_registry.behaviour.results`: its ``--json`` result, read.
- :mod:`~agent_registry.behaviour.gates`: the findings the policy makes of a run.
- :mod:`~agent_registry.behaviour.run`: one run, start to finish (processes, files).
"""
