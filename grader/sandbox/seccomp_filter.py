"""The child's system-call filter (seccomp through pyseccomp): a denylist loaded last in lockdown.

Default allow keeps torch working; what is denied is whatever reaches outside the process: the
network (every socket family: Landlock does not stop connecting to a UNIX socket), other processes'
memory, new processes (RLIMIT_NPROC is not enforced for root), new namespaces and mounts, exec,
and kernel attack surface that a tensor module never needs. Threads stay allowed.
"""
from __future__ import annotations

import errno

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
    # kernel attack surface
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl",
)

# Signals may only target this process (kill(own pid), raise() -> tgkill(own pid, ...)).
SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


def build(pid: int) -> sc.SyscallFilter:
    """The filter for the child whose pid is `pid` (signals are pinned to it)."""
    f = sc.SyscallFilter(sc.ALLOW)
    f.set_attr(sc.Attr.CTL_TSYNC, 1)  # threads started earlier (CUDA's) get the filter too
    deny = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        f.add_rule(deny, name)
    # clone without CLONE_THREAD makes a process; with it, a thread of this one.
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 passes its flags in memory, out of the filter's sight: answer ENOSYS so that glibc
    # falls back to clone, where the flags can be checked.
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    # A 64-bit NE: any value but exactly pid is denied, upper bits set included (the kernel reads
    # only the low 32 bits, so a padded pid would otherwise slip past an equality test).
    for name in SIGNAL_CALLS:
        f.add_rule(deny, name, sc.Arg(0, sc.NE, pid))
    return f


def load(pid: int) -> None:
    build(pid).load()
