"""`dlprep grade` on the command line: usage errors exit 2, a machine that cannot grade exits 3, and on
a real terminal the progress bar shows while Ctrl-C writes the partial report and exits 130."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from cli import app
from grader.errors import CannotGrade
from grader.grading.reports import md
from tests import batch_class

ROOT = Path(__file__).resolve().parent.parent
CORRECT = batch_class.source("correct", batch_class.CORRECT[0])


@pytest.fixture
def folder(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.py").write_text(CORRECT)
    return subs


@pytest.mark.parametrize("args, message", [
    (["--format", "json"], "Missing option '--task'"),
    (["--task", "no-such-task"], "no-such-task"),
    (["--task", "layernorm", "--format", "xml"], "unknown format 'xml'"),
    (["--task", "layernorm", "--jobs", "0"], "--jobs must be at least 1"),
    (["--task", "layernorm", "--deadline", "-1"], "--deadline must be between"),
    (["--task", "layernorm", "--out", "/no/such/dir/r.json"], "no directory /no/such/dir"),
])
def test_usage_errors_exit_2(folder, args, message):
    done = CliRunner().invoke(app, ["grade", str(folder), *args])
    assert done.exit_code == 2, done.output
    assert message in done.output


def test_nothing_to_grade_exits_2(tmp_path):
    done = CliRunner().invoke(app, ["grade", str(tmp_path), "--task", "layernorm"])
    assert done.exit_code == 2 and "no submissions" in done.output
    done = CliRunner().invoke(app, ["grade", str(tmp_path / "missing"), "--task", "layernorm"])
    assert done.exit_code == 2 and "no such file or directory" in done.output


def test_a_machine_that_cannot_grade_exits_3(folder, monkeypatch):
    from grader.grading import batch

    class NoIsolation:
        def check(self):
            raise CannotGrade("no isolation layer works here")

        def close(self):
            pass

    monkeypatch.setattr(batch, "_new_sandbox", lambda settings: NoIsolation())
    done = CliRunner().invoke(app, ["grade", str(folder), "--task", "layernorm", "--no-cache"])
    assert done.exit_code == 3 and "no isolation layer works here" in done.output


def test_on_a_terminal_a_progress_bar_shows_and_ctrl_c_writes_the_partial_report(tmp_path, folder):
    for name in ("b.py", "c.py"):
        (folder / name).write_text(f"# {name}\n" + CORRECT)
    (folder / "z-sleeps.py").write_text("import time\ntime.sleep(120)\n" + CORRECT)
    report = tmp_path / "report.json"
    scratch = tmp_path / "tmp"  # where the sandboxes' directories go (tempfile follows TMPDIR)
    scratch.mkdir()
    env = os.environ | {"DLPREP_HOME": str(tmp_path / "home"), "TERM": "xterm", "COLUMNS": "100", "TMPDIR": str(scratch)}
    child = pexpect.spawn(sys.executable, [str(ROOT / "cli.py"), "grade", str(folder), "--task", "layernorm",
                                           "--format", "json", "--out", str(report), "--jobs", "1", "--deadline", "120"],
                          env=env, cwd=str(tmp_path), encoding="utf-8", timeout=180, dimensions=(24, 100))
    child.expect(r"Grading.*3/4")  # the sleeper is running: three are done
    assert "/s" in child.after or "/s" in child.read_nonblocking(200, timeout=5)
    child.sendintr()  # a real Ctrl-C: the terminal's SIGINT to the foreground process group
    child.expect(pexpect.EOF, timeout=60)
    child.close()
    assert child.exitstatus == 130
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["summary"]["partial"] is True
    assert [s["name"] for s in doc["submissions"]] == ["a.py", "b.py", "c.py"]
    assert not list(scratch.glob("dlprep-sandbox-*"))


def test_a_finished_batch_leaves_no_sandbox_behind(tmp_path, folder):
    """Each worker closes its own sandbox when it runs out of work; the command waits for them, so
    no sandbox directory is left in TMPDIR (one or two were, per run, when it did not)."""
    import subprocess

    for name in ("b.py", "c.py", "d.py"):
        (folder / name).write_text(f"# {name}\n" + CORRECT)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = os.environ | {"DLPREP_HOME": str(tmp_path / "home"), "TMPDIR": str(scratch)}
    for _ in range(2):
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "grade", str(folder), "--task", "layernorm",
                               "--format", "json", "--jobs", "2", "--no-cache"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout)["summary"]["passed"] == 4
        assert not list(scratch.glob("dlprep-sandbox-*"))


def test_a_source_nested_past_pythons_limits_is_its_own_syntax_error_not_the_batchs(tmp_path, folder):
    """`x = 1+1+...+1` with 100000 terms makes ast.parse raise RecursionError, not SyntaxError. It
    once ended the whole batch as dlprep's internal error (reading a folder submission's classes),
    and `submit` likewise; in the child it was a crash. Now it is that submission's syntax-error."""
    deep = CORRECT + "\nX = " + "1+" * 100_000 + "1\n"
    (folder / "alice").mkdir()
    (folder / "alice" / "layernorm.py").write_text(deep)  # a folder submission: its classes are read
    (folder / "deep.py").write_text(deep)
    done = CliRunner().invoke(app, ["grade", str(folder), "--task", "layernorm", "--format", "json"])
    assert done.exit_code == 0, done.output
    found = {s["name"]: (s["verdict"], (s["error"] or {}).get("kind"), (s["error"] or {}).get("message"))
             for s in json.loads(done.stdout)["submissions"]}
    too_deep = "Python cannot compile this source: it is nested too deeply (RecursionError)"
    assert found == {"a.py": ("pass", None, None), "alice": ("error", "syntax-error", too_deep),
                     "deep.py": ("error", "syntax-error", too_deep)}
    done = CliRunner().invoke(app, ["submit", str(folder / "deep.py"), "--json", "--no-record"])  # task inferred
    assert done.exit_code == 1 and json.loads(done.stdout)["error"] == {"kind": "syntax-error", "message": too_deep}


def test_a_foreign_encoded_file_name_and_a_lone_surrogate_are_shown_not_fatal(tmp_path, folder):
    """A file or folder name in a foreign encoding (a Windows zip unpacked here: os.fsdecode keeps its
    bytes as surrogates) and an exception message holding chr(0xD800) cannot be encoded as UTF-8:
    the first cache entry or report written ended the whole batch as dlprep's internal error. Now
    the byte shows as \\xNN and the surrogate as \\uXXXX, in every format and the feedback files."""
    raw = os.fsencode(folder)
    with open(raw + b"/bad\xffname.py", "w") as f:
        f.write(CORRECT)
    os.mkdir(raw + b"/stu\xfedent")
    with open(raw + b"/stu\xfedent/layernorm.py", "w") as f:
        f.write(CORRECT)
    (folder / "raises.py").write_text(CORRECT.replace("def forward(self, x):", "def forward(self, x):\n"
                                                      "        raise ValueError('bad ' + chr(0xD800))", 1))
    env = os.environ | {"DLPREP_HOME": str(tmp_path / "home")}
    reports = {}
    for fmt in ("json", "csv", "junit", "markdown", "html", "table"):  # the first grades, the others read the cache
        out = tmp_path / f"report.{fmt}"
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "grade", str(folder), "--task", "layernorm",
                               "--format", fmt, "--out", str(out), "--feedback", str(tmp_path / "fb")],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (fmt, done.stderr[-2000:])
        reports[fmt] = out.read_text(encoding="utf-8")
    doc = json.loads(reports["json"])
    assert [s["name"] for s in doc["submissions"]] == ["a.py", "bad\\xffname.py", "raises.py", "stu\\xfedent"]
    assert [s["verdict"] for s in doc["submissions"]] == ["pass", "pass", "fail", "pass"]
    raised = [c["message"] for c in doc["submissions"][2]["checks"] if not c["passed"]]
    assert raised and all("ValueError: bad \\ud800" in m for m in raised)
    for fmt in ("csv", "junit", "markdown", "html", "table"):
        shown = md if fmt == "markdown" else str  # Markdown escapes the backslash, which then renders as one
        assert shown("bad\\xffname.py") in reports[fmt] and shown("stu\\xfedent") in reports[fmt], fmt
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == ["a.md", "bad_xffname.md", "raises.md", "stu_xfedent.md"]


def test_out_never_writes_over_a_submission(tmp_path, folder):
    """`--out subs/a.py` replaced the student's file with the report (grade and submit alike), and a
    new .py in the class folder would be graded as a submission next time: both refused, before
    any grading, the file untouched."""
    before = (folder / "a.py").read_text()
    for args, message in ((["grade", str(folder), "--task", "layernorm", "--out", str(folder / "a.py")], "would replace a submission"),
                          (["grade", str(folder), "--task", "layernorm", "--out", str(folder / "new.py")], "is a .py file in"),
                          (["submit", str(folder / "a.py"), "--out", str(folder / "a.py"), "--no-record"], "is a submission")):
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 2 and message in done.output, (args, done.output)
    assert (folder / "a.py").read_text() == before and not (folder / "new.py").exists()
