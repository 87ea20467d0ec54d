"""Hostile: Looks for what of the CLI and of dlprep sits in the child's memory, inherited from the
zygote (red-team 15): source lines of dlprep's files in linecache, the CLI's pid or the sandbox's
directory in sys.argv or sys.orig_argv, the CLI's pid in the environment or in strings. (The
sandbox's scratch directory is the child's cwd and HOME: its name is no secret.)
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import gc
import linecache
import os
import sys

CLI_PID = 4747474  # replaced by the test with the pid of the process that runs the sandbox
_key = "cli" + "_pid"  # built here, so that this file's own text does not match
_found = [f"linecache: {k}" for k in list(linecache.cache) if "grader" in str(k) or "sandbox" in str(k)]
_argv = repr(sys.argv) + repr(getattr(sys, "orig_argv", []))
_found += [f"argv: {word}" for word in (str(CLI_PID), "dlprep-sandbox", _key) if word in _argv]
_found += [f"environment: {k}" for k, v in os.environ.items() if str(CLI_PID) in v]
for _o in gc.get_objects():
    if isinstance(_o, dict):
        for _v in list(_o.values())[:50]:
            if isinstance(_v, str) and (_v == str(CLI_PID) or (_key in _v and "Hostile:" not in _v)):
                _found.append(f"string: {_v[:80]}")
if not _found:
    raise LookupError("nothing of the CLI or of dlprep's files found in memory")
print(_found[:10])
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
