"""Activities: every piece of I/O the lifecycle needs (registry database, evals, notices).

Each module talks to one external system through a class that receives its dependency,
registered on the worker as bound methods.
"""
