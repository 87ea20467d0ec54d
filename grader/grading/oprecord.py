"""Forbidden ops recorded at torch's dispatcher: installed in the child, decoded in the judge.

A task's `forbidden.ops` are patterns over aten op names ("layer_norm" matches
aten.native_layer_norm.default, aten.layer_norm.default, their .out and backward overloads). In the
child, before the submission is imported, `install` replaces the kernel of every matching op, for
every backend a graded tensor can live on, with one that writes the op's index as one byte on the
record pipe (a pipe only the slot reads) and then raises. So a forbidden op never computes anything
in the child, and its use is on the slot's side of the pipe at the moment of the call: catching the
exception, clearing Python state or ending the process afterwards erases nothing. The dispatcher is
global, so threads, excluded dispatch keys (Python, PythonTLSSnapshot, Autograd), inference_mode,
vmap, torch.ops.aten, TorchScript, jit.trace and torch.compile all reach the same kernels.

Ops that decompose before any kernel runs (CompositeImplicitAutograd: layer_norm, rms_norm,
group_norm, scaled_dot_product_attention) are replaced at that key, the others at CPU and CUDA (on a
build with CUDA) and at every other backend key where they have a kernel. The op list comes from the installed torch
(kernels differ between versions). What a kernel override cannot see: Python re-implementations
(torch._refs, torch._decomp) and re-registration (torch.library, torch._C._dispatch_*); the static
scan flags those as tampering (grader.grading.forbidden).

The judge decodes the bytes with the same list (the same torch, the same patterns). A byte the
submission wrote itself only ever counts against it.
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
import warnings

import torch

# Backends besides CPU and CUDA where a forbidden op may have its own kernel: nested, mkldnn,
# quantized, sparse tensors. (An explicit composite kernel serves only backends without their own:
# the CPU and CUDA kernels registered here take precedence over it, and the rest, Meta, hold no
# values.)
_EXTRA_KEYS = ("NestedTensorCPU", "NestedTensorCUDA", "MkldnnCPU", "QuantizedCPU", "QuantizedCUDA",
               "SparseCPU", "SparseCUDA", "SparseCsrCPU", "SparseCsrCUDA")
_IMPLICIT = "CompositeImplicitAutograd"
# CPU always, CUDA where the build has it (a CPU-only build cannot make a CUDA tensor: its kernels
# there would only cost registration time, ~1 ms a job).
_BACKENDS = ("CPU", "CUDA") if torch.backends.cuda.is_built() else ("CPU",)
MAX_CODE = 255  # one byte a call; ops past the 255th share the last code


def _qualified(name: str) -> str:
    """"aten::native_layer_norm" -> "aten.native_layer_norm.default" (the name str(op) gives)."""
    base, _, overload = name.partition(".")
    return base.replace("::", ".", 1) + "." + (overload or "default")


@functools.lru_cache(maxsize=1)
def _all_ops() -> dict[str, str]:
    """Every aten operator overload of the installed torch: "aten.x.overload" -> "aten::x[.overload]"."""
    if hasattr(torch._C, "_dispatch_get_all_op_names"):
        names = torch._C._dispatch_get_all_op_names()
    else:  # older builds: the registered schemas
        names = [s.name + (f".{s.overload_name}" if s.overload_name else "") for s in torch._C._jit_get_all_schemas()]
    return {_qualified(n): n for n in sorted(set(names)) if n.startswith("aten::")}




def forbidden_ops(patterns: list[str] | tuple[str, ...]) -> list[str]:
    """The installed torch's aten op overloads matching any pattern (re.search), sorted: the
    child's byte is an index into this list."""
    return list(_forbidden_ops(tuple(patterns)))


@functools.lru_cache(maxsize=8)
def _forbidden_ops(patterns: tuple[str, ...]) -> tuple[str, ...]:
    if not patterns:
        return ()
    if all(re.escape(p) == p for p in patterns):  # plain words, as tasks write them: find in one text
        hits = {_line_at(i) for p in patterns for i in _occurrences(p)}
        return tuple(sorted(hits))
    rx = re.compile("|".join(f"(?:{p})" for p in patterns))  # a search per name (~3000: ~2 ms)
    return tuple(name for name in _all_ops() if rx.search(name))


def _occurrences(word: str):
    start = _JOINED.find(word)
    while start >= 0:
        yield start
        start = _JOINED.find(word, start + 1)


def _line_at(index: int) -> str:
    return _JOINED[_JOINED.rfind("\n", 0, index) + 1:_JOINED.find("\n", index) % (len(_JOINED) + 1)]


def _kernel_keys() -> dict[str, frozenset[str]]:
    """Dispatch key -> the ops with a kernel there, asked once per key (in the zygote): asking per
    op and key in the child cost 5-20 ms a job."""
    registered = getattr(torch._C, "_dispatch_get_registrations_for_dispatch_key", None)
    if registered is None:
        return {}
    return {key: frozenset(registered(key)) for key in (_IMPLICIT, *_EXTRA_KEYS)}


def _has(name: str, key: str) -> bool:
    if _KERNELS:
        return name in _KERNELS[key]
    return torch._C._dispatch_has_kernel_for_dispatch_key(name, key)  # older torch: ask per op


def install(patterns: list[str], fd: int) -> int:
    """In the child only: replace the kernels of the forbidden ops with recording, raising ones.
    Returns the number of kernels replaced. The registration handle is kept alive by a reference
    no Python object holds (deregistering it would bring the real kernels back)."""
    library, count = _register(patterns, fd)
    if library is not None:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))
    return count


# A batch's zygote registers its task's kernels once, before forking the children that grade it
# (~5 ms and ~600 copy-on-write faults a child otherwise, the dispatcher's tables): (patterns,
# fd, handle). Only children run torch ops after that; a judge or warden forked later releases it
# as it starts, and a child whose job names other ops releases it before installing its own.
_PREPARED: list = []


def prepare(patterns: list[str], fd: int) -> int:
    """In a batch's zygote: install's kernels, held by a handle that release_prepared() drops."""
    release_prepared()
    library, count = _register(patterns, fd)
    if library is not None:
        _PREPARED[:] = [(tuple(patterns), fd, library)]
    return count


def take_prepared(patterns: list[str], fd: int) -> bool:
    """In the child, before the submission runs: True when the zygote's kernels are this job's
    (then kept for good, as install keeps its own); otherwise they are released."""
    if _PREPARED and _PREPARED[0][:2] == (tuple(patterns), fd):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(_PREPARED[0][2]))
        return True
    release_prepared()
    return False


def release_prepared() -> None:
    """The real kernels back (deregistered with the handle)."""
    _PREPARED.clear()


def _register(patterns: list[str], fd: int):
    ops = forbidden_ops(patterns)
    if not ops:
        return None, 0
    names = _all_ops()
    has = _has
    library = torch._C._dispatch_library("IMPL", "aten", "", "", 0)
    count = 0
    with warnings.catch_warnings():  # "overriding a previously registered kernel": the point
        warnings.simplefilter("ignore")
        for index, op in enumerate(ops):
            name = names[op]
            kernel = _recording_kernel(fd, bytes([min(index, MAX_CODE)]), op)
            if has(name, _IMPLICIT):
                keys = [_IMPLICIT]
            else:
                keys = [*_BACKENDS, *(k for k in _EXTRA_KEYS if has(name, k))]
            for key in keys:
                library.impl(name.removeprefix("aten::"), key, kernel)
                count += 1
    return library, count


def _recording_kernel(fd: int, code: bytes, op: str):
    write = os.write  # bound now: patching os.write later changes nothing here

    def forbidden_kernel(*args, **kwargs):
        try:
            write(fd, code)
        except OSError:  # the pipe was closed: the op still computes nothing
            pass
        raise RuntimeError(f"{op} is a forbidden built-in in this task")

    return forbidden_kernel


def prewarm() -> None:
    """In the child before its job: read every op name once and register (then drop) one kernel,
    so the job's match and registration do not pay the copy-on-write faults of a first touch."""
    for name in _all_ops().values():
        _has(name, _IMPLICIT)
    library = torch._C._dispatch_library("IMPL", "aten", "", "", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        library.impl("_fused_rms_norm", _IMPLICIT, _recording_kernel(-1, b"", "prewarm"))
    del library  # deregistered: the real kernel is back


def decode(records: bytes, patterns: list[str]) -> list[str]:
    """The forbidden ops the child called, from the record pipe's bytes (sorted, distinct)."""
    ops = forbidden_ops(patterns)
    if not records:
        return []
    found = set()
    for code in set(records):
        if code < len(ops) and (code < MAX_CODE or len(ops) == MAX_CODE + 1):
            found.add(ops[code])
        else:
            found.add("another forbidden op" if code == MAX_CODE and ops else f"an unknown op record ({code})")
    return sorted(found)


# In the zygote, once: ~15 ms that no child or judge pays again.
_JOINED = "\n".join(_all_ops())  # sorted, so a match's line order is the list's order
_KERNELS = _kernel_keys()
