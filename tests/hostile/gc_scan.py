"""Hostile: Scans gc for expected tensors of the output's shape and returns one.
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
        # >>> attack
        import gc

        found = [o for o in gc.get_objects() if isinstance(o, torch.Tensor) and o.shape == x.shape and o is not x]
        if found:
            return found[0].detach().clone().requires_grad_(True) * 1
        # <<< attack
        out = self.relu(self.fc2(self.relu(self.fc1(x))) + x)
        return out
