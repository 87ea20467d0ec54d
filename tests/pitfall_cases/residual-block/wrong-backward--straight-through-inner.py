import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        h = self.fc1(x)
        h = h + (h.clamp(min=0) - h).detach()  # relu values, identity gradient
        return torch.relu(self.fc2(h)) + x  # and the last ReLU before the addition
