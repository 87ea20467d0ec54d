"""Landlock for the child: read-only on the interpreter, its standard library and installed packages,
nothing of dlprep's own (references, mutants, task specs, the source checkout), read-write only on
scratch. Also, where the kernel has them, no TCP and no signals or abstract UNIX sockets that reach
outside the child.

Landlock cannot subtract a subtree from an allowed one, so a directory that holds something of
dlprep's (site-packages holding an installed grader/, lib/python3.X holding site-packages) is
allowed for listing only and its other entries are allowed one by one. The zygote computes this plan
once; each child turns it into rules (a few hundred cheap syscalls) after mounting its scratch.
"""
from __future__ import annotations

import ctypes
import importlib.metadata
import os
import sys
import sysconfig
from pathlib import Path

from landlock import FSAccess, landlock_abi_version
from landlock.plumbing import PathBeneathAttr, get_add_rule, get_libc, get_restrict_self

SYS_LANDLOCK_CREATE_RULESET = 444
READ = int(FSAccess.EXECUTE | FSAccess.READ_FILE | FSAccess.READ_DIR)
LIST = int(FSAccess.READ_DIR)
FILE_RIGHTS = int(FSAccess.all_file())
NET_ALL = 0b11  # LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP (ABI 4)
SCOPE_ALL = 0b11  # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL (ABI 6)
SYSTEM_LIBS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")  # ctypes, libffi, ...
DEVICES = {"/dev/null": READ | int(FSAccess.WRITE_FILE), "/dev/zero": READ, "/dev/urandom": READ}
CUDA_DEVICE_PREFIX = "nvidia"  # /dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm...


class RulesetAttr(ctypes.Structure):
    """struct landlock_ruleset_attr up to ABI 6 (the pinned landlock package knows only the fs field)."""

    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


def abi() -> int:
    """The kernel's Landlock ABI, 0 when Landlock is missing or disabled."""
    try:
        return landlock_abi_version()
    except OSError:
        return 0


def dlprep_paths(grader_dir: Path) -> set[str]:
    """Everything of dlprep's own: the source checkout (or the site dir's grader/, questions/,
    cli.py) and every file an installed distribution lists (dist-info, editable finder, .pth)."""
    root = grader_dir.parent
    own = {str(grader_dir), str(root / "questions"), str(root / "cli.py")}
    if not _is_site_dir(root):
        own.add(str(root))  # a checkout: its tests, docs and .git are dlprep's too
    # Every installed copy: an editable install has a dist-info with its finder and .pth in
    # site-packages as well as the checkout's egg-info.
    for dist in importlib.metadata.distributions(name="dlprep"):
        base = Path(dist.locate_file("")).resolve()
        for file in dist.files or []:
            path = Path(dist.locate_file(file)).resolve()
            if path.is_relative_to(base) and path != base:
                own.add(str(_top_entry(base, path)))
    return own


def _top_entry(base: Path, path: Path) -> Path:
    """The entry of `base` that holds `path`; inside the shared __pycache__, the file itself."""
    parts = path.relative_to(base).parts
    return base.joinpath(*parts[: 2 if parts[0] == "__pycache__" else 1])


def _is_site_dir(path: Path) -> bool:
    sites = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    return str(path) in {str(Path(s).resolve()) for s in sites}


def read_roots() -> list[str]:
    """What the child may read: the interpreter's prefixes, sys.path entries, system libraries."""
    roots = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, *SYSTEM_LIBS]
    return sorted({str(Path(r).resolve()) for r in roots if r and os.path.isdir(r)})


def plan(excluded: set[str]) -> list[tuple[str, int]]:
    """(path, access) rules for the read roots minus the excluded paths, without duplicates."""
    rules: list[tuple[str, int]] = []
    for root in read_roots():  # sorted: a parent comes before its children
        if not any(_under(root, done) for done, _ in rules):  # a split parent did its children
            rules.extend(_split(root, excluded))
    return rules


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _split(path: str, excluded: set[str]) -> list[tuple[str, int]]:
    if any(_under(p, x) for p in (path, os.path.realpath(path)) for x in excluded):
        return []  # a link into dlprep's files counts as dlprep's
    if not any(_under(x, path) for x in excluded):
        return [(path, READ)]
    rules = [(path, LIST)]  # names only, so that imports can still scan it
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            rules.extend(_split(entry.path, excluded))
        elif _split(entry.path, excluded) and not _leads_above(entry.path, excluded):
            # a file, or a link: allowed unless it leads to dlprep
            rules.append((entry.path, READ & FILE_RIGHTS))
    return rules


def _leads_above(path: str, excluded: set[str]) -> bool:
    """A link to a directory that holds dlprep's files (a venv's lib64 -> lib): a rule on it would
    grant its whole target, dlprep included. Its target's entries get their own rules where they are
    read roots; through the link alone nothing is granted."""
    real = os.path.realpath(path)
    return os.path.isdir(real) and any(_under(x, real) for x in excluded)


def device_rules(cuda: bool) -> list[tuple[str, int]]:
    rules = [(p, a & FILE_RIGHTS) for p, a in DEVICES.items() if os.path.exists(p)]
    if cuda:  # the driver opens and ioctls these when the child initialises CUDA
        rw = READ | int(FSAccess.WRITE_FILE) | int(FSAccess.IOCTL_DEV)
        rules += [(f"/dev/{n}", rw & FILE_RIGHTS) for n in os.listdir("/dev") if n.startswith(CUDA_DEVICE_PREFIX)]
    return rules


def restrict(rules: list[tuple[str, int]], scratch: str, level: int) -> None:
    """Apply the rules plus read-write scratch to this thread and its future threads.
    Needs no_new_privs (set earlier in lockdown). Raises OSError when a syscall fails."""
    fd = prepare(rules, scratch, level)
    try:
        restrict_prepared(fd)
    finally:
        os.close(fd)


def prepare(rules: list[tuple[str, int]], writable: str, level: int) -> int:
    """A ruleset (its fd) holding the rules plus read-write `writable`, not yet applied.

    The zygote prepares one for every child (~500 rules here: ~5 ms of each child's lockdown when
    each made its own), with `writable` the directory holding the scratch mount point: a rule on the
    tmpfs a child mounts could only be added by that child, and Landlock skips a mount point's own
    directory when it walks up from a file below it, so the rule sits one level up (the child makes
    that level read-only: lockdown.scratch_tmpfs). The fd must never reach submission code: a
    process holding it could add rules to every later child's ruleset."""
    attr = RulesetAttr(int(FSAccess.all()), NET_ALL if level >= 4 else 0, SCOPE_ALL if level >= 6 else 0)
    size = 24 if level >= 6 else 16 if level >= 4 else 8
    syscall = get_libc()["syscall"]
    syscall.restype = ctypes.c_long
    fd = syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        for path, access in [*rules, (writable, int(FSAccess.all()))]:
            _add_rule(fd, path, access)
    except BaseException:
        os.close(fd)
        raise
    return fd


def restrict_prepared(fd: int) -> None:
    """Put this thread (and its future threads) under the ruleset `fd`."""
    ctypes.set_errno(0)  # the landlock package reads errno even when the call succeeded
    get_restrict_self()(fd, 0)


def _add_rule(ruleset_fd: int, path: str, access: int) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # removed since the plan was made: nothing to allow
    try:
        # A stale errno (an earlier call's EPERM, say) would make the package raise on success.
        ctypes.set_errno(0)
        get_add_rule()(ruleset_fd, 1, ctypes.byref(PathBeneathAttr(access, target)), 0)
    finally:
        os.close(target)
