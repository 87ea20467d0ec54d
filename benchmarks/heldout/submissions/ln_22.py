import math

import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    block_size = 256

    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def _stats(self, flat):
        count = 0
        mean = m2 = None
        for chunk in flat.split(self.block_size, dim=-1):
            cn = chunk.shape[-1]
            cmean = chunk.mean(-1, keepdim=True)
            cm2 = ((chunk - cmean) ** 2).sum(-1, keepdim=True)
            if mean is None:
                mean, m2, count = cmean, cm2, cn
            else:
                total = count + cn
                delta = cmean - mean
                mean = mean + delta * (cn / total)
                m2 = m2 + cm2 + delta * delta * (count * cn / total)
                count = total
        return mean, m2 / count

    def forward(self, x):
        k = len(self.normalized_shape)
        n = math.prod(self.normalized_shape)
        flat = x.reshape(*x.shape[: x.dim() - k], n)
        mean, var = self._stats(flat)
        y = (flat - mean) * torch.rsqrt(var + self.eps)
        return y.reshape(x.shape) * self.weight + self.bias
