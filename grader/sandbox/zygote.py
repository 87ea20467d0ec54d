"""The warm zygote: a `python -I` process that imports torch once, then forks a child per job.

It holds imported code and nothing of any job: the job goes from the CLI's pipe to the warden
(grader.sandbox.warden, the supervisor, forked once), never through this process, so no
submission or result lingers in memory a later child could read. A batch's zygote is told, at
start, the one task (and seed) all its jobs carry, which every child receives anyway, and prepares
it once for them (serve). Each child is forked ahead
of its job, straight from here into its PID namespace, and locks itself down and waits: the fork
and the lockdown happen while the grader is idle. The warden holds the child's pipes, hands it the
job, watches it, and asks this process (its parent) to reap it; the judge process
(grader.sandbox.judgeserver) then computes expected values, in a process that never forks.
"""
from __future__ import annotations

import ctypes
import importlib
import itertools
import linecache
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import (cgroups, child, judgeserver, landlock_rules, lockdown, namespaces, probe_layers, supervisor,
                            warden, wire)
from grader.sandbox.warden import CLOSED, DONE, REAP, TOOK

# Never in the zygote or a child: a submission could call the reference or find expected values.
# Matched by where a module's file lives, whatever name it was imported under.
_GRADER_DIR = Path(__file__).resolve().parent.parent
FORBIDDEN_FILES = (str(_GRADER_DIR / "grading" / "judge.py"),)
FORBIDDEN_DIRS = (str(_GRADER_DIR / "references") + os.sep, str(_GRADER_DIR / "mutants") + os.sep)
CHILD_PRELOAD = ("grader.grading.runner",)  # imported once here: the children cannot import
# The judge's helpers, holding no reference, mutant or expected value: imported once here, so each
# judge process forked from here (at start, and after one ends) imports half as much.
JUDGE_HELPERS = ("grader.grading.checks", "grader.pitfalls.detectors", "grader.pitfalls.mutantmatch",
                 "grader.pitfalls.registry", "grader.pitfalls.static")
USUAL_JUDGE = "grader.grading.judge"  # loaded by the judge process as it starts (judgeserver.py)


def main(argv: list[str]) -> None:
    """argv: the control and reply fds (and the sandbox's name, unused: it tags the processes).
    The first message on control says the rest ({"device", "base", "preload"}): nothing of the CLI
    (its pid above all) sits in the command line or memory children inherit. The CLI is this
    process's parent; if it is gone, so is the control pipe."""
    control, reply = int(argv[0]), int(argv[1])
    _follow(os.getppid())
    start = wire.read_json(control)
    device, base = start["device"], start["base"]
    _pin(start.get("cpus"))
    preload = [*CHILD_PRELOAD, *JUDGE_HELPERS, *start["preload"]]
    child.PREWARM = start.get("prewarm", True) is True
    import numpy  # noqa: F401  (the child's libraries, imported once)
    import safetensors.torch  # noqa: F401
    import torch

    torch.set_num_threads(1)  # a parallel op before fork leaves OpenMP hung in the children
    # cpuinfo reads /proc and /sys on first use; a locked-down child no longer can (and then picks
    # slow kernels), so detect the CPU here, which runs no tensor op.
    torch.backends.cpu.get_cpu_capability()
    # Every child's answer goes through safetensors' serialize (child._serialized), whose first call
    # in a process sets it up: paid here once, not in each child.
    child.bind_sender()
    child._serialized({"float32": torch.zeros(2), "float64": torch.zeros(2, dtype=torch.float64)})
    _preload(preload)
    lockdown.quiet_cuda_probe(device)  # the children's warning filter, compiled once here
    # Source lines torch's import cached (~20k): each child's scrub would free them, touching (and
    # so copying) pages all over its heap.
    linecache.clearcache()
    plan = make_plan(device, base)
    plan.layers, facts = probe_layers.probe(plan, secret_file=str(Path(__file__).resolve()))
    lockdown.precompile(plan)
    # Not with a prewarm, which runs the stand-in's ops, forbidden ones among them.
    prepare = start.get("prepare") if not child.PREWARM else None
    # "prepared": the CLI may send this task as prepared.MARKER (grader.sandbox.prepared)
    wire.write_json(reply, {"layers": plan.layers, "facts": facts, "pid": os.getpid(), "prepared": bool(prepare)})
    child.list_modules()
    serve(control, reply, plan, prepare, start.get("huge_pages") is True)


def _follow(parent: int) -> None:
    """Die with the CLI process (and exit now if it is already gone)."""
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)


def _pin(cpus) -> None:
    """Run on these cores only, and so do the judge, the warden and every child forked from here.
    Best effort: a core this process may not use (a cpuset changed since the CLI looked) leaves it
    where it was."""
    if not cpus:
        return
    try:
        os.sched_setaffinity(0, [int(c) for c in cpus])
    except (OSError, ValueError, TypeError):
        pass


def _die_with_parent() -> None:
    """SIGKILL this process when its parent, the CLI, dies."""
    ctypes.CDLL(None, use_errno=True).prctl(lockdown.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _preload(names: list[str]) -> None:
    for name in names:
        importlib.import_module(name)
    check_clean()


def check_clean() -> None:
    held = sorted(name for name, module in list(sys.modules.items()) if forbidden_file(getattr(module, "__file__", None)))
    if held:
        raise supervisor.SandboxFault(f"the child side imported {', '.join(held)}, which it must never hold")


def forbidden_file(file: str | None) -> bool:
    """The judge's file, or a file under references/ or mutants/ (symlinks resolved)."""
    if not isinstance(file, str):
        return False
    path = os.path.realpath(file)
    return path in FORBIDDEN_FILES or path.startswith(FORBIDDEN_DIRS)


def make_plan(device: str, base: str) -> lockdown.Plan:
    # scratch (the mount point of each child's tmpfs) alone in a directory of its own: the prepared
    # Landlock ruleset's read-write rule is on that directory (landlock_rules.prepare).
    scratch = Path(base, "jail", "scratch")
    scratch.parent.mkdir(mode=0o711, exist_ok=True)
    scratch.mkdir(mode=0o700, exist_ok=True)
    grader_dir = Path(__file__).resolve().parent.parent
    excluded = landlock_rules.dlprep_paths(grader_dir) | {str(Path(base).resolve())}
    plan = lockdown.Plan(
        device=device,
        scratch=str(scratch),
        read_rules=landlock_rules.plan(excluded),
        landlock_abi=landlock_rules.abi(),
        address_space=_mapped_bytes() + lockdown.AS_HEADROOM if device == "cpu" else None,
        pid_mode=namespaces.pid_mode(),
        last_cap=namespaces.last_cap(),
    )
    try:
        plan.cgroup = cgroups.find()
        cgroups.sweep(plan.cgroup)
    except OSError as exc:
        plan.cgroup_missing = str(exc)
    lockdown.prepare_landlock(plan)
    return plan


def slot_cgroup(plan: lockdown.Plan, n: int) -> list[str]:
    """The cgroup(s) for child n, made now; [] (the child's lockdown then fails) if not."""
    if plan.cgroup is None or not plan.on("cgroup"):
        return []
    try:
        return cgroups.create(plan.cgroup, f"dlprep-{_OWNER}-{n}", plan.memory_limit)
    except OSError:
        return []


_OWNER = cgroups.owner_tag()  # this zygote: per-job cgroups are named after it


def _mapped_bytes() -> int:
    """VmSize now: torch alone maps hundreds of MB, so RLIMIT_AS is this plus the headroom."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")


@dataclass
class Waiting:
    """A child this process forked (locked down or locking down), its pipes handed to the warden."""

    pid: int
    slot_uid: int
    cgroups: list[str]
    scratch: str | None  # a per-job directory, where the scratch tmpfs is off


class Ward:
    """The warden process (grader.sandbox.warden) and this process's end of the link to it."""

    def __init__(self, control: int, reply: int, plan: lockdown.Plan, judge: judgeserver.Doorbell) -> None:
        self.control, self.reply, self.plan, self.judge = control, reply, plan, judge
        self.end: socket.socket | None = None
        self.pid = 0
        self.start()

    def start(self) -> None:
        """A new link and a new warden (the first, or after the last one ended)."""
        if self.end is not None:
            self.end.close()
        self.end, theirs = warden.link()
        ruleset = (self.plan.landlock_fd,) if self.plan.landlock_fd >= 0 else ()
        # A judge started from now on must hold neither end, nor the CLI's pipes.
        self.judge.close_fds = (self.control, self.reply, self.end.fileno(), theirs.fileno(), *ruleset)
        self.pid = warden.start(self.control, self.reply, (self.end, theirs), self.plan, self.judge, ruleset)
        theirs.close()

    def pidfd(self) -> int | None:
        try:
            return os.pidfd_open(self.pid)
        except OSError:
            return None

    def reap(self) -> str:
        """Reap the ended warden; how it ended."""
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return "the warden is gone"
        if os.WIFSIGNALED(status):
            return f"the sandbox's warden was killed by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"the sandbox's warden exited with code {os.WEXITSTATUS(status)}"

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        if self.end is not None:
            self.end.close()


def serve(control: int, reply: int, plan: lockdown.Plan, prepare: dict | None = None, huge_pages: bool = False) -> None:
    """Keep a child waiting for the next job (forked here, locked down, its pipes with the warden)
    until the CLI closes the control pipe. When the warden takes a job the next child is forked at
    once, so back-to-back jobs do not wait for a fork and a lockdown. The warden writes each job's
    answer; this process reaps the child, tells the warden how it ended and, once the warden has
    answered, says the job is reaped (so run() returns with no process of that job left). A judge
    or warden that ends is replaced. prepare ({"task", "seed", "device"}: a batch's, from the CLI):
    the children's task read once, here (grader.grading.runner.prepare), before the judge and the
    warden are forked (they drop its kernels as they start: judgeserver.release_prepared).
    huge_pages: collapse_memory() next, while no other process shares this one's pages."""
    if prepare:  # main() passes none to a prewarming zygote
        runner = importlib.import_module(CHILD_PRELOAD[0])
        runner.prepare(prepare["task"], prepare["seed"], prepare["device"], child.RECORD_FD)
    if huge_pages:
        collapse_memory()
    judge = judgeserver.Doorbell((control, reply), (USUAL_JUDGE,))
    ward = Ward(control, reply, plan, judge)
    judge.start()
    children = itertools.count()
    idle = _fork_child(plan, next(children), ward)
    while True:
        event = _wait_for_job(ward, judge)
        if event == CLOSED:
            break
        if event != TOOK:  # the warden ended while idle: the waiting child's pipes went with it
            _end_child(idle, plan)
            ward.start()
            idle = _fork_child(plan, next(children), ward)
            continue
        running = idle
        idle = _fork_child(plan, next(children), ward)
        if not _finish(running, ward, judge, plan):  # the warden ended during the job
            _end_child(idle, plan)
            ward.start()
            idle = _fork_child(plan, next(children), ward)
        wire.write_json(reply, {"reaped": True})  # so run() returns with no process of the job left
    _end_child(idle, plan)
    ward.close()
    judge.close()


MADV_COLLAPSE = 25  # Linux 6.1
_HUGE = 1 << 21


def collapse_memory() -> None:
    """Gather this process's anonymous memory (glibc's heap, Python's arenas: ~150 MB with torch
    loaded) into 2 MiB pages. Each fork copies the page table of every page this process has written,
    and each child's exit tears it down: ~40000 entries of 4 KiB pages, one page at a time. glibc's
    heap starts out in huge pages (client.ZYGOTE_ENV), but Python's arenas never are, and a write to
    a huge page that a child (or the warden, or the judge) shares splits it here for good. After the
    collapse the pages this process goes on writing are split again (heap and arenas end at ~75 MB
    of huge pages either way), but each stays one large folio, which the kernel copies and frees a
    batch of entries at a time. Measured on a batch's zygote (one sandbox, 80 LayerNorms, correct
    or buggy, three alternating runs, Linux 6.18): ~0.2 s of CPU once; per job the zygote's CPU
    6.3 -> 5.0 ms (the fork) and the child's ~1.5 ms less (its exit). Best effort: a kernel without
    MADV_COLLAPSE (before 6.1), or with transparent huge pages off, refuses and nothing changes."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    try:
        with open("/proc/self/maps") as maps:
            regions = maps.read().splitlines()
    except OSError:
        return
    for line in regions:
        fields = line.split()
        # Private writable memory with no file behind it: anonymous mappings and the heap.
        if len(fields) < 5 or fields[1][:2] != "rw" or fields[1][3] != "p" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        low, high = (int(end, 16) for end in fields[0].split("-"))
        low, high = -(-low // _HUGE) * _HUGE, high // _HUGE * _HUGE
        if high > low:  # a region refused (EINVAL: not offered here, or not for this mapping) stays as it is
            libc.madvise(low, high - low, MADV_COLLAPSE)


def _fork_child(plan: lockdown.Plan, n: int, ward: Ward) -> Waiting:
    """Fork child n (it locks itself down and waits) and hand its pipes to the warden."""
    plan.slot_uid = lockdown.SLOT_UID_BASE + n % 2  # two children live at once: a uid each
    plan.cgroup_paths = slot_cgroup(plan, n)
    scratch, per_job = plan.scratch, None
    if not plan.on("scratch-tmpfs"):  # no private tmpfs: a fresh directory, removed afterwards
        per_job = plan.scratch = tempfile.mkdtemp(dir=scratch)
        if plan.on("uid"):
            os.chown(per_job, plan.slot_uid, plan.slot_uid)
    try:
        proc = supervisor.spawn(plan)
    finally:
        plan.scratch = scratch
    warden.hand_over(ward.end, proc, plan.slot_uid)
    return Waiting(proc.pid, plan.slot_uid, plan.cgroup_paths, per_job)


def _wait_for_job(ward: Ward, judge: judgeserver.Doorbell) -> bytes:
    """TOOK (the warden took a job), CLOSED (the CLI closed the control pipe) or b"" (the warden
    ended). A judge process that ends meanwhile is replaced at once."""
    while True:
        ready = _select(ward, judge, [ward.end.fileno()])
        note = _note(ward) if ward.end.fileno() in ready else None
        if note in (TOOK, CLOSED):
            return note
        if note == b"" or "warden" in ready:  # its end closed: it has ended or is ending
            ward.reap()
            return b""


def _finish(job: Waiting, ward: Ward, judge: judgeserver.Doorbell, plan: lockdown.Plan) -> bool:
    """Reap the job's child when the warden asks (REAP: it has killed the child and will send no
    signal to that pid again, so no other process can have taken the pid yet) and tell it how the
    child ended; wait for the warden's DONE (its answer is written); remove the child's cgroups and
    directory. False when the warden ended first: the job's answer is then an error written here."""
    reaped = False
    try:
        while True:
            ready = _select(ward, judge, [ward.end.fileno()])
            note = _note(ward) if ward.end.fileno() in ready else None
            if note == REAP and not reaped:
                _, status, usage = os.wait4(job.pid, 0)
                reaped = True
                warden.send_reaped(ward.end, job.pid, status, usage, cgroups.oom_kills(job.cgroups))
            elif note == DONE:
                break
            elif note == b"" or "warden" in ready:  # its end closed: it has ended or is ending
                error = ward.reap()
                wire.write_json(ward.reply, {"ok": False, "error": error})
                return False
    finally:
        if not reaped:  # the warden is done with the pid (or gone): kill and reap the child here
            _end_child(job, plan)
        else:
            _clean(job)
    return True


def _note(ward: Ward) -> bytes:
    """The warden's next one-byte note; b"" once it is gone."""
    try:
        return ward.end.recv(1)
    except OSError:  # it died with a message of ours unread
        return b""


def _select(ward: Ward, judge: judgeserver.Doorbell, fds: list[int]) -> set:
    """The ready descriptors among fds, plus "warden" when the warden has ended; a judge that
    ended is replaced."""
    while True:
        warden_fd, judge_fd = ward.pidfd(), judge.pidfd()
        try:
            if judge_fd is None:
                judge.ended()
                judge.start()
                continue
            if warden_fd is None:
                return {"warden"}
            ready, _, _ = select.select([*fds, warden_fd, judge_fd], [], [])
        finally:
            for fd in (warden_fd, judge_fd):
                if fd is not None:
                    os.close(fd)
        if judge_fd in ready and judge.ended():  # past its deadline, crashed or retired
            judge.start()
        found = {fd for fd in fds if fd in ready} | ({"warden"} if warden_fd in ready else set())
        if found:
            return found


def _end_child(job: Waiting, plan: lockdown.Plan) -> None:
    """Kill and reap a child the warden no longer watches (gone, done, or no job will come)."""
    plan.slot_uid = job.slot_uid
    supervisor.kill(job.pid, plan)
    try:
        os.waitpid(job.pid, 0)
    except ChildProcessError:
        pass
    _clean(job)


def _clean(job: Waiting) -> None:
    cgroups.remove(job.cgroups)  # its child is reaped (or dying of its death signal)
    if job.scratch:
        shutil.rmtree(job.scratch, ignore_errors=True)
