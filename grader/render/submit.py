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

from grader.bank.tasks import hidden_coverage
from grader.render.quiz import prompt_body
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
        "topic": "Topic", "difficulty": "Difficulty", "easy": "easy", "medium": "medium", "hard": "hard",
        "examples": "Public examples", "input": "input", "starter": "Starter code",
        "start_with": "Start with: dlprep task start {id}",
        "hidden_tests": "Hidden tests call forward on any input of the shapes the prompt states",
        "now_passing": "Now passing", "now_failing": "Now failing",
        "failing": "Failing checks ({n} of {total})", "all_checks": "Checks",
        "all_passed": "All {n} checks passed.", "others_passed": "{n} other checks passed (--verbose lists them).",
        "hint_next": "Stuck? Hint {level} of {total}: dlprep task hint {id}",
        "hint_done": "All {total} hints shown; the solution: dlprep task solution {id}",
        "solution": "Reference solution", "solution_forced": "shown with --force, before any graded attempt",
        "hint": "Hint {level} of {total}",
    },
    "zh": {
        "check": "检查", "abs": "最大绝对误差", "rel": "最大相对误差", "hidden": "隐藏",
        "score": "得分", "pass": "通过", "fail": "未通过", "error": "错误",
        "mismatched": "不匹配元素", "shape": "形状", "index": "索引",
        "obtained": "实际值", "expected": "期望值", "pitfalls": "常见错误", "fix": "修正",
        "output": "你的代码的输出", "clipped": "[输出已截断：还有 {n} 个字符；见 --format json]",
        "tasks": "编程题", "id": "编号", "title": "标题", "signature": "签名",
        "topic": "主题", "difficulty": "难度", "easy": "简单", "medium": "中等", "hard": "困难",
        "examples": "公开样例", "input": "输入", "starter": "起始代码",
        "start_with": "开始：dlprep task start {id}",
        "hidden_tests": "隐藏测试会用题目所述形状的任意输入调用 forward",
        "now_passing": "现在通过", "now_failing": "现在未通过",
        "failing": "未通过的检查（{total} 项中的 {n} 项）", "all_checks": "检查",
        "all_passed": "全部 {n} 项检查通过。", "others_passed": "其余 {n} 项检查通过（--verbose 列出）。",
        "hint_next": "卡住了？提示 {level}/{total}：dlprep task hint {id}",
        "hint_done": "{total} 条提示都已看过；参考答案：dlprep task solution {id}",
        "solution": "参考答案", "solution_forced": "用 --force 在任何评分尝试之前查看",
        "hint": "提示 {level}/{total}",
    },
}


def _w(lang: str) -> dict:
    return _WORDS.get(lang, _WORDS["en"])


def _err(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def result_table(result: SubmissionResult, lang: str = "en", file=None, *, verbose: bool = False,
                 flips: tuple[list[str], list[str]] | None = None, hint=None) -> None:
    """The report, in the order a learner reads it: the verdict and score, what changed since the
    last report (--watch: `flips` is (now passing, now failing)), the named mistakes with their
    fixes, the failing checks with their details, then the submission's output, and for a failed
    grade where the hints stand (`hint`: grader.practice.hints.HintState). Passing checks are a count
    unless `verbose`. To `file` (--out) as plain text, 120 columns wide."""
    console = Console(file=file, width=120, no_color=True) if file else Console()
    w = _w(lang)
    result = displayed(result)  # escapes and bidi controls from the submission shown, not obeyed
    console.print(Text(f"{result.task}  {result.file}", style="bold"))
    style = {"pass": "bold green", "fail": "bold red"}.get(result.verdict, "bold yellow")
    console.print(Text(f"{w[result.verdict]}  {w['score']}: {result.score:g} / {result.max_score:g}", style=style))
    if result.error:
        console.print(Text(f"{result.error.kind}: ", style="bold red") + Text(result.error.message))
    _flips(flips, w, console)
    _pitfalls(result, w, console)
    if not result.error:
        _checks(result, w, console, verbose)
    _output(result.output, w, console)
    _hint_line(result, hint, w, console)


def _flips(flips, w: dict, console: Console) -> None:
    fixed, broken = flips or ([], [])
    if fixed:
        console.print(Text(w["now_passing"] + ": ", style="green") + Text(", ".join(fixed)))
    if broken:
        console.print(Text(w["now_failing"] + ": ", style="red") + Text(", ".join(broken)))


def _checks(result: SubmissionResult, w: dict, console: Console, verbose: bool) -> None:
    """Each failing check with its details, under a count; with verbose, first the table of every
    check. Lines rather than a table by default: a table of the failing rows would say again what
    their lines say, and takes Rich several times as long to lay out (a regrade waits for it)."""
    failing = [c for c in result.checks if not c.passed]
    if verbose:
        table = Table(title=Text(w["all_checks"]), title_justify="left", show_lines=False)
        table.add_column("", width=1)
        table.add_column(w["check"])
        table.add_column(w["abs"], justify="right")
        table.add_column(w["rel"], justify="right")
        for check in result.checks:
            mark = Text("✓", style="green") if check.passed else Text("✗", style="red")
            name = Text(check.name + (f" ({w['hidden']})" if check.hidden else ""))
            table.add_row(mark, name, _err(check.max_abs_err), _err(check.max_rel_err))
        console.print(table)
    if failing:
        console.print(Text(w["failing"].format(n=len(failing), total=len(result.checks)), style="bold"))
        for check in failing:
            _failure(check, w, console)
    passed = len(result.checks) - len(failing)
    if passed and not verbose:
        key = "all_passed" if not failing else "others_passed"
        console.print(Text(w[key].format(n=passed), style="green"))


# Errors where the task's hints cannot help: the file is not Python yet, or dlprep failed.
_NO_HINT_ERRORS = {"syntax-error", "bad-file", "internal-error"}


def _hint_line(result: SubmissionResult, hint, w: dict, console: Console) -> None:
    if hint is None or result.verdict == "pass" or (result.error and result.error.kind in _NO_HINT_ERRORS):
        return
    if hint.used < hint.total:
        line = w["hint_next"].format(level=hint.used + 1, total=hint.total, id=hint.task)
    else:
        line = w["hint_done"].format(total=hint.total, id=hint.task)
    console.print(Text(line, style="cyan"))


def _failure(check: CheckResult, w: dict, console: Console) -> None:
    """A failed check's message; for a public one, the worst elements as pytest.approx shows them."""
    hidden = f" ({w['hidden']}, {w['rel']} {_err(check.max_rel_err)})" if check.hidden else ""
    console.print(Text(f"✗ {check.name}{hidden}: ", style="red") + Text(check.message))
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
    # The id is what the learner types next: never cut short (the others wrap instead).
    table.add_column(w["id"], no_wrap=True, min_width=max((len(spec.id) for spec in tasks), default=2))
    for column in (w["title"], w["topic"], w["difficulty"], w["signature"]):
        table.add_column(column)
    for spec in tasks:
        table.add_row(Text(spec.id), Text(spec.title.get(lang)), Text(spec.topic or "-"),
                      Text(w.get(spec.difficulty or "", "-")), Text(spec.signature))
    console.print(table)


def task_page(spec, examples: list[dict], lang: str = "en", console: Console | None = None) -> None:
    """The prompt, the signature, the public examples (construction, input values) and the starter."""
    console = console or Console()
    w = _w(lang)
    console.print(Text(spec.title.get(lang), style="bold"))
    if spec.topic or spec.difficulty:
        console.print(Text(" · ".join(filter(None, (spec.topic, w.get(spec.difficulty or "")))), style="dim"))
    console.print(prompt_body(spec.prompt.get(lang)))  # fenced code in a prompt is highlighted too
    console.print(Text(f"{w['signature']}: {spec.signature}"))
    if covers := hidden_coverage(spec, lang):
        console.print(Text(w["hidden_tests"] + ": " + "; ".join(covers)))
    if examples:
        console.print(Text(w["examples"], style="bold"))
        for example in examples:
            console.print(Text(f"  {example['name']}: {example['build']}, {w['input']} ({example['dtype']}) = {example['input']}"))
    console.print(Text(w["starter"], style="bold"))
    console.print(Syntax(spec.starter, "python", theme="ansi_dark", word_wrap=True))
    console.print(Text(w["start_with"].format(id=spec.id), style="dim"))


def hint_page(hint, lang: str = "en", console: Console | None = None) -> None:
    """`task hint`: one hint (grader.practice.hints.Hint), numbered on its ladder."""
    console = console or Console()
    w = _w(lang)
    console.print(Text(w["hint"].format(level=hint.level, total=hint.total) + f"  ({hint.task})", style="bold"))
    console.print(prose(Text(hint.text)))
    if hint.level == hint.total:
        console.print(Text(w["hint_done"].format(total=hint.total, id=hint.task), style="dim"))


def solution_page(solution, lang: str = "en", console: Console | None = None) -> None:
    """`task solution`: the reference's source (grader.practice.hints.Solution), highlighted."""
    console = console or Console()
    w = _w(lang)
    note = f"  ({w['solution_forced']})" if solution.forced else ""
    console.print(Text(f"{w['solution']}: {solution.task}  {solution.file.name}{note}", style="bold"))
    console.print(Syntax(solution.source, "python", theme="ansi_dark", line_numbers=True, word_wrap=True))
