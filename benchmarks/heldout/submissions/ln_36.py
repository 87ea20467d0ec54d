import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape))
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape))

    def _normalize_row(self, row):
        mean = row.mean()
        var = ((row - mean) ** 2).mean()
        return (row - mean) / torch.sqrt(var + self.eps)

    def forward(self, x):
        k = len(self.normalized_shape)
        lead = x.shape[: x.dim() - k]
        rows = x.reshape(-1, *self.normalized_shape)
        if rows.shape[0] == 0:
            out = rows.clone()
        else:
            out = torch.stack([self._normalize_row(r) for r in rows.unbind(0)], dim=0)
        out = out.reshape(*lead, *self.normalized_shape)
        return out * self.weight + self.bias
