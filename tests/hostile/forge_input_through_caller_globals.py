"""Hostile: Red-team 07b: modifies its input in place and, through the caller frame's globals, wraps
the runner's _run_probe to resend a fresh input and clear version_bumped.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import sys

_g = getattr(getattr(sys, "_get" + "frame")(1), "f_" + "globals")  # names computed: no static flag
if "_run_probe" in _g and "make_input" in _g:
    _real = _g["_run_probe"]

    def _run_probe(*args):
        report = _real(*args)
        report["version_bumped"] = False
        probe, job, tensors = args[-3], args[-2], args[-1]
        tensors[f"{probe.name}/input_after"] = _g["make_input"](job["seed"], probe)
        return report

    _g["_run_probe"] = _run_probe
# <<< attack


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        # >>> attack
        x -= x.mean(dim=tuple(range(-len(self.normalized_shape), 0)), keepdim=True)  # in place
        # <<< attack
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
