import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        h = F.linear(x, self.fc1.weight, self.fc1.bias)
        h = F.relu(h)
        h = h @ self.fc2.weight.t() + self.fc2.bias
        return F.relu(h + x)
