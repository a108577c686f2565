"""Activities: every piece of I/O the lifecycle needs (registry database, evals, notices).

Two kinds of module live here. The activity definitions (``registry``, ``evaluation``,
``life``, ``purge``, ``notices``, ``review_messages``, ``probe``, ``behaviour``,
``mcp_import``) and their input and output models (``models``) are imported by
workflows, inside the sandbox, to call activities by method reference: they load no
database, Slack or HTTP library (``tests/test_import_weight.py`` holds them to that).
Each activity class receives the collaborator that does its I/O (``registry_writes``,
``evaluator``, ``life_records``, ``bundle_purge``, ``slack_notices``,
``review_messenger``, ``mcp_importer``), which ``worker.py`` builds and which no
workflow imports. The worker registers the activities as bound methods.
"""
