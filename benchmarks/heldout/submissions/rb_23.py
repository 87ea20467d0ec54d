import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        hidden = F.threshold(self.fc1(x), 0.0, 0.0)
        out = self.fc2(hidden)
        out = out + x
        return F.threshold(out, 0.0, 0.0)
