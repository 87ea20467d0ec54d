"""`dlprep grade`'s flow without the CLI: discovery, the results cache, the worker pool (a dead
zygote replaced, a submission regraded once), and the same report for any --jobs."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from grader.errors import CannotGrade, UsageError
from grader.grading import batch as batches
from grader.grading import cache as results_cache
from grader.grading.discover import MAX_FOLDER_ENTRIES, discover
from grader.results import ErrorInfo, SubmissionResult
from tests import batch_class

CORRECT = batch_class.source("correct", batch_class.CORRECT[0])


# -- discovery -------------------------------------------------------------------------------------
def test_discovery_names_files_and_folders_and_reports_bad_ones(tmp_path):
    paths = batch_class.write_class(tmp_path, n=3)
    found = {f.name: f for f in discover(paths, "LayerNorm")}
    assert found["folder-student"].path.name == "layernorm.py"  # nested; .git's copy not a candidate
    assert "several" in found["two-candidates"].problem and "v1.py, v2.py" in found["two-candidates"].problem
    assert "no .py file" in found["empty-folder"].problem
    assert "not UTF-8" in found["latin1.py"].problem
    assert "s000-correct--centered-pow-mean.py (2)" in found  # the same name in section-b
    assert ".hidden.py" not in found and "README.md" not in found
    assert "new\nline.py" in found and "=HYPERLINK(\"x\").py" in found


def test_discovery_order_is_the_paths_then_sorted_names(tmp_path):
    subs, other = tmp_path / "subs", tmp_path / "other"
    (subs / "c").mkdir(parents=True)
    other.mkdir()
    for path in (subs / "b.py", subs / "a.py", other / "a.py"):
        path.write_text(CORRECT)
    names = [f.name for f in discover([subs, other / "a.py"], "LayerNorm")]
    assert names == ["a.py", "b.py", "c", "a.py (2)"]


def test_a_symlink_is_reported_not_followed(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text(CORRECT)
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "link.py").symlink_to(secret)
    (subs / "folder").mkdir()
    (subs / "folder" / "model.py").symlink_to(secret)
    found = {f.name: f for f in discover([subs], "LayerNorm")}
    assert "symbolic link" in found["link.py"].problem and not found["link.py"].source
    assert "no .py file" in found["folder"].problem


def test_a_pipe_or_device_named_py_is_reported_never_opened(tmp_path):
    """Opening a FIFO waits for a writer (the batch hung); a device never ends. Each is that
    submission's bad-file, whether in the class folder or named on the command line."""
    subs = tmp_path / "subs"
    subs.mkdir()
    os.mkfifo(subs / "fifo.py")
    (subs / "ok.py").write_text(CORRECT)
    found = {f.name: f for f in discover([subs, subs / "fifo.py"], "LayerNorm")}
    assert found["ok.py"].problem == "" and set(found) == {"fifo.py", "ok.py", "fifo.py (2)"}
    for name in ("fifo.py", "fifo.py (2)"):
        assert found[name].problem == "fifo.py is not a regular file (a pipe, socket or device); submit the .py file itself"


def test_a_huge_folder_is_a_bad_file_not_a_long_walk(tmp_path):
    big = tmp_path / "subs" / "venv-student"
    big.mkdir(parents=True)
    for i in range(MAX_FOLDER_ENTRIES + 1):
        (big / f"f{i}.txt").touch()
    (found,) = discover([tmp_path / "subs"], "LayerNorm")
    assert f"over {MAX_FOLDER_ENTRIES} entries" in found.problem


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "no such file"),
    (lambda p: p, "no submissions"),  # an empty directory
])
def test_nothing_to_grade_is_a_usage_error(tmp_path, make, message):
    with pytest.raises(UsageError, match=message):
        discover([make(tmp_path)], "LayerNorm")


# -- the cache -------------------------------------------------------------------------------------
def _result(kind: str | None = None) -> SubmissionResult:
    return SubmissionResult(task="layernorm", file="a.py", verdict="error" if kind else "pass", score=1.0,
                            max_score=2.0, error=ErrorInfo(kind, "m") if kind else None)


def test_every_input_of_the_key_changes_it():
    base = dict(lang="en", device="cpu", seed=1)
    first = results_cache.key("t", b"src", "a.py", **base)
    assert results_cache.key("t", b"src", "a.py", **base) == first
    others = [results_cache.key("u", b"src", "a.py", **base), results_cache.key("t", b"src!", "a.py", **base),
              results_cache.key("t", b"src", "b.py", **base), results_cache.key("t", b"src", "a.py", **base | {"lang": "zh"}),
              results_cache.key("t", b"src", "a.py", **base | {"device": "cuda"}),
              results_cache.key("t", b"src", "a.py", **base | {"seed": 2})]
    assert len(set(others) | {first}) == 7


def test_the_task_digest_follows_reference_and_mutant_bytes(builtin_tasks, tmp_path):
    loaded = builtin_tasks["layernorm"]
    before = results_cache.task_digest(loaded)
    mutant = loaded.spec.mutants[0]
    copy = tmp_path / mutant.file
    copy.parent.mkdir(parents=True)
    copy.write_text(mutant.path(loaded.dir).read_text() + "\n# changed\n")
    moved = dataclasses.replace(loaded, dir=tmp_path)
    assert results_cache.task_digest(moved) != before


@pytest.mark.parametrize("kind", sorted(results_cache.NEVER_CACHED))
def test_results_of_the_moment_are_never_cached(tmp_path, kind):
    cache = results_cache.ResultsCache(tmp_path)
    cache.put("k" * 64, _result(kind))
    assert cache.get("k" * 64) is None and not list(tmp_path.rglob("*.json"))


def test_a_corrupt_entry_is_a_miss(tmp_path):
    cache = results_cache.ResultsCache(tmp_path)
    key = "ab" * 32
    cache.put(key, _result())
    assert cache.get(key).score == 1.0
    path = next(tmp_path.rglob("*.json"))
    for garbage in ("{not json", json.dumps({"layout": 1, "key": key, "result": {"task": 1}}),
                    json.dumps({"layout": 1, "key": "other", "result": _result().to_dict()}),
                    "[" * 100_000 + "]" * 100_000, "\ufeff{}", "[]"):  # too deep for json (RecursionError)
        path.write_text(garbage)
        assert cache.get(key) is None


def test_the_cache_lives_under_dlprep_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path))
    assert results_cache.ResultsCache().root == tmp_path / "cache" / "results"


# -- the pool --------------------------------------------------------------------------------------
def _folder(tmp_path, sources: dict[str, str]) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for name, text in sources.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


class _Killing:
    """A real sandbox whose zygote is killed (as an outside fault would) before chosen jobs."""

    kills: list = []

    def __init__(self, kill_first: int):
        from grader.sandbox import Sandbox

        self.sandbox, self.left = Sandbox(), kill_first

    def check(self):
        self.sandbox.check()

    def run(self, job, deadline_s=10.0, trusted=None):
        if self.left > 0:
            self.left -= 1
            os.killpg(self.sandbox._proc.pid, signal.SIGKILL)
            _Killing.kills.append(job["filename"])
        return self.sandbox.run(job, deadline_s, trusted)

    def interrupt(self):
        self.sandbox.interrupt()

    def close(self):
        self.sandbox.close()


def test_a_dead_zygote_is_replaced_and_its_submission_regraded_once(tmp_path):
    folder = _folder(tmp_path, {"a.py": CORRECT, "b.py": "# b\n" + CORRECT})
    plan = iter([1, 1, 0])  # the first sandbox dies, its replacement too (internal-error), then all is well
    _Killing.kills = []
    result = batches.grade_paths([folder], "layernorm", jobs=1, use_cache=False,
                                 start_sandbox=lambda settings: _Killing(next(plan, 0)))
    verdicts = {s.name: (s.result.verdict, s.result.error and s.result.error.kind) for s in result.submissions}
    assert _Killing.kills == ["a.py", "a.py"]
    assert verdicts == {"a.py": ("error", "internal-error"), "b.py": ("pass", None)}
    assert result.submissions[0].result.max_score == result.submissions[1].result.max_score > 0


def test_each_sandbox_gets_a_core_of_its_own_and_a_replacement_the_same_one(tmp_path, monkeypatch):
    """As many workers as usable cores (two or more): distinct cores; the replacement of a sandbox
    whose zygote died is started on the dead one's core. One worker, fewer workers than cores (which
    could be two hyperthreads of one core) or more: left to the kernel."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 5})
    assert batches.sandbox_cores(2) == [(3,), (5,)]
    assert batches.sandbox_cores(1) is None and batches.sandbox_cores(3) is None
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert batches.sandbox_cores(2) is None and batches.sandbox_cores(3) == [(0,), (1,), (2,)]
    monkeypatch.undo()

    started: list = []  # each sandbox's core, in the order they were started
    died: list = []  # the cores of the sandboxes killed before their first job

    class Dying(_Killing):
        """Each of the first two sandboxes dies before its first job (whichever gets one first)."""

        def __init__(self, cpus):
            super().__init__(1 if len(started) < 2 else 0)
            self.cpus = cpus
            started.append(cpus)

        def run(self, job, deadline_s=10.0, trusted=None):
            if self.left:
                died.append(self.cpus)
            return super().run(job, deadline_s, trusted)

    folder = _folder(tmp_path, {f"{n}.py": f"# {n}\n" + CORRECT for n in "abcd"})
    result = batches.grade_paths([folder], "layernorm", jobs=2, use_cache=False,
                                 start_sandbox=lambda settings: Dying(settings.get("cpus")))
    assert [s.result.verdict for s in result.submissions] == ["pass"] * 4
    if batches.sandbox_cores(2) is None:
        pytest.skip("not exactly two usable cores: the kernel places the sandboxes")
    assert started[0] != started[1] and None not in started, started
    assert died and sorted(started[2:]) == sorted(died), (started, died)


def test_a_pinned_sandbox_runs_its_zygote_judge_warden_and_children_on_its_core():
    from grader.sandbox import Sandbox, judgeserver, warden

    core = max(os.sched_getaffinity(0))
    with Sandbox(prewarm=False, cpus=(core,)) as sandbox:
        sandbox.check()
        zygote, wanted = sandbox._proc.pid, {judgeserver.NAME.decode(), warden.NAME.decode()}
        deadline = time.monotonic() + 30
        while True:  # the judge, the warden and the first idle child come once the zygote serves
            family = [zygote, *map(int, Path(f"/proc/{zygote}/task/{zygote}/children").read_text().split())]
            names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in family}
            if (wanted <= names and len(family) >= 4) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert wanted <= names and len(family) >= 4, names
        assert all(os.sched_getaffinity(pid) == {core} for pid in family)


def test_a_machine_that_cannot_grade_stops_the_batch(tmp_path):
    class NoIsolation:
        def check(self):
            raise CannotGrade("no isolation layer works here")

        def close(self):
            pass

    with pytest.raises(CannotGrade, match="no isolation"):
        batches.grade_paths([_folder(tmp_path, {"a.py": CORRECT})], "layernorm", use_cache=False,
                            start_sandbox=lambda settings: NoIsolation())


def test_a_worker_grades_as_soon_as_its_own_sandbox_is_ready_and_a_refusing_one_takes_no_job(tmp_path):
    """The first sandbox's check waits until the second has graded a submission (with --jobs 2 on a
    busy machine one zygote's torch import ends well after the other's), then refuses: the second
    grades every submission, and the batch is not held up waiting for the first."""
    import threading

    graded = threading.Event()
    made: list = []

    class Slow:
        def __init__(self):
            self.waited = None

        def check(self):
            self.waited = graded.wait(60)  # False if the pool waited for every sandbox before any job
            raise CannotGrade("this one cannot grade")

        def interrupt(self):
            pass

        def close(self):
            pass

    class Quick(_Killing):
        def run(self, job, deadline_s=10.0, trusted=None):
            result = super().run(job, deadline_s, trusted)
            graded.set()
            return result

    def start(settings):
        made.append(Slow() if not made else Quick(0))
        return made[-1]

    folder = _folder(tmp_path, {"a.py": CORRECT, "b.py": "# b\n" + CORRECT, "c.py": "# c\n" + CORRECT})
    result = batches.grade_paths([folder], "layernorm", jobs=2, use_cache=False, start_sandbox=start)
    assert made[0].waited is True
    assert [s.result.verdict for s in result.submissions] == ["pass", "pass", "pass"]


def test_jobs_one_and_two_give_the_same_report(tmp_path):
    sources = dict(batch_class.submissions(8, hostile=False)[:6])
    sources["h-exit.py"] = batch_class.source("hostile", "exit_at_import")
    folder = _folder(tmp_path, sources)
    reports = []
    for jobs in (1, 2):
        result = batches.grade_paths([folder], "layernorm", jobs=jobs, use_cache=False)
        reports.append(_without_durations(json.loads(batches.render(result, "json"))))
    assert reports[0] == reports[1]
    assert reports[0]["summary"]["count"] == 7


def _without_durations(doc: dict) -> dict:
    for s in doc["submissions"]:
        s.pop("duration_s")
    return doc


# -- the truth, once per batch ---------------------------------------------------------------------
def test_the_truth_packs_and_unpacks_exactly():
    import torch

    from grader.grading import truth as batch_truth

    truth = {"p": {"x": torch.randn(2, 3), "params": {"weight": torch.ones(3, dtype=torch.float64)},
                   "upstream": torch.randn(2, 3), "expected": {"out": torch.randn(2, 3, dtype=torch.float64),
                                                               "grad/bias": None}}}
    back = batch_truth.unpack(batch_truth.pack(truth))
    assert back["p"]["expected"]["grad/bias"] is None
    for part in ("x", "upstream"):
        assert torch.equal(back["p"][part], truth["p"][part])
    assert torch.equal(back["p"]["params"]["weight"], truth["p"]["params"]["weight"])
    assert back["p"]["expected"]["out"].dtype == torch.float64


def test_the_judge_process_keeps_the_truth_per_task_and_reference_file(tmp_path, monkeypatch):
    """Remembered only in the judge process; each caller gets its own copy; a reference file that
    changed (an instructor editing it during --watch) is a new truth; the oldest entry goes first."""
    import torch

    from grader.grading import truth as batch_truth
    from grader.sandbox import judgeserver

    reference = tmp_path / "ref.py"
    reference.write_text("class A: pass\n")
    computed = []

    def compute():
        computed.append(1)
        return {"p": {"x": torch.zeros(2), "expected": {"out": torch.ones(2), "grad/b": None}}}

    job = {"task": {"id": "t"}, "seed": 1, "task_dir": str(tmp_path), "device": "cpu"}
    monkeypatch.setattr(batch_truth, "_remembered", {})
    batch_truth.remembered(job, [reference], compute)
    assert len(computed) == 1  # not in the judge process: computed every time
    batch_truth.remembered(job, [reference], compute)
    assert len(computed) == 2
    monkeypatch.setattr(judgeserver, "SERVING", True)
    first = batch_truth.remembered(job, [reference], compute)
    first["p"]["expected"]["out"].add_(5)
    first["p"]["x"] = None
    again = batch_truth.remembered(job, [reference], compute)
    assert len(computed) == 3
    assert torch.equal(again["p"]["expected"]["out"], torch.ones(2)) and again["p"]["x"] is not None
    assert again["p"]["expected"]["grad/b"] is None
    reference.write_text("class A:\n    pass  # edited\n")
    batch_truth.remembered(job, [reference], compute)
    assert len(computed) == 4
    for seed in range(2, 2 + batch_truth.REMEMBERED):
        batch_truth.remembered({**job, "seed": seed}, [reference], compute)
    assert len(computed) == 4 + batch_truth.REMEMBERED
    batch_truth.remembered(job, [reference], compute)  # pushed out by the newer ones
    assert len(computed) == 5 + batch_truth.REMEMBERED


def test_a_judge_given_the_batch_truth_grades_as_one_computing_it(sandbox, builtin_tasks):
    from grader.grading import truth as batch_truth
    from grader.grading.submit import grade_source

    loaded, shared = builtin_tasks["layernorm"], batch_truth.Shared()
    names = [("correct", batch_class.CORRECT[0]), ("buggy", batch_class.BUGGY[0]), ("buggy", "wrong-normalized-dims--dim0"),
             ("buggy", "detached-statistics--var-detach")]
    for kind, name in names:
        text = batch_class.source(kind, name)
        own = grade_source(text, "a.py", loaded, sandbox).to_dict()
        given = grade_source(text, "a.py", loaded, sandbox, truth=shared).to_dict()
        own.pop("duration_s"), given.pop("duration_s")
        assert given == own, name
        assert "truth" in shared.trusted()


# -- feedback files --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, stem", [
    ("王小明.py", "王小明"), ("../../etc/passwd", "etc_passwd"), (".bashrc", "bashrc"), ("-rf.py", "rf"),
    ("CON.py", "_CON"), ("a b\nc.py", "a_b_c"), ("...", "submission"), ("x" * 300, "x" * 80),
])
def test_feedback_names_are_safe_file_names(name, stem):
    from grader.grading.reports import feedback_name

    assert feedback_name(name) == stem


def test_feedback_is_written_in_the_batch_language_with_distinct_names(tmp_path):
    from grader.grading.reports import write_feedback
    from grader.results import BatchResult, NamedResult

    batch = BatchResult("layernorm", "0", [NamedResult(n, _result()) for n in ("Ann.py", "ann", "a/b", "a_b")])
    assert write_feedback(batch, tmp_path / "fb", "zh") == 4
    files = sorted(p.name for p in (tmp_path / "fb").iterdir())
    assert files == ["Ann.md", "a_b-2.md", "a_b.md", "ann-2.md"]
    assert "通过" in (tmp_path / "fb" / "Ann.md").read_text(encoding="utf-8")


# -- the task a batch's zygote prepares for its children ---------------------------------------------
FUSED = (Path(__file__).resolve().parent.parent / "grader" / "mutants" / "layernorm" / "forbidden_builtin.py").read_text()
# A residual block that also calls the fused layer norm (allowed in this task) and discards it.
BLOCK_CALLING_LAYER_NORM = '''
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        F.layer_norm(x, x.shape[-1:])
        return F.relu(self.fc2(F.relu(self.fc1(x))) + x)
'''


def test_a_batch_records_forbidden_ops_with_the_kernels_its_zygote_prepared(tmp_path):
    folder = _folder(tmp_path, {"a-fused.py": FUSED, "b.py": CORRECT, "c-fused.py": FUSED})
    result = batches.grade_paths([folder], "layernorm", jobs=1, use_cache=False)
    forbidden = {s.name: next(c for c in s.result.checks if c.name == "forbidden-ops") for s in result.submissions}
    assert not forbidden["a-fused.py"].passed and not forbidden["c-fused.py"].passed
    assert "layer_norm" in forbidden["a-fused.py"].message
    assert forbidden["b.py"].passed and result.submissions[1].result.verdict == "pass"


def test_a_job_the_zygote_did_not_prepare_for_gets_its_own_kernels(builtin_tasks):
    """Another task (no forbidden ops) computes layer_norm with torch's kernel; the same task with
    another seed still records it."""
    from grader.grading.submit import grade_source, job_task
    from grader.sandbox import Sandbox

    layernorm = builtin_tasks["layernorm"]
    seed = layernorm.spec.default_seed
    prepare = {"task": job_task(layernorm.spec, seed), "seed": seed, "device": "cpu"}
    with Sandbox(prewarm=False, prepare=prepare) as sandbox:
        block = grade_source(BLOCK_CALLING_LAYER_NORM, "block.py", builtin_tasks["residual-block"], sandbox)
        assert block.error is None and block.verdict == "pass", block.checks
        other_seed = grade_source(FUSED, "fused.py", layernorm, sandbox, seed=seed + 1)
        assert not next(c for c in other_seed.checks if c.name == "forbidden-ops").passed
        prepared = grade_source(FUSED, "fused.py", layernorm, sandbox, seed=seed)
        assert not next(c for c in prepared.checks if c.name == "forbidden-ops").passed


def test_a_batch_sends_the_prepared_task_as_a_marker_and_grades_the_same(builtin_tasks, monkeypatch):
    """The prepared task travels as prepared.MARKER (its ~11 KB of JSON no longer goes through four
    processes each job); the child and the judge read it back from the zygote's memory, so the
    reports equal a sandbox's that was told nothing. Another seed still carries the whole task."""
    from grader.grading.submit import grade_source, job_task
    from grader.sandbox import Sandbox, client, prepared

    layernorm = builtin_tasks["layernorm"]
    seed = layernorm.spec.default_seed
    buggy = batch_class.source("buggy", batch_class.BUGGY[0])
    sent: list[dict] = []
    write_json = client.wire.write_json
    monkeypatch.setattr(client.wire, "write_json",
                        lambda fd, message: (sent.append(message), write_json(fd, message))[1])

    def reports(sandbox, seeds=(seed,)) -> list[dict]:
        return [{**grade_source(src, "s.py", layernorm, sandbox, seed=s).to_dict(), "duration_s": 0}
                for s in seeds for src in (CORRECT, buggy)]

    with Sandbox(prewarm=False) as plain:
        expected = reports(plain, (seed, seed + 1))
    assert not any(m.get("job", {}).get("task") == prepared.MARKER for m in sent)
    sent.clear()
    prepare = {"task": job_task(layernorm.spec, seed), "seed": seed, "device": "cpu"}
    with Sandbox(prewarm=False, prepare=prepare) as sandbox:
        assert reports(sandbox, (seed, seed + 1)) == expected
    tasks = [m["job"]["task"] for m in sent if "job" in m]
    assert tasks[:2] == [prepared.MARKER] * 2 and all(isinstance(t, dict) for t in tasks[2:]), tasks
    assert expected[0]["verdict"] == "pass" and expected[1]["verdict"] == "fail"


def test_a_marked_job_grades_nothing_where_no_task_was_prepared(builtin_tasks):
    """A marker reaching a zygote that prepared no task (only a bug would send one) is dlprep's
    failure, never a grade against some other task."""
    from grader.grading.submit import CHILD_ENTRY, JUDGE_ENTRY
    from grader.sandbox import Sandbox, prepared

    layernorm = builtin_tasks["layernorm"]
    job = {"task": prepared.MARKER, "task_dir": str(layernorm.dir), "source": CORRECT, "filename": "s.py",
           "seed": layernorm.spec.default_seed, "device": "cpu", "mode": "grade", "child_entry": CHILD_ENTRY,
           "judge_entry": JUDGE_ENTRY, "lang": "en"}
    with Sandbox(prewarm=False) as sandbox:
        with pytest.raises(CannotGrade, match="prepared task"):
            sandbox.run(job)


def test_resolving_the_marker_needs_the_same_seed_and_device():
    from grader.sandbox import prepared

    task = {"id": "t"}
    assert prepared.resolve({"task": task}) is task
    saved = list(prepared._KEPT)
    try:
        prepared._KEPT.clear()
        with pytest.raises(ValueError):
            prepared.resolve({"task": prepared.MARKER, "seed": 1})
        prepared.keep(task, 1, "cpu")
        assert prepared.resolve({"task": prepared.MARKER, "seed": 1}) is task
        for other in ({"seed": 2}, {"seed": 1, "device": "cuda"}):
            with pytest.raises(ValueError):
                prepared.resolve({"task": prepared.MARKER, **other})
        assert prepared.holds({"task": prepared.MARKER, "seed": 1}) and prepared.holds({"task": dict(task), "seed": 1})
        assert not prepared.holds({"task": prepared.MARKER, "seed": 2}) and not prepared.holds({"task": {}, "seed": 1})
        assert prepared.matches({"task": dict(task), "seed": 1}, {"task": task, "seed": 1, "device": "cpu"})
        assert not prepared.matches({"task": task, "seed": 2}, {"task": task, "seed": 1, "device": "cpu"})
    finally:
        prepared._KEPT[:] = saved


def _huge_pages_offered() -> bool:
    try:
        enabled = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    release = tuple(int(part) for part in os.uname().release.split(".")[:2] if part.isdigit())
    return "[never]" not in enabled and release >= (6, 1)  # MADV_COLLAPSE came in 6.1


def _anonymous_huge_kb(pid: int | str) -> int:
    """AnonHugePages over the process's anonymous mappings with no name (not its heap): Python's
    arenas, which glibc's huge-page tunable never reaches."""
    total = 0
    for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", Path(f"/proc/{pid}/smaps").read_text()):
        if len(block.split("\n", 1)[0].split()) == 5:
            total += int(re.search(r"^AnonHugePages:\s+(\d+)", block, re.M).group(1))
    return total


@pytest.mark.skipif(not _huge_pages_offered(), reason="no transparent huge pages, or no MADV_COLLAPSE (Linux 6.1)")
def test_collapsing_puts_anonymous_memory_in_huge_pages():
    """grader.sandbox.zygote.collapse_memory, in a process of its own: 64 MiB written in 4 KiB
    pages (nothing asked for huge ones) end up in 2 MiB pages."""
    import subprocess
    import sys

    code = '''
import mmap, sys
from tests.test_batch import _anonymous_huge_kb
from grader.sandbox.zygote import collapse_memory
block = mmap.mmap(-1, 80 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for offset in range(0, len(block), 4096):
    block[offset] = 1
before = _anonymous_huge_kb("self")
collapse_memory()
print(before, _anonymous_huge_kb("self"))
'''
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    before, after = map(int, done.stdout.split())
    assert after - before >= 64 * 1024, (done.stdout, done.stderr[-2000:])


@pytest.mark.skipif(not _huge_pages_offered(), reason="no transparent huge pages, or no MADV_COLLAPSE (Linux 6.1)")
def test_a_big_batchs_zygote_collapses_its_memory_before_it_serves(builtin_tasks):
    """From HUGE_PAGES_FROM jobs a sandbox, the batch's zygote gathers its memory into huge pages
    before forking anything (~2.8 ms of CPU less a job: docs/DESIGN.md, "Sandbox layers"). Python's
    arenas are the witness: only a collapse puts any of them in huge pages (what the zygote goes
    on writing splits some back)."""
    from grader.grading.submit import grade_source, job_task
    from grader.sandbox import Sandbox

    layernorm = builtin_tasks["layernorm"]
    assert batches.sandbox_settings(layernorm, batches.Options(), jobs_each=batches.HUGE_PAGES_FROM)["huge_pages"]
    assert not batches.sandbox_settings(layernorm, batches.Options(), jobs_each=batches.HUGE_PAGES_FROM - 1)["huge_pages"]
    seed = layernorm.spec.default_seed
    prepare = {"task": job_task(layernorm.spec, seed), "seed": seed, "device": "cpu"}
    arenas_kb = {}
    # The collapse is the kernel's best effort: with memory fragmented (late in a full suite, once in
    # five runs) it can find no free 2 MiB page at that moment. Up to three zygotes asked, then.
    for huge in (False, True, True, True):
        if arenas_kb.get(True, 0) >= 2048:
            break
        with Sandbox(prewarm=False, prepare=prepare, huge_pages=huge) as sandbox:
            for i in range(3):
                assert grade_source(CORRECT, f"s{i}.py", layernorm, sandbox, seed=seed).verdict == "pass"
            arenas_kb[huge] = _anonymous_huge_kb(sandbox._proc.pid)
    assert arenas_kb[False] == 0 and arenas_kb[True] >= 2048, arenas_kb


def test_a_judge_or_warden_forked_after_the_preparation_gets_the_real_kernels_back():
    """What judgeserver.release_prepared (run as each judge and warden starts) undoes, in a process
    of its own: the prepared kernels raise, and are gone once released."""
    import subprocess
    import sys

    code = '''
import os, torch
from grader.grading import oprecord
from grader.sandbox import judgeserver
r, w = os.pipe()
oprecord.prepare(["layer_norm"], w)
try:
    torch.nn.functional.layer_norm(torch.ones(2, 4), (4,))
    raise SystemExit("the prepared kernel did not raise")
except RuntimeError:
    pass
judgeserver.release_prepared()
torch.nn.functional.layer_norm(torch.ones(2, 4), (4,))
print("released")
'''
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.strip() == "released", done.stderr[-2000:]


def test_the_judge_process_diagnoses_from_its_memo_as_from_scratch(builtin_tasks, monkeypatch):
    """Mutant runs and formula variants kept across a judge process's jobs (Evidence.memo) name the
    same pitfalls, with the same evidence, as computing them afresh; a second buggy submission of
    another kind reads the same memo; the memo holds only what trusted code computed."""
    import torch

    from grader.grading import truth as batch_truth
    from grader.grading.judge import judge_main
    from grader.grading.runner import child_main
    from grader.grading.submit import job_task
    from grader.sandbox import judgeserver
    from grader.sandbox.outcome import ChildOutcome
    from safetensors.torch import save

    def judged(task: str, name: str) -> dict:
        loaded = builtin_tasks[task]
        seed = loaded.spec.default_seed
        mutant = next(m for m in loaded.spec.mutants if m.file.endswith(name))
        job = {"task": job_task(loaded.spec, seed), "task_dir": str(loaded.dir), "filename": "s.py",
               "source": mutant.path(str(loaded.dir)).read_text(), "seed": seed, "device": "cpu", "mode": "grade"}
        sent = {}
        child_main(job, lambda meta, tensors: sent.update(meta=meta, tensors=tensors))
        blob = save({k: v.contiguous() for k, v in sent["tensors"].items()})
        result = judge_main(job, ChildOutcome(status="ok", meta=sent["meta"], tensors=blob))
        result.pop("duration_s")
        return result

    # The last is named by mutant matching alone (its evidence cites the known mistake).
    cases = [("layernorm", "unbiased_variance.py"), ("layernorm", "extra_activation.py"),
             ("layernorm", "eps_outside_sqrt.py"), ("causal-self-attention", "wrong_gradient.py")]
    fresh = [judged(*case) for case in cases]
    monkeypatch.setattr(batch_truth, "_memos", {})
    monkeypatch.setattr(judgeserver, "SERVING", True)
    for _ in range(2):  # the memo filled, then read
        assert [judged(*case) for case in cases] == fresh
    assert {p["id"] for p in fresh[0]["pitfalls"]} >= {"unbiased-variance"}
    assert any("known mistake" in p["evidence"] for p in fresh[-1]["pitfalls"])
    memos = list(batch_truth._memos.values())
    assert any(k[0] == "mutant" for m in memos for k in m) and any(k[0] == "layernorm" for m in memos for k in m)
    assert all(isinstance(v, (torch.Tensor, tuple, type(None))) for m in memos for v in m.values())
    monkeypatch.setattr(batch_truth, "MEMO_BYTES", 15)  # the byte budget: a 16-byte tensor is not kept
    full = batch_truth.Memo()
    full.keep(("k",), torch.zeros(4))
    assert ("k",) not in full
