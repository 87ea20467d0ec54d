"""The warm zygote: a `python -I` process that imports torch once, then forks a grading slot per job.

It holds imported code and nothing of any job: the job goes straight from the CLI's pipe into the
slot, so no submission, task or result lingers in memory a later child could read. Each slot is
forked ahead of its job and forks its child at once, which locks itself down and waits: the forks
and the lockdown happen while the grader is idle. Given the job, the slot hands it to the child,
watches it (grader.sandbox.supervisor), and once the child is reaped becomes the judge: only then
are expected values computed, in a process that never forks again.
"""
from __future__ import annotations

import ctypes
import importlib
import itertools
import json
import linecache
import os
import select
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from grader.sandbox import (cgroups, child, judgeserver, landlock_rules, lockdown, namespaces, probe_layers, supervisor,
                            wire)

# Never in the zygote or a child: a submission could call the reference or find expected values.
# Matched by where a module's file lives, whatever name it was imported under.
_GRADER_DIR = Path(__file__).resolve().parent.parent
FORBIDDEN_FILES = (str(_GRADER_DIR / "grading" / "judge.py"),)
FORBIDDEN_DIRS = (str(_GRADER_DIR / "references") + os.sep, str(_GRADER_DIR / "mutants") + os.sep)
CHILD_PRELOAD = ("grader.grading.runner",)  # imported once here: the children cannot import
# The judge's helpers, holding no reference, mutant or expected value: imported once here, the slot's
# import of the judge while its child runs (~20 ms of CPU per job in a fresh fork) shrinks by half.
JUDGE_HELPERS = ("grader.grading.checks", "grader.pitfalls.detectors", "grader.pitfalls.mutantmatch",
                 "grader.pitfalls.registry", "grader.pitfalls.static")
USUAL_JUDGE = "grader.grading.judge"  # loaded by the judge process as it starts (judgeserver.py)
DEFAULT_JUDGE_DEADLINE_S = 60.0  # the judge is trusted, but it runs the reference: bound it too
TOOK, CLOSED = b"T", b"C"  # a slot's byte to the zygote: it took a job / the CLI closed the pipe


def main(argv: list[str]) -> None:
    """argv: the control and reply fds (and the sandbox's name, unused: it tags the processes).
    The first message on control says the rest ({"device", "base", "preload"}): nothing of the CLI
    (its pid above all) sits in the command line or memory children inherit. The CLI is this
    process's parent; if it is gone, so is the control pipe."""
    control, reply = int(argv[0]), int(argv[1])
    _follow(os.getppid())
    start = wire.read_json(control)
    device, base = start["device"], start["base"]
    preload = [*CHILD_PRELOAD, *JUDGE_HELPERS, *start["preload"]]
    child.PREWARM = start.get("prewarm", True) is True
    import numpy  # noqa: F401  (the child's libraries, imported once)
    import numpy.ctypeslib  # noqa: F401  (safetensors' save imports it on first use: ~1 ms a child)
    import safetensors.torch  # noqa: F401
    import torch

    torch.set_num_threads(1)  # a parallel op before fork leaves OpenMP hung in the children
    # cpuinfo reads /proc and /sys on first use; a locked-down child no longer can (and then picks
    # slow kernels), so detect the CPU here, which runs no tensor op.
    torch.backends.cpu.get_cpu_capability()
    _preload(preload)
    # Source lines torch's import cached (~20k): each child's scrub would free them, touching (and
    # so copying) pages all over its heap.
    linecache.clearcache()
    plan = make_plan(device, base)
    plan.layers, facts = probe_layers.probe(plan, secret_file=str(Path(__file__).resolve()))
    lockdown.precompile(plan)
    wire.write_json(reply, {"layers": plan.layers, "facts": facts, "pid": os.getpid()})
    child.list_modules()
    serve(control, reply, plan)


def _follow(parent: int) -> None:
    """Die with the CLI process (and exit now if it is already gone)."""
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (the CLI's for the zygote, the zygote's for a slot)."""
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
    """The cgroup(s) for slot n's child, made now; [] (the child's lockdown then fails) if not."""
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


def serve(control: int, reply: int, plan: lockdown.Plan) -> None:
    """Keep a slot (and its locked-down child) waiting for the next job, until the CLI closes the
    control pipe. As soon as a slot takes a job, the next one is forked, so back-to-back jobs do not
    wait for forks and lockdown. A slot writes a byte on `taken` when it takes a job (TOOK) or finds
    the control pipe closed (CLOSED); the zygote replies for a slot that died after taking a job
    without replying, and after each job says it has reaped it."""
    taken_r, taken_w = os.pipe()
    own = (control, reply, taken_r, taken_w, *([plan.landlock_fd] if plan.landlock_fd >= 0 else []))
    judge = judgeserver.Doorbell(own, (USUAL_JUDGE,))
    judge.start()
    slots = itertools.count()
    idle = _fork_slot(control, reply, (taken_r, taken_w), plan, next(slots), judge)
    while _took_job(idle[0], taken_r, judge):
        running = idle
        idle = _fork_slot(control, reply, (taken_r, taken_w), plan, next(slots), judge)
        _, status = os.waitpid(running[0], 0)
        cgroups.remove(running[1])  # its child is reaped (or dying of its death signal)
        if judge.ended():  # past its deadline, crashed or retired: the next job gets a new one
            judge.start()
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            wire.write_json(reply, {"ok": False, "error": _slot_death(status)})
        wire.write_json(reply, {"reaped": True})  # so run() returns with no process of the job left
    cgroups.remove(idle[1])
    judge.close()


def _fork_slot(control: int, reply: int, taken: tuple[int, int], plan: lockdown.Plan, n: int,
               judge: judgeserver.Doorbell) -> tuple[int, list[str]]:
    """Fork slot n; (its pid, its child's cgroup directories)."""
    plan.slot_uid = lockdown.SLOT_UID_BASE + n % 2  # two slots live at once: a uid each
    plan.cgroup_paths = slot_cgroup(plan, n)
    slot = os.fork()
    if slot == 0:
        os.close(taken[0])
        judge.recv.close()  # the judge's end of the doorbell: only the judge reads it
        _slot(control, reply, taken[1], plan, judge)
    return slot, plan.cgroup_paths


def _took_job(slot: int, taken_r: int, judge: judgeserver.Doorbell) -> bool:
    """Wait for the idle slot to take a job (True), or to find the CLI gone or die idle (False).
    A judge process that ends meanwhile is replaced at once."""
    pidfd = os.pidfd_open(slot)
    try:
        while True:
            judge_fd = judge.pidfd()
            if judge_fd is None:
                judge.ended()
                judge.start()
                continue
            try:
                ready, _, _ = select.select([taken_r, pidfd, judge_fd], [], [])
            finally:
                os.close(judge_fd)
            if judge_fd not in ready or taken_r in ready or pidfd in ready:
                break
            if judge.ended():
                judge.start()
    finally:
        os.close(pidfd)
    if taken_r in ready:
        return os.read(taken_r, 1) == TOOK
    os.waitpid(slot, 0)
    return False


def _slot_death(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"the grading slot was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"the grading slot exited with code {os.WEXITSTATUS(status)}"


def _slot(control: int, reply: int, taken: int, plan: lockdown.Plan, judge: judgeserver.Doorbell) -> None:
    """Fork the child, wait for a job, grade it, write the reply, exit 0 (any other end after taking
    the job: the zygote replies)."""
    _die_with_parent()
    per_job_dir = None
    if not plan.on("scratch-tmpfs"):  # no private tmpfs: a fresh directory, removed afterwards
        per_job_dir = plan.scratch = tempfile.mkdtemp(dir=plan.scratch)
        if plan.on("uid"):
            os.chown(per_job_dir, plan.slot_uid, plan.slot_uid)
    proc = supervisor.spawn(plan)
    try:
        # The whole request before TOOK: TOOK makes the zygote fork the next slot, which reads the
        # same pipe, and would take the rest of a request longer than the pipe's buffer (a batch's
        # truth rides with its first job on each sandbox) as the start of its own.
        data = wire.read_exact(control, wire.read_length(control))
    except wire.WireError:
        os.kill(proc.pid, signal.SIGKILL)
        os.write(taken, CLOSED)
        os._exit(0)
    os.write(taken, TOOK)
    try:
        request = json.loads(data)
        os.close(control)
        message = {"ok": True, "result": grade(request, proc, plan, judge)}
    except Exception as exc:  # noqa: BLE001 - reported to the CLI as dlprep's failure
        message = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        if per_job_dir:
            shutil.rmtree(per_job_dir, ignore_errors=True)
    wire.write_json(reply, message)
    os._exit(0)


def grade(request: dict, proc: supervisor.Child, plan: lockdown.Plan, judge: judgeserver.Doorbell) -> dict:
    job, deadline_s = request["job"], float(request["deadline_s"])
    child_module = job["child_entry"].partition(":")[0]
    if child_module not in sys.modules:
        os.kill(proc.pid, signal.SIGKILL)
        raise supervisor.SandboxFault(f"the child entry's module {child_module} was not preloaded by the zygote")
    outcome = supervisor.run(proc, job, plan, deadline_s, lambda: None)
    # The child is reaped: only now does the judge see the job, and only the judge's copy holds
    # what is trusted.
    if "trusted" in request:
        job = {**job, "trusted": request["trusted"]}
    judge_deadline_s = float(request.get("judge_deadline_s", DEFAULT_JUDGE_DEADLINE_S))
    try:
        return judgeserver.ask(judge, job["judge_entry"], job, outcome, judge_deadline_s)
    except judgeserver.JudgeGone as exc:
        raise supervisor.SandboxFault(str(exc)) from None
