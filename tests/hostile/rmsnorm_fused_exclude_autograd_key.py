"""Hostile: the fused RMS norm through torch.ops.aten with the Autograd keys excluded: below
autograd, where only the composite-level kernel override is left to see it.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
_C = torch._C
_KEYS = _C.DispatchKeySet(_C.DispatchKey.AutogradCPU) | _C.DispatchKeySet(_C.DispatchKey.ADInplaceOrView)
# <<< attack


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # >>> attack
        with _C._ExcludeDispatchKeyGuard(_KEYS):
            return getattr(torch.ops.aten, "rms" + "_norm")(x, [self.dim], self.weight, self.eps)
        # <<< attack
        return x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight
