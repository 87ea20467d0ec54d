"""The dlprep command line: parse options, call one function in grader/, hand the result to the
renderer. No logic lives here; torch is never imported at module level (the quiz starts fast).
The command groups live in grader/commands/; this file holds the root app, `quiz` and `doctor`,
and wires the groups in, in the order their help lists them.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.commands.bank import bank_app
from grader.commands.common import (BankOpt, DeviceOpt, JsonOpt, LangOpt, NoRecordOpt, check_device, guarded,
                                    open_store, play_recorded, print_json)
from grader.commands.export import export_app
from grader.commands.grading import grade, submit
from grader.commands.progress import history, progress_app, review, stats
from grader.commands.tasks import task_app, tasks_list
from grader.errors import EXIT_CANNOT, UsageError

app = typer.Typer(
    name="dlprep",
    help="Practise deep-learning interview questions and get your modules graded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# ---- quiz and bank commands (issue 2) -------------------------------------------------------
# Exit codes: the interactive quiz exits 0 (practice, however it went; Ctrl-C and EOF end it with
# the partial summary). `quiz --answers` exits 0 when every answer is correct and every id and
# answer could be read, 1 otherwise, 2 when the answers file is unusable (missing, not a mapping).


@app.command()
@guarded
def quiz(
    topic: Optional[List[str]] = typer.Option(None, "--topic", help="Only this topic; repeatable."),
    count: Optional[int] = typer.Option(None, "--count", help="How many questions (default: all)."),
    difficulty: Optional[str] = typer.Option(None, "--difficulty", help="easy, medium or hard."),
    lang: str = LangOpt,
    seed: Optional[int] = typer.Option(
        None, "--seed", help="Same seed, same quiz: the questions, their order and the order of their choices."
    ),
    shuffle: bool = typer.Option(
        True, "--shuffle/--no-shuffle",
        help="Show each question's choices in a random order (questions are always asked in a random "
        "order). A question with `shuffle: false` keeps its order. Answers files and results use the "
        "bank's letters either way.",
    ),
    answers: Optional[Path] = typer.Option(None, "--answers", help="Grade a YAML file of id: answer instead."),
    json_out: bool = JsonOpt,
    no_record: bool = NoRecordOpt,
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Practise questions in the terminal, or grade an answers file (letters as in `bank show`).
    Every answer is recorded in your progress store as it is given (see `dlprep stats`)."""
    from grader.bank import catalog as banks
    from grader.practice import quiz as quizzes
    from grader.render import quiz as render

    if json_out and answers is None:
        raise UsageError("--json needs --answers FILE (the interactive quiz has no JSON output)")
    catalog = banks.load_catalog(bank)
    questions = {qid: entry.question for qid, entry in catalog.questions.items()}
    if answers is None:
        session = quizzes.start_session(
            questions.values(), topics=topic or [], difficulty=difficulty, count=count, seed=seed, lang=lang
        )
        play_recorded(session, no_record, shuffle=shuffle, shuffle_seed=seed)
        return
    report = quizzes.grade_answers_file(answers, questions, lang)
    if not no_record:
        from grader.practice import progress

        with open_store() as store:
            for result in report.results:
                progress.record_answer(store, questions[result.id], result, lang=lang)
    if json_out:
        print_json(report.to_dict())
        for line in report.problems:
            print(line, file=sys.stderr)
    else:
        render.answers_report(report, questions, lang)
    raise typer.Exit(0 if report.all_correct else 1)


# The root commands defined in grader/commands/, in the order `dlprep --help` lists them.
app.command("tasks")(tasks_list)
app.command()(submit)
app.command()(grade)
app.command()(review)
app.command()(stats)
app.command()(history)


# ---- sandbox: doctor (issue 4) ----------------------------------------------------------------


@app.command()
@guarded
def doctor(
    json_out: bool = JsonOpt,
    device: str = DeviceOpt,
) -> None:
    """Show the isolation layers a graded submission runs under here, why any is off, and what the
    graded child really has (uid inside and outside, capabilities, namespaces, seccomp, Landlock,
    thread and memory bounds). Says "isolated" only when all of it holds.
    Exits 3 when no isolating layer works (submit would refuse to grade)."""
    from grader.sandbox import doctor as sandbox_doctor

    check_device(device)
    doc = sandbox_doctor.report(device)
    if json_out:
        print_json(doc)
    else:
        typer.echo("\n".join(sandbox_doctor.lines(doc)))
    raise typer.Exit(0 if doc["can_grade"] else EXIT_CANNOT)


app.add_typer(bank_app, name="bank")
app.add_typer(task_app, name="task")
app.add_typer(progress_app, name="progress")
app.add_typer(export_app, name="export")


if __name__ == "__main__":
    app()
