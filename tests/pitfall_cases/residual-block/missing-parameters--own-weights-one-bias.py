"""Hand-rolled layers as bare parameters inside submodules, with fc2's bias left out."""
import math

import torch
import torch.nn as nn


class Dense(nn.Module):
    def __init__(self, n, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, n).uniform_(-1 / math.sqrt(n), 1 / math.sqrt(n)))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = Dense(in_channels)
        self.fc2 = Dense(in_channels, bias=False)

    def forward(self, x):
        return torch.relu(self.fc2(torch.relu(self.fc1(x))) + x)
