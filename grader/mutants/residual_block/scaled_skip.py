"""Mutant scaled-skip: half of the skip is detached, so the output is right and the gradient
through the skip is halved."""
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        skip = 0.5 * x + 0.5 * x.detach()
        return F.relu(self.fc2(F.relu(self.fc1(x))) + skip)
