"""The child's lockdown: the layers an untrusted child puts on itself, in order, while it is still
single-threaded and before any submission code exists in it.

Each layer is a function; `LAYERS` is the order. The zygote probes them once in a throwaway child
(`apply(..., strict=False)` records "on" or "off: why" per layer and goes on); every graded child then
applies exactly the layers found on, strictly: a layer that fails there aborts the child before the
submission is imported (the supervisor reports it as dlprep's failure, never as the submission's).
"""
from __future__ import annotations

import ctypes
import linecache
import math
import os
import resource
import signal
import stat
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import cgroups, landlock_rules, namespaces

try:  # imported here, in the zygote: a locked-down child can no longer read it
    from grader.sandbox import seccomp_filter
except (OSError, RuntimeError) as exc:  # pyseccomp loads the system's libseccomp at import
    seccomp_filter, SECCOMP_MISSING = None, f"libseccomp cannot be loaded ({exc})"

CLONE_NEWNS, CLONE_NEWNET = namespaces.CLONE_NEWNS, namespaces.CLONE_NEWNET
# The namespaces the child makes for itself (the zygote's fork makes its PID namespace: namespaces.fork).
NEW_NAMESPACES = CLONE_NEWNET | CLONE_NEWNS | namespaces.CLONE_NEWIPC | namespaces.CLONE_NEWUTS
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
MS_RDONLY, MS_REMOUNT, MS_BIND = 0x1, 0x20, 0x1000
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, ST_RELATIME = 0x400, 0x800, 0x200000, 0x1000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38

SCRATCH_BYTES = 64 << 20  # the tmpfs size: many small files cannot fill the host's disk
SCRATCH_INODES = 4096
AS_HEADROOM = 2 << 30  # address space the child may add to what the zygote already maps (torch)
DATA_LIMIT_CUDA = 8 << 30  # on CUDA (RLIMIT_AS breaks its start-up) private data is bounded instead
CUDA_MEMORY_FRACTION = 0.5  # of the GPU's memory per child: the running one and the next, idle one
FILE_SIZE = 16 << 20
OPEN_FILES = 64
# The CUDA driver keeps descriptors of its own open (/dev/nvidia*, its event fds) and opens more as
# libraries load: 64 starves it, and cuInit then fails with "OS call failed" (error 304).
OPEN_FILES_CUDA = 1024
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
    pid_mode: str = "off"  # how the zygote forks a child into a PID namespace (namespaces.fork)
    slot_pid: int = 0  # the child's parent, for its death signal (0: whoever it is at the time)
    cgroup: cgroups.Hierarchy | None = None  # where per-job cgroups go; None: cgroup_missing says why
    cgroup_missing: str = "not looked for"
    cgroup_paths: list[str] = field(default_factory=list)  # this child's cgroup(s), made by the zygote
    last_cap: int = 63  # the highest capability number the kernel knows
    seccomp_program: bytes = b""  # the filter compiled for pid 1 (precompile), once the layers are known
    # The zygote's Landlock ruleset, read rules and read-write scratch's parent (landlock_rules.prepare),
    # or -1: each child then makes its own. A child closes it when its lockdown ends.
    landlock_fd: int = -1

    @property
    def memory_limit(self) -> int:
        """The memory cgroup's limit: what RLIMIT_AS (or RLIMIT_DATA on CUDA) lets the child add,
        plus room for what those do not see (kernel memory, page cache, tmpfs)."""
        return (AS_HEADROOM if self.address_space is not None else DATA_LIMIT_CUDA) + cgroups.MEMORY_SLACK

    def on(self, layer: str) -> bool:
        return self.layers.get(layer) == "on"


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def join_cgroup(plan: Plan, cpu_seconds: float) -> None:
    """First: only now may the child still write the cgroup's cgroup.procs (it is root, or the
    cgroup's owner, in the host's user namespace)."""
    if not plan.cgroup_paths:
        raise OSError(plan.cgroup_missing)
    cgroups.join(plan.cgroup_paths)


def new_session(plan: Plan, cpu_seconds: float) -> None:
    os.setsid()  # its own process group: the supervisor kills the whole group


def pid_namespace(plan: Plan, cpu_seconds: float) -> None:
    """Made by the zygote's fork (namespaces.fork); here the child checks that it is pid 1, and gives
    itself the signal deaths pid 1 would not have (namespaces.exit_on_signals)."""
    if os.getpid() != 1:
        raise OSError(namespaces.fork_failure or "the child was forked without a PID namespace")
    namespaces.exit_on_signals()


def user_namespace(plan: Plan, cpu_seconds: float) -> None:
    """Root inside, the current uid outside (the slot uid when the uid layer is on, else dlprep's)."""
    namespaces.new_user_namespace()


def new_namespaces(plan: Plan, cpu_seconds: float) -> None:
    """No network at all (a namespace with only a downed loopback), a private mount table, its own
    System V IPC (segments die with it) and host name."""
    _check(_libc.unshare(NEW_NAMESPACES), "unshare")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")


def scratch_tmpfs(plan: Plan, cpu_seconds: float) -> None:
    """A size- and inode-capped tmpfs over scratch, seen by this child only; gone when it exits."""
    if not plan.on("namespaces"):  # never mount over the host's own view
        raise OSError("needs the private mount namespace")
    # Owned by the slot uid under the uid layer. In a user namespace the mounter (root inside, the
    # slot uid or dlprep's outside) owns it already, and an unmapped uid= is refused.
    uid_on = plan.layers.get("uid") == "on" and not plan.on("userns")
    owner = f",uid={plan.slot_uid},gid={plan.slot_uid}" if uid_on else ""
    opts = f"size={SCRATCH_BYTES},nr_inodes={SCRATCH_INODES},mode=0700{owner}".encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if plan.landlock_fd >= 0:
        # The prepared ruleset lets the child write under scratch's parent, which holds nothing but
        # the mount point: read-only here, so the tmpfs is the only place a write can land.
        parent = os.path.dirname(plan.scratch.rstrip("/"))
        _check(_libc.mount(parent.encode(), parent.encode(), None, MS_BIND, None), "bind scratch's parent")
        # A mount copied into a user namespace has its atime flags locked: keep them as they are.
        kept = os.statvfs(parent).f_flag
        atime = (kept & (MS_NOATIME | MS_NODIRATIME)) | (MS_RELATIME if kept & ST_RELATIME else 0)
        _check(_libc.mount(None, parent.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags | atime, None),
               "remount scratch's parent read-only")
    _check(_libc.mount(b"tmpfs", plan.scratch.encode(), b"tmpfs", flags, opts), "mount tmpfs")


def cpu_limit(cpu_seconds: float) -> int:
    """RLIMIT_CPU's soft limit: past the wall-clock deadline, so it only fires if that one fails."""
    return math.ceil(cpu_seconds) + 1


def limit_cpu(cpu_seconds: float) -> None:
    cpu = cpu_limit(cpu_seconds)  # SIGXCPU at the soft limit, SIGKILL a second later
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]  # without capabilities it can only come down
    if hard != resource.RLIM_INFINITY:
        cpu = min(cpu, hard - 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def rlimits(plan: Plan, cpu_seconds: float) -> None:
    limit_cpu(cpu_seconds)
    limits = {
        resource.RLIMIT_FSIZE: (FILE_SIZE, FILE_SIZE),
        resource.RLIMIT_NOFILE: (OPEN_FILES, OPEN_FILES) if plan.device != "cuda" else (OPEN_FILES_CUDA,) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    if plan.on("userns"):
        # Counted per user namespace, so this bounds the child's own threads where no pids cgroup
        # can be made (a non-root dlprep). It never binds uid 0 outside (root mapped to root).
        limits[resource.RLIMIT_NPROC] = (cgroups.PIDS_MAX, cgroups.PIDS_MAX)
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
    if os.getpid() == 1 and plan.on("namespaces"):
        # The driver does not start inside a PID namespace that still sees the host's /proc
        # (cudaGetDeviceCount: error 304, measured on an H200): a /proc of its own, in its private
        # mount table, as a container has. Where that mount is refused, the probe retries CUDA
        # without the PID namespace (probe_layers.probe).
        _libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    import torch

    torch.cuda.init()
    torch.cuda.set_per_process_memory_fraction(CUDA_MEMORY_FRACTION)


def no_new_privs(plan: Plan, cpu_seconds: float) -> None:
    # Before Landlock: it requires this of a process without CAP_SYS_ADMIN.
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def landlock(plan: Plan, cpu_seconds: float) -> None:
    if plan.landlock_abi < 1:
        raise OSError("Landlock is not enabled in this kernel")
    if plan.landlock_fd >= 0 and plan.on("scratch-tmpfs"):  # scratch's parent is read-only: prepared
        landlock_rules.restrict_prepared(plan.landlock_fd)
        return
    rules = plan.read_rules + landlock_rules.device_rules(plan.device == "cuda")
    landlock_rules.restrict(rules, plan.scratch, plan.landlock_abi)


def prepare_landlock(plan: Plan) -> None:
    """In the zygote, before the probe: the ruleset every child with a scratch tmpfs applies."""
    if plan.landlock_abi < 1:
        return
    rules = plan.read_rules + landlock_rules.device_rules(plan.device == "cuda")
    try:
        plan.landlock_fd = landlock_rules.prepare(rules, os.path.dirname(plan.scratch.rstrip("/")), plan.landlock_abi)
    except OSError:
        plan.landlock_fd = -1  # each child makes its own, and says why it cannot


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
    # Leaving root clears the dumpable flag, which leaves /proc/self/{setgroups,uid_map} root's:
    # the user namespace's maps could then not be written (EACCES, seen where dlprep runs as root
    # on a GPU machine). Seccomp refuses ptrace, and each of the two live children has its own uid.
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(SET_DUMPABLE)")


def parent_death_signal(plan: Plan | None, cpu_seconds: float) -> None:
    """After the uid change (setuid clears it) and once the zygote is the parent (a reparenting fork
    hands the child over a moment after it starts); if the parent died before this, exit now."""
    parent = plan.slot_pid if plan is not None and plan.slot_pid else namespaces.host_ppid()
    namespaces.wait_for_parent(parent)
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if namespaces.host_ppid() != parent or parent == 1:
        os._exit(1)


def capabilities(plan: Plan, cpu_seconds: float) -> None:
    """After the last step that needs one (the tmpfs mount): none in any set, securebits locked."""
    namespaces.drop_capabilities(plan.last_cap)


def seccomp(plan: Plan, cpu_seconds: float) -> None:
    if seccomp_filter is None:
        raise OSError(SECCOMP_MISSING)
    if plan.seccomp_program and os.getpid() == 1:  # compiled by the zygote for pid 1 (precompile)
        seccomp_filter.load_bpf(plan.seccomp_program)
    else:
        seccomp_filter.load(os.getpid())


def precompile(plan: Plan) -> None:
    """In the zygote, once the probe has found the layers: what every child would otherwise compute
    in its own lockdown (the seccomp program of a child that is pid 1 of its namespace)."""
    if plan.on("seccomp") and plan.on("pidns") and seccomp_filter is not None:
        plan.seccomp_program = seccomp_filter.compile_bpf(1)


LAYERS = {
    "cgroup": join_cgroup,
    "session": new_session,
    "pidns": pid_namespace,
    "uid": unprivileged_uid,
    "userns": user_namespace,
    "namespaces": new_namespaces,
    "scratch-tmpfs": scratch_tmpfs,
    "cuda-memory": cuda_memory,  # before the limits, so CUDA starts up with nothing in its way
    "rlimits": rlimits,
    "pdeathsig": parent_death_signal,
    "capabilities": capabilities,
    "no-new-privs": no_new_privs,
    "landlock": landlock,
    "landlock-scope": landlock_scope,
    "seccomp": seccomp,
}
# The layers that isolate (rlimits and the others only bound or tidy): with none of these on,
# dlprep refuses to grade unless --insecure.
ISOLATING = ("userns", "pidns", "namespaces", "capabilities", "landlock", "seccomp", "uid")


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
    try:
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
    finally:
        if plan.landlock_fd >= 0:  # never within the submission's reach (landlock_rules.prepare)
            os.close(plan.landlock_fd)
            plan.landlock_fd = -1
    scrub()
    os.environ.update(HOME=plan.scratch, TMPDIR=plan.scratch)
    return found  # torch's CUDA-probe warning: filtered by the zygote (quiet_cuda_probe), inherited


def quiet_cuda_probe(device: str) -> None:
    """On a GPU machine torch asks the driver for its devices at the first backward; Landlock
    refuses /dev/nvidiactl to a CPU child, and torch's warning about it (error 304, seen on an
    H200) would land in the submission's stderr and cache torch's source in linecache. Called by
    the zygote, so each child inherits the filter and its compiled pattern (~1.5 ms a child)."""
    if device != "cuda":
        warnings.filterwarnings("ignore", message="CUDA initialization", category=UserWarning)


def scrub() -> None:
    """Nothing of the CLI or the zygote's start in what the submission can read: the environment,
    the command line, and source lines cached from earlier tracebacks (dlprep's own files)."""
    os.environ.clear()
    os.environ.update(SAFE_ENV)
    sys.argv[:] = [""]
    sys.orig_argv[:] = []
    linecache.clearcache()

