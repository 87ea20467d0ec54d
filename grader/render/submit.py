"""Rich rendering of grading: the result table, and the task list and task page.

Feedback on a failed public check follows pytest.approx: shape, "Mismatched elements: k / n", max abs
and rel difference, then an Index | Obtained | Expected table. Text that comes from a submission or a
task file is wrapped in Text objects, never parsed as Rich markup, and the result's strings pass
through grader.results.displayed first: Rich strips only a few control characters, not ESC.
"""
from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from grader.render.wrap import prose
from grader.results import CheckResult, SubmissionResult, displayed, number_text

# The submission's own output shown under the table; the JSON formats carry more.
OUTPUT_SHOWN = 2000

_WORDS = {
    "en": {
        "check": "Check", "abs": "max abs err", "rel": "max rel err", "hidden": "hidden",
        "score": "Score", "pass": "PASS", "fail": "FAIL", "error": "ERROR",
        "mismatched": "Mismatched elements", "shape": "Shape", "index": "Index",
        "obtained": "Obtained", "expected": "Expected", "pitfalls": "Pitfalls", "fix": "Fix",
        "output": "Your code's output", "clipped": "[output clipped: {n} more characters; see --format json]",
        "tasks": "Coding tasks", "id": "Id", "title": "Title", "signature": "Signature",
        "examples": "Public examples", "input": "input", "starter": "Starter code",
        "start_with": "Start with: dlprep task start {id}",
    },
    "zh": {
        "check": "检查", "abs": "最大绝对误差", "rel": "最大相对误差", "hidden": "隐藏",
        "score": "得分", "pass": "通过", "fail": "未通过", "error": "错误",
        "mismatched": "不匹配元素", "shape": "形状", "index": "索引",
        "obtained": "实际值", "expected": "期望值", "pitfalls": "常见错误", "fix": "修正",
        "output": "你的代码的输出", "clipped": "[输出已截断：还有 {n} 个字符；见 --format json]",
        "tasks": "编程题", "id": "编号", "title": "标题", "signature": "签名",
        "examples": "公开样例", "input": "输入", "starter": "起始代码",
        "start_with": "开始：dlprep task start {id}",
    },
}


def _w(lang: str) -> dict:
    return _WORDS.get(lang, _WORDS["en"])


def _err(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def result_table(result: SubmissionResult, lang: str = "en", file=None) -> None:
    """The report as a table; to `file` (--out) as plain text, 120 columns wide."""
    console = Console(file=file, width=120, no_color=True) if file else Console()
    w = _w(lang)
    result = displayed(result)  # escapes and bidi controls from the submission shown, not obeyed
    title = Text(f"{result.task}  {result.file}")
    if result.error:
        console.print(title, Text(f"{w['error']}: {result.error.kind}", style="bold red"))
        console.print(Text(result.error.message))
    else:
        table = Table(title=title, show_lines=False)
        table.add_column("", width=1)
        table.add_column(w["check"])
        table.add_column(w["abs"], justify="right")
        table.add_column(w["rel"], justify="right")
        for check in result.checks:
            mark = Text("✓", style="green") if check.passed else Text("✗", style="red")
            name = Text(check.name + (f" ({w['hidden']})" if check.hidden else ""))
            table.add_row(mark, name, _err(check.max_abs_err), _err(check.max_rel_err))
        console.print(table)
        for check in result.checks:
            if not check.passed:
                _failure(check, w, console)
    _pitfalls(result, w, console)
    _output(result.output, w, console)
    style = {"pass": "bold green", "fail": "bold red"}.get(result.verdict, "bold yellow")
    console.print(Text(f"{w[result.verdict]}  {w['score']}: {result.score:g} / {result.max_score:g}", style=style))


def _failure(check: CheckResult, w: dict, console: Console) -> None:
    """A failed check's message; for a public one, the worst elements as pytest.approx shows them."""
    console.print(Text(f"✗ {check.name}: ", style="red") + Text(check.message))
    if check.example:
        console.print(Padding(Text(check.example), (0, 0, 0, 2), expand=False))
    if check.hidden or not check.worst:
        return
    lines = (f"{w['shape']}: {check.shape}", f"{w['mismatched']}: {check.mismatched} / {check.total}",
             f"{w['abs']}: {_err(check.max_abs_err)}  {w['rel']}: {_err(check.max_rel_err)}")
    for line in lines:
        console.print(Padding(Text(line), (0, 0, 0, 2), expand=False))
    table = Table(box=None, padding=(0, 2))
    for column in (w["index"], w["obtained"], w["expected"]):
        table.add_column(column)
    for m in check.worst:
        table.add_row(str(tuple(m.index)), number_text(m.got), number_text(m.expected))
    console.print(table)


def _pitfalls(result: SubmissionResult, w: dict, console: Console) -> None:
    if not result.pitfalls:
        return
    console.print(Text(w["pitfalls"], style="bold"))
    colours = {"error": "red", "warning": "yellow", "note": "cyan"}
    for p in result.pitfalls:
        console.print(prose(Text(f"[{p.severity}] {p.id}: ", style=colours.get(p.severity, "")) + Text(p.title)))
        for line in (p.explanation, f"{w['fix']}: {p.fix}" if p.fix else "", p.evidence):
            if line:
                console.print(Padding(prose(line), (0, 0, 0, 4), expand=False))  # wrapped lines keep the indent


def _output(output: str, w: dict, console: Console) -> None:
    if not output.strip():
        return
    console.print(Text(w["output"], style="bold"))
    console.print(Text(output[:OUTPUT_SHOWN]))
    if len(output) > OUTPUT_SHOWN:
        console.print(Text(w["clipped"].format(n=len(output) - OUTPUT_SHOWN), style="yellow"))


def task_list(tasks: list, lang: str = "en", console: Console | None = None) -> None:
    """`tasks` are grader.bank.taskspec.TaskSpec models."""
    console = console or Console()
    w = _w(lang)
    table = Table(title=w["tasks"])
    for column in (w["id"], w["title"], w["signature"]):
        table.add_column(column)
    for spec in tasks:
        table.add_row(Text(spec.id), Text(spec.title.get(lang)), Text(spec.signature))
    console.print(table)


def task_page(spec, examples: list[dict], lang: str = "en", console: Console | None = None) -> None:
    """The prompt, the signature, the public examples (construction, input values) and the starter."""
    console = console or Console()
    w = _w(lang)
    console.print(Text(spec.title.get(lang), style="bold"))
    console.print(Text(spec.prompt.get(lang)))
    console.print(Text(f"{w['signature']}: {spec.signature}"))
    if examples:
        console.print(Text(w["examples"], style="bold"))
        for example in examples:
            console.print(Text(f"  {example['name']}: {example['build']}, {w['input']} ({example['dtype']}) = {example['input']}"))
    console.print(Text(w["starter"], style="bold"))
    console.print(Syntax(spec.starter, "python", theme="ansi_dark", word_wrap=True))
    console.print(Text(w["start_with"].format(id=spec.id), style="dim"))
