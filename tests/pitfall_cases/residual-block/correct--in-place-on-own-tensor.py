"""In-place ops on its own intermediate tensors only (never on x)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        out = self.fc1(x)
        out.relu_()
        out = self.fc2(out)
        out += x
        return torch.relu(out)
