"""What the host-side layers (issue 10) add to a warm job's path, each measured alone: the machine
is shared, and grading_time.py's medians move by more than these figures between runs.

On the path: removing the job's cgroup (the zygote does it before saying the job is reaped), the
kill and reaping of a child in its own PID, user, IPC and UTS namespaces against one with only the
network and mount namespaces it had before, and the seccomp filter's cost per system call. Off the
path (before the job arrives): making the cgroup, the fork into a PID namespace. Goal: <= 5 ms in
all. Run: python benchmarks/sandbox_layers.py
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.sandbox import cgroups, namespaces as ns, seccomp_filter  # noqa: E402

GOAL_MS = 5.0
SYSCALLS_PER_JOB = 2000  # generous: a warm LayerNorm job makes a few hundred (strace -c)


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def cgroup_costs(runs: int) -> tuple[float, float] | None:
    try:
        hierarchy = cgroups.find()
    except OSError as exc:
        print(f"cgroup:     n/a ({exc})")
        return None
    made, removed = [], []
    for i in range(runs):
        start = time.perf_counter()
        paths = cgroups.create(hierarchy, f"dlprep-{cgroups.owner_tag()}-bench{i}", 3 << 30)
        made.append(time.perf_counter() - start)
        pid = os.fork()
        if pid == 0:
            cgroups.join(paths)
            os._exit(0)
        os.waitpid(pid, 0)
        start = time.perf_counter()
        cgroups.remove(paths)
        removed.append(time.perf_counter() - start)
    return ms(made), ms(removed)


def reap_ms(new: bool) -> float:
    r, w = os.pipe()
    pid = ns.fork("setns" if new else "off")
    if pid == 0:
        if new:
            ns.new_user_namespace()
        ns.unshare(ns.CLONE_NEWNET | ns.CLONE_NEWNS | ((ns.CLONE_NEWIPC | ns.CLONE_NEWUTS) if new else 0))
        os.write(w, b"r")
        time.sleep(60)
        os._exit(0)
    os.read(r, 1)
    os.close(r)
    os.close(w)
    start = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    os.wait4(pid, 0)
    return time.perf_counter() - start


def syscall_ns(filtered: bool, n: int = 100_000) -> float:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        if filtered:
            seccomp_filter.load(os.getpid())
        start = time.perf_counter()
        for _ in range(n):
            os.getppid()
        os.write(w, str((time.perf_counter() - start) / n * 1e9).encode())
        os._exit(0)
    os.close(w)
    value = float(os.read(r, 64))
    os.close(r)
    os.waitpid(pid, 0)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    total = 0.0
    costs = cgroup_costs(args.runs)
    if costs:
        print(f"cgroup:     make {costs[0]:.2f} ms (before the job), remove {costs[1]:.2f} ms (on its path)")
        total += costs[1]
    if ns.pid_mode() == "setns":
        pairs = [(reap_ms(False), reap_ms(True)) for _ in range(args.runs)]  # alternated: load drifts
        before, after = ms([a for a, _ in pairs]), ms([b for _, b in pairs])
        print(f"reap:       kill to wait4 {before:.2f} ms (net, mount) -> {after:.2f} ms (+ pid, user, ipc, uts)")
        total += max(0.0, after - before)
    else:
        print("reap:       n/a (needs root to fork into a PID namespace with setns)")
    pairs = [(syscall_ns(False), syscall_ns(True)) for _ in range(5)]
    plain, filtered = statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)
    extra = max(0.0, filtered - plain) * SYSCALLS_PER_JOB / 1e6
    print(f"seccomp:    {plain:.0f} ns -> {filtered:.0f} ns per system call ({extra:.2f} ms for {SYSCALLS_PER_JOB} calls)")
    total += extra
    verdict = "met" if total <= GOAL_MS else "NOT met"
    print(f"added:      {total:.2f} ms on a warm job's path (goal <= {GOAL_MS:g} ms: {verdict})")


if __name__ == "__main__":
    main()
