"""Hostile: Names its parameters with a str subclass whose __del__ and __hash__ walk the frames
under them (names computed, so no static flag), to strip eps from any report they find: code
that would run on the runner's main thread if it dropped or hashed one. eps is an extra Parameter.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import sys


def _strip():
    frame = getattr(sys, "_get" + "frame")(1)
    while frame is not None:
        for value in list(getattr(frame, "f_" + "locals").values()):
            if isinstance(value, dict) and isinstance(value.get("structure"), dict):
                params = value["structure"].get("parameters", [])
                value["structure"]["parameters"] = [p for p in params if p.get("name") != "eps"]
        frame = getattr(frame, "f_" + "back")


class _Name(str):
    def __hash__(self):
        _strip()
        return str.__hash__(self)

    def __del__(self):
        _strip()
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
    # >>> attack

    def named_parameters(self, *args, **kwargs):
        return ((_Name(n), p) for n, p in super().named_parameters(*args, **kwargs))
    # <<< attack

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
