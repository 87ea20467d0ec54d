"""Namespaces and capabilities for the child: its own PID namespace (it is pid 1 there), a user
namespace, and no capability left in any set.

PID namespace. A process cannot enter a PID namespace it creates; only its next child does, so the
zygote creates it and forks the child into it. Two ways, chosen once in the zygote (`pid_mode`):
  setns     the zygote unshares CLONE_NEWPID, forks, and setns()es back to its own namespace (after
            unshare it could start no thread, and the judge may): needs CAP_SYS_ADMIN, i.e. root.
  reparent  any uid: the zygote becomes a child subreaper and forks a short-lived intermediate that
            unshares CLONE_NEWUSER|CLONE_NEWPID (as root without CLONE_NEWUSER), forks the child
            and exits; the child is then reparented to the zygote. One more fork, before the job.
The child is pid 1 in its namespace, which is what the seccomp filter pins pid arguments to. Pid 1
of a namespace ignores signals it has no handler for unless they come from outside. So the child
handles the fatal ones a process sends itself (alarm(), kill(getpid(), SIGTERM), the soft RLIMIT_CPU's
SIGXCPU: EXIT_SIGNALS) by exiting with 128 + the signal, which the supervisor reports as that
signal's death; its own SIGKILL still does nothing, and abort() ends in SIGSEGV (glibc's last resort
after an ignored SIGABRT). The warden's SIGKILL ends it, and with it every process of the namespace.
We chose this over a tiny init running the submission as pid 2: that would be a second process
per job, and the filter could no longer pin pids with one compare.

User namespace. Root inside maps to the slot uid (an unprivileged uid per live child) outside when the uid layer is on
(setresuid first, then the map is the process's own uid), else to the uid dlprep runs as (0 -> 0
for root). Either way the capabilities it holds are the namespace's, and `drop_capabilities`
then empties every set and locks the securebits, so nothing is left to use on the host's objects.
"""
from __future__ import annotations

import ctypes
import os
import signal
import struct
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_CHILD_SUBREAPER, PR_CAP_AMBIENT = 24, 28, 36, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# NOROOT, NO_SETUID_FIXUP and NO_CAP_AMBIENT_RAISE, each locked, and KEEP_CAPS locked off.
SECUREBITS_LOCKED = 0b11101111
CAP_VERSION_3 = 0x20080522
PID_FIELD = struct.Struct("i")

_libc = ctypes.CDLL(None, use_errno=True)
# Why the last fork left the child in the zygote's PID namespace ("" when it did not): the child,
# a copy of the zygote's memory, reads it to report the layer.
fork_failure = ""


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int, what: str = "unshare") -> None:
    _check(_libc.unshare(flags), what)


# Signals whose default action ends a process, which pid 1 of a namespace ignores when it sends
# them to itself (alarm(), kill(getpid(), SIGTERM), abort()) and the kernel's soft RLIMIT_CPU
# SIGXCPU: the child handles them by exiting with SIGNAL_EXIT + the signal's number, which the
# supervisor reports as a death by that signal. SIGKILL to itself cannot be handled: ignored.
EXIT_SIGNALS = tuple(int(s) for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1,
                                      signal.SIGUSR2, signal.SIGVTALRM, signal.SIGPROF, signal.SIGQUIT,
                                      signal.SIGABRT, signal.SIGXCPU))
SIGNAL_EXIT = 128
HANDLED_SIGNALS = (*EXIT_SIGNALS, int(signal.SIGINT))  # exit_on_signals: SIGINT's handler too


def exit_on_signals() -> None:
    """In pid 1: end by the signals above as a process that is not pid 1 would (see EXIT_SIGNALS);
    SIGINT too, whose Python handler would raise KeyboardInterrupt wherever the main thread is (a
    submission can send it, or `_thread.interrupt_main()`), and send the runner through exception
    handling that looks up names the submission may have replaced."""
    for sig in EXIT_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            signal.signal(sig, _exit_by)
    signal.signal(signal.SIGINT, _exit_by)


# Bound now: a handler runs on the main thread, and a submission may replace os._exit by then.
_EXIT = os._exit


def _exit_by(sig: int, frame) -> None:
    _EXIT(SIGNAL_EXIT + sig)


def pid_mode() -> str:
    """"setns" where this process may re-enter its own PID namespace (root), else "reparent"."""
    fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return "setns" if _libc.setns(fd, CLONE_NEWPID) == 0 else "reparent"
    finally:
        os.close(fd)


def fork(mode: str) -> int:
    """os.fork(), the child landing in a new PID namespace (mode: "setns" | "reparent"; anything
    else is a plain fork). Returns 0 in the child and its pid (in our namespace) in the parent.
    Where the namespace cannot be made the child is forked plainly and `fork_failure` says why."""
    global fork_failure
    fork_failure = ""
    if mode == "setns":
        return _fork_setns()
    if mode == "reparent":
        return _fork_reparent()
    fork_failure = mode.removeprefix("off: ") or "off"
    return os.fork()


def _fork_setns() -> int:
    global fork_failure
    own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            unshare(CLONE_NEWPID, "unshare(CLONE_NEWPID)")
        except OSError as exc:
            fork_failure = str(exc)
            return os.fork()
        pid = -1
        try:
            pid = os.fork()
        finally:
            # In the parent this must succeed, or the zygote could start no thread and would fork
            # only into a namespace whose init is gone. (The child is in the new namespace.)
            if pid != 0 and _libc.setns(own, CLONE_NEWPID) != 0:
                os._exit(70)
        return pid
    finally:
        os.close(own)


def _fork_reparent() -> int:
    global fork_failure
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(CHILD_SUBREAPER)")
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(r)
        failure = b""
        try:
            uid, gid = os.geteuid(), os.getegid()
            if uid == 0:
                unshare(CLONE_NEWPID, "unshare(CLONE_NEWPID)")
            else:
                unshare(CLONE_NEWUSER | CLONE_NEWPID, "unshare(CLONE_NEWUSER|CLONE_NEWPID)")
                map_root_to(uid, gid)
        except OSError as exc:
            failure = str(exc).encode()
        pid = os.fork()
        if pid == 0:
            os.close(w)
            fork_failure = failure.decode()
            return 0
        os.write(w, PID_FIELD.pack(pid) + failure)
        os._exit(0)
    os.close(w)
    try:
        data = b""
        while chunk := os.read(r, 4096):
            data += chunk
    finally:
        os.close(r)
        os.waitpid(middle, 0)
    if len(data) < PID_FIELD.size:
        raise OSError("the intermediate process died before forking the child")
    return PID_FIELD.unpack_from(data)[0]


def map_root_to(uid: int, gid: int) -> None:
    """In a user namespace just made: root inside is (uid, gid) outside, the one mapping a process
    may write for itself without privilege outside."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def new_user_namespace() -> None:
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER, "unshare(CLONE_NEWUSER)")
    map_root_to(uid, gid)


def drop_capabilities(last_cap: int) -> None:
    """Lock the securebits and empty the bounding, ambient, inheritable, permitted and effective
    sets, in that order: the first two need CAP_SETPCAP, which the last step removes."""
    _check(_libc.prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED, 0, 0, 0), "prctl(SET_SECUREBITS)")
    for cap in range(last_cap + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"prctl(CAPBSET_DROP, {cap})")
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(CAP_AMBIENT_CLEAR_ALL)")
    header = (ctypes.c_uint32 * 2)(CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # two of {effective, permitted, inheritable}, all zero
    _check(_libc.capset(header, data), "capset")


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63  # PR_CAPBSET_DROP of an unknown cap fails: the layer then reports it


def host_ppid() -> int:
    """The parent's pid as /proc (mounted for the zygote's PID namespace) sees it: getppid() says 0
    in a new PID namespace whoever the parent is."""
    try:
        with open("/proc/self/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return os.getppid()


def wait_for_parent(parent: int, timeout_s: float = 2.0) -> None:
    """Until `parent` is this process's parent: after a reparent fork the intermediate may still be
    exiting, and a death signal set meanwhile would fire when it goes."""
    deadline = time.monotonic() + timeout_s
    while host_ppid() != parent:
        if time.monotonic() > deadline:
            raise OSError(f"the parent is {host_ppid()}, not {parent}")
        time.sleep(0.0002)


def stop_reaping() -> None:
    """Undo a reparenting fork's subreaper mark (the zygote's probe must not keep it)."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
