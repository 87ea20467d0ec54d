"""Hostile: Modifies its input in place and patches torch.Tensor's clone and detach so that the
runner's copy of the input after forward shows the values from before.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
_seen = {}
_clone, _detach = torch.Tensor.clone, torch.Tensor.detach


def _pristine(method):
    def patched(self, *args, **kwargs):
        saved = _seen.get(id(self))
        return saved if saved is not None else method(self, *args, **kwargs)
    return patched


torch.Tensor.clone, torch.Tensor.detach = _pristine(_clone), _pristine(_detach)
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
        _seen[id(x)] = _clone(_detach(x))
        x -= x.mean(dim=tuple(range(-len(self.normalized_shape), 0)), keepdim=True)  # in place
        # <<< attack
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
