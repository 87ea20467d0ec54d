"""Hostile submissions through the real grading path (grade_source -> sandbox -> runner -> judge).

Each file in tests/hostile/ is a working solution with an attack added between `# >>> attack` and
`# <<< attack` markers. The hostile file must not pass, must end with the error kind its attack
earns (where one applies), within a bounded time, and leave no trace on the host: no new file in
$HOME, /tmp or the cwd, no process, no cgroup, no connection to listeners on 127.0.0.1, ::1 and a
UNIX socket, and the host as it was: this process's limits, priority, affinity and I/O class (it is
the grading CLI, whose pid the attacks are given), System V IPC objects, the host name.
Its benign twin (the same file, the attack blocks removed) must pass: a sandbox that broke every
submission would fail here.
"""
from __future__ import annotations

import ctypes
import os
import re
import resource
import socket
import time
from pathlib import Path

import pytest

from grader.bank.catalog import load_catalog
from grader.grading.submit import grade_source
from test_trusted_side import check_trusted_side
from grader.sandbox import cgroups, judgeserver, warden

HOSTILE_DIR = Path(__file__).parent / "hostile"
NAMES = sorted(p.stem for p in HOSTILE_DIR.glob("*.py"))
ATTACK = re.compile(r"^[ \t]*# >>> attack\n.*?^[ \t]*# <<< attack\n", re.MULTILINE | re.DOTALL)
DEADLINE_S = 3.0
BOUND_S = 15.0  # the deadline, the judge and a 200 MB drain on 2 busy cores
# The source's placeholders for the listeners the test opens.
PORT, UNIX_PATH = "47281", "/tmp/dlprep-hostile.sock"
CLI_PID, ZYGOTE_PID = "4747474", "4848484"  # and the pids an attacker is told (the strongest case)
TRACE_NAMES = ("dlprep-hostile", "fill-", "leak.py")  # what the attacks write
KIND = {
    "loop_at_import": "timeout", "loop_in_forward": "timeout", "sleep_ignoring_sigterm": "timeout",
    "alloc_20gb": "memory-limit",
    "exit_at_import": "crashed", "os_exit_in_forward": "crashed", "segfault": "crashed",
    "big_result": "output-limit",
    # The host-side attacks (red-team 02-16) raise where they are refused: an import-error is the
    # proof that they were, where a fail might have other causes.
    **dict.fromkeys(("prlimit_cli_nofile", "prlimit_cli_fsize", "prlimit_cli_cpu", "sysv_shm_persist",
                     "sabotage_next_job", "memfd_outside_as", "thread_pid_exhaustion", "memory_secrets",
                     "sigio_fsetown", "host_name_clock_klog"), "import-error"),
}


def benign(source: str) -> str:
    return ATTACK.sub("", source)


@pytest.fixture(scope="module")
def tasks():
    return load_catalog().tasks


@pytest.fixture(scope="module")
def listeners(tmp_path_factory):
    """TCP on 127.0.0.1 and ::1 (one port), and a UNIX socket: none may ever see a connection."""
    tcp4 = socket.create_server(("127.0.0.1", 0))
    port = tcp4.getsockname()[1]
    tcp6 = socket.create_server(("::1", port), family=socket.AF_INET6)
    path = str(tmp_path_factory.mktemp("sock") / "listener.sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(path)
    unix.listen()
    socks = [tcp4, tcp6, unix]
    for s in socks:
        s.setblocking(False)
    yield {"port": str(port), "unix": path, "sockets": socks}
    for s in socks:
        s.close()


def task_for(source: str, tasks):
    if "class RMSNorm" in source:
        return tasks["rmsnorm"]
    if "class BatchNorm1d" in source:
        return tasks["batchnorm1d"]
    if "class CausalSelfAttention" in source:
        return tasks["causal-self-attention"]
    if "class PreNormResidual" in source or "class PostNormResidual" in source:
        return tasks["prenorm-residual" if "class PreNormResidual" in source else "postnorm-residual"]
    return tasks["residual-block" if "class ResidualBlock" in source else "layernorm"]


def traces(*dirs: Path) -> set[str]:
    """Files the attacks would leave. Matched by name: other processes share /tmp and the cwd."""
    return {str(p) for d in dirs if d.is_dir() for p in d.iterdir() if p.name.startswith(TRACE_NAMES)}


SERVERS = (judgeserver.NAME.decode(), warden.NAME.decode())


def zygote_family(sandbox) -> dict[int, int]:
    """pid -> parent pid of the processes forked from the zygote (children, anything they
    started): they share its command line. The judge and warden processes (children of the zygote
    that serve every job, grader.sandbox.judgeserver and grader.sandbox.warden) are no job's."""
    zygote = sandbox._proc.pid
    mine = Path(f"/proc/{zygote}/cmdline").read_bytes()
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != zygote:
            try:
                if (entry / "cmdline").read_bytes() == mine:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if parent == zygote and (entry / "comm").read_text().strip() in SERVERS:
                        continue
                    found[int(entry.name)] = parent
            except (OSError, IndexError, ValueError):
                pass  # ended meanwhile
    return found


def leftovers(sandbox, before: dict[int, int]) -> list[int]:
    """Processes that outlived the job: any that served it (they existed before it), and any that
    does not descend from the zygote (a daemon reparented away). The next job's waiting child
    does and, while a non-root zygote forks it, the short-lived intermediate
    (grader.sandbox.namespaces) whose child is the waiting one for a moment."""
    zygote = sandbox._proc.pid

    def descends(pid: int, family: dict[int, int]) -> bool:
        for _ in range(4):  # intermediate, child
            pid = family.get(pid, 0)
            if pid == zygote:
                return True
        return False

    for _ in range(20):  # a child whose intermediate is exiting is reparented a moment later
        after = zygote_family(sandbox)
        found = sorted(pid for pid in after if pid in before or not descends(pid, after))
        if not found:
            break
        time.sleep(0.05)
    return found


def job_cgroups(sandbox) -> list[str]:
    """The zygote's per-job cgroups: after a job only the waiting child has one."""
    try:
        hierarchy = cgroups.find()
    except OSError:
        return []
    prefix = f"dlprep-{sandbox._proc.pid}-"
    return sorted(os.path.join(parent, entry) for parent in set(hierarchy.parents.values())
                  for entry in os.listdir(parent) if entry.startswith(prefix))


def host_state() -> dict:
    """What an attack on the host would change. This process runs the sandbox, like the CLI."""
    me = os.getpid()
    limits = {name: resource.prlimit(me, getattr(resource, name)) for name in dir(resource) if name.startswith("RLIMIT_")}
    ioprio = ctypes.CDLL(None, use_errno=True).syscall(252, 1, me)  # ioprio_get(IOPRIO_WHO_PROCESS, me)
    ipc = {kind: Path(f"/proc/sysvipc/{kind}").read_text() for kind in ("shm", "msg", "sem")}
    return {"limits": limits, "nice": os.getpriority(os.PRIO_PROCESS, me), "ioprio": ioprio,
            "affinity": sorted(os.sched_getaffinity(me)), "ipc": ipc, "hostname": socket.gethostname()}


def connections(listeners) -> list[str]:
    got = []
    for s in listeners["sockets"]:
        try:
            conn, addr = s.accept()
            got.append(f"{s.family.name}: {addr!r}")
            conn.close()
        except BlockingIOError:
            pass
    return got


def grade(name: str, tasks, sandbox, listeners, attack: bool = True):
    source = (HOSTILE_DIR / f"{name}.py").read_text()
    source = source.replace(PORT, listeners["port"]).replace(UNIX_PATH, listeners["unix"])
    source = source.replace(CLI_PID, str(os.getpid())).replace(ZYGOTE_PID, str(sandbox._proc.pid))
    if not attack:
        source = benign(source)
    return grade_source(source, f"{name}.py", task_for(source, tasks), sandbox, deadline_s=DEADLINE_S)


def test_there_are_enough_hostile_files_each_with_an_attack():
    assert len(NAMES) >= 25
    for name in NAMES:
        source = (HOSTILE_DIR / f"{name}.py").read_text()
        assert benign(source) != source and "attack" not in benign(source).split('"""', 2)[2], name


@pytest.mark.parametrize("name", NAMES)
def test_hostile_submission_fails_and_leaves_no_trace(name, tasks, sandbox, listeners):
    watched = [Path.home(), Path("/tmp"), Path.cwd()]
    before = traces(*watched)
    sandbox.layers()  # the zygote is up
    family, host = zygote_family(sandbox), host_state()
    started = time.monotonic()
    result = grade(name, tasks, sandbox, listeners)
    elapsed = time.monotonic() - started
    assert result.verdict != "pass", result
    if name in KIND:
        assert result.error is not None and result.error.kind == KIND[name], result.error
    check_trusted_side(name, result)  # the trusted side's reproducers: the outcome each must reach
    assert elapsed < BOUND_S
    assert traces(*watched) == before
    assert leftovers(sandbox, family) == []
    assert len(job_cgroups(sandbox)) <= len(cgroups.CONTROLLERS)  # the idle child's, one per hierarchy
    assert connections(listeners) == []
    assert host_state() == host


@pytest.mark.parametrize("name", NAMES)
def test_benign_twin_passes(name, tasks, sandbox, listeners):
    result = grade(name, tasks, sandbox, listeners, attack=False)
    assert result.verdict == "pass", (result.error, [c.name for c in result.checks if not c.passed])


def test_the_job_after_a_sabotage_attempt_still_passes(tasks, sandbox, listeners):
    """The attack aims at the next job's waiting child (red-team 04: graded `crashed`)."""
    grade("sabotage_next_job", tasks, sandbox, listeners)
    result = grade("sabotage_next_job", tasks, sandbox, listeners, attack=False)
    assert result.verdict == "pass", result.error


def test_a_flood_is_shown_capped(tasks, sandbox, listeners):
    result = grade("stdout_flood", tasks, sandbox, listeners)
    assert "not shown" in result.output and len(result.output) < 1 << 20
