"""Forges an answer whose meta has every field of the wrong type, to crash the judge."""
import json
import os
import struct

import torch
import torch.nn as nn

_meta = json.dumps({
    "error": None, "classes": 7, "traced_ops": "aten.native_layer_norm",
    "structure": {"parameters": [{"name": 5, "shape": "abc", "init": []}, "weight", None],
                  "submodules": "fc1", "mapping": {"5": "weight", "weight": ["bias"]}},
    "probes": {"example": {"error": 123, "grad_none": "weight", "version_bumped": "yes"}, "rows-2d": []},
}).encode()
_tensors = b'{"example/out": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 4]}}'
_body = struct.pack("<Q", len(_tensors)) + _tensors + b"\x00" * 4
_head = struct.pack("!I", len(_meta)) + _meta
os.write(3, struct.pack("!Q", len(_head) + len(_body)) + _head + _body)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x):
        return x
