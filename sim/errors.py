"""Errors a user can cause, reported without a traceback.

Every problem with a scenario file, a table or a command-line value becomes a
:class:`ScenarioError` that names the file, the field and what was expected.  The
command line prints it and exits with status 2; library callers can catch it.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A user's input is wrong: which file, which field, what was expected.

    ``problems`` holds one line per problem so that a file with several mistakes
    reports all of them at once.
    """

    def __init__(self, problems: list[str] | str):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    @classmethod
    def at(cls, file: str, field: str, expected: str, got: object = None) -> "ScenarioError":
        """One problem at ``file`` / ``field``: ``expected`` says what would be valid."""
        tail = "" if got is None else f"; got {got!r}"
        return cls(f"{file}: {field}: expected {expected}{tail}")
