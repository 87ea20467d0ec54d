"""Hostile: Starts 3000 threads with 32 KiB stacks (red-team 14: the address-space limit allows
~58k such threads, more than the host's pid_max, so every fork on the host would fail until the
deadline; bounded here at 3000 to spare the machine if the bound ever goes).
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import threading

threading.stack_size(32 * 1024)
_stop = threading.Event()
_threads = []
try:
    for _ in range(3000):
        t = threading.Thread(target=_stop.wait, daemon=True)
        t.start()
        _threads.append(t)
finally:
    _stop.set()
    threading.stack_size(0)
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
