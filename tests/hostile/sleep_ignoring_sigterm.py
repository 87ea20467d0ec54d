"""Hostile: Ignores SIGTERM and sleeps in forward.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import ctypes
import signal
import time

# The submission's code runs on a worker thread, where signal.signal refuses: libc's signal() sets
# the disposition for the whole process from any thread.
ctypes.CDLL(None).signal(signal.SIGTERM, ctypes.c_void_p(1))  # SIG_IGN
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
        time.sleep(3600)
        # <<< attack
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        out = (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        return out
