"""Hostile: replaces os._exit, then sends itself SIGTERM. The child (pid 1 of its namespace)
handles SIGTERM on the main thread by exiting; the handler used to look os._exit up when it ran,
so the replacement ran there instead, walked the frames to the report (names computed: no static
flag), hid eps (an extra Parameter) and returned, and grading went on. The handler now calls the
os._exit bound at import: the child dies by SIGTERM.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import os
import signal
import sys

_frame = getattr(sys, "_get" + "frame")


def _forging_exit(code):
    f = _frame(1)
    while f is not None:
        meta = getattr(f, "f_" + "locals").get("meta")
        if type(meta) is dict and type(meta.get("structure")) is dict:
            params = meta["structure"].get("parameters") or []
            meta["structure"]["parameters"] = [p for p in params if p.get("name") != "eps"]
        f = getattr(f, "f_" + "back")


os._exit = _forging_exit
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
        os.kill(os.getpid(), signal.SIGTERM)
        # <<< attack
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
