import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    """Right on the public example, but modifies its input in place."""

    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        out = self.fc2(torch.relu(self.fc1(x)))
        x += out  # writes into the caller's tensor
        return torch.relu(x)
