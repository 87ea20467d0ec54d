"""Rich rendering of `dlprep grade`: the progress bar (stderr, when it is a terminal) and the summary
of a class: a line per submission, the pass rate, a score histogram and the pitfalls ranked by how
many submissions have them, each with its one-line explanation: what to teach again next lesson.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from grader.results import BatchResult, visible

BAR_WIDTH = 40  # characters of the longest histogram bar
_WORDS = {
    "en": {"grading": "Grading", "name": "Submission", "verdict": "Verdict", "score": "Score",
           "named": "Error / pitfalls", "rate": "Pass rate", "passed": "passed", "failed": "failed",
           "errors": "errors", "mean": "mean score", "histogram": "Scores", "pitfalls": "Teach again",
           "none": "No pitfalls found.", "partial": "Partial: stopped before every submission was graded.",
           "verdicts": {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}, "of": "of"},
    "zh": {"grading": "批改中", "name": "提交", "verdict": "结果", "score": "得分", "named": "错误 / 常见错误",
           "rate": "通过率", "passed": "通过", "failed": "未通过", "errors": "错误", "mean": "平均分",
           "histogram": "分数分布", "pitfalls": "需要再讲", "none": "没有发现常见错误。",
           "partial": "部分结果：批改在全部完成前被中止。",
           "verdicts": {"pass": "通过", "fail": "未通过", "error": "错误"}, "of": "/"},
}


def _w(lang: str) -> dict:
    return _WORDS.get(lang, _WORDS["en"])


class _Rate(ProgressColumn):
    """Submissions per second, measured by Rich over the last moments."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "-/s", style="progress.data.speed")


@contextmanager
def progress(total: int, lang: str = "en", console: Console | None = None) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr (count, rate, ETA) while the block runs, when stderr is a terminal; yields
    the on_done(finished, total) callback for grader.grading.batch.grade_paths."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield lambda finished, total: None
        return
    columns = (TextColumn(_w(lang)["grading"]), BarColumn(), MofNCompleteColumn(), _Rate(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("grade", total=total)
        yield lambda finished, total: bar.update(task, completed=finished, total=total)


def summary(batch: BatchResult, lang: str = "en", file=None) -> None:
    """The class at a glance; to `file` (--out) as plain text, 120 columns wide."""
    console = Console(file=file, width=120, no_color=True) if file else Console()
    w = _w(lang)
    table = Table(title=Text(batch.task))
    for column in (w["name"], w["verdict"], w["score"], w["named"]):
        table.add_column(column)
    colours = {"pass": "green", "fail": "red", "error": "yellow"}
    for s in batch.submissions:
        r = s.result
        named = r.error.kind if r.error else ", ".join(p.id for p in r.pitfalls)
        table.add_row(Text(visible(s.name)), Text(w["verdicts"][r.verdict], style=colours[r.verdict]),
                      f"{r.score:g} / {r.max_score:g}", Text(visible(named)))
    console.print(table)
    if batch.partial:
        console.print(Text(w["partial"], style="bold yellow"))
    info = batch.summary()
    count = info["count"]
    rate = f"{100 * info['passed'] / count:.0f}%" if count else "-"
    console.print(Text(f"{w['rate']}: {rate}  ({info['passed']} {w['passed']}, {info['failed']} {w['failed']}, "
                       f"{info['errors']} {w['errors']}; {count}); {w['mean']} {info['mean_score']:.1f} / "
                       f"{info['max_score']:g}", style="bold"))
    _histogram(batch, w, console)
    _pitfalls(batch, w, console)


def _histogram(batch: BatchResult, w: dict, console: Console) -> None:
    bins = batch.histogram()
    top = max(bins, default=0) or 1
    console.print(Text(w["histogram"], style="bold"))
    for i, n in enumerate(bins):
        lo, hi = 100 * i // len(bins), 100 * (i + 1) // len(bins)
        bar = "█" * round(BAR_WIDTH * n / top) if n else ""
        console.print(Text(f"  {lo:>3}-{hi:<3}% ") + Text(bar, style="cyan") + Text(f" {n}"))


def _pitfalls(batch: BatchResult, w: dict, console: Console) -> None:
    console.print(Text(w["pitfalls"], style="bold"))
    ranked = batch.pitfall_counts()
    if not ranked:
        console.print(Text("  " + w["none"]))
    width = max((len(p.id) for p, _ in ranked), default=0)
    for p, n in ranked:
        console.print(Text(f"  {n:>4}  ") + Text(p.id.ljust(width), style="bold") + Text("  " + visible(p.title)))
