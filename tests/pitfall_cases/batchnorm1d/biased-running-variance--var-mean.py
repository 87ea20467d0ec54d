"""Mistake: the biased variance from var_mean goes into running_var as it is."""
import torch
import torch.nn as nn


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """Functional style: (N, C, L) is flattened to (N * L, C) rows first."""
    if x.dim() == 3:
        n, c, length = x.shape
        rows = x.transpose(1, 2).reshape(-1, c)
        out = batch_norm(rows, running_mean, running_var, weight, bias, training, momentum, eps)
        return out.reshape(n, length, c).transpose(1, 2)
    if training:
        var, mean = torch.var_mean(x, dim=0, unbiased=False)
        n = x.shape[0]
        with torch.no_grad():
            running_mean.copy_((1 - momentum) * running_mean + momentum * mean)
            running_var.copy_((1 - momentum) * running_var + momentum * var)
    else:
        mean, var = running_mean, running_var
    return (x - mean) * torch.rsqrt(var + eps) * weight + bias


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training, self.momentum, self.eps)
