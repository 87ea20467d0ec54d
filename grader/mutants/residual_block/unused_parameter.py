"""Mutant unused-parameter: fc2 is applied as F.linear(h, fc2.weight), its bias never used."""
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return F.relu(F.linear(F.relu(self.fc1(x)), self.fc2.weight) + x)
