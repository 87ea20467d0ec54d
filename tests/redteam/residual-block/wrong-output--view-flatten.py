"""Flattens the batch with .view, which refuses a transposed or sliced input (issue 9)."""
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        flat = x.view(-1, x.shape[-1])
        out = F.relu(self.fc2(F.relu(self.fc1(flat))) + flat)
        return out.view(x.shape)
