"""Byte framing on the sandbox's pipes: CLI <-> zygote (JSON messages) and child -> warden (an answer).

Everything here runs on both sides without torch. A frame is an 8-byte big-endian length and that
many bytes; the reader learns the length first, so it can refuse an oversized frame before reading it.
"""
from __future__ import annotations

import json
import os
import select
import struct
import time

LENGTH = struct.Struct("!Q")
ANSWER_CAP = 64 << 20  # a child's answer: a LayerNorm answer is kilobytes; a 300 MB one is refused unread
META_LENGTH = struct.Struct("!I")

# The child's first byte on the answer pipe, written by trusted code before the submission runs.
TAG_READY = b"R"  # every planned layer is in force
TAG_FAILED = b"F"  # lockdown failed; a JSON frame with the reason follows
# The runner's meta nests a few levels (probes -> probe -> grad_none); a forged one nested
# thousands deep would blow the judge's stack wherever it is walked, so it is refused at the door.
MAX_META_DEPTH = 16
# An honest answer's meta is a few KB; parsing and walking a forged 50 MB one took 9 s of the supervisor's
# time, so one past this is refused unread (the tensors, capped with the whole answer, may be larger).
MAX_META_BYTES = 1 << 20


class WireError(Exception):
    """A peer closed the pipe, broke the framing or missed its deadline."""


# Bound at import: a child's answer goes out after the submission ran, which may have replaced
# os.write to rewrite it (tests/hostile/forge_structure_from_a_patched_os_write).
_WRITE = os.write


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_WRITE(fd, view):]


def write_frame(fd: int, payload: bytes) -> None:
    write_all(fd, LENGTH.pack(len(payload)))
    write_all(fd, payload)


def write_json(fd: int, message: dict) -> None:
    write_frame(fd, json.dumps(message).encode())


def read_exact(fd: int, n: int, deadline: float | None = None) -> bytes:
    """Read n bytes; WireError on EOF first or once `deadline` (time.monotonic) passes."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WireError("timed out")
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise WireError("pipe closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_length(fd: int, deadline: float | None = None) -> int:
    return LENGTH.unpack(read_exact(fd, LENGTH.size, deadline))[0]


def read_json(fd: int, deadline: float | None = None, limit: int = 1 << 30) -> dict:
    n = read_length(fd, deadline)
    if n > limit:
        raise WireError(f"message of {n} bytes is over the {limit}-byte limit")
    return json.loads(read_exact(fd, n, deadline))


def write_answer(fd: int, meta: dict, tensor_bytes: bytes) -> None:
    """The child's answer, one frame: JSON meta, then safetensors bytes. The length goes first and
    the tensor bytes are not copied, so an oversized answer is refused before it is even built."""
    meta_bytes = json.dumps(meta).encode()
    head = META_LENGTH.pack(len(meta_bytes)) + meta_bytes
    write_all(fd, LENGTH.pack(len(head) + len(tensor_bytes)) + head)
    write_all(fd, tensor_bytes)


def decode_answer(payload: bytes | memoryview) -> tuple[dict, bytes | memoryview]:
    """Split an answer; ValueError when the (untrusted) payload is malformed. The tensors' part is a
    slice of `payload` (a view of a memoryview: nothing copied)."""
    if len(payload) < META_LENGTH.size:
        raise ValueError("answer shorter than its header")
    (n,) = META_LENGTH.unpack_from(payload)
    if n > MAX_META_BYTES:
        raise ValueError(f"answer's meta is {n} bytes (limit {MAX_META_BYTES})")
    end = META_LENGTH.size + n
    if end > len(payload):
        raise ValueError("answer's meta length runs past its end")
    try:
        meta = json.loads(bytes(payload[META_LENGTH.size:end]))
    except RecursionError:
        raise ValueError("answer's meta is nested too deeply") from None
    if not isinstance(meta, dict):
        raise ValueError("answer's meta is not a JSON object")
    if _depth(meta) > MAX_META_DEPTH:
        raise ValueError(f"answer's meta is nested more than {MAX_META_DEPTH} levels deep")
    return meta, payload[end:]


def _depth(value) -> int:
    """How deep JSON containers nest (iteratively: the value is untrusted)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest
