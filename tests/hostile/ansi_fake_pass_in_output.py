"""Hostile: Red-team 08: prints a cleared screen, a forged green PASS report and SGR 8 (conceal),
so the real FAIL line would print invisibly; forward returns zeros.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
ESC = "\x1b"
print(f"{ESC}[2J{ESC}[3J{ESC}[H{ESC}[1;32mPASS  Score: 31 / 31{ESC}[0m\u202e{ESC}]0;PWNED\x07{ESC}[8m", end="")
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
        return torch.zeros_like(x) * self.weight.sum()
        # <<< attack
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
