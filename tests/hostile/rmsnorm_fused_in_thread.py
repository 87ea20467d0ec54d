"""Hostile: torch's fused RMS norm (from torch 2.4; it decomposes before any kernel) by a computed
name, run in a worker thread. The CompositeImplicitAutograd override records it on every thread.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import threading


def _in_thread(fn, *args):
    box = []
    worker = threading.Thread(target=lambda: box.append(fn(*args)))
    worker.start()
    worker.join()
    return box[0] if box else None
# <<< attack


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # >>> attack
        return _in_thread(getattr(F, "rms" + "_norm"), x.clone(), (self.dim,), self.weight, self.eps)
        # <<< attack
        return x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight
