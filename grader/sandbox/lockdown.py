"""The child's lockdown: the layers an untrusted child puts on itself, in order, while it is still
single-threaded and before any submission code exists in it.

Each layer is a function; `LAYERS` is the order. The zygote probes them once in a throwaway child
(`apply(..., strict=False)` records "on" or "off: why" per layer and goes on); every graded child then
applies exactly the layers found on, strictly: a layer that fails there aborts the child before the
submission is imported (the supervisor reports it as dlprep's failure, never as the submission's).
"""
from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import stat
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import landlock_rules

try:  # imported here, in the zygote: a locked-down child can no longer read it
    from grader.sandbox import seccomp_filter
except (OSError, RuntimeError) as exc:  # pyseccomp loads the system's libseccomp at import
    seccomp_filter, SECCOMP_MISSING = None, f"libseccomp cannot be loaded ({exc})"

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

SCRATCH_BYTES = 64 << 20  # the tmpfs size: many small files cannot fill the host's disk
SCRATCH_INODES = 4096
AS_HEADROOM = 2 << 30  # address space the child may add to what the zygote already maps (torch)
DATA_LIMIT_CUDA = 8 << 30  # on CUDA (RLIMIT_AS breaks its start-up) private data is bounded instead
CUDA_MEMORY_FRACTION = 0.5  # of the GPU's memory per child: the running one and the next, idle one
FILE_SIZE = 16 << 20
OPEN_FILES = 64
SLOT_UID_BASE = 61000  # an unprivileged uid per concurrent slot, when the uid layer is on
SAFE_ENV = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0",
            # torch.compile on a forward runs it eagerly: compiling needs a C++ compiler (exec) and
            # the source files of every frame (dlprep's are unreadable here), and changes no value.
            "TORCH_COMPILE_DISABLE": "1"}

_libc = ctypes.CDLL(None, use_errno=True)


class LockdownError(Exception):
    def __init__(self, layer: str, reason: str):
        super().__init__(f"{layer}: {reason}")
        self.layer, self.reason = layer, reason


@dataclass
class Plan:
    """Computed once in the zygote; each child's lockdown reads it."""

    device: str  # "cpu" | "cuda"
    scratch: str  # the directory that becomes the child's cwd (a tmpfs mount point when mounted)
    read_rules: list[tuple[str, int]]  # Landlock read-only rules (see landlock_rules.plan)
    landlock_abi: int
    address_space: int | None  # RLIMIT_AS in bytes; None on CUDA
    layers: dict[str, str] = field(default_factory=dict)  # filled by the probe: "on" | "off: why"
    slot_uid: int = SLOT_UID_BASE

    def on(self, layer: str) -> bool:
        return self.layers.get(layer) == "on"


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def new_session(plan: Plan, cpu_seconds: float) -> None:
    os.setsid()  # its own process group: the supervisor kills the whole group


def namespaces(plan: Plan, cpu_seconds: float) -> None:
    """No network at all (a namespace with only a downed loopback) and a private mount table."""
    _check(_libc.unshare(CLONE_NEWNET | CLONE_NEWNS), "unshare")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")


def scratch_tmpfs(plan: Plan, cpu_seconds: float) -> None:
    """A size- and inode-capped tmpfs over scratch, seen by this child only; gone when it exits."""
    if not plan.on("namespaces"):  # never mount over the host's own view
        raise OSError("needs the private mount namespace")
    # Owned by the slot uid unless that layer is off (the probe decides uid after this layer).
    uid_off = plan.layers.get("uid", "").startswith("off")
    owner = "" if uid_off else f",uid={plan.slot_uid},gid={plan.slot_uid}"
    opts = f"size={SCRATCH_BYTES},nr_inodes={SCRATCH_INODES},mode=0700{owner}".encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    _check(_libc.mount(b"tmpfs", plan.scratch.encode(), b"tmpfs", flags, opts), "mount tmpfs")


def cpu_limit(cpu_seconds: float) -> int:
    """RLIMIT_CPU's soft limit: past the wall-clock deadline, so it only fires if that one fails."""
    return math.ceil(cpu_seconds) + 1


def limit_cpu(cpu_seconds: float) -> None:
    cpu = cpu_limit(cpu_seconds)  # SIGXCPU at the soft limit, SIGKILL a second later
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def rlimits(plan: Plan, cpu_seconds: float) -> None:
    limit_cpu(cpu_seconds)
    limits = {
        resource.RLIMIT_FSIZE: (FILE_SIZE, FILE_SIZE),
        resource.RLIMIT_NOFILE: (OPEN_FILES, OPEN_FILES),
        resource.RLIMIT_CORE: (0, 0),
    }
    if plan.address_space is not None:
        limits[resource.RLIMIT_AS] = (plan.address_space, plan.address_space)
    else:
        limits[resource.RLIMIT_DATA] = (DATA_LIMIT_CUDA, DATA_LIMIT_CUDA)
    for which, value in limits.items():
        resource.setrlimit(which, value)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with EFBIG instead


def cuda_memory(plan: Plan, cpu_seconds: float) -> None:
    """On --device cuda: initialise CUDA while /dev, /proc and /sys are still readable (the zygote
    never does: a forked CUDA context is unusable) and cap this process's share of GPU memory.
    The cap is the caching allocator's, so it bounds honest mistakes, not a determined submission."""
    if plan.device != "cuda":
        raise OSError("grading on the CPU, where RLIMIT_AS bounds memory")
    import torch

    torch.cuda.init()
    torch.cuda.set_per_process_memory_fraction(CUDA_MEMORY_FRACTION)


def no_new_privs(plan: Plan, cpu_seconds: float) -> None:
    # Before Landlock: it requires this of a process without CAP_SYS_ADMIN.
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def landlock(plan: Plan, cpu_seconds: float) -> None:
    if plan.landlock_abi < 1:
        raise OSError("Landlock is not enabled in this kernel")
    rules = plan.read_rules + landlock_rules.device_rules(plan.device == "cuda")
    landlock_rules.restrict(rules, plan.scratch, plan.landlock_abi)


def landlock_scope(plan: Plan, cpu_seconds: float) -> None:
    """Applied together with `landlock`; this entry only reports whether the kernel scopes signals
    and abstract UNIX sockets to the child (ABI 6) and denies TCP (ABI 4)."""
    if plan.landlock_abi < 6:
        raise OSError(f"Landlock ABI {plan.landlock_abi} < 6 has no signal and socket scoping")
    if not plan.on("landlock"):
        raise OSError("Landlock is off")


def unprivileged_uid(plan: Plan, cpu_seconds: float) -> None:
    os.setgroups([])
    os.setresgid(plan.slot_uid, plan.slot_uid, plan.slot_uid)
    os.setresuid(plan.slot_uid, plan.slot_uid, plan.slot_uid)


def parent_death_signal(plan: Plan, cpu_seconds: float) -> None:
    """After the uid change (setuid clears it); if the parent died before this, exit now."""
    parent = os.getppid()
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if os.getppid() != parent or parent == 1:
        os._exit(1)


def seccomp(plan: Plan, cpu_seconds: float) -> None:
    if seccomp_filter is None:
        raise OSError(SECCOMP_MISSING)
    seccomp_filter.load(os.getpid())


LAYERS = {
    "session": new_session,
    "namespaces": namespaces,
    "scratch-tmpfs": scratch_tmpfs,
    "rlimits": rlimits,
    "cuda-memory": cuda_memory,
    "no-new-privs": no_new_privs,
    "landlock": landlock,
    "landlock-scope": landlock_scope,
    "uid": unprivileged_uid,
    "pdeathsig": parent_death_signal,
    "seccomp": seccomp,
}
# The layers that isolate (rlimits and the others only bound or tidy): with none of these on,
# dlprep refuses to grade unless --insecure.
ISOLATING = ("namespaces", "landlock", "seccomp", "uid")


def isolating_on(layers: dict[str, str]) -> list[str]:
    """The isolating layers that are on, in ISOLATING's order."""
    return [name for name in ISOLATING if layers.get(name) == "on"]


def uid_blocker(paths: list[str]) -> str | None:
    """Why an unprivileged uid could not run this interpreter, or None when it could: every
    directory on the way to each path needs o+x and the files o+r (a pyenv under /root, 0700, fails)."""
    for path in paths:
        for d in [*reversed(Path(path).parents), Path(path)]:
            mode = os.stat(d).st_mode
            need = stat.S_IXOTH if stat.S_ISDIR(mode) else stat.S_IROTH
            if not mode & need:
                return f"{d} (mode {stat.S_IMODE(mode):04o}) is not readable by an unprivileged uid"
    return None


def apply(plan: Plan, cpu_seconds: float, strict: bool = True) -> dict[str, str]:
    """Apply the layers in order. strict: only those the plan has on, raising LockdownError on a
    failure. Not strict (the probe): try each, return layer -> "on" | "off: why"."""
    found: dict[str, str] = {}
    for name, layer in LAYERS.items():
        if strict and not plan.on(name):
            continue
        if not strict and name in plan.layers:  # decided before trying (uid, or --insecure off)
            found[name] = plan.layers[name]
            continue
        try:
            layer(plan, cpu_seconds)
        except Exception as exc:  # noqa: BLE001 - any failure turns the layer off or aborts
            if strict:
                raise LockdownError(name, str(exc)) from exc
            found[name] = f"off: {exc}"
        else:
            found[name] = "on"
        if not strict:
            plan.layers[name] = found[name]  # later layers depend on earlier ones (landlock-scope)
    os.environ.clear()
    os.environ.update(SAFE_ENV, HOME=plan.scratch, TMPDIR=plan.scratch)
    return found

