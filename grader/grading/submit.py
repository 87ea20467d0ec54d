"""The submit flow, in the CLI process (no torch here): read the file, start the sandbox, find the
task, send the job, return the judge's SubmissionResult.

The sandbox is created before the task is loaded so that the zygote imports torch while this process
reads YAML: one torch import on the critical path. A missing file is a usage error (exit 2) and an
unusable one (not UTF-8, too large) a `bad-file` result, both found before any sandbox work.
"""
from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path

from grader.bank import tasks as tasks_module
from grader.bank.taskfiles import module_sources
from grader.errors import UNPARSABLE, CannotGrade, UsageError
from grader.results import ErrorInfo, SubmissionResult, encodable

# A submission is one source file; anything bigger is not a hand-written module (and would only
# slow the child and the AST scan down).
MAX_SOURCE_BYTES = 1_000_000
CHILD_ENTRY = "grader.grading.runner:child_main"
JUDGE_ENTRY = "grader.grading.judge:judge_main"


def grade_file(
    path: Path | str,
    task_id: str | None = None,
    device: str = "cpu",
    insecure: bool = False,
    bank_paths: list[Path] | None = None,
    sandbox=None,
    *,
    seed: int | None = None,
    deadline_s: float | None = None,
    lang: str = "en",
) -> SubmissionResult:
    """Grade one file. With `sandbox` given it is reused (and left open): batch grading keeps one
    warm zygote (--watch is grader.grading.watch)."""
    path = Path(path)
    source, problem = read_submission(path)
    if problem:
        return bad_file(path, task_id or "", problem)
    own = sandbox is None
    if own:
        sandbox = start_sandbox(device, insecure)
    try:
        loaded = find_task(source, task_id, bank_paths)
        return grade_source(source, encodable(path.name), loaded, sandbox, seed=seed, deadline_s=deadline_s, device=device,
                            lang=lang)
    finally:
        if own:
            sandbox.close()


def grade_source(
    source: str,
    filename: str,
    loaded_task,
    sandbox,
    *,
    exclude_mutant: str | None = None,
    seed: int | None = None,
    deadline_s: float | None = None,
    device: str = "cpu",
    lang: str = "en",
    truth=None,
) -> SubmissionResult:
    """Grade source text against a loaded task (grader.bank.catalog.LoadedTask) in a running sandbox.
    The mutation prover and batch grading call this directly. `truth` (a grader.grading.truth.Shared,
    for one task and seed): the judge reads the float64 truth from it, or sends it back to it."""
    spec = loaded_task.spec
    seed = spec.default_seed if seed is None else seed
    job = {
        # The hidden probes drawn here, once: the child and the judge read the same list.
        "task": job_task(spec, seed),
        "task_dir": str(loaded_task.dir),
        "source": source,
        # The classes of the sublayers the task passes to the constructor, as source text: the
        # locked-down child reads no file (grader.grading.modargs).
        "modules": module_sources(spec, loaded_task.dir),
        "filename": filename,
        "seed": seed,
        "device": device,
        "mode": "grade",
        "child_entry": CHILD_ENTRY,
        "judge_entry": JUDGE_ENTRY,
        "exclude_mutant": exclude_mutant,
        "lang": lang,  # the language of the pitfall texts the judge writes
        "debug": bool(os.environ.get("DLPREP_DEBUG")),  # an internal error's traceback in the report
    }
    started = time.monotonic()
    if truth is None:
        answer = sandbox.run(job, deadline_s=deadline_s or spec.deadline_s)
    else:
        answer = sandbox.run(job, deadline_s=deadline_s or spec.deadline_s, trusted=truth.trusted())
        truth.keep(answer.pop("truth", None) if isinstance(answer, dict) else None)
    try:
        result = SubmissionResult.from_dict(answer)
    except (TypeError, ValueError, KeyError) as exc:
        raise CannotGrade(f"the judge's answer is malformed: {exc}") from None
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def job_task(spec, seed: int) -> dict:
    """The task as a job carries it: its hidden probes drawn with the seed, the hints left out (for
    the learner, not the judge). Made once per task and seed (~1 ms each, per submission in a batch);
    read-only, since the job is written out as it is."""
    key = (id(spec), seed)
    if key not in _JOB_TASKS:
        if len(_JOB_TASKS) >= 8:
            _JOB_TASKS.clear()
        _JOB_TASKS[key] = (spec, spec.drawn(seed).model_dump(mode="json", exclude={"hints"}))
    return _JOB_TASKS[key][1]


_JOB_TASKS: dict = {}  # (id(spec), seed) -> (spec, its job task): the spec held, so its id is not reused


# torch.autograd.gradcheck (a function task's check, grader.grading.functiontask) hands autograd
# explicit gradients, whose shape check imports sympy: ~0.45 s in every fresh child. A sandbox
# started knowing it will grade function tasks imports it once, in the zygote.
FUNCTION_TASK_PRELOAD = ("torch.fx.experimental.symbolic_shapes",)


def start_sandbox(device: str, insecure: bool, preload: tuple[str, ...] = ()):
    """Start the warm zygote now, so torch loads while the task is found."""
    from grader.sandbox import Sandbox

    return Sandbox(device=device, insecure=insecure, preload=preload)


def read_submission(path: Path) -> tuple[str, str]:
    """The source text, or "" and why the file cannot be graded. A missing path is a usage error."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory; submit one .py file")
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    if not path.is_file():  # never opened: a FIFO's open would wait for a writer, a device never ends
        return "", f"{encodable(path.name)} is not a regular file (a pipe, socket or device); submit the .py file itself"
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return "", f"{encodable(path.name)} is {size} bytes; a submission may be at most {MAX_SOURCE_BYTES} bytes"
    return decode_submission(path, path.read_bytes())


def decode_submission(path: Path, data: bytes) -> tuple[str, str]:
    """The source text of a file's bytes, or "" and why it cannot be graded."""
    if len(data) > MAX_SOURCE_BYTES:  # --watch reads one byte past the limit, not the whole file
        return "", f"{encodable(path.name)} is over {MAX_SOURCE_BYTES} bytes; a submission may be at most {MAX_SOURCE_BYTES} bytes"
    try:
        return data.decode("utf-8-sig"), ""  # an editor's BOM is not part of the source
    except UnicodeDecodeError as exc:
        return "", f"{encodable(path.name)} is not UTF-8 text (byte {exc.start})"


def bad_file(path: Path, task_id: str, message: str) -> SubmissionResult:
    return SubmissionResult(
        task=task_id, file=encodable(path.name), verdict="error", score=0.0, max_score=0.0,
        error=ErrorInfo("bad-file", message),
    )


def find_task(source: str, task_id: str | None, bank_paths: list[Path] | None):
    """The task named by --task, else the one task whose class the file defines."""
    tasks = task_catalog(bank_paths)
    if task_id is not None:
        return tasks_module.find_task(tasks, task_id)
    classes = defined_classes(source)
    matches = [t for t in tasks.values() if t.spec.class_name in classes]
    if len(matches) == 1:
        return matches[0]
    found = ", ".join(sorted(classes)) or "none"
    if not matches:
        raise UsageError(f"no task matches the classes in this file ({found}); pass --task ID")
    ids = ", ".join(sorted(t.spec.id for t in matches))
    raise UsageError(f"this file matches several tasks ({ids}); pass --task ID")


def defined_classes(source: str) -> set[str]:
    """Top-level class names, read without running anything; a file that does not parse is scanned
    line by line, so a syntax error still finds its task (and is reported as a syntax error)."""
    try:
        tree = ast.parse(source)
    except UNPARSABLE:
        return set(re.findall(r"^class\s+([A-Za-z_]\w*)", source, flags=re.MULTILINE))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


_CATALOG: dict = {}  # (bank paths, their files' stamps) -> the tasks loaded from them


def task_catalog(bank_paths: list[Path] | None = None) -> dict:
    """The loaded tasks by id (grader.bank.catalog.LoadedTask), loaded again only when a bank file
    was added, removed or changed: loading every bank takes most of a second, and --watch and the
    report's hint line ask again after each save."""
    from grader.bank.catalog import builtin_dir, env_paths, load_catalog, yaml_files

    paths = [builtin_dir(), *env_paths(), *(bank_paths or [])]
    stamps = []
    for file in yaml_files(paths):
        stat = file.stat()
        stamps.append((str(file), stat.st_mtime_ns, stat.st_size, stat.st_ino))
    key = (tuple(map(str, paths)), tuple(stamps))
    if key not in _CATALOG:
        _CATALOG.clear()
        _CATALOG[key] = load_catalog(bank_paths, tasks_only=True).tasks
    return _CATALOG[key]
