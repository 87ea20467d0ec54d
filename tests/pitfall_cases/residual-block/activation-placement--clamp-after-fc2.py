import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        branch = torch.clamp(self.fc2(torch.clamp(self.fc1(x), min=0)), min=0)
        return torch.clamp(branch + x, min=0)
