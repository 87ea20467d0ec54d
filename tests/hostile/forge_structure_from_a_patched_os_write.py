"""Hostile: replaces os.write with a function that rewrites the child's answer as it goes out: the
first write on the answer pipe is the frame's head (lengths, then the report as JSON), which it
parses, takes eps, an extra Parameter, out of, and writes again with the lengths mended. The wire
used to look os.write up when it wrote; grader.sandbox.wire now binds it at import.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import json
import os
import struct

_write = getattr(os, "wri" + "te")
_done = []


def _forging_write(fd, data):
    if fd != 3 or _done:
        return _write(fd, data)
    _done.append(1)
    raw = bytes(data)
    try:
        (total,) = struct.unpack_from("!Q", raw)
        (n,) = struct.unpack_from("!I", raw, 8)
        meta = json.loads(raw[12:12 + n])
        params = meta["structure"]["parameters"]
        meta["structure"]["parameters"] = [p for p in params if p.get("name") != "eps"]
        body = json.dumps(meta).encode()
        head = struct.pack("!I", len(body)) + body
        tensors = total - 4 - n
        _write(fd, struct.pack("!Q", len(head) + tensors) + head + raw[12 + n:])
    except Exception:
        return _write(fd, data)
    return len(raw)
# <<< attack


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        # >>> attack
        self.eps = nn.Parameter(torch.tensor(float(eps)))  # an extra parameter (extra-layers)
        setattr(os, "wri" + "te", _forging_write)
        # <<< attack
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
