"""Hostile: Host-wide state that a root child could reach (red-team F3): sets the host name (to the
same name), calls settimeofday(NULL, NULL) (a capability check, nothing changed) and reads the
kernel log with syslog(READ_ALL). Any of them working is the attack working.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import ctypes
import socket

_libc = ctypes.CDLL(None, use_errno=True)
_name = socket.gethostname().encode()
_buffer = ctypes.create_string_buffer(1 << 16)
_results = {
    "sethostname": _libc.sethostname(_name, len(_name)),
    "settimeofday": _libc.syscall(164, None, None),  # the raw call: glibc would read *NULL
    "syslog": _libc.klogctl(3, _buffer, len(_buffer)),  # SYSLOG_ACTION_READ_ALL
}
if all(result < 0 for result in _results.values()):
    raise PermissionError(f"every call was refused: {_results}")
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
