"""The warm zygote: a `python -I` process that imports torch once, then forks a grading slot per job.

It holds imported code and nothing of any job: the job goes straight from the CLI's pipe into the
slot, so no submission, task or result lingers in memory a later child could read. A slot forks the
untrusted child, watches it (grader.sandbox.supervisor), and once the child is reaped becomes the
judge: only then are the reference and expected values imported and computed, in a process that never
forks again. The zygote replies for a slot that died without replying, and after each job says it has reaped it.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from grader.sandbox import landlock_rules, lockdown, probe_layers, supervisor, wire

# Never in the zygote or a child: a submission could call the reference or find expected values.
FORBIDDEN = ("grader.references", "grader.mutants", "grader.judge")
CHILD_PRELOAD = ("grader.runner",)  # imported once here when present, so each child starts warm
DEFAULT_JUDGE_DEADLINE_S = 60.0  # the judge is trusted, but it runs the reference: bound it too
PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    """argv: control fd, reply fd, device, base dir, the CLI's pid."""
    control, reply, device, base, cli_pid = int(argv[0]), int(argv[1]), argv[2], argv[3], int(argv[4])
    _follow(cli_pid)
    import numpy  # noqa: F401  (the child's libraries, imported once)
    import safetensors.torch  # noqa: F401
    import torch

    torch.set_num_threads(1)  # a parallel op before fork leaves OpenMP hung in the children
    # cpuinfo reads /proc and /sys on first use; a locked-down child no longer can (and then picks
    # slow kernels), so detect the CPU here, which runs no tensor op.
    torch.backends.cpu.get_cpu_capability()
    _preload()
    plan = make_plan(device, base)
    plan.layers = probe_layers.probe(plan, secret_file=str(Path(__file__).resolve()))
    wire.write_json(reply, {"layers": plan.layers, "pid": os.getpid()})
    serve(control, reply, plan)


def _follow(parent: int) -> None:
    """Die with the CLI process (and exit now if it is already gone)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _preload() -> None:
    for name in CHILD_PRELOAD:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    check_clean()


def check_clean() -> None:
    held = sorted(m for m in sys.modules if m.startswith(FORBIDDEN))
    if held:
        raise supervisor.SandboxFault(f"the child side imported {', '.join(held)}, which it must never hold")


def make_plan(device: str, base: str) -> lockdown.Plan:
    scratch = Path(base, "scratch")
    scratch.mkdir(mode=0o700, exist_ok=True)
    grader_dir = Path(__file__).resolve().parent.parent
    excluded = landlock_rules.dlprep_paths(grader_dir) | {str(Path(base).resolve())}
    return lockdown.Plan(
        device=device,
        scratch=str(scratch),
        read_rules=landlock_rules.plan(excluded),
        landlock_abi=landlock_rules.abi(),
        address_space=_mapped_bytes() + lockdown.AS_HEADROOM if device == "cpu" else None,
    )


def _mapped_bytes() -> int:
    """VmSize now: torch alone maps hundreds of MB, so RLIMIT_AS is this plus the headroom."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")


def serve(control: int, reply: int, plan: lockdown.Plan) -> None:
    """One slot per job until the CLI closes the control pipe."""
    while True:
        try:
            length = wire.read_length(control)
        except wire.WireError:
            return
        import time as _t; F0=_t.perf_counter()
        slot = os.fork()
        if slot == 0:
            print(f"TRACE fork-slot {1000*(_t.perf_counter()-F0):.1f}", file=sys.stderr, flush=True)
            _slot(control, length, reply, plan)
        _, status = os.waitpid(slot, 0)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            wire.write_json(reply, {"ok": False, "error": _slot_death(status)})
        print(f"TRACE slot-total {1000*(_t.perf_counter()-F0):.1f}", file=sys.stderr, flush=True)
        wire.write_json(reply, {"reaped": True})  # so run() returns with no process of the job left


def _slot_death(status: int) -> str:
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
        return "the judge did not finish within its deadline"
    if os.WIFSIGNALED(status):
        return f"the grading slot was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"the grading slot exited with code {os.WEXITSTATUS(status)}"


def _slot(control: int, length: int, reply: int, plan: lockdown.Plan) -> None:
    """Read the job, grade it, write the reply, exit 0 (any other end: the zygote replies)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:
        request = json.loads(wire.read_exact(control, length))
        os.close(control)
        message = {"ok": True, "result": grade(request, plan)}
    except Exception as exc:  # noqa: BLE001 - reported to the CLI as dlprep's failure
        message = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    wire.write_json(reply, message)
    os._exit(0)


def grade(request: dict, plan: lockdown.Plan) -> dict:
    import time as _t; T0=_t.perf_counter()
    job, deadline_s = request["job"], float(request["deadline_s"])
    entry = resolve(job["child_entry"])
    check_clean()
    per_job_dir = None
    if not plan.on("scratch-tmpfs"):  # no private tmpfs: a fresh directory, removed afterwards
        per_job_dir = plan.scratch = tempfile.mkdtemp(dir=plan.scratch)
    try:
        outcome = supervisor.run(job, plan, entry, deadline_s)
    finally:
        if per_job_dir:
            shutil.rmtree(per_job_dir, ignore_errors=True)
    signal.alarm(int(request.get("judge_deadline_s", DEFAULT_JUDGE_DEADLINE_S)))  # SIGALRM ends the slot
    T1=_t.perf_counter()
    j = resolve(job["judge_entry"])
    T2=_t.perf_counter()
    result = j(job, outcome)
    T3=_t.perf_counter()
    print(f"TRACE child {1000*(T1-T0):.1f} import-judge {1000*(T2-T1):.1f} judge {1000*(T3-T2):.1f} childdur {1000*outcome.duration_s:.1f}", file=sys.stderr, flush=True)
    signal.alarm(0)
    return result


def resolve(entry: str):
    """"package.module:function" -> the function."""
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)
