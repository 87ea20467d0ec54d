"""`submit --watch`: grade now, then again after every save, with one warm sandbox.

Saves are seen through file events (watchfiles) on the file's directory, filtered to the file:
editors save atomically (write a temporary file, rename it over the old one), which replaces the
inode a watch on the file itself would hold (it saw 1 of 15 such saves). Events only wake the loop;
what decides a regrade is the file's bytes: a burst of saves is graded once, as the last one left
the file, and a save that changes nothing grades nothing. A grade whose file changed again while it
ran is dropped unseen and the new bytes graded instead, so a half-written file is not reported as
a syntax error when the rest of the save lands during its grading.
"""
from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path

from grader.errors import UsageError
from grader.grading import submit as submitting
from grader.results import SubmissionResult, encodable

# How long watchfiles waits for more events after one before it hands the burst over: a save is
# several events (truncate, writes, rename) within a millisecond or two. The default 50 ms made a
# save show its report after a 55-96 ms median on its own; 10 ms gave 15-16 ms. A burst split in
# two costs nothing wrong: the bytes decide, and a grade of bytes that changed meanwhile is dropped.
STEP_MS = 10
# The longest a stream of events is held back as one burst (a tool writing without pause).
DEBOUNCE_MS = 1000
# How often the waiting loop wakes to notice Ctrl-C and a watcher that stopped.
WAKE_S = 0.5
# Where inotify is not available (a full watch table, a network file system) the watcher polls.
POLL_MS = 100


class Saves:
    """File events for one path, from a watchfiles thread. `wait` returns after a burst of them
    (or after `timeout`); `close` stops the thread."""

    def __init__(self, path: Path):
        self.target = path.parent.resolve() / path.name
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dlprep-watch", daemon=True)
        self._thread.start()

    def _is_target(self, _change, name: str) -> bool:
        return Path(name) == self.target

    def _run(self) -> None:
        import watchfiles  # here: only --watch pays for it

        options = dict(watch_filter=self._is_target, step=STEP_MS, debounce=DEBOUNCE_MS, stop_event=self._stop,
                       recursive=False, raise_interrupt=False, rust_timeout=0)
        for polling in (False, True):
            try:
                for _ in watchfiles.watch(self.target.parent, force_polling=polling, poll_delay_ms=POLL_MS, **options):
                    self._changed.set()
                return
            except (OSError, RuntimeError):  # no inotify here (or its watch table is full): poll instead
                continue

    def wait(self, timeout: float) -> bool:
        changed = self._changed.wait(timeout)
        self._changed.clear()
        return changed

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


def watch(path: Path | str, report, *, task_id=None, device="cpu", insecure=False, bank_paths=None,
          sandbox=None, lang="en", warn=lambda message: None) -> int:
    """Grade now and after every save; `report(result, since) -> exit code`, where `since` is the
    previous reported result (None the first time). A save that cannot be graded (no task matches
    its classes yet) is passed to `warn` and watching goes on. Ctrl-C ends it with the last grade's
    exit code."""
    path = Path(path)
    if not path.is_file():  # the usage error (exit 2) of a missing file or a directory, else of a pipe or device
        raise UsageError(submitting.read_submission(path)[1])
    code, previous, graded = 0, None, None
    saves = Saves(path)  # before the first grade: a save made while it runs is not missed
    try:
        with nullcontext(sandbox) if sandbox else submitting.start_sandbox(device, insecure) as sandbox:
            while True:
                current = _bytes(path)
                if current is None or current == graded:  # gone mid-save, or nothing new
                    saves.wait(WAKE_S)
                    continue
                try:
                    result = _grade(path, current, task_id, bank_paths, sandbox, device, lang)
                except UsageError as exc:
                    graded = current
                    warn(str(exc))
                    continue
                if _bytes(path) != current:
                    continue  # changed again while it was graded: that grade is already stale
                graded = current
                code = report(result, previous)
                previous = result
    except KeyboardInterrupt:
        return code
    finally:
        saves.close()


def _bytes(path: Path) -> bytes | None:
    """The file's bytes, up to one past the largest submission (a bigger file is a bad file, whose
    size says so: no need to hold all of it at every wake)."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as f:
            return f.read(submitting.MAX_SOURCE_BYTES + 1)
    except OSError:
        return None


def _grade(path: Path, data: bytes, task_id, bank_paths, sandbox, device: str, lang: str) -> SubmissionResult:
    """Grade exactly these bytes (the ones compared after), as grade_file would grade the file."""
    source, problem = submitting.decode_submission(path, data)
    if problem:
        return submitting.bad_file(path, task_id or "", problem)
    loaded = submitting.find_task(source, task_id, bank_paths)
    return submitting.grade_source(source, encodable(path.name), loaded, sandbox, device=device, lang=lang)


def flips(before: SubmissionResult | None, after: SubmissionResult) -> tuple[list[str], list[str]]:
    """The checks that now pass and those that now fail, against the previous report, by name and
    in report order (a check new to this report, or one gone from it, is no flip)."""
    if before is None:
        return [], []
    was = {c.name: c.passed for c in before.checks}
    fixed = [c.name for c in after.checks if c.passed and was.get(c.name) is False]
    broken = [c.name for c in after.checks if not c.passed and was.get(c.name) is True]
    return fixed, broken
