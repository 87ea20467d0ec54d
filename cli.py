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

from grader.errors import EXIT_CANNOT, EXIT_FAIL, EXIT_OK, DlprepError, UsageError

app = typer.Typer(
    name="dlprep",
    help="Practise deep-learning interview questions and get your modules graded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bank_app = typer.Typer(help="List, show, validate and scaffold question banks and task files.",
                       no_args_is_help=True)
task_app = typer.Typer(help="Coding tasks: show one, start a file from its starter code, get a hint or the "
                        "solution.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")
app.add_typer(task_app, name="task")

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


def _check_device(device: str) -> None:
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


# ---- quiz and bank commands (issue 2) -------------------------------------------------------
# Exit codes: the interactive quiz exits 0 (practice, however it went; Ctrl-C and EOF end it with
# the partial summary). `quiz --answers` exits 0 when every answer is correct and every id and
# answer could be read, 1 otherwise, 2 when the answers file is unusable (missing, not a mapping).


def _print_json(data: object) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


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
        _play_recorded(session, no_record, shuffle=shuffle, shuffle_seed=seed)
        return
    report = quizzes.grade_answers_file(answers, questions, lang)
    if not no_record:
        from grader.practice import progress

        with _open_store() as store:
            for result in report.results:
                progress.record_answer(store, questions[result.id], result, lang=lang)
    if json_out:
        _print_json(report.to_dict())
        for line in report.problems:
            print(line, file=sys.stderr)
    else:
        render.answers_report(report, questions, lang)
    raise typer.Exit(0 if report.all_correct else 1)


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
        _print_json([banks.listing_json(entry) for entry in entries])
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
        _print_json(banks.question_json(entry))
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

    _print_json(json_schema())


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


# ---- tasks and submit (issue 3) -------------------------------------------------------------
# Exit codes: submit exits 0 on a pass, 1 on a fail or an error verdict (the report says which),
# 2 for usage and a missing file, 3 when dlprep cannot grade (no isolation, a broken zygote).


@app.command("tasks")
@guarded
def tasks_list(json_out: bool = JsonOpt, lang: str = LangOpt, bank: Optional[List[Path]] = BankOpt) -> None:
    """List the coding tasks."""
    from grader.bank import catalog as banks
    from grader.bank import tasks
    from grader.render import submit as render

    specs = [entry.spec for entry in banks.load_catalog(bank).tasks.values()]
    if json_out:
        _print_json([tasks.task_json(spec, brief=True) for spec in specs])
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
        _print_json(tasks.task_json(spec))
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
    with _open_store() as store:
        hint = hints.next_hint(spec, store, lang)
    if json_out:
        _print_json({"task": hint.task, "level": hint.level, "total": hint.total, "text": hint.text})
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
    with _open_store() as store:
        solution = hints.solution(loaded, store, force=force)
    if json_out:
        _print_json({"task": solution.task, "file": str(solution.file), "forced": solution.forced,
                     "source": solution.source})
    else:
        render.solution_page(solution, lang)


@app.command()
@guarded
def submit(
    file: Path = typer.Argument(..., metavar="FILE", help="The Python file to grade."),
    task_id: Optional[str] = typer.Option(None, "--task", help="The task (default: the one whose class FILE defines)."),
    json_out: bool = typer.Option(False, "--json", help="Same as --format json."),
    fmt: str = typer.Option("table", "--format", help="table, json, gradescope, exercism or markdown."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the report to this file instead of stdout."),
    watch: bool = typer.Option(False, "--watch", help="Regrade every time FILE is saved (Ctrl-C stops); each "
                               "report says which checks flipped since the last."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List the passing checks too (the table "
                                 "shows the failing ones)."),
    lang: str = LangOpt,
    device: str = DeviceOpt,
    insecure: bool = typer.Option(False, "--insecure", help="Grade even when no isolation layer works."),
    no_record: bool = typer.Option(False, "--no-record", help="Do not add this grade to your progress records."),
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Grade a submitted module: outputs and gradients against a reference, and the pitfalls.
    The report leads with the verdict, the score and the named mistakes with their fixes, then the
    failing checks. Messages follow --lang in every format (English by default). Each grade is
    recorded in your progress store (see `dlprep stats`); --watch records each distinct version of
    the file once."""
    from grader.grading import submit as grading
    from grader.grading import watch as watching
    from grader.grading.reports import SUBMIT_FORMATS as FORMATS

    fmt = "json" if json_out else fmt
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    _check_device(device)
    _check_out(out)
    store = None if no_record else _open_store()  # a store that cannot be used stops us before grading
    report = functools.partial(_report_submission, fmt=fmt, out=out, lang=lang, store=store, path=file, distinct=watch,
                               verbose=verbose, bank=bank)
    options = dict(task_id=task_id, device=device, insecure=insecure, bank_paths=bank, lang=lang)
    try:
        if watch:
            if file.is_file():  # else watch() says why it cannot (exit 2)
                print(f"dlprep: watching {file}; each save is graded again (Ctrl-C stops)", file=sys.stderr)
            raise typer.Exit(watching.watch(file, report, warn=_warn, **options))
        raise typer.Exit(report(grading.grade_file(file, **options)))
    finally:
        if store is not None:
            store.close()


def _warn(message: str) -> None:
    print(f"dlprep: {message}", file=sys.stderr)


def _check_out(out: Optional[Path]) -> None:
    """Refuse an --out that cannot be written before grading, not after."""
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        raise UsageError(f"cannot write the report to {out}: " + ("it is a directory" if out.is_dir()
                         else f"no directory {out.parent}"))


def _report_submission(result, since=None, *, fmt: str, out: Optional[Path], lang: str, store=None,
                       path: Optional[Path] = None, distinct: bool = False, verbose: bool = False,
                       bank: Optional[List[Path]] = None) -> int:
    """Record the grade (when there is a store), print (or write to --out) its report; return the
    exit code of its verdict. Recorded first: a learner who presses Ctrl-C as soon as the report is
    up must not lose it. `since`: the previous report's result (--watch), for what flipped."""
    from grader.grading import reports
    from grader.render import submit as render

    if store is not None and path is not None:
        from grader.practice import progress

        progress.record_submission(store, result, path, distinct=distinct)

    if fmt == "table":
        from grader.grading import submit as grading
        from grader.grading.watch import flips
        from grader.practice import hints

        loaded = grading.task_catalog(bank).get(result.task)  # cached: the grade just loaded it
        options = dict(verbose=verbose, flips=flips(since, result) if since is not None else None,
                       hint=hints.state(loaded.spec, store) if loaded is not None else None)
        if out is None:
            render.result_table(result, lang, **options)
        else:
            with out.open("w", encoding="utf-8") as f:
                render.result_table(result, lang, file=f, **options)
    else:
        text = reports.render_submission(result, fmt, lang)
        if out is None:
            typer.echo(text)
        else:
            out.write_text(text + "\n", encoding="utf-8")
    if result.error is not None and result.error.kind == "internal-error":
        return EXIT_CANNOT  # dlprep's own fault while judging: the report says so, the code too
    return EXIT_OK if result.verdict == "pass" else EXIT_FAIL


# ---- grade a class (issue 14) ---------------------------------------------------------------
# Exit codes: 0 when the batch ran, whatever the verdicts (the report says them); 2 for usage (no
# such path or task, nothing to grade, a bad option); 3 when it cannot grade at all (no isolation,
# no zygote); 130 on Ctrl-C, after writing the report of what finished ("partial": true).


@app.command()
@guarded
def grade(
    paths: List[Path] = typer.Argument(..., metavar="PATH...", help="Submission files, or folders of them "
                                       "(a .py file or a folder per student)."),
    task_id: str = typer.Option(..., "--task", help="The task every submission is graded against."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Sandboxes grading at once (default: the usable cores)."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv, junit, markdown or html."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the report to this file instead of stdout."),
    feedback: Optional[Path] = typer.Option(None, "--feedback", help="Also write each student's report as "
                                            "Markdown into this directory."),
    deadline: Optional[float] = typer.Option(None, "--deadline", help="Seconds each submission may run "
                                             "(default: the task's)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Grade everything again; neither read nor write "
                                  "the results cache."),
    lang: str = LangOpt,
    device: str = DeviceOpt,
    insecure: bool = typer.Option(False, "--insecure", help="Grade even when no isolation layer works."),
    bank: Optional[List[Path]] = BankOpt,
) -> None:
    """Grade a whole class against one task: every submission in every report, a summary of what
    to teach again. Unchanged submissions come from the results cache."""
    from grader.grading import batch as batches
    from grader.grading import reports
    from grader.render import batch as render

    if fmt not in batches.FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(batches.FORMATS)})")
    _check_device(device)
    _check_out(out)
    if deadline is not None and not 0 < deadline <= 3600:
        raise UsageError(f"--deadline must be between 0 and 3600 seconds, not {deadline:g}")
    if feedback is not None and feedback.exists() and not feedback.is_dir():
        raise UsageError(f"--feedback {feedback} is a file; give a directory")
    options = batches.Options(device=device, insecure=insecure, deadline_s=deadline, lang=lang)
    with render.progress(0, lang) as on_done:
        result = batches.grade_paths(paths, task_id, jobs=jobs, options=options, bank_paths=bank,
                                     use_cache=not no_cache, on_done=on_done)
    if fmt == "table":
        if out is None:
            render.summary(result, lang)
        else:
            with out.open("w", encoding="utf-8") as f:
                render.summary(result, lang, file=f)
    else:
        text = batches.render(result, fmt, lang)
        if out is None:
            typer.echo(text, nl=not text.endswith("\n"))
        else:
            out.write_text(text, encoding="utf-8")
    if feedback is not None:
        written = reports.write_feedback(result, feedback, lang)
        print(f"dlprep: wrote {written} feedback files to {feedback}", file=sys.stderr)
    raise typer.Exit(130 if result.partial else EXIT_OK)


# ---- progress over weeks: stats, history, export/import, reset -------------------------------
# The store (grader.practice.store) lives under DLPREP_HOME or the platform's user-data directory.
# A store that cannot be used (corrupt, from a newer dlprep) exits 3 with its path; nothing is lost.

progress_app = typer.Typer(help="Your recorded answers and submissions: export, import, reset.", no_args_is_help=True)
app.add_typer(progress_app, name="progress")


def _open_store():
    from grader.practice.store import Store

    return Store.open()


def _bank_questions(bank: Optional[List[Path]]) -> list:
    from grader.bank import catalog as banks

    return [entry.question for entry in banks.load_catalog(bank).questions.values()]


def _play_recorded(session, no_record: bool, **options) -> None:
    """The interactive quiz, each answer recorded as it is given (unless --no-record)."""
    from grader.render import quiz as render

    if no_record:
        render.play(session, **options)
        return
    from grader.practice.progress import Recorder

    with _open_store() as store:
        render.play(session, recorder=Recorder(store, session.lang), **options)


@app.command()
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
    with _open_store() as store:
        queue = progress.review_queue(store, questions, limit=limit, new_per_day=new, topics=topic or [])
    if not queue.questions:
        print(render_progress.nothing_due(queue.next_due, lang), file=sys.stderr)
        return
    print(render_progress.queue_line(queue.due, queue.new, lang), file=sys.stderr)
    session = quizzes.QuizSession(queue.questions, lang=lang)
    _play_recorded(session, False, shuffle=True, shuffle_seed=seed, ask_rating=True)


@app.command()
@guarded
def stats(json_out: bool = JsonOpt, lang: str = LangOpt, bank: Optional[List[Path]] = BankOpt) -> None:
    """Per-topic accuracy and recall, cards due over the next 7 days, your streak, your weakest
    questions and the mistakes you keep making in submissions."""
    from grader.practice import progress
    from grader.practice.store import now_utc
    from grader.render import progress as render

    now = now_utc()
    with _open_store() as store:
        data = progress.stats(store, _bank_questions(bank), now=now)
    if json_out:
        _print_json(data.to_dict())
    else:
        render.stats(data, lang, now)


@app.command()
@guarded
def history(
    json_out: bool = JsonOpt,
    limit: int = typer.Option(20, "--limit", help="How many entries, newest first."),
    lang: str = LangOpt,
) -> None:
    """Your answers and submissions, newest first."""
    from grader.practice import progress
    from grader.render import progress as render

    with _open_store() as store:
        rows = progress.history(store, limit=limit)
    if json_out:
        _print_json(rows)
    else:
        render.history(rows, lang)


@progress_app.command("export")
@guarded
def progress_export(file: Path = typer.Argument(..., metavar="FILE", help="The JSON file to write.")) -> None:
    """Write every record to a versioned JSON file (to move to another machine, or to keep)."""
    from grader.practice import progress

    with _open_store() as store:
        counts = progress.export(store, file)
    print(f"dlprep: exported {counts['answers']} answers, {counts['submissions']} submissions, "
          f"{counts['hints']} hints to {file}", file=sys.stderr)


@progress_app.command("import")
@guarded
def progress_import(file: Path = typer.Argument(..., metavar="FILE", help="A file written by `progress export`.")) -> None:
    """Merge an export into your records: records already there are skipped (importing twice adds
    nothing), and the schedule is rebuilt from the merged history."""
    from grader.practice import progress

    with _open_store() as store:
        added = progress.import_(store, file)
    print(f"dlprep: imported {added['answers']} answers, {added['submissions']} submissions, "
          f"{added['hints']} hints from {file}", file=sys.stderr)


@progress_app.command("reset")
@guarded
def progress_reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Forget every recorded answer, submission and hint (export first to keep a copy)."""
    with _open_store() as store:
        counts = store.counts()
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("progress reset deletes your records: pass --yes to confirm")
            typer.confirm(f"Delete {counts['answers']} answers and {counts['submissions']} submissions "
                          f"from {store.path}?", abort=True)
        store.reset()
    print(f"dlprep: deleted {counts['answers']} answers, {counts['submissions']} submissions and "
          f"{counts['hints']} hints", file=sys.stderr)


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

    _check_device(device)
    doc = sandbox_doctor.report(device)
    if json_out:
        _print_json(doc)
    else:
        typer.echo("\n".join(sandbox_doctor.lines(doc)))
    raise typer.Exit(0 if doc["can_grade"] else EXIT_CANNOT)


# ---- export to grading platforms (issue 15) ---------------------------------------------------
# Exit codes: 0 written; 2 for usage (unknown task, a target that exists without --force, a bad
# --source); 3 when the pins cannot be read (dlprep not installed).

export_app = typer.Typer(help="Hand a task's grading to Gradescope or GitHub Classroom.", no_args_is_help=True)
app.add_typer(export_app, name="export")
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


if __name__ == "__main__":
    app()
