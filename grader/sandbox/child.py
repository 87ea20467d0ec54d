"""The untrusted child, from fork to exit: wire its pipes, lock down, wait for the job, run the entry.

The zygote forks the child before the job arrives, so the fork and the whole lockdown happen while the
grader is idle. Until TAG_READY is written only dlprep's code has run here, so the first byte on the
answer pipe is trustworthy; everything after it may be forged. The child entry must already be
imported (the zygote preloads it): once locked down, the child cannot read dlprep's files.
"""
from __future__ import annotations

import fcntl
import os
import sys
import traceback
from typing import Callable, NoReturn

from grader.sandbox import lockdown, wire

ANSWER_FD, JOB_FD = 3, 4  # the pipes' numbers in the child, after the standard three
# A pipe the warden reads while the child runs: trusted code in the child (grader.grading.oprecord's
# kernels) writes a byte the moment something happens, so nothing done afterwards can take it back.
RECORD_FD = 5
RULESET_FD = 6  # the zygote's prepared Landlock ruleset during lockdown only (lockdown.apply closes it)
# The child's own /proc/self/status, opened before Landlock closes /proc: the runner reads its
# thread count after each call into the submission (grader.grading.guard.Worker).
STATUS_FD = 7
EXIT_MEMORY = 113  # the entry ran out of memory (MemoryError, or torch's failed allocation)
# The submission left a thread of its own running when its call returned: the runner's main thread
# stops there, since such a thread could change anything it goes on to use (guard.Worker).
EXIT_THREADS = 114
EXIT_ERROR = 1  # the entry raised
MEMORY_MESSAGES = ("can't allocate memory", "out of memory", "not enough memory")
# Set by the zygote from Sandbox(prewarm=...): warm the runner up while idle (see _prewarm).
PREWARM = True
IDLE_CPU_S = 60.0  # RLIMIT_CPU until the job says its deadline (waiting for it costs no CPU)
# (len(sys.modules), dlprep's module names) as the zygote saw them before forking its first child:
# the names a child takes out of sys.modules before the submission runs (grader.grading.guard).
ZYGOTE_MODULES: tuple[int, tuple[str, ...]] = (-1, ())


# What send() calls, bound by the zygote (bind_sender) once torch and safetensors are imported: send()
# runs on the main thread after the submission, which may have put modules of its own in sys.modules
# under those names, so it imports nothing (tests/hostile/forge_structure_from_a_planted_module).
# Module globals, not a dict's items: the namespace snapshot send() restores covers rebinding them.
_STRIDED = _TENSOR_SPEC = _SERIALIZE = None


def bind_sender() -> None:
    """In the zygote, after importing torch and safetensors (the CLI never imports torch)."""
    global _STRIDED, _TENSOR_SPEC, _SERIALIZE
    import torch
    from safetensors import TensorSpec, serialize

    _STRIDED, _TENSOR_SPEC, _SERIALIZE = torch.strided, TensorSpec, serialize


def list_modules() -> None:
    """In the zygote, once nothing more will be imported: see ZYGOTE_MODULES."""
    global ZYGOTE_MODULES
    own = __name__.split(".")[0]  # "grader"
    ZYGOTE_MODULES = (len(sys.modules), tuple(n for n in sys.modules if n == own or n.startswith(own + ".")))


def main(plan: lockdown.Plan, fds: tuple[int, int, int, int, int]) -> NoReturn:
    """fds: the write ends of the answer, stdout, stderr and record pipes, and the read end of the job pipe.
    Never returns: an exception unwinding out of here would go on running the zygote's code."""
    try:
        _main(plan, fds)
    finally:
        os._exit(EXIT_ERROR)


def _main(plan: lockdown.Plan, fds: tuple[int, int, int, int, int]) -> NoReturn:
    # Moved above the target numbers first, so no dup2 below overwrites a pipe still to be placed.
    ruleset = plan.landlock_fd
    answer, out, err, record, job, ruleset = (
        fcntl.fcntl(fd, fcntl.F_DUPFD, RECORD_FD + 1) if 0 <= fd <= RECORD_FD else fd
        for fd in (*fds, ruleset))
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.dup2(answer, ANSWER_FD)
    os.dup2(job, JOB_FD)
    os.dup2(record, RECORD_FD)
    if ruleset >= 0:  # the zygote's Landlock ruleset, until lockdown applies and closes it
        os.dup2(ruleset, RULESET_FD)
        plan.landlock_fd = RULESET_FD
    try:
        status = os.open("/proc/self/status", os.O_RDONLY)
        if status != STATUS_FD:
            os.dup2(status, STATUS_FD)
            os.close(status)
    except OSError:  # no /proc: guard.Worker falls back to Python's own thread count
        pass
    os.closerange(STATUS_FD + 1, os.sysconf("SC_OPEN_MAX"))  # the zygote's control pipes above all
    try:
        lockdown.apply(plan, IDLE_CPU_S)
        _enter_scratch(plan.scratch)
    except lockdown.LockdownError as exc:
        wire.write_all(ANSWER_FD, wire.TAG_FAILED)
        wire.write_json(ANSWER_FD, {"layer": exc.layer, "reason": exc.reason})
        os._exit(EXIT_ERROR)
    wire.write_all(ANSWER_FD, wire.TAG_READY)
    if PREWARM:
        _prewarm()
    try:
        request = wire.read_json(JOB_FD)
    except (wire.WireError, ValueError):
        os._exit(0)  # no job: the grader is closing
    os.close(JOB_FD)
    lockdown.limit_cpu(request["deadline_s"])
    os._exit(_run(entry_of(request["job"]["child_entry"]), request["job"]))


def _prewarm() -> None:
    """Let the preloaded runner take its first-use costs (copy-on-write page faults, autograd's
    start) now, while no job's deadline runs. Our own code, before any submission is read; a
    failure here is only a lost warm-up, and the job runs as it would have anyway."""
    runner = sys.modules.get("grader.grading.runner")
    try:
        if runner is not None:
            runner.prewarm()
    except Exception:  # noqa: BLE001 - the same code runs for the job and reports there
        pass


def _enter_scratch(path: str) -> None:
    try:
        os.chdir(path)
    except OSError as exc:
        raise lockdown.LockdownError("scratch", str(exc)) from exc


def entry_of(name: str) -> Callable:
    """"module:function" from what is imported already (the files are out of reach now)."""
    module, _, function = name.partition(":")
    return getattr(sys.modules[module], function)


def _run(entry: Callable, job: dict) -> int:
    try:
        entry(job, make_send(ANSWER_FD))
        code = 0
    except SystemExit as exc:  # the submission's sys.exit(): report the code it chose
        code = exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except BaseException as exc:
        code = EXIT_MEMORY if is_memory_error(exc) else EXIT_ERROR
        traceback.print_exc()
    flush_streams()
    return code


def flush_streams() -> None:
    """sys.stdout and sys.stderr flushed, whatever they are now (the runner calls this on the
    submission's thread: their flush may be its code)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a submission may have replaced or closed them
            pass


def is_memory_error(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and any(m in str(exc) for m in MEMORY_MESSAGES)
    )


def make_send(fd: int) -> Callable[[dict, dict], None]:
    """The `send` handed to the child entry: one answer, meta as JSON, tensors as safetensors."""
    sent = False

    def send(meta: dict, tensors: dict, *, flush: bool = True) -> None:
        """flush=False: the entry flushed the streams itself, on the submission's thread. Flushing
        here runs whatever the submission hung on them (sys.stdout.flush, its buffer's flush, both
        open to setattr) on the main thread, with the report in its frames (grader.grading.runner)."""
        nonlocal sent
        if sent:
            raise RuntimeError("send() may be called once")
        sent = True
        if flush:
            flush_streams()  # the child is killed once its answer is in: what it printed must be out first
        plain = {k: t.detach().cpu() for k, t in tensors.items()}
        size = sum(t.numel() * t.element_size() for t in plain.values())
        if size > wire.ANSWER_CAP:
            # Refused unread by the warden: say the length and stop, rather than spend seconds
            # serialising what nobody reads (a 300 MB answer took 2.5 s, past short deadlines).
            wire.write_all(fd, wire.LENGTH.pack(size))
            return
        # A dtype safetensors does not take (complex128) raises here as in its own save(), which
        # needs torch's namespace (not restored for send(): grader.grading.guard.watch).
        wire.write_answer(fd, meta, _serialized({k: t.contiguous() for k, t in plain.items()}))

    send.record_fd = RECORD_FD  # where the entry's trusted recorders write (grader.grading.oprecord)
    return send


def _serialized(tensors: dict) -> bytes:
    """safetensors.torch.save's bytes, through the library's own TensorSpec and serialize: its save
    reaches each tensor's memory through numpy and ctypes, ~0.2 ms a tensor in a fresh child (a
    LayerNorm answer holds ~50: ~5 ms of every job's CPU), where a tensor's data_ptr is at hand.
    Only dense CPU tensors, kept referenced by `tensors` while serialize reads them."""
    if _SERIALIZE is None:  # outside a zygote's child (tests): bound on first use
        bind_sender()
    specs = {}
    for key, t in tensors.items():
        if t.layout != _STRIDED or t.device.type != "cpu" or not t.is_contiguous():
            raise ValueError(f"{key}: not a dense CPU tensor")
        specs[key] = _TENSOR_SPEC(dtype=str(t.dtype).split(".")[-1], shape=t.shape, data_ptr=t.data_ptr(),
                                  data_len=t.numel() * t.element_size())
    return bytes(_SERIALIZE(specs))
