"""`dlprep bank`: list, show, validate and scaffold question banks and task files (`bank new`)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.commands.common import BankOpt, JsonOpt, LangOpt, guarded, print_json

bank_app = typer.Typer(help="List, show, validate and scaffold question banks and task files.",
                       no_args_is_help=True)


@bank_app.command("list")
@guarded
def bank_list(
    topic: Optional[List[str]] = typer.Option(None, "--topic", help="Only this topic; repeatable."),
    json_out: bool = JsonOpt,
    lang: str = LangOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """List the questions of every loaded bank."""
    from grader.bank import catalog as banks
    from grader.practice import quiz as quizzes
    from grader.render import quiz as render

    catalog = banks.load_catalog(bank)
    questions = [entry.question for entry in catalog.questions.values()]
    quizzes.check_topics(topic or [], questions)
    entries = [catalog.questions[q.id] for q in quizzes.filter_questions(questions, topics=topic or [])]
    if json_out:
        print_json([banks.listing_json(entry) for entry in entries])
    else:
        render.bank_list(entries, lang)


@bank_app.command("show")
@guarded
def bank_show(
    question_id: str = typer.Argument(..., metavar="ID", help="The question's id."),
    json_out: bool = JsonOpt,
    lang: str = LangOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Show one question with its answer and explanation."""
    from grader.bank import catalog as banks
    from grader.render import quiz as render

    entry = banks.find_question(banks.load_catalog(bank), question_id)
    if json_out:
        print_json(banks.question_json(entry))
    else:
        render.bank_entry(entry, lang)


@bank_app.command("validate")
@guarded
def bank_validate(
    paths: Optional[List[Path]] = typer.Argument(None, metavar="[PATH]...", help="Files or directories."),
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Check bank and task files: one FILE:LINE: id=ID: message line per problem on stdout (nothing
    when all is valid); task files are also proved against their mutants. On stderr: warnings
    (which keep a bank valid) and the test-taking cue figures of the questions loaded, each with its
    goal. Without PATH: the built-in banks plus --bank and DLPREP_BANKS."""
    from grader.authoring import validate

    catalog = validate.load(paths, bank)
    for line in catalog.problems:
        typer.echo(line)
    figures, off_goal = validate.cue_lines(catalog)
    for line in [*catalog.warnings, *(f"dlprep: cues: {f}" for f in figures), *(f"dlprep: {w}" for w in off_goal)]:
        print(line, file=sys.stderr)  # warnings and figures keep a bank valid: stderr, exit 0
    # Proving runs every mutant through the sandbox: only worth it once the files themselves are valid.
    proofs = [] if catalog.problems else validate.prove_tasks(catalog)
    for proof in proofs:  # the summary is news, not a problem: stdout stays empty when all is valid
        print(f"dlprep: {proof.lines[0]}", file=sys.stderr)
        for line in proof.lines[1:]:
            typer.echo(line)
    unproved = sum(not proof.ok for proof in proofs)
    files, problems = len(catalog.files), len(catalog.problems)
    verdict = (f"{problems} problem{'s' * (problems != 1)}" if problems
               else f"{unproved} task{'s' * (unproved != 1)} not proved" if unproved else "valid")
    warned = len(catalog.warnings) + len(off_goal)
    verdict += f", {warned} warning{'s' * (warned != 1)}" if warned else ""
    print(
        f"dlprep: {len(catalog.questions)} questions, {len(catalog.tasks)} tasks in {files} files: {verdict}",
        file=sys.stderr,
    )
    raise typer.Exit(1 if problems or unproved else 0)


@bank_app.command("schema")
@guarded
def bank_schema() -> None:
    """Print the JSON Schema of a bank file (for editor completion)."""
    from grader.bank.schema import json_schema

    print_json(json_schema())


bank_new_app = typer.Typer(help="Write a commented scaffold of a question or a task that validates as it "
                           "stands (docs/authoring.md explains it). Never overwrites.", no_args_is_help=True)
bank_app.add_typer(bank_new_app, name="new")


@bank_new_app.command("question")
@guarded
def bank_new_question(
    kind: str = typer.Option(..., "--type", help="single, multi, truefalse, numeric or short."),
    topic: Optional[str] = typer.Option(None, "--topic", help="The question's topic (default: general)."),
    question_id: Optional[str] = typer.Option(None, "--id", help="The question's id (default: TOPIC-TYPE-1)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file (or into this directory) "
                                       "instead of stdout; never overwrites."),
) -> None:
    """A bank file holding one sourced, bilingual question of the type (a short one with its rubric
    and graded examples), on stdout or in --out."""
    from grader.authoring import scaffold

    text = scaffold.question_text(kind, topic, question_id)
    if out is None:
        typer.echo(text, nl=False)
        return
    written = scaffold.write_question(text, out)
    print(f"dlprep: wrote {written}; check it with: dlprep bank validate {written}", file=sys.stderr)


@bank_new_app.command("task")
@guarded
def bank_new_task(
    task_id: str = typer.Argument(..., metavar="ID", help="The new task's id (lowercase, digits, '-')."),
    topic: Optional[str] = typer.Option(None, "--topic", help="The task's topic (default: general)."),
    out: Optional[Path] = typer.Option(None, "--out", help="The task's directory (default: ./ID)."),
) -> None:
    """A task directory: ID.yaml, reference.py and two mutants of one pitfall of the task's own, with
    a public example, probe families and hints; it validates as it stands."""
    from grader.authoring import scaffold

    written = scaffold.write_task(task_id, out, topic)
    for path in written:
        print(f"dlprep: wrote {path}", file=sys.stderr)
    print(f"dlprep: prove it with: dlprep bank validate {written[0].parent}", file=sys.stderr)
