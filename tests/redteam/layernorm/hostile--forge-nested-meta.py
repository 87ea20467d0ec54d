"""Forges a parseable answer whose probe error is a list nested 900 deep: printing it in the judge
would recurse past Python's limit."""
import json
import os
import struct

import torch
import torch.nn as nn

_error = []
for _ in range(900):
    _error = [_error]
_meta = json.dumps({"error": None, "classes": [], "structure": {}, "traced_ops": [],
                    "probes": {"example": {"error": _error}}}).encode()
_head = struct.pack("!I", len(_meta)) + _meta
os.write(3, struct.pack("!Q", len(_head)) + _head)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x):
        return x
