"""`dlprep review`, `stats` and `history` (root commands) and `dlprep progress`: export, import, reset."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.commands.common import BankOpt, JsonOpt, LangOpt, guarded, open_store, play_recorded, print_json
from grader.errors import UsageError

progress_app = typer.Typer(help="Your recorded answers and submissions: export, import, reset.", no_args_is_help=True)


def _bank_questions(bank: Optional[List[Path]]) -> list:
    from grader.bank import catalog as banks

    return [entry.question for entry in banks.load_catalog(bank).questions.values()]


# review, stats and history are root commands: cli.py registers them on the root app.
@guarded
def review(
    limit: int = typer.Option(20, "--limit", help="At most this many questions in this session."),
    topic: Optional[List[str]] = typer.Option(None, "--topic", help="Only this topic; repeatable."),
    new: int = typer.Option(10, "--new", help="New questions a day at most (a daily cap, counted in local days)."),
    lang: str = LangOpt,
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the order of each question's choices."),
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Spaced repetition: the questions due now (most overdue first), then up to --new questions
    you have not seen. After each answer, rate how well you knew it (Enter accepts the rating your
    grade gives); that rating schedules the next review."""
    from grader.practice import progress
    from grader.practice import quiz as quizzes
    from grader.render import progress as render_progress

    questions = _bank_questions(bank)
    quizzes.check_topics(topic or [], questions)
    with open_store() as store:
        queue = progress.review_queue(store, questions, limit=limit, new_per_day=new, topics=topic or [])
    if not queue.questions:
        print(render_progress.nothing_due(queue.next_due, lang), file=sys.stderr)
        return
    print(render_progress.queue_line(queue.due, queue.new, lang), file=sys.stderr)
    session = quizzes.QuizSession(queue.questions, lang=lang)
    play_recorded(session, False, shuffle=True, shuffle_seed=seed, ask_rating=True)



@guarded
def stats(json_out: bool = JsonOpt, lang: str = LangOpt, bank: Optional[List[Path]] = BankOpt) -> None:
    """Per-topic accuracy and recall, cards due over the next 7 days, your streak, your weakest
    questions and the mistakes you keep making in submissions."""
    from grader.practice import progress
    from grader.practice.store import now_utc
    from grader.render import progress as render

    now = now_utc()
    with open_store() as store:
        data = progress.stats(store, _bank_questions(bank), now=now)
    if json_out:
        print_json(data.to_dict())
    else:
        render.stats(data, lang, now)



@guarded
def history(
    json_out: bool = JsonOpt,
    limit: int = typer.Option(20, "--limit", help="How many entries, newest first."),
    lang: str = LangOpt,
) -> None:
    """Your answers and submissions, newest first."""
    from grader.practice import progress
    from grader.render import progress as render

    with open_store() as store:
        rows = progress.history(store, limit=limit)
    if json_out:
        print_json(rows)
    else:
        render.history(rows, lang)



@progress_app.command("export")
@guarded
def progress_export(file: Path = typer.Argument(..., metavar="FILE", help="The JSON file to write.")) -> None:
    """Write every record to a versioned JSON file (to move to another machine, or to keep)."""
    from grader.practice import progress

    with open_store() as store:
        counts = progress.export(store, file)
    print(f"dlprep: exported {counts['answers']} answers, {counts['submissions']} submissions, "
          f"{counts['hints']} hints to {file}", file=sys.stderr)


@progress_app.command("import")
@guarded
def progress_import(file: Path = typer.Argument(..., metavar="FILE", help="A file written by `progress export`.")) -> None:
    """Merge an export into your records: records already there are skipped (importing twice adds
    nothing), and the schedule is rebuilt from the merged history."""
    from grader.practice import progress

    with open_store() as store:
        added = progress.import_(store, file)
    print(f"dlprep: imported {added['answers']} answers, {added['submissions']} submissions, "
          f"{added['hints']} hints from {file}", file=sys.stderr)


@progress_app.command("reset")
@guarded
def progress_reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Forget every recorded answer, submission and hint (export first to keep a copy)."""
    with open_store() as store:
        counts = store.counts()
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("progress reset deletes your records: pass --yes to confirm")
            typer.confirm(f"Delete {counts['answers']} answers and {counts['submissions']} submissions "
                          f"from {store.path}?", abort=True)
        store.reset()
    print(f"dlprep: deleted {counts['answers']} answers, {counts['submissions']} submissions and "
          f"{counts['hints']} hints", file=sys.stderr)
