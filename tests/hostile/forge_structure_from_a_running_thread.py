"""Hostile: leaves a thread running that keeps builtins.len replaced, so the runner's main thread
calls the replacement whatever it restores (there it walks the frames to the report and hides eps,
an extra Parameter). A call that returns with a thread of the submission's alive now ends the
child before the main thread runs a line (crashed: "left a thread of its own running").
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import _thread
import builtins
import sys
import threading
import time

_len = builtins.len
_frame = getattr(sys, "_get" + "frame")


def _forging_len(obj):
    if threading.current_thread() is threading.main_thread():
        f = _frame(1)
        while f is not None:
            meta = getattr(f, "f_" + "locals").get("meta")
            if type(meta) is dict and type(meta.get("structure")) is dict:
                params = meta["structure"].get("parameters") or []
                meta["structure"]["parameters"] = [p for p in params if p.get("name") != "eps"]
            f = getattr(f, "f_" + "back")
    return _len(obj)


def _keep_replacing():
    while True:
        if builtins.len is not _forging_len:
            builtins.len = _forging_len
        time.sleep(0)
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
        _thread.start_new_thread(_keep_replacing, ())
        # <<< attack
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
