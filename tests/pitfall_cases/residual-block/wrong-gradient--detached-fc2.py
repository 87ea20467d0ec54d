"""fc2's weight and bias are detached, so they never learn."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        hidden = F.relu(self.fc1(x))
        return F.relu(F.linear(hidden, self.fc2.weight.detach(), self.fc2.bias.detach()) + x)
