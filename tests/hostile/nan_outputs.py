"""Hostile: Returns NaN everywhere.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.fc2(self.relu(self.fc1(x))) + x)
        # >>> attack
        return out * float("nan")
        # <<< attack
        return out
