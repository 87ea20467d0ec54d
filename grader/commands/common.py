"""What every command group shares: the common options, `guarded` (a DlprepError becomes a message
and its exit code, never a traceback), JSON output and the learner's store."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import typer

from grader.errors import EXIT_CANNOT, DlprepError, UsageError

BankOpt = typer.Option(
    None, "--bank", help="A directory (or file) of extra banks and tasks; repeatable. Also DLPREP_BANKS."
)


def _check_lang(value: str) -> str:
    if value not in ("en", "zh"):
        raise typer.BadParameter(f"must be en or zh, not {value!r}")
    return value


LangOpt = typer.Option("en", "--lang", help="Language: en or zh (falls back to the other).", callback=_check_lang)
JsonOpt = typer.Option(False, "--json", help="Print one JSON document on stdout.")
NoRecordOpt = typer.Option(False, "--no-record", help="Do not record these answers in your progress store.")
DeviceOpt = typer.Option("cpu", "--device", help="cpu or cuda.")


def check_device(device: str) -> None:
    if device not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {device!r} (cpu or cuda)")


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


def print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def warn(message: str) -> None:
    print(f"dlprep: {message}", file=sys.stderr)


def check_out(out: Optional[Path], graded: Sequence[Path] = ()) -> None:
    """Refuse an --out that cannot be written before grading, not after, and one that would write
    over a submission being graded (`dlprep grade subs --out subs/alice.py` replaced Alice's file
    with the report), or put a .py into a class folder, where the next run would grade it."""
    if out is None:
        return
    if out.is_dir() or not out.parent.is_dir():
        raise UsageError(f"cannot write the report to {out}: " + ("it is a directory" if out.is_dir()
                         else f"no directory {out.parent}"))
    target = out.resolve()
    for path in graded:
        if path.exists() and target == path.resolve():
            raise UsageError(f"--out {out} is a submission being graded; write the report elsewhere")
        if path.is_dir() and out.suffix == ".py" and path.resolve() in target.parents:
            raise UsageError(f"--out {out} is a .py file in {path}, where it would replace a submission or be "
                             "graded as one; write the report elsewhere")


# The store (grader.practice.store) lives under DLPREP_HOME or the platform's user-data directory.
# A store that cannot be used (corrupt, from a newer dlprep) exits 3 with its path; nothing is lost.
def open_store():
    from grader.practice.store import Store

    return Store.open()


def play_recorded(session, no_record: bool, **options) -> None:
    """The interactive quiz, each answer recorded as it is given (unless --no-record)."""
    from grader.render import quiz as render

    if no_record:
        render.play(session, **options)
        return
    from grader.practice.progress import Recorder

    with open_store() as store:
        render.play(session, recorder=Recorder(store, session.lang), **options)
