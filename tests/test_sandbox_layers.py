"""Each isolation layer, proven to bite: first alone, in a child forked from the test process with
just that layer applied (so one layer cannot hide another's hole), then all together in the real
sandbox's locked-down child. Nothing here is skipped on this machine kind (Debian 12, root, Landlock
in the kernel, cgroup v1 pids and memory); the uid layer is off here by design, so its detection is
what is tested. The test process plays the CLI: the child is given its pid."""
from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.errors import CannotGrade
from grader.sandbox import (Sandbox, cgroups, facts, judgeserver, landlock_rules, lockdown, namespaces, seccomp_filter,
                            warden, zygote)
from grader.sandbox.supervisor import ANSWER_CAP, OUTPUT_KEEP

REPO = Path(__file__).resolve().parent.parent
# One file of every package of grader/ (and its loose modules), the banks and the CLI: none readable.
PACKAGE_FILES = sorted(next(p for p in sorted(d.rglob("*.py")) if p.name != "__init__.py")
                       for d in (REPO / "grader").iterdir() if (d / "__init__.py").exists())
SECRETS = [REPO / "grader" / "grading" / "judge.py", *PACKAGE_FILES, REPO / "grader" / "errors.py",
           REPO / "grader" / "dependencies.yaml", REPO / "questions" / "tasks" / "layernorm.yaml", REPO / "cli.py"]


def test_the_secrets_exist_and_cover_every_package():
    """A moved file would make its open() fail with ENOENT, proving nothing about Landlock."""
    assert all(p.is_file() for p in SECRETS)
    packages = {p.relative_to(REPO / "grader").parts[0] for p in PACKAGE_FILES}
    assert {"bank", "practice", "grading", "authoring", "sandbox", "pitfalls", "render", "references", "mutants"} <= packages
libc = ctypes.CDLL(None, use_errno=True)
SYS_CLONE3, SYS_PTRACE, PTRACE_ATTACH = 435, 101, 16


# ---- one layer at a time ---------------------------------------------------------------------

def in_child(*layers: str, scratch: Path | None = None, attempt, pid_mode: str = "setns",
             cgroup_paths: list[str] = (), **prepared) -> dict:
    """Fork (into a PID namespace with the pidns layer), apply exactly `layers` (in lockdown order),
    run attempt() -> JSON-able, return it. `prepared`: what the zygote prepares for its children
    (seccomp_program, landlock_fd)."""
    plan = lockdown.Plan(
        device="cpu", scratch=str(scratch or "/nonexistent"),
        read_rules=landlock_rules.plan(landlock_rules.dlprep_paths(REPO / "grader")),
        landlock_abi=landlock_rules.abi(), address_space=1 << 30,
        layers={name: "on" for name in layers}, pid_mode=pid_mode if "pidns" in layers else "off",
        cgroup_paths=list(cgroup_paths), last_cap=namespaces.last_cap(), **prepared,
    )
    r, w = os.pipe()
    pid = namespaces.fork(plan.pid_mode)
    namespaces.stop_reaping()
    if pid == 0:
        os.close(r)
        try:
            lockdown.apply(plan, cpu_seconds=5)
            out = {"ok": attempt()}
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            out = {"error": repr(exc)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    result = json.loads(data)
    assert "ok" in result, result
    return result["ok"]


def errno_of(fn) -> int:
    """The errno fn() fails with, 0 when it succeeds."""
    try:
        fn()
    except OSError as exc:
        return exc.errno
    return 0


def raw_errno(result: int) -> int:
    return ctypes.get_errno() if result == -1 else 0


def test_network_namespace_reaches_no_listener_on_the_host():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(b"\0dlprep-test-abstract")
    abstract.listen()
    got = in_child("namespaces", attempt=lambda: [
        errno_of(lambda: socket.create_connection(("127.0.0.1", port), timeout=1)),
        errno_of(lambda: socket.socket(socket.AF_UNIX).connect(b"\0dlprep-test-abstract")),
    ])
    assert got[0] in (errno.ENETUNREACH, errno.ECONNREFUSED) and got[1] == errno.ECONNREFUSED
    for listener in (server, abstract):
        listener.settimeout(0.1)
        with pytest.raises(TimeoutError):
            listener.accept()
        listener.close()


def test_scratch_tmpfs_fills_up_and_leaves_nothing_on_the_host(tmp_path):
    def fill():
        chunk = b"x" * (1 << 20)
        for i in range(200):
            try:
                Path(f"f{i}").write_bytes(chunk)
            except OSError as exc:
                return [i, exc.errno]
        return [200, 0]

    def attempt():
        os.chdir(tmp_path)
        return fill()

    written, err = in_child("namespaces", "scratch-tmpfs", scratch=tmp_path, attempt=attempt)
    assert err == errno.ENOSPC and written <= lockdown.SCRATCH_BYTES >> 20
    assert list(tmp_path.iterdir()) == []


def test_rlimits_bound_memory_file_size_files_and_cores(tmp_path):
    def attempt():
        os.chdir(tmp_path)
        try:
            bytearray(2 << 30)
            memory = "allocated"
        except MemoryError:
            memory = "MemoryError"
        big = errno_of(lambda: Path("big").write_bytes(b"x" * (lockdown.FILE_SIZE + 1)))
        files = []
        many = errno_of(lambda: [files.append(open("/dev/null")) for _ in range(lockdown.OPEN_FILES + 1)])
        return [memory, big, many, resource.getrlimit(resource.RLIMIT_CORE)[0]]

    assert in_child("rlimits", attempt=attempt) == ["MemoryError", errno.EFBIG, errno.EMFILE, 0]


def test_landlock_hides_dlprep_and_allows_writes_only_in_scratch(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    import torch  # noqa: F401  (a library the child must still read)

    torch_init = sys.modules["torch"].__file__

    def attempt():
        return [
            [errno_of(lambda p=p: open(p, "rb")) for p in SECRETS],
            errno_of(lambda: open(torch_init, "rb").close()),
            errno_of(lambda: open(tmp_path / "outside", "w")),
            errno_of(lambda: (scratch / "inside").write_text("ok")),
        ]

    secrets, library, outside, inside = in_child("no-new-privs", "landlock", scratch=scratch, attempt=attempt)
    assert secrets == [errno.EACCES] * len(SECRETS)
    assert (library, outside, inside) == (0, errno.EACCES, 0)
    assert not (tmp_path / "outside").exists()


def test_the_zygote_s_landlock_ruleset_gives_the_tmpfs_alone_and_never_reaches_the_child(tmp_path):
    """The ruleset prepared once (landlock_rules.prepare) grants scratch's parent, which the child
    makes read-only before its tmpfs goes over scratch: writes land in the tmpfs only, and the
    ruleset's descriptor is closed once lockdown is done (with it, code could add rules to every
    later child's ruleset)."""
    jail = tmp_path / "jail"
    scratch = jail / "scratch"
    scratch.mkdir(parents=True)
    rules = landlock_rules.plan(landlock_rules.dlprep_paths(REPO / "grader") | {str(tmp_path)})
    ruleset = landlock_rules.prepare(rules, str(jail), landlock_rules.abi())

    def attempt():
        return {
            "secrets": [errno_of(lambda p=p: open(p, "rb")) for p in SECRETS[:3]],
            "scratch": errno_of(lambda: (scratch / "inside").write_text("ok")),
            "jail": errno_of(lambda: (jail / "beside").write_text("no")),
            "jail mkdir": errno_of(lambda: (jail / "d").mkdir()),
            "jail chmod": errno_of(lambda: jail.chmod(0o777)),
            "outside": errno_of(lambda: (tmp_path / "outside").write_text("no")),
            "ruleset": errno_of(lambda: os.fstat(ruleset)),
        }

    try:
        got = in_child("userns", "namespaces", "scratch-tmpfs", "no-new-privs", "landlock", scratch=scratch,
                       attempt=attempt, landlock_fd=ruleset)
    finally:
        os.close(ruleset)
    assert got["secrets"] == [errno.EACCES] * 3 and got["scratch"] == 0
    assert got["jail"] == got["jail mkdir"] == got["jail chmod"] == errno.EROFS
    assert got["outside"] == errno.EACCES and got["ruleset"] == errno.EBADF
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["jail", "scratch"]  # the tmpfs went with it


def test_landlock_plan_splits_a_site_dir_that_holds_dlprep(tmp_path):
    site = tmp_path / "site-packages"
    for d in ("torch", "grader/references", "numpy"):
        (site / d).mkdir(parents=True)
    (site / "cli.py").write_text("")
    rules = dict(landlock_rules._split(str(tmp_path), {str(site / "grader"), str(site / "cli.py")}))
    assert rules[str(site)] == landlock_rules.LIST  # names only
    assert rules[str(site / "torch")] == rules[str(site / "numpy")] == landlock_rules.READ
    assert not any("grader" in p or p.endswith("cli.py") for p in rules)


def test_landlock_plan_grants_no_link_to_a_directory_holding_dlprep(tmp_path):
    """A venv's lib64 -> lib: a rule on the link would grant lib whole, its grader/ included."""
    lib = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (lib / "grader").mkdir(parents=True)
    (lib / "torch").mkdir()
    (tmp_path / "venv" / "lib64").symlink_to("lib")
    (tmp_path / "venv" / "link-to-torch").symlink_to(lib / "torch")
    rules = dict(landlock_rules._split(str(tmp_path / "venv"), {str(lib / "grader")}))
    assert str(tmp_path / "venv" / "lib64") not in rules
    assert rules[str(lib / "torch")] == landlock_rules.READ
    assert str(tmp_path / "venv" / "link-to-torch") in rules  # a link that leads to no dlprep file stays


def test_landlock_scope_stops_signals_to_other_processes(tmp_path):
    parent = os.getpid()
    got = in_child("no-new-privs", "landlock", scratch=tmp_path,
                   attempt=lambda: [errno_of(lambda: os.kill(parent, 0)), errno_of(lambda: os.kill(os.getpid(), 0))])
    assert got == [errno.EPERM, 0]


def test_seccomp_denies_sockets_processes_and_namespaces():
    def attempt():
        import threading

        families = [socket.AF_INET, socket.AF_INET6, socket.AF_UNIX, socket.AF_NETLINK]
        box = []
        t = threading.Thread(target=lambda: box.append("thread ran"))
        t.start()
        t.join()
        return {
            "sockets": [errno_of(lambda f=f: socket.socket(f, socket.SOCK_DGRAM if f == socket.AF_NETLINK else socket.SOCK_STREAM)) for f in families],
            "socketpair": errno_of(socket.socketpair),
            "fork": errno_of(os.fork),
            "clone3": raw_errno(libc.syscall(SYS_CLONE3, None, 0)),
            "exec": errno_of(lambda: os.execv("/bin/true", ["true"])),
            "unshare": raw_errno(libc.unshare(lockdown.CLONE_NEWNET)),
            "ptrace": raw_errno(libc.syscall(SYS_PTRACE, PTRACE_ATTACH, os.getppid(), 0, 0)),
            "kill parent": errno_of(lambda: os.kill(os.getppid(), 0)),
            "kill padded parent": raw_errno(libc.syscall(62, ctypes.c_long((1 << 32) | os.getppid()), 0)),
            "kill self": errno_of(lambda: os.kill(os.getpid(), 0)),
            "thread": box,
        }

    got = in_child("seccomp", attempt=attempt)
    assert got["sockets"] == [errno.EPERM] * 4 and got["socketpair"] == errno.EPERM
    assert got["fork"] == got["exec"] == got["unshare"] == got["ptrace"] == errno.EPERM
    assert got["clone3"] == errno.ENOSYS  # so glibc falls back to clone, whose flags are checked
    assert got["kill parent"] == got["kill padded parent"] == errno.EPERM and got["kill self"] == 0
    assert got["thread"] == ["thread ran"]  # threads stay allowed


def status_of(text: str) -> dict[str, str]:
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def ns_ids(pid: int | str = "self") -> dict[str, str]:
    return {ns: os.readlink(f"/proc/{pid}/ns/{ns}") for ns in ("user", "pid", "ipc", "uts", "net", "mnt")}


@pytest.mark.parametrize("mode", ["setns", "reparent"])
def test_pid_namespace_makes_the_child_pid_1_and_hides_the_cli(mode):
    """Both ways of forking into it; the test process plays the CLI. prlimit on it: ESRCH."""
    cli = os.getpid()

    def attempt():
        status = status_of(Path("/proc/self/status").read_text())
        return {
            "pid": os.getpid(),
            "nspid": status["NSpid"].split(),
            "prlimit cli": errno_of(lambda: resource.prlimit(cli, resource.RLIMIT_NOFILE)),  # a read
            "kill cli": errno_of(lambda: os.kill(cli, 0)),
            "getsid cli": errno_of(lambda: os.getsid(cli)),
        }

    got = in_child("pidns", attempt=attempt, pid_mode=mode)
    assert got["pid"] == 1 and len(got["nspid"]) == 2 and got["nspid"][1] == "1"
    assert got["prlimit cli"] == got["kill cli"] == got["getsid cli"] == errno.ESRCH


def test_user_namespace_maps_root_and_leaves_no_power_over_the_host():
    outer = ns_ids()

    def attempt():
        return {
            "uid": os.getuid(), "map": Path("/proc/self/uid_map").read_text().split(),
            "user ns": os.readlink("/proc/self/ns/user"),
            "settimeofday": raw_errno(libc.syscall(164, None, None)),  # CAP_SYS_TIME of the host's namespace
        }

    got = in_child("userns", attempt=attempt)
    assert got["uid"] == 0 and got["map"] == ["0", str(os.geteuid()), "1"]
    assert got["user ns"] != outer["user"] and got["settimeofday"] == errno.EPERM


def test_capabilities_are_dropped_from_every_set_and_securebits_locked():
    def attempt():
        status = status_of(Path("/proc/self/status").read_text())
        name = socket.gethostname().encode()
        return {
            "caps": [status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")],
            "securebits": libc.prctl(27, 0, 0, 0, 0),  # PR_GET_SECUREBITS
            "settimeofday": raw_errno(libc.syscall(164, None, None)),
            "sethostname": raw_errno(libc.sethostname(name, len(name))),  # the same name: no change
        }

    got = in_child("capabilities", attempt=attempt)
    assert got["caps"] == ["0000000000000000"] * 5
    assert got["securebits"] == namespaces.SECUREBITS_LOCKED
    assert got["settimeofday"] == got["sethostname"] == errno.EPERM


def test_ipc_and_uts_namespaces_keep_segments_and_host_name_private():
    """A System V segment made in the child is not the host's, and goes with the child."""
    outer, key = ns_ids(), 0x646C7072

    def attempt():
        shmid = libc.shmget(key, 4096, 0o1000 | 0o600)  # IPC_CREAT, left in place on purpose
        return {"shmid": shmid, "ipc": os.readlink("/proc/self/ns/ipc"), "uts": os.readlink("/proc/self/ns/uts")}

    got = in_child("namespaces", attempt=attempt)
    leaked = libc.shmget(key, 0, 0)
    if leaked >= 0:
        libc.shmctl(leaked, 0, None)  # IPC_RMID: tidy up before failing
    assert got["shmid"] >= 0 and leaked == -1
    assert got["ipc"] != outer["ipc"] and got["uts"] != outer["uts"]


@pytest.fixture
def job_cgroup():
    """A per-job cgroup as the zygote makes one, removed afterwards."""
    hierarchy = cgroups.find()
    made = []

    def make(memory_bytes: int = 3 << 30) -> list[str]:
        made.extend(cgroups.create(hierarchy, f"dlprep-{cgroups.owner_tag()}-test{len(made)}", memory_bytes))
        return made

    yield make
    cgroups.remove(made)
    assert not any(os.path.exists(p) for p in made)


def test_pids_cgroup_stops_a_thread_storm_and_fork_gets_eagain(job_cgroup):
    def attempt():
        import threading

        threading.stack_size(32 * 1024)
        stop, started = threading.Event(), 0
        try:
            for _ in range(3000):  # bounded: the red team's 32 KiB stacks would reach pid_max
                threading.Thread(target=stop.wait, daemon=True).start()
                started += 1
        except RuntimeError:
            pass
        def fork():
            if os.fork() == 0:  # made after all (the bound is gone): it leaves at once
                os._exit(0)
            os.wait()

        forked = errno_of(fork)
        stop.set()
        return {"threads": started, "fork": forked}

    paths = job_cgroup()
    got = in_child("cgroup", attempt=attempt, cgroup_paths=paths)
    assert got["threads"] < cgroups.PIDS_MAX and got["fork"] == errno.EAGAIN


def test_a_memory_cgroup_kill_is_reported_as_memory_limit(job_cgroup):
    """RLIMIT_AS misses memory the kernel holds for a process; the cgroup counts it. Here a small
    limit and plain bytes prove the path: the kernel kills the child, the supervisor names it."""
    from grader.sandbox import supervisor, wire

    paths = job_cgroup(64 << 20)
    pid = os.fork()
    if pid == 0:
        try:
            cgroups.join(paths)
            held = b"\1" * (256 << 20)  # noqa: F841 - written, so charged
        finally:
            os._exit(0)
    _, status, usage = os.wait4(pid, 0)
    answer = supervisor.Answer()
    answer.feed(wire.TAG_READY)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9, status
    assert cgroups.oom_kills(paths) >= 1
    assert supervisor._ended(answer, status, usage, 5.0, cgroups.oom_kills(paths))[0] == "memory-limit"


def _cgroups_of_every_thread(paths: list[str], threads: int) -> dict:
    """In a forked process with `threads` threads (this one and threads - 1 waiting ones): join,
    then which of the job's cgroups each thread's /proc entry names."""
    stop = threading.Event()
    for _ in range(threads - 1):
        threading.Thread(target=stop.wait, daemon=True).start()
    try:
        cgroups.join(paths)
        name = paths[0].rsplit("/", 1)[-1]
        found = {}
        for tid in os.listdir("/proc/self/task"):
            lines = Path(f"/proc/self/task/{tid}/cgroup").read_text().splitlines()
            # "id:controllers:path" (v2: "0::path"): the controllers whose cgroup is the job's
            found[tid] = sorted(c or "v2" for _, names, path in (line.split(":", 2) for line in lines)
                                if path.rsplit("/", 1)[-1] == name for c in names.split(","))
        return found
    finally:
        stop.set()


@pytest.mark.parametrize("threads", [1, 3])
def test_joining_moves_every_thread_of_the_process(job_cgroup, threads):
    """One thread joins through v1's `tasks` (no cgroup_threadgroup_rwsem, whose write waits a
    grace period holding the cgroup lock); with more threads the whole process must still move, or
    a thread left outside would escape the pids and memory limits."""
    paths = job_cgroup()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(w, json.dumps(_cgroups_of_every_thread(paths, threads)).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = json.loads(f.read() or b"{}")
    os.waitpid(pid, 0)
    expected = ["v2"] if cgroups.find().version == 2 else sorted(cgroups.CONTROLLERS)
    assert len(got) == threads and all(found == expected for found in got.values()), got


def test_stale_cgroups_are_swept_only_when_their_zygote_is_gone():
    hierarchy = cgroups.find()
    gone = subprocess_pid_that_exited()
    stale = cgroups.create(hierarchy, f"dlprep-{gone}-12345-0", 1 << 30)
    live = cgroups.create(hierarchy, f"dlprep-{cgroups.owner_tag()}-0", 1 << 30)
    try:
        cgroups.sweep(hierarchy)
        assert not any(map(os.path.exists, stale)) and all(map(os.path.exists, live))
    finally:
        cgroups.remove(stale + live)


def subprocess_pid_that_exited() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_seccomp_pins_process_arguments_to_the_caller_and_denies_host_state():
    """Without a PID namespace: limits and scheduling name only 0, signals only the child itself."""
    parent = os.getpid()
    rl = resource.RLIMIT_NOFILE

    def attempt():
        name = socket.gethostname().encode()
        made = libc.shmget(0, 4096, 0o1000 | 0o600)
        if made >= 0:
            libc.shmctl(made, 0, None)
        return {
            "prlimit self": errno_of(lambda: resource.prlimit(0, rl, resource.getrlimit(rl))),
            "setrlimit": errno_of(lambda: resource.setrlimit(rl, resource.getrlimit(rl))),
            "prlimit parent": errno_of(lambda: resource.prlimit(parent, rl)),
            "setpriority parent": errno_of(lambda: os.setpriority(os.PRIO_PROCESS, parent, 0)),
            "setpriority user": errno_of(lambda: os.setpriority(os.PRIO_USER, 0, 0)),
            "affinity parent": errno_of(lambda: os.sched_setaffinity(parent, {0})),
            "sched_setscheduler": errno_of(lambda: os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))),
            "ioprio_set": raw_errno(libc.syscall(251, 1, 0, 0)),
            "sethostname": raw_errno(libc.sethostname(name, len(name))),
            "settimeofday": raw_errno(libc.syscall(164, None, None)),
            "syslog": raw_errno(libc.klogctl(10, None, 0)),  # SYSLOG_ACTION_SIZE_BUFFER
            "shmget": 0 if made >= 0 else ctypes.get_errno(),
            "memfd": errno_of(lambda: os.memfd_create("x")),
        }

    got = in_child("seccomp", attempt=attempt)
    assert got.pop("prlimit self") == got.pop("setrlimit") == 0
    assert got == dict.fromkeys(got, errno.EPERM)


@pytest.mark.parametrize("compiled", [False, True], ids=["built-in-the-child", "compiled-by-the-zygote"])
def test_seccomp_in_a_pid_namespace_allows_pid_1_and_nothing_above(compiled):
    """The zygote compiles the filter once for pid 1 (lockdown.precompile); loaded, it bites as the
    one each child used to build."""
    program = seccomp_filter.compile_bpf(1) if compiled else b""

    def attempt():
        rl = resource.RLIMIT_NOFILE
        return {
            "prlimit 1": errno_of(lambda: resource.prlimit(1, rl)),
            "kill 1": errno_of(lambda: os.kill(1, 0)),
            "kill 0": errno_of(lambda: os.kill(0, 0)),  # its process group: refused, as before
            "prlimit 2": errno_of(lambda: resource.prlimit(2, rl)),
            # c_long: a plain int would reach syscall() truncated to 32 bits
            "prlimit padded 1": raw_errno(libc.syscall(302, ctypes.c_long((1 << 32) | 1), rl, None, None)),
            "kill padded 1": raw_errno(libc.syscall(62, ctypes.c_long((1 << 32) | 1), 0)),
            "socket": errno_of(socket.socket),
            "fork": errno_of(os.fork),
            "filters": status_of(Path("/proc/self/status").read_text()).get("Seccomp_filters"),
        }

    got = in_child("pidns", "seccomp", attempt=attempt, seccomp_program=program)
    assert got == {"prlimit 1": 0, "kill 1": 0, "kill 0": errno.EPERM, "prlimit 2": errno.EPERM,
                   "prlimit padded 1": errno.EPERM, "kill padded 1": errno.EPERM,
                   "socket": errno.EPERM, "fork": errno.EPERM, "filters": "1"}


# abort() never returns to Python's handler: glibc's last resort after an ignored SIGABRT faults.
@pytest.mark.parametrize("how, name", [("alarm", "SIGALRM"), ("term", "SIGTERM"), ("abort", "SIGSEGV")])
def test_pid_1_still_dies_of_the_signals_it_sends_itself(how, name):
    """Pid 1 of a namespace ignores them; the child exits by them instead, and the supervisor says
    which signal, as it did before the PID namespace."""
    import signal

    from grader.sandbox import supervisor, wire

    plan = lockdown.Plan(device="cpu", scratch="/nonexistent", read_rules=[], landlock_abi=0, address_space=None)
    pid = namespaces.fork("setns")
    if pid == 0:
        try:
            lockdown.pid_namespace(plan, 5)
            {"alarm": lambda: signal.alarm(1), "term": lambda: os.kill(1, signal.SIGTERM), "abort": os.abort}[how]()
            time.sleep(10)
        finally:
            os._exit(0)
    _, status, usage = os.wait4(pid, 0)
    answer = supervisor.Answer()
    answer.feed(wire.TAG_READY)
    assert supervisor._ended(answer, status, usage, 5.0) == ("crashed", f"killed by {name}")


def test_session_and_no_new_privs():
    def attempt():
        status = Path("/proc/self/status").read_text()
        return [os.getsid(0) == os.getpid(), "NoNewPrivs:\t1" in status]

    assert in_child("session", "no-new-privs", attempt=attempt) == [True, True]


def test_pdeathsig_kills_the_child_when_its_slot_dies():
    r, w = os.pipe()
    slot = os.fork()
    if slot == 0:
        grandchild = os.fork()
        if grandchild == 0:
            lockdown.parent_death_signal(None, 0)
            os.write(w, b"ready")
            time.sleep(30)
            os._exit(0)
        os.write(w, f"{grandchild:>10}".encode())
        os._exit(0)  # the slot dies; the kernel must kill its child
    os.close(w)
    data = b""
    while len(data) < 15:
        data += os.read(r, 64)
    os.waitpid(slot, 0)
    pid = int(data.replace(b"ready", b""))
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
            break
        time.sleep(0.02)
    else:
        pytest.fail("the child outlived its slot")


def test_uid_layer_detection(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "python").write_text("")
    tmp_path.chmod(0o755)
    assert "is not readable by an unprivileged uid" in lockdown.uid_blocker([str(private / "python")])
    assert lockdown.uid_blocker(["/usr/lib"]) is None


# ---- all layers together, in the real sandbox ------------------------------------------------

ENTRY = {"child_entry": "tests.sandbox_entries:run_source", "judge_entry": "tests.sandbox_entries:echo_judge"}


def run(sandbox, source: str, deadline_s: float = 3.0, **extra) -> dict:
    return sandbox.run({**ENTRY, "source": source, **extra}, deadline_s=deadline_s)


def test_layers_in_force(sandbox):
    layers = sandbox.layers()
    for name in ("cgroup", "session", "pidns", "userns", "namespaces", "scratch-tmpfs", "rlimits", "pdeathsig",
                 "capabilities", "no-new-privs", "landlock", "landlock-scope", "seccomp"):
        assert layers[name] == "on", (name, layers[name])
    # A pyenv under /root (0700) cannot be run by another uid: the layer says so instead of failing.
    if "/root/" in sys.executable:
        assert layers["uid"].startswith("off: /root")


def test_locked_down_child_sees_all_layers_at_once(sandbox):
    source = f"""
import os, socket
def err(fn):
    try:
        fn()
    except OSError as e:
        return e.errno
    return 0
report['secrets'] = [err(lambda p=p: open(p)) for p in {[str(p) for p in SECRETS]!r}]
report['socket'] = err(lambda: socket.socket())
report['fork'] = err(os.fork)
report['write_tmp'] = err(lambda: open('/tmp/dlprep-sandbox-test', 'w'))
report['cwd_write'] = err(lambda: open('scratch-file', 'w').write('ok'))
report['env'] = sorted(os.environ)
import linecache, sys
report['argv'], report['orig_argv'], report['linecache'] = sys.argv, sys.orig_argv, sorted(linecache.cache)
"""
    got = run(sandbox, source)
    assert got["status"] == "ok", got
    meta = got["meta"]
    assert meta["secrets"] == [errno.EACCES] * len(SECRETS)
    assert meta["socket"] == meta["fork"] == errno.EPERM
    assert meta["write_tmp"] == errno.EACCES and meta["cwd_write"] == 0
    assert set(meta["env"]) <= set(lockdown.SAFE_ENV) | {"HOME", "TMPDIR"}
    assert (meta["argv"], meta["orig_argv"], meta["linecache"]) == ([""], [], [])
    assert not Path("/tmp/dlprep-sandbox-test").exists()


def zygote_child(sandbox, wanted, what: str) -> int:
    """The first of the zygote's children for which wanted(pid) holds, within 10 s."""
    zygote, deadline = sandbox._proc.pid, time.monotonic() + 10
    while time.monotonic() < deadline:
        for pid in Path(f"/proc/{zygote}/task/{zygote}/children").read_text().split():
            try:
                if wanted(pid):
                    return int(pid)
            except OSError:
                pass
        time.sleep(0.02)
    pytest.fail(f"no {what}")


def idle_child(sandbox) -> int:
    """The child waiting for the next job (a child of the zygote, beside the judge and the
    warden), once locked down."""
    servers = (judgeserver.NAME.decode(), warden.NAME.decode())
    return zygote_child(sandbox, lambda pid: Path(f"/proc/{pid}/comm").read_text().strip() not in servers
                        and status_of(Path(f"/proc/{pid}/status").read_text()).get("Seccomp") == "2",
                        "locked-down child waiting")


def test_the_waiting_child_has_no_capability_and_namespaces_of_its_own(sandbox):
    """Read from outside, as the kernel reports it: what a submission gets when its job arrives."""
    sandbox.layers()
    child = idle_child(sandbox)
    status = status_of(Path(f"/proc/{child}/status").read_text())
    parent = int(status["PPid"])
    assert parent == sandbox._proc.pid
    assert [status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")] == ["0000000000000000"] * 5
    assert status["NSpid"].split()[1:] == ["1"]
    assert (status["Seccomp"], status["NoNewPrivs"]) == ("2", "1")
    inner, outer = ns_ids(child), ns_ids(parent)
    assert [ns for ns in inner if inner[ns] == outer[ns]] == []
    memberships = Path(f"/proc/{child}/cgroup").read_text()
    assert memberships.count(f"dlprep-{sandbox._proc.pid}-") == len(cgroups.CONTROLLERS)
    assert Path(f"/proc/{child}/uid_map").read_text().split() == ["0", str(os.geteuid()), "1"]


def test_the_zygote_command_line_does_not_name_the_cli(sandbox):
    """Children inherit it in memory (red-team 15 read the CLI's pid there)."""
    cmdline = Path(f"/proc/{sandbox._proc.pid}/cmdline").read_bytes().split(b"\0")
    assert not any(str(os.getpid()).encode() in arg for arg in cmdline)
    assert not any(sandbox._base.encode() in arg for arg in cmdline)  # its name only, no path


def test_the_child_side_holds_no_reference_or_judge(sandbox):
    """By file location: the judge's file, anything under references/ or mutants/, under any name."""
    got = run(sandbox, "import sys\nreport['files'] = sorted(str(getattr(m, '__file__', None)) for m in list(sys.modules.values()))")
    files = got["meta"]["files"]
    assert any(f.endswith(os.path.join("grading", "runner.py")) for f in files)  # the report is real
    assert [f for f in files if zygote.forbidden_file(f)] == []


def test_forbidden_files_are_matched_by_location():
    grader = REPO / "grader"
    assert zygote.forbidden_file(str(grader / "grading" / "judge.py"))
    assert zygote.forbidden_file(str(grader / "references" / "layernorm.py"))
    assert zygote.forbidden_file(str(grader / "mutants" / "layernorm" / "eps_outside_sqrt.py"))
    assert not zygote.forbidden_file(str(grader / "grading" / "runner.py"))
    assert not zygote.forbidden_file(str(grader / "grading" / "checks.py"))
    assert not zygote.forbidden_file(None)


@pytest.mark.parametrize("preload", ["grader.grading.judge", "tests.zygote_smuggler"])
def test_the_zygote_refuses_to_start_holding_the_judge(preload):
    """Preloading the judge fails, also when its file is loaded under an innocent module name."""
    sb = Sandbox(device="cpu", preload=(preload,))
    try:
        with pytest.raises(CannotGrade, match="grading/judge.py|grader.grading.judge|must never hold"):
            sb.layers()
    finally:
        sb.close()


@pytest.mark.parametrize(
    "source, status, detail",
    [
        ("while True: pass", "timeout", "no answer within"),
        ("import time\ntime.sleep(60)", "timeout", "no answer within"),
        ("import os\nos._exit(0)", "crashed", "exited with code 0 before answering"),
        ("import ctypes\nctypes.string_at(0)", "crashed", "killed by SIGSEGV"),
        ("import torch\nx = torch.empty(5 * 10**9)", "memory-limit", "ran out of memory"),
        ("import torch\ntensors = {'x': torch.zeros(20 * 10**6)}", "output-limit", f"the limit is {ANSWER_CAP}"),
    ],
)
def test_supervisor_names_how_the_child_ended(sandbox, source, status, detail):
    started = time.monotonic()
    got = run(sandbox, source, deadline_s=1.5)
    assert (got["status"], detail in got["detail"]) == (status, True), got["detail"]
    assert time.monotonic() - started < 6


def test_output_is_capped_and_a_flood_drained(sandbox):
    got = run(sandbox, "import sys\nsys.stdout.write('y' * (20 << 20))\nsys.stderr.write('e')")
    assert got["status"] == "ok"
    assert got["stdout"].startswith("y" * 100) and "output truncated" in got["stdout"]
    assert len(got["stdout"]) < OUTPUT_KEEP + 200 and got["stderr"] == "e"


def test_answer_round_trip(sandbox):
    got = run(sandbox, "import torch\nprint('hello')\nreport['n'] = 3\ntensors = {'t': torch.arange(3.0)}")
    assert got["meta"] == {"n": 3} and got["tensors"] == {"t": [0.0, 1.0, 2.0]} and got["stdout"] == "hello\n"


def test_dead_zygote_is_cannot_grade_not_a_hang():
    sandbox = Sandbox()  # without preload: the test entries cannot run in its children
    try:
        with pytest.raises(CannotGrade, match="tests.sandbox_entries was not preloaded"):
            run(sandbox, "pass")
        os.kill(sandbox._proc.pid, 9)
        started = time.monotonic()
        with pytest.raises(CannotGrade):
            run(sandbox, "pass")
        assert time.monotonic() - started < 5
    finally:
        sandbox.close()


def test_refuses_to_grade_without_isolation():
    sandbox = Sandbox()
    try:
        sandbox._hello = {"layers": {name: "off: test" for name in lockdown.LAYERS}}
        with pytest.raises(CannotGrade, match="--insecure"):
            run(sandbox, "pass")
    finally:
        sandbox.close()


def test_a_failed_lockdown_is_dlprep_s_fault_not_the_submission_s():
    from grader.sandbox import supervisor, wire

    answer = supervisor.Answer()
    reason = b'{"layer": "seccomp", "reason": "boom"}'
    answer.feed(wire.TAG_FAILED + wire.LENGTH.pack(len(reason)) + reason)
    with pytest.raises(supervisor.SandboxFault, match="seccomp.*boom"):
        supervisor._ended(answer, 256, None, 1.0)


def test_doctor_prints_the_layers_and_exits_0_when_isolated():
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["can_grade"] and doc["layers"]["seccomp"] == "on" and doc["landlock_abi"] >= 1
    child = doc["child"]
    assert doc["isolated"] and doc["missing"] == []
    assert child["no_capabilities"] and child["pid_inside"] == 1 and child["seccomp"] == "filter"
    assert set(facts.REQUIRED_NAMESPACES) <= set(child["namespaces_own"])
    assert child["threads_max"] == cgroups.PIDS_MAX and child["memory_bytes"] > 0
    assert child["uid"] == {"inside": 0, "outside": os.geteuid()}


def test_doctor_says_isolated_only_when_every_part_holds(sandbox):
    from grader.sandbox import doctor

    layers, seen = sandbox.layers(), sandbox.facts()
    doc = {"device": "cpu", "kernel": "k", "landlock_abi": 7, "layers": layers, "child": seen,
           "missing": facts.missing(seen, layers), "can_grade": True}
    doc["isolated"] = not doc["missing"]
    assert any(line.startswith("grading is isolated") for line in doctor.lines(doc))
    shared = {**seen, "namespaces_shared": ["pid", *seen["namespaces_shared"]], "threads_max": None,
              "capabilities": {"bounding": "0x1"}, "no_capabilities": False}
    missing = facts.missing(shared, {**layers, "userns": "off: EPERM"})
    assert missing == ["the child keeps capabilities", "it shares the host's pid namespace",
                       "no thread bound (pids cgroup)"]
    text = "\n".join(doctor.lines({**doc, "child": shared, "missing": missing, "isolated": False,
                                    "layers": {**layers, "userns": "off: EPERM"}}))
    assert "grading is isolated" not in text and "only partly isolated" in text and "Docker" in text


def test_a_judge_past_its_deadline_is_cannot_grade(sandbox, monkeypatch):
    from grader.sandbox import client

    monkeypatch.setattr(client, "JUDGE_DEADLINE_S", 1.0)
    started = time.monotonic()
    with pytest.raises(CannotGrade, match="judge did not finish"):
        sandbox.run({**ENTRY, "judge_entry": "tests.sandbox_entries:slow_judge", "source": "pass"}, deadline_s=3)
    assert time.monotonic() - started < 5
    assert run(sandbox, "report['after'] = 1")["meta"] == {"after": 1}  # and the sandbox goes on


def test_one_judge_process_serves_every_job_out_of_the_children_s_reach(sandbox):
    """grader.sandbox.judgeserver: a child of the zygote, never forked from, not dumpable (its
    memory needs CAP_SYS_PTRACE), the same process job after job."""
    job = {**ENTRY, "judge_entry": "tests.sandbox_entries:judge_process", "source": "pass"}
    first, second = sandbox.run(job, deadline_s=3), sandbox.run(job, deadline_s=3)
    assert first["status"] == second["status"] == "ok"
    assert first["pid"] == second["pid"] != sandbox._proc.pid and first["parent"] == sandbox._proc.pid
    assert first["dumpable"] == 0
    assert Path(f"/proc/{first['pid']}/comm").read_text().strip() == judgeserver.NAME.decode()


def warden_pid(sandbox) -> int:
    """The zygote's warden, once started (it serves right after its layer probe)."""
    return zygote_child(sandbox, lambda pid: Path(f"/proc/{pid}/comm").read_text().strip() == warden.NAME.decode(),
                        "warden process")


def test_one_warden_watches_every_job_and_one_that_dies_is_replaced(sandbox):
    """grader.sandbox.warden: the same process job after job. Killed between jobs, the next job is
    graded by a new one; killed during a job, that job is CannotGrade (its child killed and
    reaped), and the next is graded."""
    sandbox.layers()
    first = warden_pid(sandbox)
    assert run(sandbox, "report['n'] = 1")["meta"] == {"n": 1}
    assert warden_pid(sandbox) == first
    os.kill(first, signal.SIGKILL)
    # Wait for the replacement before sending the job: a warden killed while the job is arriving
    # can take it from the pipe as it dies (pipe_read copies the data before the signal lands), and
    # that job is lost (the client times out, CannotGrade; a batch worker regrades it once).
    second = zygote_child(sandbox, lambda pid: int(pid) != first and Path(f"/proc/{pid}/comm").read_text().strip()
                          == warden.NAME.decode(), "new warden")
    assert run(sandbox, "report['n'] = 2")["meta"] == {"n": 2}
    assert warden_pid(sandbox) == second
    killer = threading.Timer(1.0, os.kill, (second, signal.SIGKILL))
    killer.start()
    with pytest.raises(CannotGrade, match="warden was killed by SIGKILL"):
        run(sandbox, "import time\ntime.sleep(6)", deadline_s=8)
    killer.join()
    assert run(sandbox, "report['n'] = 3")["meta"] == {"n": 3}


def test_the_graded_child_holds_only_its_pipes_and_cannot_write_beside_scratch(sandbox):
    """What the zygote prepares for every child (its Landlock ruleset above all) is closed before the
    submission runs, and scratch's parent is read-only under the tmpfs."""
    source = """
import os
def err(fn):
    try:
        fn()
        return 0
    except OSError as exc:
        return exc.errno
def target(fd):
    try:
        return os.readlink(f'/proc/self/fd/{fd}')
    except OSError:
        return '?'
report['fds'] = [fd for fd in range(64) if err(lambda: os.fstat(fd)) == 0]
# On a GPU machine (H200, torch 2.11) the child makes an eventfd of its own at start-up, after the
# zygote's descriptors are closed: the same before and after the warden; nothing else holds it.
report['own'] = sorted(fd for fd in report['fds'] if fd > 5 and target(fd) == 'anon_inode:[eventfd]')
report['scratch'] = err(lambda: open('inside', 'w').write('ok'))
report['beside'] = err(lambda: open('../beside', 'w').write('no'))
"""
    got = run(sandbox, source)["meta"]
    fds, own = got.pop("fds"), got.pop("own")
    inherited = [fd for fd in fds if fd not in own]
    # 4, the job's pipe, is read and closed; a ruleset or pipe would show. 7 is the child's own
    # /proc/self/status, read for its thread count (grader.grading.guard.Worker).
    assert inherited == [0, 1, 2, 3, 5, 7]
    assert got == {"scratch": 0, "beside": errno.EROFS}


def test_a_request_longer_than_the_pipe_reaches_its_slot_whole(sandbox, monkeypatch):
    """A slot reads its whole request before the zygote forks the next slot, which reads the same
    pipe: a batch's truth made requests ~100 KB, and the next slot took the rest of one as the
    start of its own (both then waited forever)."""
    from grader.sandbox import client

    monkeypatch.setattr(client, "JUDGE_DEADLINE_S", 2.0)  # a lost request fails in seconds, not 80
    monkeypatch.setattr(client, "REPLY_MARGIN_S", 2.0)
    pad = "x" * (4 << 20)
    for i in range(3):
        got = sandbox.run({**ENTRY, "source": f"report['i'] = {i}"}, deadline_s=3, trusted={"pad": pad})
        assert got["meta"] == {"i": i}


def test_a_landlock_that_does_not_bite_takes_its_scope_layer_with_it(tmp_path):
    """The child skips landlock-scope without the landlock layer: the probe must not leave it on."""
    from grader.sandbox import probe_layers

    readable = tmp_path / "secret.py"
    readable.write_text("x = 1\n")
    failed = probe_layers._bites({"landlock": "on", "landlock-scope": "on"}, str(readable))
    assert failed["landlock"].startswith("off: applied, but")
    assert failed["landlock-scope"].startswith("off: needs the landlock layer")


def test_a_cpu_child_on_a_gpu_machine_shows_no_cuda_start_up_warning(sandbox):
    """On a GPU machine torch's first backward asks the driver, which Landlock refuses a CPU child;
    torch's warning about it must not reach the submission's stderr (seen on an H200). Other
    warnings still do."""
    got = run(sandbox, "import warnings\n"
                       "warnings.warn('CUDA initialization: Unexpected error from cudaGetDeviceCount()', UserWarning)\n"
                       "warnings.warn('the submission warns', UserWarning)")
    assert got["status"] == "ok"
    assert "CUDA initialization" not in got["stderr"] and "the submission warns" in got["stderr"]
