"""The judge process: forked once by the zygote, it judges every job of its sandbox, warm.

A slot (a process forked per job, before grader.sandbox.warden) used to become its job's judge, so
each job paid a fresh fork's first-use costs in the judge (importing it, copy-on-write faults,
autograd's start: about as much CPU as the judging itself on a correct LayerNorm) and computed the
float64 truth again. Now the warden, once the child is reaped, hands the job and the child's
outcome to this process and relays its answer.

Why this keeps the trust model: children are still forked from the zygote alone, which never holds
the judge, a reference, a mutant or a job; this process is never forked from, runs no submission
code, and is out of every child's reach (its own PID, user and IPC namespaces, seccomp denying ptrace,
process_vm_* and pidfd_getfd, Landlock denying /proc; and it is not dumpable, so /proc/PID/mem needs
CAP_SYS_PTRACE where those layers are off). What it keeps between jobs is the truth per task and seed
(handed out as copies, so no job's judging can change another's) and imported code.

Each job is a fresh connection: the warden makes a socket pair and passes one end through the
doorbell (a datagram socket pair the zygote keeps both ends of), then writes the request and reads
the answer. A warden that dies mid-request costs only its own connection; requests sent while no judge
runs wait in the doorbell for the next one, which the zygote starts as soon as the last one ends
(its deadline passed, it crashed, or it retired after MAX_JOBS).
"""
from __future__ import annotations

import ctypes
import importlib
import json
import math
import os
import random
import signal
import socket
import sys
import time

from grader.sandbox import wire
from grader.sandbox.outcome import ChildOutcome

PR_SET_NAME, PR_SET_DUMPABLE = 15, 4
NAME = b"dlprep-judge"  # its comm (ps, /proc/PID/comm): the tests tell it from the warden and children
# A fresh judge process now and then: whatever one accumulates (freed memory it keeps, caches) stays
# bounded. Starting one costs a fork and the judge's import, ~20 ms, once per MAX_JOBS jobs.
MAX_JOBS = 500
REQUEST_DEADLINE_S = 30.0  # the warden writes its request at once; one that stalls is dropped
REPLY_MARGIN_S = 5.0  # on top of the judge's deadline, before the warden stops waiting
SERVING = False  # True in the judge process: what it computes for one job may serve the next


class JudgeGone(Exception):
    """The judge ended without answering (its deadline passed, or it crashed)."""


class Doorbell:
    """The zygote's handle on its judge process: the doorbell and the judge's pid."""

    def __init__(self, close_fds: tuple[int, ...], preload: tuple[str, ...]) -> None:
        """close_fds: the zygote's descriptors a judge must not hold (the CLI's pipes); preload: the
        modules it imports as it starts (the usual judge). `close_fds` may be replaced before a
        later start (the zygote's link to a new warden)."""
        self.send, self.recv = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for sock in (self.send, self.recv):
            sock.set_inheritable(False)
        self.close_fds, self._preload = close_fds, preload
        self.pid = 0

    def start(self) -> None:
        """Fork a judge process (the last one has ended)."""
        pid = os.fork()
        if pid == 0:
            try:
                _judge_process(self.recv, (*self.close_fds, self.send.fileno()), self._preload)
            finally:
                os._exit(1)
        self.pid = pid

    def pidfd(self) -> int | None:
        """A pidfd of the judge process (readable once it ends), or None when it is gone already."""
        try:
            return os.pidfd_open(self.pid)
        except OSError:
            return None

    def ended(self) -> bool:
        """Has the judge process ended? (Reaps it if so.)"""
        if not self.pid:
            return True
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid = self.pid
        return pid == self.pid

    def close(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = 0


def ask(doorbell: Doorbell, entry: str, job: dict, outcome: ChildOutcome, deadline_s: float) -> dict:
    """In the warden: the judge's result for this job and outcome (entry: "module:function"). Raises
    JudgeGone when the judge ends or stays silent, and RuntimeError with the judge's own failure."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with mine:
        with theirs:
            socket.send_fds(doorbell.send, [b"j"], [theirs.fileno()])
        head = {"entry": entry, "job": job, "deadline_s": deadline_s,
                "outcome": {"status": outcome.status, "detail": outcome.detail, "meta": outcome.meta,
                            "stdout": outcome.stdout, "stderr": outcome.stderr,
                            "duration_s": outcome.duration_s, "layers": outcome.layers}}
        started = time.monotonic()
        try:
            wire.write_frame(mine.fileno(), json.dumps(head).encode())
            wire.write_frame(mine.fileno(), outcome.tensors or b"")  # a view of the answer: not copied
            wire.write_frame(mine.fileno(), outcome.records)
            reply = wire.read_json(mine.fileno(), started + deadline_s + REPLY_MARGIN_S)
        except (OSError, wire.WireError, ValueError) as exc:
            if time.monotonic() - started >= deadline_s * 0.9:
                raise JudgeGone("the judge did not finish within its deadline") from None
            raise JudgeGone(f"the judge process ended without answering ({exc})") from None
    if not reply.get("ok"):
        raise RuntimeError(reply.get("error"))
    return reply["result"]


def _judge_process(doorbell: socket.socket, close_fds: tuple[int, ...], preload: tuple[str, ...]) -> None:
    global SERVING
    SERVING = True
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: it dies with the zygote
    libc.prctl(PR_SET_NAME, NAME, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    release_prepared()
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    for name in preload:  # the usual judge, warm before the first job asks
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the job that names it reports the failure
            pass
    state = _global_state()
    for _ in range(MAX_JOBS):
        try:
            _, fds, _, _ = socket.recv_fds(doorbell, 16, 1)
        except OSError:
            break
        for fd in fds:
            with socket.socket(fileno=fd) as conn:
                _serve(conn.fileno(), state)
    os._exit(0)


def release_prepared() -> None:
    """In a judge or warden forked from a batch's zygote after it prepared its task: the real
    kernels of the task's forbidden ops back (grader.grading.oprecord.prepare registered raising
    ones for the children, and this process may run those ops)."""
    oprecord = sys.modules.get("grader.grading.oprecord")
    if oprecord is not None:
        oprecord.release_prepared()


def _serve(fd: int, state) -> None:
    try:
        head = json.loads(wire.read_exact(fd, wire.read_length(fd, time.monotonic() + REQUEST_DEADLINE_S)))
        deadline = time.monotonic() + REQUEST_DEADLINE_S
        tensors = wire.read_exact(fd, wire.read_length(fd, deadline), deadline)
        records = wire.read_exact(fd, wire.read_length(fd, deadline), deadline)
    except (OSError, wire.WireError, ValueError):
        return  # the warden is gone: nobody to answer
    outcome = ChildOutcome(**head["outcome"], tensors=tensors or None, records=records)
    _restore(state)  # as a fresh fork of the zygote would start: the same random state every job
    module, _, function = head["entry"].partition(":")
    try:
        judge = getattr(importlib.import_module(module), function)
        signal.alarm(max(1, math.ceil(float(head["deadline_s"]))))  # SIGALRM ends this process
        try:
            message = {"ok": True, "result": judge(head["job"], outcome)}
        finally:
            signal.alarm(0)
    except Exception as exc:  # noqa: BLE001 - reported to the CLI as dlprep's failure
        message = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    try:
        wire.write_json(fd, message)
    except OSError:
        pass  # the warden stopped waiting


def _global_state():
    """The random generators' states as the zygote left them, which every fresh fork used to start
    from: a reference or mutant drawing from them (nn.Linear's init) sees the same numbers each job."""
    import numpy
    import torch

    return torch.get_rng_state(), random.getstate(), numpy.random.get_state()


def _restore(state) -> None:
    import numpy
    import torch

    torch_state, python_state, numpy_state = state
    torch.set_rng_state(torch_state)
    random.setstate(python_state)
    numpy.random.set_state(numpy_state)
