"""`dlprep tasks` and `dlprep task`: list the coding tasks, show one, start its file, a hint, the solution."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.commands.common import BankOpt, JsonOpt, LangOpt, guarded, open_store, print_json

task_app = typer.Typer(help="Coding tasks: show one, start a file from its starter code, get a hint or the "
                        "solution.", no_args_is_help=True)


# `dlprep tasks` is a root command: cli.py registers it on the root app.
@guarded
def tasks_list(json_out: bool = JsonOpt, lang: str = LangOpt, bank: Optional[List[Path]] = BankOpt) -> None:
    """List the coding tasks."""
    from grader.bank import catalog as banks
    from grader.bank import tasks
    from grader.render import submit as render

    specs = [entry.spec for entry in banks.load_catalog(bank).tasks.values()]
    if json_out:
        print_json([tasks.task_json(spec, brief=True) for spec in specs])
    else:
        render.task_list(specs, lang)


@task_app.command("show")
@guarded
def task_show(
    task_id: str = typer.Argument(..., metavar="ID", help="The task's id (see `dlprep tasks`)."),
    json_out: bool = JsonOpt,
    lang: str = LangOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Show a task: prompt, signature, public examples, starter code."""
    from grader.bank import catalog as banks
    from grader.bank import tasks
    from grader.render import submit as render

    spec = tasks.find_task(banks.load_catalog(bank).tasks, task_id).spec
    if json_out:
        print_json(tasks.task_json(spec))
    else:
        render.task_page(spec, tasks.public_examples(spec), lang)


@task_app.command("start")
@guarded
def task_start(
    task_id: str = typer.Argument(..., metavar="ID", help="The task's id."),
    path: Optional[Path] = typer.Argument(None, metavar="[PATH]", help="Where to write (default ./ID.py)."),
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Write the task's starter code to a new file (never overwrites)."""
    from grader.bank import catalog as banks
    from grader.bank import tasks

    written = tasks.write_starter(tasks.find_task(banks.load_catalog(bank).tasks, task_id).spec, path)
    print(f"dlprep: wrote {written}; grade it with: dlprep submit {written}", file=sys.stderr)


@task_app.command("hint")
@guarded
def task_hint(
    task_id: str = typer.Argument(..., metavar="ID", help="The task's id."),
    json_out: bool = JsonOpt,
    lang: str = LangOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Show the task's next hint, each a step closer to the answer (asking again after the last
    shows the last). Recorded in your progress store."""
    from grader.bank import catalog as banks
    from grader.bank import tasks
    from grader.practice import hints
    from grader.render import submit as render

    spec = tasks.find_task(banks.load_catalog(bank).tasks, task_id).spec
    with open_store() as store:
        hint = hints.next_hint(spec, store, lang)
    if json_out:
        print_json({"task": hint.task, "level": hint.level, "total": hint.total, "text": hint.text})
    else:
        render.hint_page(hint, lang)


@task_app.command("solution")
@guarded
def task_solution(
    task_id: str = typer.Argument(..., metavar="ID", help="The task's id."),
    force: bool = typer.Option(False, "--force", help="Show it before any graded attempt of yours."),
    json_out: bool = JsonOpt,
    lang: str = LangOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Show the task's reference solution, once you have submitted an attempt at it (dlprep submit),
    or with --force. Each showing is recorded in your progress store. Exits 1 while it is locked."""
    from grader.bank import catalog as banks
    from grader.bank import tasks
    from grader.practice import hints
    from grader.render import submit as render

    loaded = tasks.find_task(banks.load_catalog(bank).tasks, task_id)
    with open_store() as store:
        solution = hints.solution(loaded, store, force=force)
    if json_out:
        print_json({"task": solution.task, "file": str(solution.file), "forced": solution.forced,
                     "source": solution.source})
    else:
        render.solution_page(solution, lang)
