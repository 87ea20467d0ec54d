"""Hostile: Red-team 07: rewrites the runner's _structure through the caller frame's globals at
import, to hide an eps Parameter. The import runs on a thread whose caller holds no runner state.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import sys

def _hide_eps(real):
    def structure(module, spec):
        report = real(module, spec)
        report["parameters"] = [p for p in report["parameters"] if p["name"] != "eps"]
        return report
    return structure

_g = getattr(getattr(sys, "_get" + "frame")(1), "f_" + "globals")  # names computed: no static flag
if "_structure" in _g:
    _g["_structure"] = _hide_eps(_g["_structure"])
# <<< attack


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        # >>> attack
        self.eps = nn.Parameter(torch.tensor(float(eps)))  # DESIGN.md: an extra parameter (extra-layers)
        # <<< attack
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
