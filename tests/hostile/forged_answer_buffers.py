"""Hostile: A forged answer about buffers (issue 19): the declared ones unregistered and misshapen,
62 more with 256-character names, and buffer tensors of the wrong dtype and shape under probe and
step keys. The schema bounds the list, the judge checks only the declared names, and every tensor
is refused for its dtype or shape: the submission fails, judged in linear time.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import json
import os
import struct


def _safetensors(tensors):
    """name -> (dtype code, shape, raw bytes), as one safetensors file."""
    header, offset, data = {}, 0, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset, data = offset + len(raw), data + raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _forge(meta, tensors):
    """One complete answer frame on the answer pipe (fd 3): JSON meta, then the tensors."""
    m = json.dumps(meta).encode()
    body = struct.pack("!I", len(m)) + m + _safetensors(tensors)
    view = memoryview(struct.pack("!Q", len(body)) + body)
    while view:
        view = view[os.write(3, view):]


_BUFFERS = [{"name": "running_mean", "shape": [1 << 39], "dtype": "float32", "init": "other", "registered": False},
            {"name": "running_var", "shape": [6], "dtype": "int64", "init": "zeros", "registered": True}]
_BUFFERS += [{"name": ("b%03d." % i) + "r" * 251, "shape": [1] * 16, "dtype": "x" * 40, "init": "ones",
              "registered": True} for i in range(62)]
_forge({"error": None, "classes": ["BatchNorm1d"],
        "probes": {"example": {"error": None, "grad_none": [], "version_bumped": False}},
        "structure": {"parameters": [{"name": "weight", "shape": [6], "init": "ones"},
                                     {"name": "bias", "shape": [6], "init": "zeros"}],
                      "submodules": [], "mapping": {"weight": "weight", "bias": "bias"}, "buffers": _BUFFERS}},
       {"example/out": ("F32", [4, 3], b"\0" * 48),
        "example/buffer/running_mean": ("I64", [3], b"\0" * 24),
        "example/buffer/running_var": ("F32", [4], b"\0" * 16),
        "momentum-keyword/step0/buffer/running_mean": ("F64", [7], b"\0" * 56),
        "momentum-keyword/step9/buffer/running_mean": ("F32", [7], b"\0" * 28)})
# <<< attack


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        dims = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        if self.training:
            mean = x.mean(dim=dims)
            var = ((x - mean.view(shape)) ** 2).mean(dim=dims)
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)
