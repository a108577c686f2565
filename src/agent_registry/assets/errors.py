"""Errors that carry every problem found, so a submitter can fix them all in one go."""

from __future__ import annotations

from agent_registry.evals.findings import Finding


def format_problem(problem: Finding) -> str:
    """Render one problem as a single line: where, what, and how to fix it.

    Args:
        problem: The finding to render.

    Returns:
        ``location: message (fix: …)``, leaving out the parts that are not known.
    """
    where = problem.location
    text = f"{where}: {problem.message}" if where else problem.message
    return f"{text} (fix: {problem.fix})" if problem.fix else text


class ProblemsError(Exception):
    """Base of the errors that stop an asset from being read or submitted.

    Raising one error with every problem, rather than the first one found, saves the
    submitter a fix-and-retry round trip per problem.

    Attributes:
        problems: What went wrong, each with its file and fix when known.
    """

    def __init__(self, problems: list[Finding]) -> None:
        # Passing the list to Exception keeps the error picklable (Temporal activities
        # and multiprocessing move exceptions across process boundaries).
        super().__init__(problems)
        self.problems: list[Finding] = list(problems)

    def __str__(self) -> str:
        return "\n".join(format_problem(problem) for problem in self.problems)
