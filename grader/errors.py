"""Domain errors and the exit codes every dlprep command shares.

The CLI (`guarded` in grader/commands/common.py) catches DlprepError, prints its message to
stderr and exits with its code; anything else is an internal fault (exit 3), re-raised when
DLPREP_DEBUG is set.
"""
from __future__ import annotations

EXIT_OK = 0  # success, or a passing grade
EXIT_FAIL = 1  # a failed validation or grade (the output says which)
EXIT_USAGE = 2  # usage errors and unusable input: missing file, unknown task or question id
EXIT_CANNOT = 3  # dlprep itself cannot do the job: no isolation, an internal fault


class DlprepError(Exception):
    """An error meant for the user: printed without a traceback."""

    exit_code = EXIT_CANNOT


class UsageError(DlprepError):
    """Bad arguments or unusable input (a missing file, an unknown id)."""

    exit_code = EXIT_USAGE


class BankError(UsageError):
    """A bank or task file that cannot be used; `problems` holds one line per problem."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


class CannotGrade(DlprepError):
    """dlprep cannot grade here (no isolation, a broken zygote, an internal fault)."""

    exit_code = EXIT_CANNOT


# What ast.parse and compile raise for Python source they cannot read: a syntax error, a NUL byte
# (ValueError), and nesting past the parser's limits (`x = 1+1+...+1` with 100000 terms raises
# RecursionError, 100000 unary minus signs MemoryError). A submission's or a task file's fault,
# never dlprep's.
UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
