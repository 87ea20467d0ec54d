"""The warden: the sandbox's one supervisor process, forked once by the zygote, never forked from.

The zygote forks each child itself (into its PID namespace, ahead of its job) and hands the
warden the parent's ends of the child's pipes over a socket (SCM_RIGHTS); it keeps only the child's
pid, to reap it. The warden reads each job from the CLI's pipe, gives it to the waiting child,
watches it (grader.sandbox.supervisor), hands the job and the child's outcome to the judge process
and writes the judge's answer to the CLI. The exit status and resource usage, which only the
parent can read, come from the zygote: the warden kills the child, asks for it to be reaped, and
sends that pid no signal afterwards (the reaping frees the pid for reuse).

Why one warden instead of a slot forked per job: a slot was a fork of the zygote (torch loaded,
~250 MB resident) that forked the child, so each job paid a second fork of that address space, the
slot's own copy-on-write faults and the teardown of its page tables at its exit: ~12 ms of CPU, a
third of an empty job (measured with perf; docs/DESIGN.md, "Sandbox layers").

Why this keeps the trust model: children are forked from the zygote alone, which still never reads
a job or anything a child wrote (only pids, wait statuses and the warden's one-byte notes); the
warden, like the judge, is never forked from and runs no submission code. What it keeps between
jobs is what the judge process keeps too (the data of jobs it handled, now garbage); no child can
reach it: a child's seccomp filter pins every pid argument to itself, its PID namespace does not
hold the warden, Landlock scopes its signals, and the warden is not dumpable.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys

from grader.sandbox import judgeserver, lockdown, supervisor, wire

PR_SET_NAME, PR_SET_DUMPABLE, PR_SET_PDEATHSIG = 15, 4, 1
NAME = b"dlprep-warden"  # its comm (ps, /proc/PID/comm): the tests tell it from the children
DEFAULT_JUDGE_DEADLINE_S = 60.0  # the judge is trusted, but it runs the reference: bound it too
# One byte from the warden to the zygote: it took a job (read whole: only then may the next child be
# forked, and the CLI may send the next request) / found the CLI's pipe closed (it exits) / has
# killed the child and wants it reaped / wrote the job's answer.
TOOK, CLOSED, REAP, DONE = b"T", b"C", b"R", b"D"
MESSAGE_BYTES = 4096
CHILD_FDS = 5  # job_w and the answer, stdout, stderr and record read ends (supervisor.Child)


def link() -> tuple[socket.socket, socket.socket]:
    """(the zygote's end, the warden's end): ordered messages, each whole."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    for end in (ours, theirs):
        end.set_inheritable(False)
    return ours, theirs


def hand_over(end: socket.socket, proc: supervisor.Child, slot_uid: int) -> None:
    """In the zygote: give the warden a child's pipes and pid (the zygote closes its own copies)."""
    head = json.dumps({"child": proc.pid, "slot_uid": slot_uid}).encode()
    try:
        socket.send_fds(end, [head], [proc.job_w, *proc.reads])
    except OSError:
        pass  # the warden is gone: the zygote sees it end, and ends this child (its job pipe is closed)
    finally:
        proc.close()


def send_reaped(end: socket.socket, pid: int, status: int, usage, oom_kills: int) -> None:
    """In the zygote: how the child the warden asked about ended (nothing if the warden is gone)."""
    try:
        end.send(json.dumps({"reaped": pid, "status": status, "ru_utime": usage.ru_utime,
                             "ru_stime": usage.ru_stime, "oom_kills": oom_kills}).encode())
    except OSError:
        pass


def start(control: int, reply: int, ends: tuple[socket.socket, socket.socket], plan: lockdown.Plan,
          judge: judgeserver.Doorbell, close_fds: tuple[int, ...]) -> int:
    """Fork the warden; its pid. close_fds: the zygote's descriptors it must not hold."""
    pid = os.fork()
    if pid == 0:
        try:
            _warden(control, reply, ends, plan, judge, close_fds)
        finally:
            os._exit(1)
    return pid


def _warden(control: int, reply: int, ends: tuple[socket.socket, socket.socket], plan: lockdown.Plan,
            judge: judgeserver.Doorbell, close_fds: tuple[int, ...]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # it dies with the zygote
    libc.prctl(PR_SET_NAME, NAME, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    judgeserver.release_prepared()
    zygote_end, end = ends
    zygote_end.close()
    judge.recv.close()  # the judge's end of the doorbell: only the judge reads it
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    inbox = _Inbox(end)
    while True:
        idle = inbox.next_child()
        if idle is None:  # the zygote is gone
            os._exit(0)
        proc, slot_uid = idle
        try:
            # The whole request before TOOK: TOOK makes the zygote fork the next child.
            data = wire.read_exact(control, wire.read_length(control))
        except wire.WireError:
            proc.close()  # the child reads no job and exits
            end.send(CLOSED)
            os._exit(0)
        end.send(TOOK)
        plan.slot_uid = slot_uid
        try:
            request = json.loads(data)
            message = {"ok": True, "result": grade(request, proc, plan, judge, lambda: inbox.reaped(proc.pid))}
        except Exception as exc:  # noqa: BLE001 - reported to the CLI as dlprep's failure
            message = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            proc.close()
        wire.write_json(reply, message)
        end.send(DONE)


class _Inbox:
    """The zygote's messages, in order: children handed over (kept until their job) and reapings."""

    def __init__(self, end: socket.socket) -> None:
        self.end = end
        self.children: list[tuple[supervisor.Child, int]] = []
        self.reapings: dict[int, supervisor.Ended] = {}

    def _receive(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.end, MESSAGE_BYTES, CHILD_FDS)
        except OSError:
            return False
        if not data:
            return False
        message = json.loads(data)
        if "child" in message:
            proc = supervisor.Child(message["child"], fds[0], list(fds[1:]))
            self.reapings.pop(proc.pid, None)
            self.children.append((proc, message["slot_uid"]))
        elif "reaped" in message:
            self.reapings[message["reaped"]] = supervisor.Ended(
                message["status"], message["ru_utime"], message["ru_stime"], message["oom_kills"])
        return True

    def next_child(self) -> tuple[supervisor.Child, int] | None:
        while not self.children:
            if not self._receive():
                return None
        return self.children.pop(0)

    def reaped(self, pid: int) -> supervisor.Ended:
        """Ask the zygote to reap the (killed) child, and wait for how it ended."""
        self.end.send(REAP)
        while pid not in self.reapings:
            if not self._receive():
                raise supervisor.SandboxFault("the zygote ended before reaping the child")
        return self.reapings.pop(pid)


def grade(request: dict, proc: supervisor.Child, plan: lockdown.Plan, judge: judgeserver.Doorbell, reap) -> dict:
    job, deadline_s = request["job"], float(request["deadline_s"])
    child_module = job["child_entry"].partition(":")[0]
    if child_module not in sys.modules:
        os.kill(proc.pid, signal.SIGKILL)
        raise supervisor.SandboxFault(f"the child entry's module {child_module} was not preloaded by the zygote")
    outcome = supervisor.run(proc, job, plan, deadline_s, lambda: None, reap)
    # The child is reaped: only now does the judge see the job, and only the judge's copy holds
    # what is trusted.
    if "trusted" in request:
        job = {**job, "trusted": request["trusted"]}
    judge_deadline_s = float(request.get("judge_deadline_s", DEFAULT_JUDGE_DEADLINE_S))
    try:
        return judgeserver.ask(judge, job["judge_entry"], job, outcome, judge_deadline_s)
    except judgeserver.JudgeGone as exc:
        raise supervisor.SandboxFault(str(exc)) from None
