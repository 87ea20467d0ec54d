"""Hostile: BatchNorm in training as group_norm(x.T[None], C), one group per feature, by a computed
name in a worker thread: the dispatcher's kernel records it on every thread.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# >>> attack
import threading


def _in_thread(fn, *args, **kwargs):
    box = []
    worker = threading.Thread(target=lambda: box.append(fn(*args, **kwargs)))
    worker.start()
    worker.join()
    return box[0] if box else None
# <<< attack


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        dims = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
        if self.training:
            mean = x.mean(dim=dims)
            var = ((x - mean.view(shape)) ** 2).mean(dim=dims)
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
            # >>> attack
            rows = x if x.ndim == 2 else x.transpose(1, 2).reshape(-1, x.shape[1])  # (n, C): a row per value
            normed = _in_thread(getattr(F, "group" + "_norm"), rows.t()[None], rows.shape[1], eps=self.eps)
            normed = normed[0].t()
            if x.ndim == 3:
                normed = normed.reshape(x.shape[0], x.shape[2], x.shape[1]).transpose(1, 2)
            return normed * self.weight.view(shape) + self.bias.view(shape)
            # <<< attack
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)
