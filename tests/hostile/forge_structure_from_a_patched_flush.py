"""Hostile: hangs a function on sys.stdout's buffer as its flush (the stream and its buffer take
setattr; the stream's own C flush calls the buffer's by name) that, once the main thread flushes
before the answer goes out, walks that thread's frames (names computed: no static flag) to the report
and takes eps, an extra Parameter, out of its structure. The streams are now flushed on the
submission's own thread (grader.grading.runner).
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import sys
import threading

_frame = getattr(sys, "_get" + "frame")
_buffer = sys.stdout.buffer
_flush = _buffer.flush


def _forging_flush():
    if threading.current_thread() is threading.main_thread():
        f = _frame(1)
        while f is not None:
            meta = getattr(f, "f_" + "locals").get("meta")
            if type(meta) is dict and type(meta.get("structure")) is dict:
                params = meta["structure"].get("parameters") or []
                meta["structure"]["parameters"] = [p for p in params if p.get("name") != "eps"]
            f = getattr(f, "f_" + "back")
    return _flush()
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
        setattr(_buffer, "fl" + "ush", _forging_flush)
        # <<< attack
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
