"""The watch over one untrusted child: deadline, capped output, capped answer, reaping.

Runs in the warden (grader.sandbox.warden), the sandbox's supervisor process; `spawn` runs in the
zygote, which forks every child. The status it reports comes from how
the child ended, never from anything the child wrote.
"""
from __future__ import annotations

import fcntl
import os
import select
import signal
import time
from dataclasses import dataclass
from typing import Callable

from grader.sandbox.outcome import ChildOutcome
from grader.sandbox import cgroups, child, lockdown, namespaces, wire

ANSWER_CAP = wire.ANSWER_CAP
ANSWER_PIPE_BYTES = 1 << 20  # the answer pipe's buffer (the usual pipe-max-size), 64 KiB by default
F_SETPIPE_SZ = 1031
OUTPUT_KEEP = 64 << 10  # per stream; the rest of a flood is read and dropped
READ_CHUNK = 1 << 16


class SandboxFault(Exception):
    """dlprep's own failure (a lockdown that failed, a broken pipe): not the submission's."""


class Capped:
    """A stream's first OUTPUT_KEEP bytes and a count of the rest."""

    def __init__(self) -> None:
        self.kept = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = max(0, OUTPUT_KEEP - len(self.kept))
        self.kept += data[:room]
        self.dropped += len(data) - min(room, len(data))

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes not shown, limit {OUTPUT_KEEP}]"
        return text


class Answer:
    """The answer pipe's bytes: the trusted tag, then one frame of declared length."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data

    @property
    def tag(self) -> bytes:
        return bytes(self.buf[:1])

    @property
    def declared(self) -> int | None:
        head = self.buf[1 : 1 + wire.LENGTH.size]
        return wire.LENGTH.unpack(head)[0] if len(head) == wire.LENGTH.size else None

    @property
    def received(self) -> int:
        """Bytes of the frame's payload read so far (counted, not copied: this runs per chunk)."""
        return max(0, len(self.buf) - 1 - wire.LENGTH.size)

    def payload(self) -> memoryview:
        """The frame's payload, not copied: a 512-wide residual block's answer is ~4 MB, which the
        warden only passes on to the judge process."""
        return memoryview(self.buf)[1 + wire.LENGTH.size : 1 + wire.LENGTH.size + (self.declared or 0)]

    def complete(self) -> bool:
        return self.declared is not None and self.received >= self.declared


@dataclass
class Child:
    """A forked child, locked down (or locking down) and waiting for its job."""

    pid: int
    job_w: int
    reads: list[int]  # answer, stdout, stderr, record

    def close(self) -> None:
        for fd in (self.job_w, *self.reads):
            try:
                os.close(fd)
            except OSError:
                pass


def spawn(plan: lockdown.Plan) -> Child:
    """Fork the child now, before there is a job: its fork and lockdown cost the grader nothing."""
    pipes = [os.pipe() for _ in range(4)]  # answer, stdout, stderr, record (child.RECORD_FD)
    try:  # a big answer in 16 writes, not 64 (each a wake-up of the warden and a switch back)
        fcntl.fcntl(pipes[0][1], F_SETPIPE_SZ, ANSWER_PIPE_BYTES)
    except OSError:
        pass  # over /proc/sys/fs/pipe-max-size: the default size only costs time
    job_r, job_w = os.pipe()
    plan.slot_pid = os.getpid()
    pid = namespaces.fork(plan.pid_mode)  # into its own PID namespace, where it is pid 1
    if pid == 0:
        os.close(job_w)
        for r, _ in pipes:
            os.close(r)
        child.main(plan, (*(w for _, w in pipes), job_r))
    os.close(job_r)
    for _, w in pipes:
        os.close(w)
    return Child(pid, job_w, [r for r, _ in pipes])


def run(proc: Child, job: dict, plan: lockdown.Plan, deadline_s: float, meanwhile: Callable[[], None],
        reap: Callable[[], "object"] | None = None) -> ChildOutcome:
    """Hand the child its job, call meanwhile() (the child runs on the other core), then watch it
    until it answers, ends or runs out of time. reap() -> how it ended (status, ru_utime, ru_stime,
    oom_kills): from its parent, the zygote, when the warden watches it (grader.sandbox.warden); by
    default this process is the parent and reaps it itself."""
    start = time.monotonic()
    try:
        wire.write_json(proc.job_w, {"job": job, "deadline_s": deadline_s})
    except BrokenPipeError:
        pass  # it died in lockdown: the answer pipe says why
    try:
        try:
            meanwhile()
        except BaseException:
            kill(proc.pid, plan)
            (reap or _reaper(proc.pid, plan))()
            raise
        return _watch(proc.pid, proc.reads, start, deadline_s, plan, reap or _reaper(proc.pid, plan))
    finally:
        proc.close()


@dataclass
class Ended:
    """How a child ended, as its parent reaped it."""

    status: int
    ru_utime: float
    ru_stime: float
    oom_kills: int


def _reaper(pid: int, plan: lockdown.Plan) -> Callable[[], Ended]:
    def reap() -> Ended:
        _, status, usage = os.wait4(pid, 0)
        return Ended(status, usage.ru_utime, usage.ru_stime, cgroups.oom_kills(plan.cgroup_paths))
    return reap


def _watch(pid: int, reads: list[int], start: float, deadline_s: float, plan: lockdown.Plan,
           reap: Callable[[], Ended]) -> ChildOutcome:
    answer, out, err, records = Answer(), Capped(), Capped(), Capped()
    sinks = dict(zip(reads, (answer, out, err, records)))
    pidfd = os.pidfd_open(pid)
    for fd in reads:
        os.set_blocking(fd, False)
    status, detail = None, ""
    try:
        while status is None:
            left = start + deadline_s - time.monotonic()
            if left <= 0:
                status, detail = "timeout", f"no answer within {deadline_s:g} s"
                break
            ready, _, _ = select.select([*sinks, pidfd], [], [], left)
            for fd in ready:
                if fd != pidfd and not _drain(fd, sinks[fd]):
                    del sinks[fd]
            status, detail = _judge_answer(answer)
            if status is None and pidfd in ready:
                for fd in list(sinks):  # what it wrote just before it ended
                    _drain(fd, sinks[fd])
                status, detail = _judge_answer(answer)
                break
    finally:
        kill(pid, plan)
        os.close(pidfd)
    ended = reap()
    _drain(reads[3], records)  # records written just before the answer completed the watch
    if status is None:
        status, detail = _ended(answer, ended.status, ended, deadline_s, ended.oom_kills)
    meta, tensors = None, None
    if status == "ok":
        try:
            meta, tensors = wire.decode_answer(answer.payload())
        except ValueError as exc:
            status, detail = "crashed", f"sent a malformed answer ({exc})"
    return ChildOutcome(
        status=status, detail=detail, meta=meta, tensors=tensors, stdout=out.text(), stderr=err.text(),
        records=bytes(records.kept),
        duration_s=time.monotonic() - start, layers=dict(plan.layers),
    )


def _drain(fd: int, sink) -> bool:
    """Read what is there; False at end of file."""
    size = ANSWER_PIPE_BYTES if isinstance(sink, Answer) else READ_CHUNK
    while True:
        try:
            data = os.read(fd, size)
        except BlockingIOError:
            return True
        if not data:
            return False
        sink.feed(data)
        if isinstance(sink, Answer) and (sink.complete() or (sink.declared or 0) > ANSWER_CAP):
            return True  # decide before reading further


def _judge_answer(answer: Answer) -> tuple[str | None, str]:
    if answer.tag == wire.TAG_FAILED:
        return None, ""  # decided once the child has ended and the reason is in
    declared = answer.declared
    if declared is not None and declared > ANSWER_CAP:
        return "output-limit", f"declared an answer of {declared} bytes; the limit is {ANSWER_CAP}"
    if answer.complete():
        return "ok", ""
    return None, ""


def _ended(answer: Answer, wait_status: int, usage, deadline_s: float, oom_kills: int = 0) -> tuple[str, str]:
    """How a child that ended without a whole answer is reported."""
    if answer.tag != wire.TAG_READY:
        raise SandboxFault(_lockdown_failure(answer, wait_status))
    if os.WIFEXITED(wait_status):
        code = os.WEXITSTATUS(wait_status)
        if code == child.EXIT_MEMORY:
            return "memory-limit", "ran out of memory"
        if code == child.EXIT_THREADS:
            return "crashed", ("left a thread of its own running when its code returned: the grader "
                               "does not read on beside it (join every thread you start)")
        if code - namespaces.SIGNAL_EXIT in namespaces.HANDLED_SIGNALS:  # pid 1's stand-in for a signal death
            return _signalled(code - namespaces.SIGNAL_EXIT, usage, deadline_s, oom_kills)
        sent = f" after sending {answer.received} of {answer.declared} bytes" if answer.declared else ""
        return "crashed", f"exited with code {code} before answering{sent}"
    return _signalled(os.WTERMSIG(wait_status), usage, deadline_s, oom_kills)


def _signalled(sig: int, usage, deadline_s: float, oom_kills: int) -> tuple[str, str]:
    if sig == signal.SIGKILL and oom_kills:  # the kernel, at the memory cgroup's limit
        return "memory-limit", "killed at its memory limit (memory cgroup)"
    cpu = usage.ru_utime + usage.ru_stime
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= lockdown.cpu_limit(deadline_s)):
        return "timeout", f"used its CPU time limit ({cpu:.1f} s)"
    if sig == signal.SIGKILL:  # not ours and not the CPU limit: the kernel's out-of-memory killer
        return "memory-limit", "killed by SIGKILL (out of memory)"
    return "crashed", f"killed by {signal.Signals(sig).name}"


def _lockdown_failure(answer: Answer, wait_status: int) -> str:
    if answer.tag == wire.TAG_FAILED and answer.complete():
        reason = bytes(answer.payload()).decode("utf-8", "replace")
        return f"the child's lockdown failed: {reason}"
    return f"the child ended during lockdown (wait status {wait_status})"


def kill(pid: int, plan: lockdown.Plan) -> None:
    """SIGKILL the child's process group (its own session), the child (as pid 1 of its PID
    namespace, with it everything in that namespace), and with the uid layer but no PID namespace
    everything running as the slot's uid."""
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    if plan.on("uid") and not plan.on("pidns"):
        _kill_uid(plan.slot_uid)


def _kill_uid(uid: int) -> None:
    """kill(-1) as the uid itself reaches every process of that uid and nothing else."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
