"""Batch reports of `dlprep grade`, each a function of one BatchResult: json, csv (a gradebook),
junit and markdown; html lives in grader/grading/htmlreport.py (grader.grading.batch.render picks
one by name), the terminal summary in grader/render/batch.py. Also the markdown report of one submission (`submit --format markdown`,
`grade --feedback DIR`).

Names, messages and output come from students: every human-read format takes text through
grader.results.visible (controls shown, not obeyed), then escapes it for its own syntax.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.grading import formats
from grader.results import BatchResult, SubmissionResult, visible

SUBMIT_FORMATS = (*formats.FORMATS, "markdown")
CSV_COLUMNS = ("name", "verdict", "score", "max_score", "error_kind", "pitfalls")
# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...) in a name).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Windows refuses these as file names whatever the extension; a feedback folder may be copied there.
RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
FEEDBACK_NAME_MAX = 80
OUTPUT_SHOWN = 4000  # of a submission's own output, in the markdown and html reports

WORDS = {
    "en": {"report": "dlprep grade report", "task": "Task", "submissions": "Submissions", "passed": "passed",
           "failed": "failed", "errors": "errors", "mean": "mean score", "pass_rate": "Pass rate",
           "pitfalls": "Pitfalls to teach again", "histogram": "Scores", "name": "Name", "verdict": "Verdict",
           "score": "Score", "check": "Check", "abs": "max abs err", "rel": "max rel err", "hidden": "hidden",
           "fix": "Fix", "evidence": "Evidence", "output": "Output", "error": "Error", "partial":
           "Partial report: the batch was stopped before every submission was graded.",
           "verdicts": {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}, "none": "none",
           "clipped": "[output clipped: {n} more characters]",
           "students": "submissions", "named": "Error / pitfalls", "file": "file"},
    "zh": {"report": "dlprep 批改报告", "task": "题目", "submissions": "提交", "passed": "通过", "failed": "未通过",
           "errors": "错误", "mean": "平均分", "pass_rate": "通过率", "pitfalls": "需要再讲的常见错误",
           "histogram": "分数分布", "name": "名字", "verdict": "结果", "score": "得分", "check": "检查",
           "abs": "最大绝对误差", "rel": "最大相对误差", "hidden": "隐藏", "fix": "修正", "evidence": "证据",
           "output": "输出", "error": "错误", "partial": "部分报告：批改在全部完成前被中止。",
           "verdicts": {"pass": "通过", "fail": "未通过", "error": "错误"}, "none": "无",
           "clipped": "[输出已截断：还有 {n} 个字符]",
           "students": "份提交", "named": "错误 / 常见错误", "file": "文件"},
}


def words(lang: str) -> dict:
    return WORDS.get(lang, WORDS["en"])


def render_submission(result: SubmissionResult, fmt: str, lang: str = "en") -> str:
    """`submit --format`: markdown here, the machine formats in grader.grading.formats."""
    return submission_markdown(result, lang) if fmt == "markdown" else formats.render(result, fmt)


# -- json ------------------------------------------------------------------------------------------
def to_json(batch: BatchResult, lang: str = "en") -> str:
    return formats.dumps_listed({
        "task": batch.task,
        "dlprep_version": batch.dlprep_version,
        "submissions": [{"name": s.name, **formats.json_doc(s.result)} for s in batch.submissions],
        "summary": batch.summary(),
    }, "submissions")


# -- csv -------------------------------------------------------------------------------------------
def to_csv(batch: BatchResult, lang: str = "en") -> str:
    """One row per submission, for a gradebook; every text cell neutralised against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in batch.submissions:
        r = s.result
        writer.writerow([_cell(s.name), r.verdict, f"{r.score:g}", f"{r.max_score:g}",
                         r.error.kind if r.error else "", " ".join(p.id for p in r.pitfalls)])
    return out.getvalue()


def _cell(text: str) -> str:
    text = visible(text)
    return "'" + text if text.startswith(FORMULA_START) else text


# -- junit -----------------------------------------------------------------------------------------
_XML_INVALID = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _x(text) -> str:
    """Text XML 1.0 can carry (visible() has already written out the controls it cannot)."""
    return _XML_INVALID.sub("\ufffd", visible(str(text)))


def to_junit(batch: BatchResult, lang: str = "en") -> str:
    """A testsuite per submission, a testcase per check (hidden ones by name only); a submission
    that could not run is one testcase `grade` with an error."""
    root = ET.Element("testsuites", name=_x(f"dlprep grade {batch.task}"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for s in batch.submissions:
        suite = _junit_suite(s.name, s.result)
        for k in totals:
            totals[k] += int(suite.get(k))
        root.append(suite)
    root.set("time", f"{sum(s.result.duration_s for s in batch.submissions):.3f}")
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_suite(name: str, r: SubmissionResult) -> ET.Element:
    suite = ET.Element("testsuite", name=_x(name), time=f"{r.duration_s:.3f}", skipped="0")
    props = ET.SubElement(suite, "properties")
    for key, value in (("file", r.file), ("verdict", r.verdict), ("score", f"{r.score:g}"),
                       ("max_score", f"{r.max_score:g}"), *(("pitfall", p.id) for p in r.pitfalls)):
        ET.SubElement(props, "property", name=key, value=_x(value))
    failures = errors = 0
    if r.error:
        case = ET.SubElement(suite, "testcase", classname=_x(name), name="grade", time=f"{r.duration_s:.3f}")
        ET.SubElement(case, "error", type=r.error.kind, message=_x(r.error.message))
        errors = 1
    for c in r.checks:
        case = ET.SubElement(suite, "testcase", classname=_x(name), name=_x(c.name), time="0")
        if not c.passed:
            failures += 1
            if c.hidden:
                ET.SubElement(case, "failure", type="hidden", message="failed (hidden check)")
            else:
                failure = ET.SubElement(case, "failure", type=c.kind, message=_x(c.message or "failed"))
                failure.text = _x(formats.check_output(c))
    suite.set("tests", str(len(r.checks) + (1 if r.error else 0)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    notes = [f"[{p.severity}] {p.id}: {p.title}. {p.explanation} Fix: {p.fix}" for p in r.pitfalls]
    if r.output:
        notes.append(r.output)
    if notes:
        ET.SubElement(suite, "system-out").text = _x("\n\n".join(notes))
    return suite


# -- markdown --------------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text) -> str:
    """Inline text that markdown shows as written: specials escaped, `<` never a tag."""
    return _MD_SPECIAL.sub(r"\\\1", visible(str(text))).replace("\n", " ")


def fenced(text: str, info: str = "text") -> str:
    """A code block no content can close: its fence is longer than any backtick run inside."""
    text = visible(text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def to_markdown(batch: BatchResult, lang: str = "en") -> str:
    w = words(lang)
    lines = [f"# {w['report']}: {md(batch.task)}", ""]
    if batch.partial:
        lines += [f"> **{w['partial']}**", ""]
    lines += summary_markdown(batch, lang)
    lines += ["", f"| {w['name']} | {w['verdict']} | {w['score']} | {w['named']} |", "|---|---|---:|---|"]
    for s in batch.submissions:
        r = s.result
        named = r.error.kind if r.error else ", ".join(p.id for p in r.pitfalls) or "-"
        lines.append(f"| {md(s.name)} | {w['verdicts'][r.verdict]} | {r.score:g} / {r.max_score:g} "
                     f"| {md(named)} |")
    for s in batch.submissions:
        lines += ["", submission_markdown(s.result, lang, title=s.name, level=2)]
    return "\n".join(lines) + "\n"


def summary_markdown(batch: BatchResult, lang: str = "en") -> list[str]:
    w, summary = words(lang), batch.summary()
    count = summary["count"]
    rate = f"{100 * summary['passed'] / count:.0f}%" if count else "-"
    lines = [f"**{w['pass_rate']}: {rate}** ({summary['passed']} {w['passed']}, {summary['failed']} {w['failed']}, "
             f"{summary['errors']} {w['errors']} / {count} {w['students']}); {w['mean']} "
             f"{summary['mean_score']:.1f} / {summary['max_score']:g}", "", f"### {w['histogram']}", ""]
    bins = batch.histogram()
    lines += [f"    {_bin_label(i, len(bins))} {'#' * n} {n}" for i, n in enumerate(bins)]
    lines += ["", f"### {w['pitfalls']}", ""]
    ranked = batch.pitfall_counts()
    lines += [f"{i}. **{md(p.id)}** ({n}/{count}): {md(p.title)}. {md(p.explanation)}"
              for i, (p, n) in enumerate(ranked, 1)] or [w["none"]]
    return lines


def _bin_label(i: int, bins: int) -> str:
    lo, hi = 100 * i // bins, 100 * (i + 1) // bins
    return f"{lo:>3}-{hi:<3}%"


def submission_markdown(r: SubmissionResult, lang: str = "en", *, title: str | None = None, level: int = 1) -> str:
    """One submission's report: verdict and score, the checks, the failures, pitfalls with their
    fixes, and the submission's own output."""
    w, h = words(lang), "#" * level
    lines = [f"{h} {md(title or r.file)}: {w['verdicts'][r.verdict]} {r.score:g} / {r.max_score:g}", ""]
    lines.append(f"{w['task']}: {md(r.task)}; {w['file']} {md(r.file)}")
    if r.error:
        lines += ["", f"**{w['error']}: {md(r.error.kind)}**", "", fenced(r.error.message)]
    if r.checks:
        lines += ["", f"| | {w['check']} | {w['abs']} | {w['rel']} |", "|---|---|---:|---:|"]
        for c in r.checks:
            name = md(c.name) + (f" ({w['hidden']})" if c.hidden else "")
            lines.append(f"| {'✓' if c.passed else '✗'} | {name} | {_err(c.max_abs_err)} | {_err(c.max_rel_err)} |")
        for c in r.checks:
            if not c.passed:
                lines += ["", f"**✗ {md(c.name)}**", "", fenced(formats.check_output(c))]
    if r.pitfalls:
        lines += ["", f"{h}# {w['pitfalls']}", ""]
        for p in r.pitfalls:
            lines.append(f"- **[{p.severity}] {md(p.id)}**: {md(p.title)}. {md(p.explanation)}")
            if p.fix:
                lines.append(f"  - {w['fix']}: `{_code(p.fix)}`")
            if p.evidence:
                lines.append(f"  - {w['evidence']}: {md(p.evidence)}")
    if r.output.strip():
        shown = r.output[:OUTPUT_SHOWN]
        if len(r.output) > OUTPUT_SHOWN:
            shown += "\n" + w["clipped"].format(n=len(r.output) - OUTPUT_SHOWN)
        lines += ["", f"{h}# {w['output']}", "", fenced(shown)]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    """Inline code: backticks cannot be escaped inside it, so they become a look-alike."""
    return visible(text).replace("`", "ˋ").replace("\n", " ")


def _err(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


# -- feedback --------------------------------------------------------------------------------------
def feedback_name(name: str) -> str:
    """A student's name as a safe file-name stem: letters, digits, `-`, `_` and `.` kept (any script),
    everything else `_`; no leading dot or dash, no path, no reserved device name, bounded length."""
    stem = name[:-3] if name.endswith(".py") else name
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._- ")
    stem = stem[:FEEDBACK_NAME_MAX] or "submission"
    return f"_{stem}" if stem.split(".")[0].casefold() in RESERVED_NAMES else stem


def write_feedback(batch: BatchResult, folder: Path, lang: str = "en") -> int:
    """Each submission's own report as `<name>.md` in `folder` (made distinct: `-2`, `-3`, compared
    without case); returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for s in batch.submissions:
        stem, n = feedback_name(s.name), 1
        while (candidate := stem if n == 1 else f"{stem}-{n}").casefold() in taken:
            n += 1
        taken.add(candidate.casefold())
        (folder / f"{candidate}.md").write_text(submission_markdown(s.result, lang, title=s.name), encoding="utf-8")
    return len(batch.submissions)
