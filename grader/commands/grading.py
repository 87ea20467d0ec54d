"""`dlprep submit` (one module, or --watch) and `dlprep grade` (a whole class); both are root commands."""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import List, Optional

import typer

from grader.commands.common import BankOpt, DeviceOpt, LangOpt, check_device, check_out, guarded, open_store, warn
from grader.errors import EXIT_CANNOT, EXIT_FAIL, EXIT_OK, UsageError

# Exit codes: submit exits 0 on a pass, 1 on a fail or an error verdict (the report says which),
# 2 for usage and a missing file, 3 when dlprep cannot grade (no isolation, a broken zygote).


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
    check_device(device)
    check_out(out, [file])
    store = None if no_record else open_store()  # a store that cannot be used stops us before grading
    report = functools.partial(report_submission, fmt=fmt, out=out, lang=lang, store=store, path=file,
                               distinct=watch, verbose=verbose, bank=bank)
    options = dict(task_id=task_id, device=device, insecure=insecure, bank_paths=bank, lang=lang)
    try:
        if watch:
            if file.is_file():  # else watch() says why it cannot (exit 2)
                print(f"dlprep: watching {file}; each save is graded again (Ctrl-C stops)", file=sys.stderr)
            raise typer.Exit(watching.watch(file, report, warn=warn, **options))
        raise typer.Exit(report(grading.grade_file(file, **options)))
    finally:
        if store is not None:
            store.close()


def report_submission(result, since=None, *, fmt: str, out: Optional[Path], lang: str, store=None,
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


# Exit codes: 0 when the batch ran, whatever the verdicts (the report says them); 2 for usage (no
# such path or task, nothing to grade, a bad option); 3 when it cannot grade at all (no isolation,
# no zygote); 130 on Ctrl-C, after writing the report of what finished ("partial": true).


@guarded
def grade(
    paths: List[Path] = typer.Argument(..., metavar="PATH...", help="Submission files, or folders of them "
                                       "(a .py file or a folder per student)."),
    task_id: str = typer.Option(..., "--task", help="The task every submission is graded against."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Sandboxes grading at once (default: the usable cores, one sandbox on each)."),
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
    check_device(device)
    check_out(out, paths)
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
