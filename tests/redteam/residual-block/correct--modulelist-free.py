import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    """Same block, with the activation as a clamp and an add via torch.add."""

    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        h = self.fc1(x).clamp(min=0)
        y = torch.add(self.fc2(h), x)
        return y.clamp_min(0.0)
