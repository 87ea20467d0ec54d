"""The progress store (grader/practice/store.py) with real SQLite files and real processes: records
land as they happen, nothing is lost to a kill, two writers both land, a corrupt or newer file is
reported and never overwritten, and an older schema is upgraded after a backup."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from grader.practice.store import SCHEMA_VERSION, Store, StoreError, default_path

REPO = Path(__file__).resolve().parent.parent
SCHEMA1 = REPO / "tests" / "data" / "progress-schema1.sqlite3"


def answer(store: Store, qid: str = "ln-normalized-dims", **extra) -> str:
    fields = dict(question_id=qid, revision=1, answer="B", shown_order=[1, 0, 2, 3], score=1.0,
                  duration_s=2.5, rating=3, lang="en")
    return store.record_answer(**{**fields, **extra})


def test_records_read_back_with_uuids_and_utc_times(tmp_path):
    with Store.open(tmp_path / "p.sqlite3") as store:
        first, second = answer(store), answer(store, "ln-eps-placement", answer="AC", score=0.5, rating=2)
        store.record_submission(task="layernorm", verdict="fail", score=3, max_score=31,
                                pitfalls=["unbiased-variance"], file_hash="ab", file="ln.py")
    with Store.open(tmp_path / "p.sqlite3") as store:
        rows = store.answers()
        assert [r.uuid for r in rows] == [first, second] and first != second
        assert rows[1].answer == "AC" and rows[0].shown_order == [1, 0, 2, 3]
        assert all(r.answered_at.utcoffset().total_seconds() == 0 for r in rows)
        assert store.submissions()[0].pitfalls == ["unbiased-variance"]


def test_the_default_store_lives_under_dlprep_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path / "h"))
    assert default_path() == tmp_path / "h" / "data" / "progress.sqlite3"


def test_watch_records_distinct_files_only(tmp_path):
    with Store.open(tmp_path / "p.sqlite3") as store:
        kw = dict(task="layernorm", verdict="fail", score=0, max_score=31, pitfalls=[], file="ln.py", distinct=True)
        assert store.record_submission(file_hash="a", **kw)
        assert store.record_submission(file_hash="a", **kw) is None  # a save without a change
        assert store.record_submission(file_hash="b", **kw)
        assert [s.file_hash for s in store.submissions()] == ["a", "b"]


WRITER = """
import os, signal, sys
sys.path.insert(0, {repo!r})
from grader.practice.store import Store
store = Store.open({path!r})
for i in range({n}):
    store.record_answer(question_id=f"q{{i}}", revision=1, answer="A", shown_order=None, score=1.0,
                        duration_s=None, rating=3, lang="en")
    if {kill_after} == i:
        os.kill(os.getpid(), signal.SIGKILL)
"""


def _writer(path: Path, n: int, kill_after: int = -1) -> subprocess.Popen:
    code = WRITER.format(repo=str(REPO), path=str(path), n=n, kill_after=kill_after)
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_kill_keeps_every_answer_recorded_before_it(tmp_path):
    path = tmp_path / "p.sqlite3"
    proc = _writer(path, 10, kill_after=6)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    with Store.open(path) as store:
        assert len(store.answers()) == 7


def test_two_writer_processes_both_land(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store.open(path).close()  # created once, as the first quiz would
    procs = [_writer(path, 200), _writer(path, 200)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with Store.open(path) as store:
        assert len(store.answers()) == 400


def test_a_corrupt_store_is_reported_and_never_overwritten(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store.open(path) as store:
        answer(store)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x5a" * (4096 - 100)  # wreck the schema page, keep the header
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=str(path)) as caught:
        Store.open(path)
    assert "--no-record" in str(caught.value) and caught.value.exit_code == 3
    assert path.read_bytes() == bytes(data)


def test_a_file_that_is_not_a_store_is_left_alone(tmp_path):
    path = tmp_path / "p.sqlite3"
    path.write_text("my notes, not a database\n")
    with pytest.raises(StoreError, match="cannot be read|not a dlprep"):
        Store.open(path)
    assert path.read_text() == "my notes, not a database\n"


def test_a_store_from_a_newer_dlprep_is_refused_untouched(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store.open(path) as store:
        answer(store)
        store._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer dlprep"):
        Store.open(path)
    assert path.read_bytes() == before


def test_the_previous_schema_is_upgraded_after_a_backup(tmp_path):
    path = tmp_path / "p.sqlite3"
    shutil.copy(SCHEMA1, path)
    with Store.open(path) as store:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [a.question_id for a in store.answers()] == ["ln-normalized-dims", "ln-eps-placement"]
        assert store.submissions()[0].pitfalls == ["eps-outside-sqrt", "unbiased-variance"]
        store.record_hint(task="layernorm", kind="hint", level=1)  # schema 2's table
        backup = store.backup_path(1)
    import sqlite3

    saved = sqlite3.connect(backup)
    assert saved.execute("PRAGMA user_version").fetchall() == [(1,)]
    assert saved.execute("SELECT uuid FROM answers ORDER BY uuid").fetchall() == sqlite3.connect(SCHEMA1).execute(
        "SELECT uuid FROM answers ORDER BY uuid").fetchall()
    saved.close()


def test_cli_reports_a_corrupt_store_with_exit_3(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path))
    default_path().parent.mkdir(parents=True)
    default_path().write_bytes(b"SQLite format 3\x00" + b"\x01" * 4000)
    result = CliRunner().invoke(app, ["stats"])
    assert result.exit_code == 3 and str(default_path()) in result.stderr
    assert "Traceback" not in result.output


def test_a_home_that_cannot_hold_the_store_says_how_to_go_on(tmp_path, monkeypatch):
    """DLPREP_HOME under a file: the quiz stops before asking anything, names the folder and the two
    ways on; with --no-record it runs."""
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path / "a-file" / "dlprep"))
    result = CliRunner().invoke(app, ["quiz", "--count", "1"], input="A\n")
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "cannot create the progress store's folder" in result.stderr and "`--no-record`" in result.stderr
    result = CliRunner().invoke(app, ["quiz", "--count", "1", "--topic", "residual", "--no-record"], input="A\n")
    assert result.exit_code == 0, result.output


def test_progress_export_import_reset_from_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path / "one"))
    with Store.open() as store:
        answer(store)
        store.record_submission(task="layernorm", verdict="pass", score=31, max_score=31, pitfalls=[],
                                file_hash="ff", file="ln.py")
    runner = CliRunner()
    exported = tmp_path / "mine.json"
    assert runner.invoke(app, ["progress", "export", str(exported)]).exit_code == 0
    doc = json.loads(exported.read_text())
    assert doc["format"] == "dlprep-progress" and doc["version"] == 1 and len(doc["answers"]) == 1
    refused = runner.invoke(app, ["progress", "reset"], input="")
    assert refused.exit_code in (1, 2)  # no --yes: nothing deleted
    assert runner.invoke(app, ["progress", "reset", "--yes"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["history", "--json"]).stdout) == []
    imported = runner.invoke(app, ["progress", "import", str(exported)])
    assert imported.exit_code == 0 and "imported 1 answers, 1 submissions" in imported.stderr
    again = runner.invoke(app, ["progress", "import", str(exported)])
    assert "imported 0 answers, 0 submissions" in again.stderr
    kinds = [row["kind"] for row in json.loads(runner.invoke(app, ["history", "--json"]).stdout)]
    assert sorted(kinds) == ["answer", "submission"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')
    result = runner.invoke(app, ["progress", "import", str(bad)])
    assert result.exit_code == 2 and "not a dlprep progress export" in result.stderr
