"""Keeps the submission's code away from the runner's state, in the child (the trust model is in
docs/DESIGN.md).

The runner's own code runs on the child's main thread and hands every call that can reach the
submission's code (import, construction, parameter walks, forward, backward) to one `Worker`
thread. That thread starts from a loop whose globals hold nothing but the builtins, so the
submission's frames (sys._getframe, f_back, a traceback's tb_frame) lead to no runner frame, no
runner global and no report being built; thread-local torch state (grad mode, dispatch and function
modes) stays the submission's own from call to call, as it would on one thread. After each call the
main thread puts back every attribute the submission changed in the namespaces the runner and the
answer's sender rely on (`Watch`: the runner's globals, builtins, sys, json, torch.Tensor,
nn.Module, safetensors' TensorSpec, ...), before running a line of its own. It then touches only exact
torch.Tensor objects, through C methods taken from torch._C.TensorBase at import (an immutable
type: they cannot be patched); what the sender calls of os, torch and safetensors it bound at import
(grader.sandbox.child, wire), and the streams are flushed on the submission's thread (their flush
and their buffer's take setattr).

`harden()`, in a sandboxed child only: dlprep's modules leave sys.modules (a locked-down child can
never import them again) and the zygote's entry leaves __main__, and gc's object walks and
sys._current_frames refuse. Not closed here, and flagged by the static scan instead
(grader.grading.forbidden.tampering): a gc module imported afresh, frame and closure attributes,
__subclasses__, ctypes, torch.library and the dispatcher's switches.
"""
from __future__ import annotations

import _thread
import builtins
import gc
import json
import json.encoder
import os
import sys
import time
import types

# What the main thread calls before builtins' namespace is put back (Watch.restore starts there):
# bound here, out of the submission's reach, so a replaced builtins.len never runs on the main
# thread (where it would find the runner's frames, and the report, one f_back away).
from builtins import OSError, ValueError, all, id, int, len, list, map, type, vars  # noqa: A004 - bound early
from operator import is_ as _IS

import safetensors
import torch

from grader.sandbox import child

# C methods of torch._C.TensorBase (immutable type): what the main thread uses on tensors once the
# submission has run.
_TB = torch._C.TensorBase.__dict__
VERSION = _TB["_version"].__get__
GRAD_FN = _TB["grad_fn"].__get__
SHAPE = _TB["shape"].__get__
DETACH = _TB["detach"]
CLONE = _TB["clone"]
TENSOR = torch.Tensor  # as it is now: the name in torch's namespace can be rebound later
CONTIGUOUS = torch.contiguous_format
_FUNCTION_NEXT = torch._C._FunctionBase.__dict__["next_functions"].__get__
_IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: autograd's C++ node classes
_FLAGS = type.__dict__["__flags__"].__get__  # not the class's own attribute: a metaclass may define one

RESULT, EXIT, RAISED = 0, 1, 2

# The worker's loop, compiled with the builtins as its only globals: the bottom frame of every
# stack the submission's code can walk.
_LOOP = """
def loop(box, ready, done, BaseException=BaseException, SystemExit=SystemExit):
    while True:
        ready.acquire()
        fn, args, describe = box[0]
        box[0] = box[1] = None
        if fn is None:
            done.release()
            return
        try:
            box[1] = (0, fn(*args))
        except SystemExit as exc:
            box[1] = (1, exc.code if type(exc.code) is int else 1)
        except BaseException as exc:
            try:
                box[1] = (2, describe(exc))
            except BaseException:
                box[1] = (2, None)
        done.release()
"""


def _loop_function():
    scope: dict = {"__builtins__": builtins}
    exec(compile(_LOOP, "<dlprep worker>", "exec"), scope)
    loop = scope["loop"]
    return types.FunctionType(loop.__code__, {"__builtins__": builtins}, "loop", loop.__defaults__)


STATUS_FD = child.STATUS_FD  # in a sandboxed child: its /proc/self/status
_PREAD, _EXIT, _SLEEP, _COUNT = os.pread, os._exit, time.sleep, _thread._count
# A thread that has just been joined may still be leaving the kernel's list: how long to wait for it.
THREAD_EXIT_WAIT_S = 0.05


def threads(status_fd: int | None) -> int:
    """The process's threads: the kernel's count (Threads: in /proc/self/status, read through the
    descriptor the child opened before lockdown), else Python's own (which counts a new thread only
    once it runs)."""
    if status_fd is not None:
        try:
            text = _PREAD(status_fd, 4096, 0)
            at = text.index(b"\nThreads:") + 9
            return int(text[at:text.index(b"\n", at)])
        except (OSError, ValueError):
            pass
    return _COUNT() + 1


class Worker:
    """The submission's thread. `call(fn, *args)` runs fn there and returns (RESULT, value),
    (EXIT, code) or (RAISED, describe(exception)), `describe` also running there: the main thread
    never reads an object the submission made, an exception above all (its __str__ is code).

    In a sandboxed child (`status_fd`: child.STATUS_FD), a call that returns with a thread of the
    submission's still running ends the process (child.EXIT_THREADS) before the main thread runs a
    line of Python: that thread could replace, at any moment, whatever the main thread goes on to
    look up (a builtin, json.dumps, a signal handler's os._exit) and so run the submission's code
    there, where the runner's frames and the report are in reach. One that ends within
    THREAD_EXIT_WAIT_S (a joined thread still leaving the kernel's list) is let go."""

    def __init__(self, describe, watch: "Watch | None" = None, status_fd: int | None = None):
        self._box: list = [None, None]
        self._ready, self._done = _thread.allocate_lock(), _thread.allocate_lock()
        self._ready.acquire()
        self._done.acquire()
        self.describe, self.watch = describe, watch  # set again for the job by a prewarmed worker's user
        # Every result stays referenced until the worker is dropped (after the answer is sent): an
        # object of the submission's whose last reference went on this thread would run its
        # __del__ here, with this thread's frames under it.
        self._kept: list = []
        self._status_fd, self._threads = status_fd, -1
        if status_fd is not None:
            self._threads = threads(status_fd) + 1  # this one's thread, counted once it runs
        _thread.start_new_thread(_loop_function(), (self._box, self._ready, self._done))

    def call(self, fn, *args):
        self._box[0] = (fn, args, self.describe)
        self._ready.release()
        self._done.acquire()
        if self._threads > 0 and threads(self._status_fd) > self._threads:
            self._wait_for_threads()
        outcome = self._box[1]
        self._kept.append(outcome)
        if self.watch is not None:
            self.watch.restore()
        return outcome if type(outcome) is tuple and len(outcome) == 2 else (RAISED, None)

    def count_no_threads(self) -> None:
        """Leave the thread count unchecked: on --device cuda, where CUDA's driver starts threads of
        its own the first time the submission's code touches the GPU."""
        self._threads = -1

    def _wait_for_threads(self) -> None:
        waited = 0.0
        while waited < THREAD_EXIT_WAIT_S:
            _SLEEP(0.002)
            waited += 0.002
            if threads(self._status_fd) <= self._threads:
                return
        _EXIT(child.EXIT_THREADS)

    def close(self) -> None:
        """End the loop (a call still running, looping forever, ends with the process)."""
        if self._box[0] is None:
            self._box[0] = (None, (), None)
            self._ready.release()


class Watch:
    """Snapshots of namespaces taken before the submission runs; `restore` puts back any value it
    replaced in the small set the main thread uses between calls (and, on a class, removes what it
    added: an added attribute shadows an inherited one); `restore_all` also the large set the
    answer's sender uses, once, before it runs. Cheap when nothing changed: one identity pass over
    each namespace at C speed (~5 us for the small set, ~100 us for all)."""

    def __init__(self, modules: list, classes: list, send_modules: list, send_classes: list,
                 taken: "Watch | None" = None):
        """taken: a Watch the zygote made before forking (a batch's, grader.grading.runner.prepare):
        its snapshot of a namespace that has not changed since is this one's too (see _Snapshot.same)."""
        earlier = {id(s.namespace): s for s in (taken._often + taken._once if taken else [])}

        def snap(namespace, is_class: bool) -> _Snapshot:
            old = earlier.get(id(namespace))
            if old is not None and old.namespace is namespace and old.is_class == is_class and old.same():
                return old
            return _Snapshot(namespace, is_class)

        self._often = [snap(m, False) for m in modules] + [snap(c, True) for c in classes]
        self._once = [snap(m, False) for m in send_modules] + [snap(c, True) for c in send_classes]

    def restore(self) -> None:
        for snapshot in self._often:
            snapshot.restore()

    def restore_all(self) -> None:
        for snapshot in self._often + self._once:
            snapshot.restore()


class _Snapshot:
    def __init__(self, namespace, is_class: bool):
        self.namespace, self.is_class = namespace, is_class
        self.saved = dict(vars(namespace))
        self.values = list(self.saved.values())

    def same(self) -> bool:
        """Does the namespace hold what it held when the snapshot was taken (the same objects, in
        the same order)? One identity pass at C speed, copying no dict: a snapshot the zygote took
        serves a child without its ~2 ms of dict copies and the copy-on-write faults of every key
        touched."""
        current = vars(self.namespace)
        return len(current) == len(self.values) and all(map(_IS, current.values(), self.values))

    def restore(self) -> None:
        if self.same():
            return
        current = vars(self.namespace)
        if not self.is_class:
            for key, value in self.saved.items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
            return
        for key in [k for k in current if k not in self.saved]:
            type.__delattr__(self.namespace, key)
        for key, value in self.saved.items():
            if vars(self.namespace).get(key, _MISSING) is not value:
                type.__setattr__(self.namespace, key, value)


_MISSING = object()
_THIS = sys.modules[__name__]  # harden() takes it out of sys.modules


def watch(runner_modules: list, runner_classes: list, send_modules: list, taken: Watch | None = None) -> Watch:
    """What the runner's main thread uses between calls (its own modules and classes, this one,
    builtins), and what the child's send() uses once at the end (sys, gc, json, torch.Tensor,
    nn.Module, nn.Parameter, the binding's TensorSpec, the sender's own modules, which bind the
    rest at import). Not torch's namespace: send() reads none of it, and one identity pass over its
    ~1500 names copied ~300 pages in every child (~1.5 ms). taken: see Watch."""
    return Watch([builtins, _THIS, *runner_modules], [Worker, Watch, _Snapshot, *runner_classes],
                 [sys, gc, json, json.encoder, *send_modules],
                 [torch.Tensor, torch.nn.Module, torch.nn.Parameter, safetensors.TensorSpec], taken)


def dlprep_modules() -> list[str]:
    """dlprep's module names. As the zygote listed them when nothing was imported since (the usual
    case in a child): walking sys.modules here touches every module's name, ~800 pages each child
    would copy (~3 ms of its CPU)."""
    count, names = child.ZYGOTE_MODULES
    if count == len(sys.modules):
        return list(names)
    return [n for n in sys.modules if n == "grader" or n.startswith("grader.")]


def harden(names: list[str] | None = None) -> None:
    """In a sandboxed child, before the submission is imported (never in a process that goes on
    to do anything else: it takes dlprep's modules, `names` or all, out of sys.modules)."""
    for name in dlprep_modules() if names is None else names:
        sys.modules.pop(name, None)
    main = sys.modules.get("__main__")
    if main is not None:
        for name in [n for n, v in vars(main).items() if getattr(v, "__module__", "") and
                     str(getattr(v, "__module__", "")).startswith("grader")]:
            delattr(main, name)
    refuse_walks()


def refuse_walks() -> None:
    """gc's object walks and sys._current_frames refuse; no automatic collection. Safe before the
    job arrives (the prewarm does it, off the job's clock): nothing of dlprep's needs them."""
    for name in ("get_objects", "get_referrers", "get_referents"):
        setattr(gc, name, _refused)
    # No collection while the job runs: a cycle of the submission's collected on the main thread
    # would run its __del__ (or a gc callback) there, under the runner's frames.
    gc.disable()
    for name in ("_current_frames", "_current_exceptions"):
        if hasattr(sys, name):
            setattr(sys, name, _refused)


def plain(value, depth: int = 8):
    """A copy made of exact dict, list, str, int, float, bool and None only, whatever the
    submission's thread returned: str and dict subclasses run code when hashed or encoded, and
    this runs on the main thread. Anything else (and anything deeper than `depth`) becomes None."""
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float or kind is str:
        return value
    if depth <= 0:
        return None
    if kind is list or kind is tuple:
        return [plain(item, depth - 1) for item in value]
    if kind is dict:
        return {key: plain(item, depth - 1) for key, item in dict.items(value) if type(key) is str}
    return None


def _refused(*args, **kwargs):
    raise RuntimeError("not available to a graded submission")


def unreported_leaves(out: torch.Tensor, known: list) -> list[list[int]]:
    """Shapes of the tensors that would receive a gradient from `out` and are none of `known`
    (the input, the parameters the module reported): a parameter it kept out of its own report.
    Walks autograd's graph with C attributes only; a node of a Python-defined autograd.Function is
    walked through torch._C._FunctionBase's own descriptor."""
    # `seen` holds the nodes themselves: next_functions hands out fresh wrappers, and a freed one's
    # id is reused by the next, which an id-only set would skip (a hidden parameter went unseen on
    # torch 2.11).
    found, seen, stack = [], {}, [GRAD_FN(out)]
    while stack and len(seen) < 100_000:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        kind = type(node)
        if _FLAGS(kind) & _IMMUTABLE:
            variable = getattr(node, "variable", None) if kind.__name__ == "AccumulateGrad" else None
            if variable is not None:
                if not any(variable is k for k in known):
                    found.append(list(SHAPE(variable)))
                continue
            stack.extend(n for n, _ in node.next_functions)
        else:
            try:
                stack.extend(n for n, _ in _FUNCTION_NEXT(node))
            except TypeError:
                continue
    return found
