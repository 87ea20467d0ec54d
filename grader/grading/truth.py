"""The float64 truth of a task's probes, computed once per batch: the first judge of a batch sends it
back with its result, and every later job carries it to its judge, which then skips the reference.

It travels beside the job, never in it (Sandbox.run's `trusted`): the zygote's slot adds it to the
judge's copy of the job only after the child has been handed its own, so no submission ever holds an
expected value. The judge is trusted and the truth depends only on the task, the seed and the
reference, which are the same for every submission of a batch. Packed as safetensors (never pickle),
base64 for the JSON pipe: about 80 KB for the LayerNorm task.

May be imported by the CLI side (no torch at import): only pack/unpack import torch, in the judge.
"""
from __future__ import annotations

import base64
import json
import os
import threading

# Keys of one probe's truth (grader.grading.judge.Judgement._expected) that hold tensor dicts.
NESTED = ("params", "expected")


def pack(truth: dict) -> str:
    """{probe: {"x", "params": {...}, "upstream", "expected": {...}}} -> text. The metadata keeps the
    keys' order (the checks' messages follow it) and the None values (a gradient that does not exist)."""
    from safetensors.torch import save

    flat, missing, order = {}, [], []
    for probe, parts in truth.items():
        for part, value in parts.items():
            items = value.items() if part in NESTED else [("", value)]
            for name, tensor in items:
                key = json.dumps([probe, part, name])
                order.append(key)
                if tensor is None:
                    missing.append(key)
                else:
                    flat[key] = tensor.detach().contiguous()
    metadata = {"missing": json.dumps(missing), "order": json.dumps(order)}
    return base64.b64encode(save(flat, metadata=metadata)).decode("ascii")


def unpack(text: str) -> dict:
    """pack's inverse."""
    from safetensors.torch import load

    data = base64.b64decode(text)
    tensors = load(data)
    truth: dict = {}
    for key in json.loads(_metadata(data)["order"]):
        probe, part, name = json.loads(key)
        value = tensors.get(key)
        parts = truth.setdefault(probe, {p: {} for p in NESTED})
        if part in NESTED:
            parts[part][name] = value
        else:
            parts[part] = value
    return truth


def _metadata(data: bytes) -> dict:
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]).get("__metadata__", {})


# The judge process (grader.sandbox.judgeserver) judges every job of its sandbox: it keeps the truth
# of the last few (task, seed) pairs it computed, so a --watch regrade or a batch's later jobs skip the
# reference (~17 ms of CPU a LayerNorm job, ~50 ms a residual block's).
REMEMBERED = 4
_remembered: dict = {}


def remembered(job: dict, files: list, compute) -> dict:
    """The truth for this job's task, seed, device and reference files (`files`: the .py files its
    classes come from, whose bytes it depends on), computed once per judge process; each caller gets
    its own copy (a judgement may replace parts of it, as dropout's mask does). Only in the judge
    process; elsewhere (tests, in-process judges) compute() every time."""
    from grader.sandbox import judgeserver

    if not judgeserver.SERVING:
        return compute()
    key = _key(job, files)
    if key is None:
        return compute()  # what cannot be stamped is not kept
    return _copy(_kept(_remembered, key, compute))


def _kept(store: dict, key: str, make):
    """store[key], made now if missing; the oldest entry goes first past REMEMBERED."""
    if key not in store:
        if len(store) >= REMEMBERED:
            del store[next(iter(store))]
        store[key] = make()
    return store[key]


_KEYED = ("task", "seed", "task_dir", "device", "modules")
_LAST_KEY: list = []  # [(what was keyed, its JSON)]: the truth and the memo key the same job


def _key(job: dict, files: list) -> str | None:
    stamps = []
    for file in files:
        try:
            stat = os.stat(file)
            stamps.append((str(file), stat.st_mtime_ns, stat.st_size, stat.st_ino))
        except OSError:
            return None
    keyed = [job.get(k) for k in _KEYED]
    if not _LAST_KEY or _LAST_KEY[0][0] != keyed:
        _LAST_KEY[:] = [(keyed, json.dumps(keyed, sort_keys=True))]
    return _LAST_KEY[0][1] + json.dumps(stamps)


# What the pitfall detectors compute from trusted code on the truth's inputs alone (a mutant's outputs
# and gradients on a probe: ~16 ms of a failing LayerNorm's judging), kept like the truth. Bounded in
# bytes: a 512-wide residual block's mutants would hold hundreds of MB.
MEMO_BYTES = 32 << 20
_memos: dict = {}


class Memo(dict):
    """memo.keep(key, value): stored while the byte budget lasts (tensors counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.left = MEMO_BYTES

    def keep(self, key, value) -> None:
        size = _nbytes(value)
        if size <= self.left:
            self.left -= size
            self[key] = value


def _nbytes(value) -> int:
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_nbytes(v) for v in value)
    numel = getattr(value, "numel", None)
    return numel() * value.element_size() if callable(numel) else 64


def memo(job: dict, files: list) -> Memo | None:
    """The Memo for this job's task, seed, device and files (`files`: the trusted .py files the
    detectors run: references and mutants) in the judge process; None elsewhere (tests, in-process
    judges), where nothing outlives a judgement. Nothing of a submission's may go in."""
    from grader.sandbox import judgeserver

    if not judgeserver.SERVING:
        return None
    key = _key(job, files)
    if key is None:
        return None
    return _kept(_memos, key, Memo)


def file_key(path, name: str) -> tuple | None:
    """What identifies a trusted class loaded from a file (a mutant, an instructor's reference) in the
    judge process, where loading it once serves every job until the file changes; None elsewhere,
    or when the file cannot be stamped (then it is loaded every time)."""
    from grader.sandbox import judgeserver

    if not judgeserver.SERVING:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino, name


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    clone = getattr(value, "clone", None)  # a tensor
    return clone() if callable(clone) else value


class Shared:
    """The batch's truth, once a judge has sent it; shared by the worker threads."""

    def __init__(self) -> None:
        self._text: str | None = None
        self._lock = threading.Lock()

    def trusted(self) -> dict:
        """What the next job's judge gets: the truth, or a request to send it back."""
        with self._lock:
            return {"truth": self._text} if self._text else {"want_truth": True}

    def keep(self, text) -> None:
        if isinstance(text, str):
            with self._lock:
                self._text = self._text or text
