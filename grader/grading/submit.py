"""The submit flow, in the CLI process (no torch here): read the file, start the sandbox, find the
task, send the job, return the judge's SubmissionResult.

The sandbox is created before the task is loaded so that the zygote imports torch while this process
reads YAML: one torch import on the critical path. A missing file is a usage error (exit 2) and an
unusable one (not UTF-8, too large) a `bad-file` result, both found before any sandbox work.
"""
from __future__ import annotations

import ast
import re
import time
from contextlib import nullcontext
from pathlib import Path

from grader.bank import tasks as tasks_module
from grader.errors import CannotGrade, UsageError
from grader.results import ErrorInfo, SubmissionResult

# --watch polls the file's modification time this often (no inotify dependency; a save shows
# within a blink).
WATCH_POLL_S = 0.3
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
    """Grade one file. With `sandbox` given it is reused (and left open): --watch and batch grading
    keep one warm zygote."""
    path = Path(path)
    source, problem = read_submission(path)
    if problem:
        return bad_file(path, task_id or "", problem)
    own = sandbox is None
    if own:
        sandbox = start_sandbox(device, insecure)
    try:
        loaded = find_task(source, task_id, bank_paths)
        return grade_source(source, path.name, loaded, sandbox, seed=seed, deadline_s=deadline_s, device=device,
                            lang=lang)
    finally:
        if own:
            sandbox.close()


def watch(path: Path | str, report, *, task_id=None, device="cpu", insecure=False, bank_paths=None,
          sandbox=None, lang="en", warn=lambda message: None) -> int:
    """Grade now and again after every save, with one warm sandbox; `report(result) -> exit code`.
    A save that cannot be graded (no task matches its classes yet) is passed to `warn` and watching
    goes on. Ctrl-C ends it with the last grade's exit code."""
    path = Path(path)
    code = 0
    with nullcontext(sandbox) if sandbox else start_sandbox(device, insecure) as sandbox:
        try:
            stamp = None
            while True:
                current = path.stat().st_mtime_ns if path.exists() else None
                if current is not None and current != stamp:  # a file mid-save may be briefly absent
                    stamp = current
                    try:
                        code = report(grade_file(path, task_id, device, insecure, bank_paths, sandbox, lang=lang))
                    except UsageError as exc:
                        warn(str(exc))
                time.sleep(WATCH_POLL_S)
        except KeyboardInterrupt:
            return code


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
) -> SubmissionResult:
    """Grade source text against a loaded task (grader.bank.catalog.LoadedTask) in a running sandbox.
    The mutation prover and batch grading call this directly."""
    spec = loaded_task.spec
    seed = spec.default_seed if seed is None else seed
    job = {
        # The hidden probes drawn here, once: the child and the judge read the same list.
        "task": spec.drawn(seed).model_dump(mode="json"),
        "task_dir": str(loaded_task.dir),
        "source": source,
        "filename": filename,
        "seed": seed,
        "device": device,
        "mode": "grade",
        "child_entry": CHILD_ENTRY,
        "judge_entry": JUDGE_ENTRY,
        "exclude_mutant": exclude_mutant,
        "lang": lang,  # the language of the pitfall texts the judge writes
    }
    started = time.monotonic()
    answer = sandbox.run(job, deadline_s=deadline_s or spec.deadline_s)
    try:
        result = SubmissionResult.from_dict(answer)
    except (TypeError, ValueError, KeyError) as exc:
        raise CannotGrade(f"the judge's answer is malformed: {exc}") from None
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def start_sandbox(device: str, insecure: bool):
    """Start the warm zygote now, so torch loads while the task is found."""
    from grader.sandbox import Sandbox

    return Sandbox(device=device, insecure=insecure)


def read_submission(path: Path) -> tuple[str, str]:
    """The source text, or "" and why the file cannot be graded. A missing path is a usage error."""
    if not path.is_file():
        raise UsageError(f"{path} is a directory; submit one .py file" if path.is_dir() else f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return "", f"{path.name} is {size} bytes; a submission may be at most {MAX_SOURCE_BYTES} bytes"
    try:
        return path.read_bytes().decode("utf-8-sig"), ""  # an editor's BOM is not part of the source
    except UnicodeDecodeError as exc:
        return "", f"{path.name} is not UTF-8 text (byte {exc.start})"


def bad_file(path: Path, task_id: str, message: str) -> SubmissionResult:
    return SubmissionResult(
        task=task_id, file=path.name, verdict="error", score=0.0, max_score=0.0,
        error=ErrorInfo("bad-file", message),
    )


def find_task(source: str, task_id: str | None, bank_paths: list[Path] | None):
    """The task named by --task, else the one task whose class the file defines."""
    from grader.bank.catalog import load_catalog

    tasks = load_catalog(bank_paths).tasks
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
    except (SyntaxError, ValueError):
        return set(re.findall(r"^class\s+([A-Za-z_]\w*)", source, flags=re.MULTILINE))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
