"""Hostile: Red-team 10: a forged answer whose structure lists 300k parameters with long names
(45 MB there; 4.5 MB here, under the answer cap): refused unread, not copied into a 65 MB report.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import json
import os
import struct


def _forge(meta):
    """One complete answer frame on the answer pipe (fd 3): JSON meta, then an empty safetensors file."""
    m = json.dumps(meta).encode()
    body = struct.pack("!I", len(m)) + m + b"\x02\x00\x00\x00\x00\x00\x00\x00{}"
    view = memoryview(struct.pack("!Q", len(body)) + body)
    while view:
        view = view[os.write(3, view):]


_N = 30_000  # ~4.5 MB: built within the hostile tests' 3 s deadline on a busy machine
_forge({"error": None, "classes": ["LayerNorm"], "probes": {},
        "structure": {"parameters": [{"name": "p%06d" % i + "x" * 93, "shape": [1], "dtype": "float32", "init": "other"}
                                     for i in range(_N)], "submodules": [], "mapping": {}}})
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
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
