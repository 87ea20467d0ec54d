"""The child's system-call filter (seccomp through pyseccomp): a denylist loaded last in lockdown.

Default allow keeps torch working; what is denied is whatever reaches outside the process: the
network (every socket family: Landlock does not stop connecting to a UNIX socket), other processes'
memory, limits and scheduling, new processes (RLIMIT_NPROC is not enforced for root), new
namespaces and mounts, exec, host-wide state (host name, clocks, kernel log), memory outside
RLIMIT_AS (System V and POSIX IPC, memfd), and kernel attack surface that a tensor module never
needs. Threads stay allowed.

Calls that name a process may name only the caller. In its own PID namespace the child is pid 1,
so "0 or 1" is one unsigned compare (libseccomp cannot test one argument twice in a rule): any
larger value, a padded one included, is denied. Without that namespace only 0 (the caller) is
allowed for limits and scheduling. Signals go to the child's own pid alone (1 in its namespace). Torch's CPU paths
pass 0 or their own pid (measured with strace: prlimit64(0, ...) and sched_[gs]etaffinity(0 or
own pid), at import, in the zygote).
"""
from __future__ import annotations

import ctypes
import errno
import os
import tempfile

import pyseccomp as sc

CLONE_THREAD = 0x00010000

DENIED = (
    # network: any family, connected pairs too
    "socket", "socketpair",
    # other processes: their memory, their file descriptors, new processes, replacing this one
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "tkill", "kcmp", "process_madvise",
    "fork", "vfork", "execve", "execveat",
    # escaping the file-system view and the namespaces set up before
    "mount", "umount2", "unshare", "setns", "pivot_root", "chroot", "open_by_handle_at",
    "name_to_handle_at", "fsopen", "fsmount", "fsconfig", "move_mount", "open_tree", "mount_setattr",
    # other processes' scheduling and memory placement (the pinned calls are below)
    "sched_setscheduler", "sched_setattr", "ioprio_set", "ioprio_get", "migrate_pages", "move_pages",
    "process_mrelease",
    # host-wide state: host name, clocks, kernel log, I/O ports
    "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "syslog", "iopl", "ioperm",
    # memory that RLIMIT_AS does not see, and that may outlive the child (System V IPC)
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr", "memfd_create", "memfd_secret",
    # kernel attack surface
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
)

# Signals may only target this process (kill(own pid), raise() -> tgkill(own pid, ...)).
SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# Calls naming a process (or thread, or group) by the argument at this index: only the caller.
PID_CALLS = {"prlimit64": 0, "setpriority": 1, "getpriority": 1, "sched_setaffinity": 0,
             "sched_setparam": 0, "getsid": 0, "getpgid": 0, "setpgid": 0}
PRIO_PROCESS = 0  # setpriority/getpriority: a process, never a group or a user's processes


def build(pid: int) -> sc.SyscallFilter:
    """The filter for the child whose pid is `pid` (signals are pinned to it)."""
    f = sc.SyscallFilter(sc.ALLOW)
    f.set_attr(sc.Attr.CTL_TSYNC, 1)  # threads started earlier (CUDA's) get the filter too
    deny = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        if sc.resolve_syscall(sc.Arch.NATIVE, name) >= 0:  # an older libseccomp may not know it
            f.add_rule(deny, name)
    # clone without CLONE_THREAD makes a process; with it, a thread of this one.
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 passes its flags in memory, out of the filter's sight: answer ENOSYS so that glibc
    # falls back to clone, where the flags can be checked.
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    # 64-bit compares: upper bits set are denied too (the kernel reads only the low 32 bits, so a
    # padded pid would otherwise slip past an equality test).
    if pid == 1:  # its own PID namespace: 0 (itself, or its group) and 1 (itself) only
        for name, index in PID_CALLS.items():
            f.add_rule(deny, name, sc.Arg(index, sc.GT, 1))
        for name in SIGNAL_CALLS:  # and signals to 1 alone, as before: kill(0) is its process group
            f.add_rule(deny, name, sc.Arg(0, sc.NE, 1))
    else:
        for name in SIGNAL_CALLS:
            f.add_rule(deny, name, sc.Arg(0, sc.NE, pid))
        for name, index in PID_CALLS.items():
            f.add_rule(deny, name, sc.Arg(index, sc.NE, 0))
    for name in ("setpriority", "getpriority"):
        f.add_rule(deny, name, sc.Arg(0, sc.NE, PRIO_PROCESS))
    return f


def load(pid: int) -> None:
    build(pid).load()


# Compiling the filter (libseccomp, through ctypes) cost each child ~2 ms of its lockdown. Every child
# in its own PID namespace is pid 1 and gets the same filter, so the zygote compiles it once and each
# child loads the program (what libseccomp's seccomp_load does: no_new_privs, then the seccomp call
# with TSYNC).
SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 1, 1
PR_SET_NO_NEW_PRIVS = 38
_NR_SECCOMP = sc.resolve_syscall(sc.Arch.NATIVE, "seccomp")
_libc = ctypes.CDLL(None, use_errno=True)


class _Program(ctypes.Structure):
    """struct sock_fprog: the number of 8-byte instructions and where they are."""

    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def compile_bpf(pid: int) -> bytes:
    """The filter for `pid`, as the BPF program the kernel loads."""
    with tempfile.TemporaryFile() as f:
        build(pid).export_bpf(f)
        f.seek(0)
        return f.read()


def load_bpf(program: bytes) -> None:
    """Load a program from compile_bpf on this process and its threads."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")
    code = ctypes.create_string_buffer(program, len(program))
    fprog = _Program(len(program) // 8, ctypes.cast(code, ctypes.c_void_p))
    result = _libc.syscall(ctypes.c_long(_NR_SECCOMP), ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                           ctypes.c_long(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))
    if result != 0:  # -1 and errno, or (TSYNC) the id of a thread that could not take the filter
        err = ctypes.get_errno() if result < 0 else 0
        raise OSError(err, f"seccomp(SET_MODE_FILTER): {os.strerror(err) if err else f'thread {result}'}")
