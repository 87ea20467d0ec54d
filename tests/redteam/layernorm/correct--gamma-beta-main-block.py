# -*- coding: utf-8 -*-
"""层归一化 (Layer Normalization) 的手写实现。

对最后几个维度求均值和有偏方差，eps 放在平方根里面。
"""
import numpy as np
import torch
import torch.nn as nn


def _as_tuple(shape):
    """把 int 变成 tuple。"""
    return (shape,) if isinstance(shape, int) else tuple(shape)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.normalized_shape = _as_tuple(normalized_shape)
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(self.normalized_shape))  # 缩放
        self.beta = nn.Parameter(torch.zeros(self.normalized_shape))  # 平移

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
        return self.gamma * (x - mean) / torch.sqrt(var + self.eps) + self.beta


if __name__ == "__main__":
    x = torch.randn(2, 3, 8)
    ln = LayerNorm(8)
    ref = nn.LayerNorm(8)
    print("max diff:", (ln(x) - ref(x)).abs().max().item())
    print(np.allclose(ln(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-6))
