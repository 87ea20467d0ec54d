"""The dlprep command line: parse options, call one function in grader/, hand the result to the
renderer. No logic lives here; torch is never imported at module level (the quiz starts fast).
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.errors import EXIT_CANNOT, DlprepError

app = typer.Typer(
    name="dlprep",
    help="Practise deep-learning interview questions and get your modules graded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bank_app = typer.Typer(help="List, show and validate question banks and task files.", no_args_is_help=True)
task_app = typer.Typer(help="Coding tasks: show one, or start a file from its starter code.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")
app.add_typer(task_app, name="task")

BankOpt = typer.Option(
    None, "--bank", help="A directory (or file) of extra banks and tasks; repeatable. Also DLPREP_BANKS."
)
LangOpt = typer.Option("en", "--lang", help="Language: en or zh (falls back to the other).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def guarded(fn):
    """Turn DlprepError into a message on stderr and its exit code; other errors exit 3
    (re-raised with a traceback when DLPREP_DEBUG is set)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except DlprepError as exc:
            if os.environ.get("DLPREP_DEBUG"):
                raise
            print(f"dlprep: {exc}", file=sys.stderr)
            for line in getattr(exc, "problems", []) or []:
                print(line, file=sys.stderr)
            raise typer.Exit(exc.exit_code)
        except KeyboardInterrupt:
            raise typer.Exit(130)
        except Exception as exc:  # an internal fault: say so without a traceback
            if os.environ.get("DLPREP_DEBUG"):
                raise
            print(f"dlprep: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
            print("dlprep: set DLPREP_DEBUG=1 for the traceback", file=sys.stderr)
            raise typer.Exit(EXIT_CANNOT)

    return wrapper


# ---- quiz and bank commands (issue 2) -------------------------------------------------------

# ---- tasks and submit (issue 3) -------------------------------------------------------------

# ---- sandbox: doctor (issue 4) ----------------------------------------------------------------


if __name__ == "__main__":
    app()
