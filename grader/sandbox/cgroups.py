"""A pids and memory cgroup per child: threads and memory are bounded by the kernel's accounting,
not only by RLIMIT_AS (which sees mappings, not kernel memory, file pages or thread counts, and
RLIMIT_NPROC never binds root).

Where: cgroup v2 when its pids and memory controllers can be enabled for the children of dlprep's own
cgroup, else the v1 hierarchies of those controllers (on machines where v2 offers only hugetlb).
Always below dlprep's own cgroup, never a hierarchy's root itself. One directory per job,
`dlprep-<zygote pid>-<its start time>-<slot>`: the zygote makes it before forking the child, the child
joins it first thing in lockdown (while it may still write cgroup.procs), and the zygote removes it
once the child is reaped. At start-up a zygote sweeps the directories whose owning zygote is gone
(a pid that no longer runs, or runs with another start time): parallel graders share the machine.
"""
from __future__ import annotations

import errno
import os
import re
import signal
import time
from dataclasses import dataclass, field

PIDS_MAX = 128  # tasks of the child (threads count): torch needs a handful
MEMORY_SLACK = 1 << 30  # on top of the address-space headroom: kernel memory, page cache, tmpfs
CONTROLLERS = ("pids", "memory")
NAME = re.compile(r"dlprep-(\d+)-(\d+)-[\w.]+$")
V1_ROOT, V2_MOUNT = "/sys/fs/cgroup", "cgroup2"


@dataclass
class Hierarchy:
    """Where per-job cgroups go: version 1 or 2, and the parent directory per controller (v2: one
    directory serves both)."""

    version: int
    parents: dict[str, str] = field(default_factory=dict)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _own_cgroups() -> dict[str, str]:
    """controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    own = {}
    for line in _read("/proc/self/cgroup").splitlines():
        _, names, path = line.split(":", 2)
        for name in names.split(",") if names else [""]:
            own[name] = path
    return own


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(fstype, mount point, super options) of the cgroup mounts, from /proc/self/mountinfo."""
    found = []
    for line in _read("/proc/self/mountinfo").splitlines():
        pre, _, post = line.partition(" - ")
        fstype, _, options = (post.split(" ") + ["", "", ""])[:3]
        if fstype in ("cgroup", "cgroup2"):
            found.append((fstype, pre.split(" ")[4], set(options.split(","))))
    return found


def find() -> Hierarchy:
    """The hierarchy to use here; OSError saying why none can be used."""
    own, mounts = _own_cgroups(), _mounts()
    reasons = []
    v2 = next((point for fstype, point, _ in mounts if fstype == "cgroup2"), None)
    if v2 is not None and "" in own:
        parent = os.path.join(v2, own[""].lstrip("/"))
        try:
            return Hierarchy(2, dict.fromkeys(CONTROLLERS, _enable_v2(parent)))
        except OSError as exc:
            reasons.append(f"cgroup v2: {exc.strerror or exc}")
    parents = {}
    for controller in CONTROLLERS:
        point = next((p for fstype, p, opts in mounts if fstype == "cgroup" and controller in opts), None)
        if point is None or controller not in own:
            reasons.append(f"cgroup v1: no {controller} hierarchy")
            break
        parent = os.path.join(point, own[controller].lstrip("/"))
        if not os.access(parent, os.W_OK):
            reasons.append(f"cgroup v1: {parent} is not writable by uid {os.geteuid()}")
            break
        parents[controller] = parent
    else:
        return Hierarchy(1, parents)
    raise OSError("; ".join(reasons) or "no cgroup file system is mounted")


def _enable_v2(parent: str) -> str:
    available = _read(os.path.join(parent, "cgroup.controllers")).split()
    missing = [c for c in CONTROLLERS if c not in available]
    if missing:
        raise OSError(f"controllers {', '.join(missing)} not available in {parent} (it offers {' '.join(available) or 'none'})")
    enabled = _read(os.path.join(parent, "cgroup.subtree_control")).split()
    wanted = [c for c in CONTROLLERS if c not in enabled]
    if wanted:
        try:
            _write(os.path.join(parent, "cgroup.subtree_control"), " ".join(f"+{c}" for c in wanted))
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            raise OSError(f"{' and '.join(wanted)} cannot be enabled below {parent}: processes live in it, and v2 "
                          "gives controllers only to the children of a cgroup without processes of its own") from None
    return parent


def owner_tag(pid: int | None = None) -> str:
    """`<pid>-<start time>` of a process: a pid alone may be reused by another process."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{_start_time(pid)}"


def _start_time(pid: int) -> str:
    try:
        return _read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "gone"


def create(h: Hierarchy, name: str, memory_bytes: int) -> list[str]:
    """Make the job's cgroup(s) with their limits; the directories (one per hierarchy)."""
    made: list[str] = []
    try:
        for controller in CONTROLLERS:
            path = os.path.join(h.parents[controller], name)
            if path in made:
                continue
            os.mkdir(path)
            made.append(path)
        for path in made:
            _limit(h.version, path, memory_bytes)
    except OSError:
        remove(made)
        raise
    return made


def _limit(version: int, path: str, memory_bytes: int) -> None:
    has = set(os.listdir(path))
    if version == 2:
        _write(os.path.join(path, "pids.max"), str(PIDS_MAX))
        _write(os.path.join(path, "memory.max"), str(memory_bytes))
        if "memory.swap.max" in has:
            _write(os.path.join(path, "memory.swap.max"), "0")
        return
    if "pids.max" in has:
        _write(os.path.join(path, "pids.max"), str(PIDS_MAX))
    if "memory.limit_in_bytes" in has:
        _write(os.path.join(path, "memory.limit_in_bytes"), str(memory_bytes))
        if "memory.memsw.limit_in_bytes" in has:  # no swapping past the limit either
            _write(os.path.join(path, "memory.memsw.limit_in_bytes"), str(memory_bytes))


def join(paths: list[str]) -> None:
    """Move the calling process into each cgroup (before it changes uid or user namespace).

    On v1, a process of one thread (a child just forked from the zygote, which never forks with a
    thread running) moves through `tasks`: writing "0" there moves the calling thread alone, which
    the kernel does without cgroup_threadgroup_rwsem. cgroup.procs takes that lock for writing, and
    waits a whole RCU grace period while holding the cgroup lock every other cgroup operation
    needs: ~8 ms a join in a batch on 2 cores, during which both zygotes' cgroup removals waited.
    With more threads (or on v2, which has no `tasks`) the whole process moves through cgroup.procs."""
    alone = _single_threaded()
    for path in paths:
        if alone:
            try:
                _write(os.path.join(path, "tasks"), "0")
                continue
            except OSError:  # v2 (or refused: cgroup.procs then says why)
                pass
        _write(os.path.join(path, "cgroup.procs"), "0")


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def oom_kills(paths: list[str]) -> int:
    """How many processes the kernel killed at these cgroups' memory limit (0 when unknown)."""
    for path in paths:
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = _read(os.path.join(path, name))
            except OSError:
                continue
            match = re.search(r"^oom_kill (\d+)$", text, re.MULTILINE)
            if match:
                return int(match.group(1))
    return 0


def remove(paths: list[str], attempts: int = 50) -> None:
    """Remove the cgroups, killing anything still in them (a child whose death signal is on its
    way). Missing directories are fine."""
    for path in paths:
        for _ in range(attempts):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                _kill_members(path)
                time.sleep(0.002)


def _kill_members(path: str) -> None:
    try:
        pids = [int(p) for p in _read(os.path.join(path, "cgroup.procs")).split()]
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def sweep(h: Hierarchy) -> list[str]:
    """Remove per-job cgroups left by zygotes that are gone (killed before they could tidy up)."""
    removed = []
    for parent in dict.fromkeys(h.parents.values()):
        try:
            entries = os.listdir(parent)
        except OSError:
            continue
        for entry in entries:
            match = NAME.match(entry)
            if match and not _alive(int(match.group(1)), match.group(2)):
                path = os.path.join(parent, entry)
                try:
                    remove([path], attempts=5)
                    removed.append(path)
                except OSError:
                    pass  # another sweeper got there first, or it is not ours to remove
    return removed


def _alive(pid: int, start: str) -> bool:
    return _start_time(pid) == start


def describe(h: Hierarchy, paths: list[str], pid: int) -> dict:
    """What the cgroup(s) of process `pid` bound, read back from the files: {"version",
    "pids_max", "memory_bytes"}; OSError when the process is not in them."""
    info: dict = {"version": h.version, "pids_max": None, "memory_bytes": None}
    for path in paths:
        if str(pid) not in _read(os.path.join(path, "cgroup.procs")).split():
            raise OSError(f"process {pid} is not in {path}")
        for name, key in (("pids.max", "pids_max"), ("memory.max", "memory_bytes"),
                          ("memory.limit_in_bytes", "memory_bytes")):
            try:
                value = _read(os.path.join(path, name)).strip()
            except FileNotFoundError:
                continue
            info[key] = None if value == "max" else int(value)
    return info


def remove_owned(pid: int) -> None:
    """After the zygote `pid` is reaped: remove whatever per-job cgroups it left (it was killed)."""
    try:
        h = find()
    except OSError:
        return
    prefix = f"dlprep-{pid}-"
    for parent in dict.fromkeys(h.parents.values()):
        try:
            entries = [e for e in os.listdir(parent) if e.startswith(prefix)]
        except OSError:
            continue
        try:
            remove([os.path.join(parent, e) for e in entries], attempts=20)
        except OSError:
            pass  # swept by the next zygote on this machine
