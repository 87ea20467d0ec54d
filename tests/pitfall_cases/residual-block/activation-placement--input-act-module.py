import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.act = nn.ReLU()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        x = self.act(x)  # pre-activation, shared by both paths
        out = self.fc2(self.act(self.fc1(x)))
        return self.act(out + x)
