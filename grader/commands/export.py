"""`dlprep export`: hand a task's grading to Gradescope or GitHub Classroom."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.commands.common import BankOpt, guarded

# Exit codes: 0 written; 2 for usage (unknown task, a target that exists without --force, a bad
# --source); 3 when the pins cannot be read (dlprep not installed).

export_app = typer.Typer(help="Hand a task's grading to Gradescope or GitHub Classroom.", no_args_is_help=True)
ForceOpt = typer.Option(False, "--force", help="Overwrite what is already there.")


@export_app.command("gradescope")
@guarded
def export_gradescope(
    task_id: str = typer.Option(..., "--task", help="The task to grade."),
    out: Path = typer.Option(..., "--out", help="The zip to write (upload it as the autograder)."),
    require_isolation: bool = typer.Option(
        False, "--require-isolation",
        help="Where no isolating layer works in Gradescope's container, refuse to grade (score 0 with a "
        "message) instead of grading with --insecure."),
    force: bool = ForceOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Write a Gradescope autograder.zip: setup.sh installs this dlprep with every dependency pinned to
    the versions installed here (torch as the CPU wheel); run_autograder logs `dlprep doctor --json`,
    grades the submitted .py and writes results.json. The task's files from --bank go in too."""
    from grader.authoring import exports

    done = exports.export_gradescope(task_id, out, bank, require_isolation=require_isolation, force=force)
    print(f"dlprep: wrote {done.path} ({len(done.files)} files); upload it as the assignment's autograder",
          file=sys.stderr)


@export_app.command("github-classroom")
@guarded
def export_github_classroom(
    task_id: str = typer.Option(..., "--task", help="The task to grade."),
    out: Path = typer.Option(..., "--out", help="The template repository's folder (made if missing)."),
    source: Optional[str] = typer.Option(
        None, "--source",
        help="Where the workflow installs dlprep from, pinned: git+https://github.com/ORG/dlprep@<sha> or a "
        "wheel's URL. Without it the workflow holds a placeholder and fails until you set it."),
    force: bool = ForceOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Write a student template repository: .github/workflows/dlprep.yml (grades every push into the
    run's summary, fails on a failed grade), the task's starter file and a README. Students control
    their workflow, so this grading is formative."""
    from grader.authoring import classroom

    done = classroom.export_github_classroom(task_id, out, bank, source=source, force=force)
    for warning in done.warnings:
        print(f"dlprep: warning: {warning}", file=sys.stderr)
    print(f"dlprep: wrote {', '.join(done.files)} in {done.path}", file=sys.stderr)
