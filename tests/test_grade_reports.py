"""`dlprep grade` over a generated class of 100+ submissions (hostile ones among them): every
submission in every format, each format read back by its consumer (json, the csv module, junitparser,
an html parser, a markdown parser), the cached regrade equal to the first, and a fully cached run
that starts no zygote and imports no torch."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from junitparser import JUnitXml
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from grader.results import visible
from tests import batch_class

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("json", "csv", "junit", "markdown", "html")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class written and graded once through the CLI (no cache yet, two sandboxes), then in every
    format from the cache (one sandbox regrades the crashes, which are never cached): {format: text},
    plus the paths and the home the cache lives in."""
    root = tmp_path_factory.mktemp("class")
    paths = batch_class.write_class(root / "class", n=88)
    home = root / "home"
    env = os.environ | {"DLPREP_HOME": str(home)}
    reports = {}
    for i, fmt in enumerate(("json", *FORMATS, "table")):
        out = root / f"report.{fmt}"
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "grade", *map(str, paths), "--task", "layernorm",
                               "--format", fmt, "--out", str(out), "--jobs", "2" if i == 0 else "1",
                               "--feedback", str(root / "fb")],
                              capture_output=True, text=True, timeout=600, env=env, cwd=root)
        assert done.returncode == 0, done.stderr[-3000:]
        reports["first" if "first" not in reports else fmt] = out.read_text(encoding="utf-8")
    names = [s["name"] for s in json.loads(reports["first"])["submissions"]]
    return {"reports": reports, "paths": paths, "home": home, "names": names, "root": root}


def _no_durations(doc: dict) -> dict:
    for s in doc["submissions"]:
        s.pop("duration_s")
    return doc


def test_the_class_is_over_a_hundred_with_hostile_ones_and_all_are_reported(graded):
    doc = json.loads(graded["reports"]["json"])
    names = [s["name"] for s in doc["submissions"]]
    assert len(names) >= 100 and len(set(names)) == len(names)
    kinds = {s["error"]["kind"] for s in doc["submissions"] if s["error"]}
    assert {"crashed", "bad-file", "syntax-error"} <= kinds
    assert any(n.startswith("h-fork_bomb") for n in names)
    summary = doc["summary"]
    assert summary["count"] == len(names) == summary["passed"] + summary["failed"] + summary["errors"]
    assert summary["passed"] > 0 and summary["failed"] > 0 and summary["partial"] is False
    assert summary["pitfalls"]["unbiased-variance"] >= 3
    assert doc["task"] == "layernorm" and doc["dlprep_version"]


def test_the_json_report_has_one_submission_per_line(graded):
    """For grep and diff across regrades: each submission's line is a JSON document of its own."""
    lines = graded["reports"]["json"].splitlines()
    rows = [json.loads(line.strip().removesuffix(",")) for line in lines if line.startswith('    {"name": ')]
    assert [r["name"] for r in rows] == graded["names"]
    assert all("checks" in r and "verdict" in r for r in rows)


def test_the_cached_regrade_equals_the_first(graded):
    first, cached = (_no_durations(json.loads(graded["reports"][k])) for k in ("first", "json"))
    assert first == cached


def test_csv_round_trips_and_neutralises_formulas(graded):
    rows = list(csv.reader(io.StringIO(graded["reports"]["csv"])))
    assert rows[0] == ["name", "verdict", "score", "max_score", "error_kind", "pitfalls"]
    names = [r[0] for r in rows[1:]]
    assert len(names) == len(graded["names"])
    assert "'=HYPERLINK(\"x\").py" in names and "'-minus.py" in names and "new\nline.py" in names
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    doc = json.loads(graded["reports"]["json"])
    for row, s in zip(rows[1:], doc["submissions"]):
        assert row[1] == s["verdict"] and float(row[2]) == s["score"] and float(row[3]) == s["max_score"]
        assert row[5].split() == [p["id"] for p in s["pitfalls"]]


def test_junit_reads_back_a_suite_per_submission_and_a_case_per_check(graded, tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(graded["reports"]["junit"], encoding="utf-8")
    suites = list(JUnitXml.fromfile(str(path)))
    doc = json.loads(graded["reports"]["json"])
    assert [s.name for s in suites] == [visible(s["name"]) for s in doc["submissions"]]
    for suite, sub in zip(suites, doc["submissions"]):
        cases = list(suite)
        assert len(cases) == len(sub["checks"]) + (1 if sub["error"] else 0)
        failed = {c.name for c in cases if c.result and not c.is_passed}
        assert failed == {c["name"] for c in sub["checks"] if not c["passed"]} | ({"grade"} if sub["error"] else set())
        for case, check in zip(cases[-len(sub["checks"]):] if sub["checks"] else [], sub["checks"]):
            if check["hidden"] and not check["passed"]:
                assert case.result[0].message == "failed (hidden check)" and not case.result[0].text


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text, self.counts = [], [], [], {"histogram": [], "pitfalls": []}
        self._svg = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        attrs = dict(attrs)
        if tag == "svg":
            self._svg = attrs.get("class")
        if tag == "rect" and self._svg in self.counts:
            self.counts[self._svg].append((attrs.get("data-pitfall"), int(attrs["data-count"])))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_escaped_and_charts_add_up(graded):
    page = _Html()
    page.feed(graded["reports"]["html"])
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert not [v for k, v in page.attrs if k in ("src", "href") and v and not v.startswith("#")]
    text = "".join(page.text)
    assert "<script>alert(1)</script></svg>" in text  # a submission's print, shown as text
    doc = json.loads(graded["reports"]["json"])
    for s in doc["submissions"]:
        assert visible(s["name"]) in text
    assert sum(n for _, n in page.counts["histogram"]) == doc["summary"]["count"]
    assert {p: n for p, n in page.counts["pitfalls"]} == doc["summary"]["pitfalls"]
    assert "Content-Security-Policy" in graded["reports"]["html"]


def test_markdown_has_a_section_per_submission_and_no_raw_html(graded):
    tokens = MarkdownIt("commonmark").parse(graded["reports"]["markdown"])
    assert not [t for t in tokens if t.type in ("html_block", "html_inline")]
    h2 = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    assert len(h2) == len(graded["names"])
    assert any(h.startswith("王小明.py: FAIL") for h in h2)


def test_the_table_summary_ranks_what_to_teach_again(graded):
    table = graded["reports"]["table"]
    assert "Pass rate:" in table and "Scores" in table and "Teach again" in table
    assert re.search(r"\d+  unbiased-variance +Unbiased variance \(divides by n-1\)", table)
    assert "90-100%" in table


def test_feedback_files_are_one_per_student_with_safe_unique_names(graded):
    files = sorted(p.name for p in (graded["root"] / "fb").iterdir())
    assert len(files) == len(graded["names"]) == len(set(f.casefold() for f in files))
    assert all(f.endswith(".md") and "/" not in f and not f.startswith(".") for f in files)
    assert "王小明.md" in files and "HYPERLINK__x.md" in files and "minus.md" in files
    text = (graded["root"] / "fb" / "王小明.md").read_text(encoding="utf-8")
    assert "unbiased-variance" in text and "Fix" in text


def test_a_fully_cached_run_starts_no_zygote_and_imports_no_torch(graded, tmp_path):
    """The class less its crashes (never cached): the same files, so the same cache entries."""
    doc = json.loads(graded["reports"]["json"])
    crashed = {s["file"] for s in doc["submissions"] if s["error"] and s["error"]["kind"] == "crashed"}
    assert crashed
    cached = tmp_path / "cached"
    cached.mkdir()
    for path in graded["paths"][0].glob("*.py"):
        if path.name not in crashed and not path.name.startswith("."):
            (cached / path.name).write_bytes(path.read_bytes())
    script = (
        "import sys, grader.sandbox.client as c\n"
        "def refuse(*a, **k): raise SystemExit('a zygote was started')\n"
        "c.Sandbox.__init__ = refuse\n"
        "from cli import app\n"
        f"try: app({['grade', str(cached), '--task', 'layernorm', '--format', 'csv']!r})\n"
        "except SystemExit as e: code = e.code\n"
        "print('EXIT', code, 'torch' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=os.environ | {"DLPREP_HOME": str(graded["home"])})
    assert "EXIT 0 False" in done.stderr, done.stderr[-2000:]
    rows = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert len(rows) == len(list(cached.iterdir())) and {r[1] for r in rows} >= {"pass", "fail", "error"}


def test_submit_writes_markdown_too(tmp_path):
    path = tmp_path / "ln.py"
    path.write_text(batch_class.PRINTS_HTML, encoding="utf-8")
    from cli import app

    done = CliRunner().invoke(app, ["submit", str(path), "--format", "markdown", "--no-record"])
    assert done.exit_code in (0, 1), done.output
    tokens = MarkdownIt("commonmark").parse(done.stdout)
    assert tokens[0].type == "heading_open" and not [t for t in tokens if t.type.startswith("html")]
    assert "<script>alert(1)</script>" in done.stdout  # inside a code block, as text
