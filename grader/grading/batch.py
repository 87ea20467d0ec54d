"""`dlprep grade`: a class's submissions against one task, with N warm sandboxes, in the CLI process
(no torch here, ever: a fully cached regrade starts no zygote at all).

The flow: find the task, discover the submissions (grader.grading.discover), answer what the results
cache knows (grader.grading.cache), then hand the rest to N worker threads, each owning one warm
sandbox and grading one submission at a time through grade_source, as `submit` does. A sandbox that
fails mid-batch (its zygote died, or dlprep failed inside it) is replaced and the submission graded
once more, else reported as `internal-error`; a submission never stops the batch. Reports list the
submissions in the order found, so every --jobs gives the same report. Ctrl-C kills the sandboxes
and returns what finished, marked partial.
"""
from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from grader.bank import tasks as tasks_module
from grader.errors import CannotGrade, UsageError
from grader.grading import cache as results_cache
from grader.grading import htmlreport, reports
from grader.grading import truth as batch_truth
from grader.grading.discover import Found, discover
from grader.grading.submit import FUNCTION_TASK_PRELOAD, bad_file, grade_source, job_task, task_catalog
from grader.results import BatchResult, ErrorInfo, NamedResult, SubmissionResult, encodable

FORMATS = ("table", "json", "csv", "junit", "markdown", "html")
# How often the main thread wakes while it waits for results, so Ctrl-C is handled at once.
WAIT_S = 0.2
# How long each worker gets to close its sandbox: at the end of a batch, and after Ctrl-C (to
# notice its sandbox is gone).
STOP_JOIN_S = 5.0


@dataclass
class Options:
    """What every submission of the batch is graded with (the cache key holds each of them)."""

    device: str = "cpu"
    insecure: bool = False
    deadline_s: float | None = None
    lang: str = "en"
    seed: int | None = None


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def dlprep_version() -> str:
    try:
        return metadata.version("dlprep")
    except metadata.PackageNotFoundError:
        return "unknown"


def grade_paths(
    paths: list[Path],
    task_id: str,
    *,
    jobs: int | None = None,
    options: Options | None = None,
    bank_paths: list[Path] | None = None,
    use_cache: bool = True,
    cache: results_cache.ResultsCache | None = None,
    on_done: Callable[[int, int], None] | None = None,
    start_sandbox: Callable[[dict], object] | None = None,
) -> BatchResult:
    """Grade every submission under `paths` against task `task_id`. on_done(finished, total) after
    each; start_sandbox(settings) makes one warm sandbox from the batch's Sandbox settings
    (sandbox_settings; tests and the throughput benchmark pass their own)."""
    options = options or Options()
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    loaded = find_task(task_id, bank_paths)
    found = discover(paths, loaded.spec.class_name)
    batch = BatchResult(task=loaded.spec.id, dlprep_version=dlprep_version())
    results: list[SubmissionResult | None] = [None] * len(found)
    report = on_done or (lambda finished, total: None)
    cache = cache or results_cache.ResultsCache()
    keys: list[str | None] = [None] * len(found)
    digest = results_cache.task_digest(loaded) if use_cache else ""
    seed = _seed(loaded, options)
    for i, f in enumerate(found):
        if f.problem:
            results[i] = bad_file(f.path or Path(f.name), loaded.spec.id, f.problem)
        elif use_cache:
            keys[i] = results_cache.key(digest, f.source.encode("utf-8"), encodable(f.path.name),
                                        lang=options.lang, device=options.device, seed=seed)
            results[i] = cache.get(keys[i])
    finished = sum(r is not None for r in results)
    if finished:
        report(finished, len(found))
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        def deliver(i: int, result: SubmissionResult) -> None:
            nonlocal finished
            results[i] = result
            if keys[i]:
                cache.put(keys[i], result)
            finished += 1
            report(finished, len(found))

        def grade(f: Found, sandbox) -> SubmissionResult:
            # A sandbox's judge process keeps the truth once it has judged a submission: later jobs
            # there carry none (the truth of a 512-wide residual block is ~10 MB of base64).
            truth = None if sandbox in judged else shared
            result = grade_source(f.source, encodable(f.path.name), loaded, sandbox, seed=seed, deadline_s=options.deadline_s,
                                  device=options.device, lang=options.lang, truth=truth)
            if result.error is None:  # judged, so its judge holds the truth now
                judged.add(sandbox)
            return result

        shared = batch_truth.Shared()  # the float64 truth, computed by the first judge only
        judged: set = set()  # the sandboxes whose judge process holds it (grader.grading.truth.remembered)

        workers = min(jobs or usable_cores(), len(todo))
        settings = sandbox_settings(loaded, options, jobs_each=-(-len(todo) // workers))
        start = start_sandbox or _new_sandbox
        cores = sandbox_cores(workers)
        pool = _Pool(lambda worker: start({**settings, "cpus": cores[worker]} if cores else settings), grade,
                     lambda f, exc: internal_error(f, loaded.spec.id, exc))
        batch.partial = pool.run([(i, found[i]) for i in todo], workers, deliver)
    top = max((r.max_score for r in results if r is not None), default=0.0)
    for r in results:  # results made here, not by a judge: out of the task's points all the same
        if r is not None and r.error is not None and r.error.kind in ("bad-file", "internal-error"):
            r.max_score = top
    batch.submissions = [NamedResult(f.name, r) for f, r in zip(found, results) if r is not None]
    return batch


def find_task(task_id: str, bank_paths: list[Path] | None = None):
    """The task, from the task files alone (submit's cached `task_catalog`): question banks play
    no part in grading, and a cached regrade should take well under a second."""
    return tasks_module.find_task(task_catalog(bank_paths), task_id)


def render(batch: BatchResult, fmt: str, lang: str = "en") -> str:
    """A batch report by format name (all but the terminal table, which grader.render.batch draws)."""
    writers = {"json": reports.to_json, "csv": reports.to_csv, "junit": reports.to_junit,
               "markdown": reports.to_markdown, "html": htmlreport.to_html}
    return writers[fmt](batch, lang)


def sandbox_settings(loaded, options: Options, jobs_each: int = 0) -> dict:
    """Sandbox(**settings) for a batch of this task (grade_paths hands them to start_sandbox). Every
    core grades: an idle child warming up would only take CPU from a running one.
    Every job is the same task and seed: the zygote reads it once for all its children. A function
    task's gradcheck imports once per zygote rather than per child. jobs_each: about how many jobs
    each sandbox will run; from HUGE_PAGES_FROM on, its zygote's memory goes into huge pages first
    (~0.2 s of CPU once for ~2.8 ms less a job: grader.sandbox.zygote.collapse_memory)."""
    seed = _seed(loaded, options)
    return {"device": options.device, "insecure": options.insecure, "prewarm": False,
            "preload": FUNCTION_TASK_PRELOAD if loaded.spec.kind == "function" else (),
            "prepare": {"task": job_task(loaded.spec, seed), "seed": seed, "device": options.device},
            "huge_pages": jobs_each >= HUGE_PAGES_FROM}


def sandbox_cores(workers: int) -> list[tuple[int]] | None:
    """A core of its own for each worker's sandbox (its zygote, judge, warden and children), when
    there are two or more workers, one per usable core (the default --jobs); else None, and the
    kernel places them (with fewer workers, the cores picked could be two hyperthreads of one core).
    On 2 cores, 2 sandboxes left to the scheduler kept a core idle 7-10 % of a steady batch: a
    wakeup lands on the busy core while the other one idles until the load is balanced, and each
    process finds caches the other sandbox's processes filled. Pinned, that idle was under 1 % and
    the batch graded 7-32 % more submissions a second (median 25 %, four alternating pairs of 240).
    A replacement sandbox takes the core of the one it replaces."""
    try:
        usable = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if workers < 2 or workers != len(usable):
        return None
    return [(core,) for core in usable]


# Jobs per sandbox from which the collapse pays: ~0.2 s of CPU once against ~2.8 ms less per job
# (the zygote's fork ~1.3, the child's exit ~1.5; medians of three alternating runs of 80 jobs).
HUGE_PAGES_FROM = 100


def _seed(loaded, options: Options) -> int:
    return loaded.spec.default_seed if options.seed is None else options.seed


def _new_sandbox(settings: dict):
    from grader.sandbox import Sandbox

    return Sandbox(**settings)


def internal_error(found: Found, task_id: str, exc: Exception) -> SubmissionResult:
    return SubmissionResult(
        task=task_id, file=encodable(found.path.name) if found.path else found.name, verdict="error", score=0.0,
        max_score=0.0, error=ErrorInfo("internal-error", encodable(f"dlprep could not grade this submission ({exc})")),
    )


class _Pool:
    """Worker threads, each with one warm sandbox, sharing one queue of submissions."""

    def __init__(self, start: Callable[[int], object], grade: Callable, fail: Callable):
        """start(worker) makes worker number `worker`'s sandbox (again, when one fails)."""
        self.start, self.grade, self.fail = start, grade, fail
        self.stop = threading.Event()
        self.live: set = set()  # the sandboxes running now, for Ctrl-C to kill
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.done: queue.Queue = queue.Queue()
        self.refused: list[CannotGrade] = []  # the sandboxes that failed their check (list.append: thread-safe)

    def run(self, items: list[tuple[int, Found]], workers: int, deliver: Callable) -> bool:
        """deliver(index, result) as each finishes, in this (the main) thread; True when Ctrl-C
        stopped it. The sandboxes start together; each worker grades as soon as its own is ready
        (the zygotes' torch imports end at different times on a busy machine) and is checked
        before its first job: if none can grade, neither can the batch (CannotGrade, exit 3)."""
        try:
            started = self._start_all(workers)
            todo: queue.Queue = queue.Queue()
            for item in items:
                todo.put(item)
            done = self.done
            self.threads = [threading.Thread(target=self._work, args=(worker, sandbox, todo, done), daemon=True)
                            for worker, sandbox in enumerate(started)]
            for t in self.threads:
                t.start()
            received: set[int] = set()
            while len(received) < len(items):
                try:
                    index, result = done.get(timeout=WAIT_S)
                except queue.Empty:
                    if not any(t.is_alive() for t in self.threads) and done.empty():
                        if len(self.refused) == len(started):
                            raise self.refused[0]  # no sandbox could grade here
                        break  # every worker gone (only a bug does that): never wait forever
                    continue
                received.add(index)
                deliver(index, result)
            for index, found in items:  # every submission in every report, even then
                if index not in received:
                    deliver(index, self.fail(found, RuntimeError("no worker was left to grade it")))
            return False
        except KeyboardInterrupt:
            self._interrupt()
            while not self.done.empty():  # graded before the interrupt: reported, not lost
                deliver(*self.done.get_nowait())
            return True
        finally:
            self.stop.set()
            # Each worker closes its own sandbox as it runs out of work; without waiting for them, a
            # `dlprep grade` that exits at once left one or two sandbox directories behind in TMPDIR
            # per run (the last worker's close still under way when the interpreter stopped).
            for t in self.threads:
                t.join(STOP_JOIN_S)

    def _start_all(self, workers: int) -> list:
        started = []
        try:
            for worker in range(workers):
                started.append(self._hold(self.start(worker)))
        except BaseException:
            for sandbox in started:
                self._close(sandbox)
            raise
        return started

    def _interrupt(self) -> None:
        self.stop.set()
        with self.lock:
            for sandbox in self.live:
                sandbox.interrupt()
        for t in self.threads:  # each closes its own sandbox; a job killed mid-way is left out
            t.join(STOP_JOIN_S)

    def _work(self, worker: int, sandbox, todo: queue.Queue, done: queue.Queue) -> None:
        try:
            try:
                sandbox.check()  # waits for its zygote; the other workers may be grading already
            except CannotGrade as exc:
                self.refused.append(exc)  # this worker takes no job: the others grade them
                return
            except Exception:  # noqa: BLE001 - a zygote that failed to start: replaced at its first job
                self._close(sandbox)
                sandbox = None
            while not self.stop.is_set():
                try:
                    index, found = todo.get_nowait()
                except queue.Empty:
                    return
                result, sandbox = self._grade_once_more(worker, found, sandbox)
                if result is None:  # interrupted: nothing to report for it
                    return
                done.put((index, result))
        finally:
            if sandbox is not None:
                self._close(sandbox)

    def _grade_once_more(self, worker: int, found: Found, sandbox):
        """Grade; when the sandbox fails, a fresh one grades it once more. -> (result, sandbox).
        Any exception counts as the sandbox's failure: a worker thread must never die, or its
        submission would be missing from the reports."""
        failure: Exception | None = None
        for _ in range(2):
            try:
                if sandbox is None:
                    sandbox = self._hold(self.start(worker))
                return self.grade(found, sandbox), sandbox
            except Exception as exc:  # noqa: BLE001 - CannotGrade above all; reported as internal-error
                failure = exc
                if sandbox is not None:
                    self._close(sandbox)
                sandbox = None
                if self.stop.is_set():
                    return None, None
        return self.fail(found, failure), None

    def _hold(self, sandbox):
        with self.lock:
            self.live.add(sandbox)
        return sandbox

    def _close(self, sandbox) -> None:
        with self.lock:
            self.live.discard(sandbox)
        sandbox.close()
