"""Reference BatchNorm1d, written out (nanoGPT style) so the formulas are on the page: in training
each feature is normalized with its batch statistics (biased variance) and the running statistics
move toward them by `momentum` (the unbiased variance, as nn.BatchNorm1d keeps it); in eval mode
the running statistics normalize. Inputs are (N, C) or (N, C, L)."""
import torch
import torch.nn as nn


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        dims = (0,) if x.ndim == 2 else (0, 2)  # every dim but the features: (N, C) or (N, C, L)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)  # a (C,) statistic broadcast over x
        if self.training:
            mean = x.mean(dim=dims)
            var = ((x - mean.view(shape)) ** 2).mean(dim=dims)  # biased: divide by n, to normalize
            n = x.numel() // x.shape[1]  # values per feature
            with torch.no_grad():  # running = (1 - momentum) * running + momentum * batch
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))  # unbiased
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)
